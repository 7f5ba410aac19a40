// The network of cities: nodes are cities, edges are links weighted by travel time in hours.
// All-pairs shortest travel times are computed once (Boost.Graph, Johnson or Floyd-Warshall) and
// kept as a dense row-major matrix, since every migration and investment decision reads it.
#pragma once

#include <cstddef>
#include <stdexcept>
#include <string>
#include <vector>

namespace citysim::engine {

struct TravelLink {
    std::size_t from = 0;
    std::size_t to = 0;
    double hours = 0.0;
};

class CityNetwork {
public:
    // Throws UnreachableCities if some pair of cities has no path.
    CityNetwork(std::vector<std::string> city_names, const std::vector<TravelLink>& links);

    std::size_t size() const { return names_.size(); }
    const std::vector<std::string>& names() const { return names_; }
    // Shortest travel time in hours; 0 on the diagonal.
    double hours(std::size_t from, std::size_t to) const { return hours_[from * names_.size() + to]; }
    const std::vector<double>& hours_matrix() const { return hours_; }

private:
    std::vector<std::string> names_;
    std::vector<double> hours_;
};

// Names the unreachable pairs so that the scenario error can say which links are missing.
class UnreachableCities : public std::runtime_error {
public:
    UnreachableCities(std::string message, std::vector<std::pair<std::size_t, std::size_t>> pairs)
        : std::runtime_error(std::move(message)), pairs_(std::move(pairs)) {}
    const std::vector<std::pair<std::size_t, std::size_t>>& pairs() const { return pairs_; }

private:
    std::vector<std::pair<std::size_t, std::size_t>> pairs_;
};

}  // namespace citysim::engine
