// Savings: what a person puts aside from income after housing.
//
//   savings' = max(0, savings + dt * saving_rate * (pay * w[c,f] * skill - 12 * R[c] * h0[c] * r))
//
// pay is 1, the employer's wage premium for incumbent employees, and 0 for founders, who live on
// their savings while their start-up cannot pay them.
// w is the annual wage for skill 1, R the monthly rent per m2, h0 the floor space per person and r
// the persons per worker (households.hpp): the housing of the worker's household.
// Savings start at initial_savings_years * w * skill. They are the cushion a founder lives on
// while unpaid, so high rents in a city erode its founders' runway.
#pragma once

#include "engine/scenario/schema.hpp"
#include "models/city_state.hpp"

namespace citysim::models {

struct SavingsParams {
    bool enabled = true;
    double saving_rate = 0.3;
    double initial_savings_years = 1.0;
};
const scenario::Record<SavingsParams>& savings_schema();

class Savings {
public:
    explicit Savings(const SavingsParams& params);
    // Saves or restores this mechanism's own state (checkpoints, engine/checkpoint/archive.hpp).
    void save_or_restore(checkpoint::Archive& archive);
    // Sets savings of the agents in rows [first, end) from their wages; for new agents.
    void endow(CityState& state, std::size_t first, std::size_t end) const;
    // Accrues savings for every agent, and fills state.skill_sum and skill_count.
    void step(CityState& state, double years_per_step) const;

private:
    SavingsParams params_;
};

// Fills state.skill_sum and skill_count from a tally of 2 x cities x fields (sums, then counts).
void split_skill_tally(CityState& state, const std::vector<double>& tally);
// Fills state.skill_sum and skill_count from the agents as they are now (for the starting record).
void sum_skills(CityState& state);

}  // namespace citysim::models
