// Logit weights: exp(u - max u) for a set of utilities, the largest weight 1 so that no exponential
// overflows. A logit choice among the alternatives does not depend on the common scale.
#pragma once

#include <algorithm>
#include <cmath>
#include <limits>
#include <span>

namespace citysim::models {

// Replaces every utility by its weight, in place.
inline void weights_from_utilities(std::span<double> utility) {
    double highest = -std::numeric_limits<double>::infinity();
    for (const double u : utility) highest = std::max(highest, u);
    for (double& u : utility) u = std::exp(u - highest);
}

}  // namespace citysim::models
