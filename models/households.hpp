// Households: everyone in a city who is not talent, and how they follow talent and rents.
//
// A city's residents are the households of three kinds of workers and everyone else:
//
//   N[c] = r * (T[c] + S[c]) + O[c]
//
//   T[c]  talent persons (talent agents x persons_per_agent)
//   S[c]  local-service workers: the jobs that skilled (tradable) jobs create in shops, schools,
//         restaurants and services. Each high-tech job brings local_jobs_per_talent of them in the
//         long run (Moretti 2010, "Local multipliers", AER 100(2): 4.9 local jobs per high-tech
//         job), reached at local_jobs_adjustment_rate:
//             S' = m T + (S - m T) exp(-local_jobs_adjustment_rate * dt),   m = local_jobs_per_talent
//   O[c]  other residents (retirees, students, manufacturing and other tradable jobs): held at
//         their starting number except for housing costs, which push them out of expensive cities
//         (to places outside the model) and draw them into cheaper ones, with elasticity eta:
//             O* = O(0) * (R[c] / R[c](0))^(-eta),   O' = O* + (O - O*) exp(-other_adjustment_rate * dt)
//   r     residents_per_worker: persons housed per worker, the worker included (household members
//         not working; China 2023: 1.41 bn residents / 0.74 bn employed = 1.9, NBS)
//
// At the start S(0) = m T(0) and O(0) = residents - r (1 + m) T(0), so the city starts where the
// multiplier says and with its given residents. Talent households therefore move housing demand by
// r (1 + m) persons per talent person in the long run, and a rent rise crowds out other residents:
// this is how a price boom drives people (and, through housing costs, talent and founders) away.
//
// With enabled: false, S and O keep their starting values (only talent households move).
// People are conserved: N[c] changes only by talent arrivals, departures, entries and exits (x r),
// the change of S (x r) and the change of O, each written to the output.
#pragma once

#include "engine/scenario/schema.hpp"
#include "models/city_state.hpp"

namespace citysim::models {

struct HouseholdParams {
    bool enabled = true;
    double residents_per_worker = 1.9;
    double local_jobs_per_talent = 4.9;
    double local_jobs_adjustment_rate = 0.3;
    double other_rent_elasticity = 0.3;
    double other_adjustment_rate = 0.2;
};
const scenario::Record<HouseholdParams>& households_schema();

class Households {
public:
    // Sets the starting local-service workers and other residents from each city's given residents.
    Households(const HouseholdParams& params, const std::vector<double>& residents, std::vector<double> starting_rent,
               CityState& state);
    void retune(const HouseholdParams& params);
    // Saves or restores this mechanism's own state (checkpoints, engine/checkpoint/archive.hpp).
    void save_or_restore(checkpoint::Archive& archive);
    // Moves S and O one step towards their targets, from the talent and rents at the start of the step.
    void update(CityState& state, double years_per_step) const;

    // The long-run residents per talent person, r * (1 + m).
    double residents_per_talent() const;

private:
    HouseholdParams params_;
    std::vector<double> starting_rent_;
    std::vector<double> starting_other_;
};

}  // namespace citysim::models
