// Demography: talent leaves the pool (retirement, a change of career) and new talent enters it.
//
//   each agent exits with probability 1 - exp(-exit_rate * dt) per step
//   entrants[c,f] ~ Poisson(entry_rate * dt * L[c,f](0))
//
// An agent's exit step is drawn once, when demography first sees it, as a geometric waiting time
// (the same distribution as a coin each step). Entrants start in city c with a fresh skill draw,
// their arrival step set to now, and starting savings. With
// entry_rate = exit_rate the pool is stationary in expectation. (Graduates from each city's
// universities, by field, replace this uniform inflow in the ecosystem model.)
#pragma once

#include "engine/rng.hpp"
#include "engine/scenario/schema.hpp"
#include "models/city_state.hpp"
#include "models/savings.hpp"

namespace citysim::models {

struct DemographyParams {
    bool enabled = true;
    double exit_rate = 0.025;
    double entry_rate = 0.025;
};
const scenario::Record<DemographyParams>& demography_schema();

class Demography {
public:
    Demography(const DemographyParams& params, double skill_dispersion);
    // Saves or restores this mechanism's own state (checkpoints, engine/checkpoint/archive.hpp).
    void save_or_restore(checkpoint::Archive& archive);
    void step(CityState& state, const engine::StreamKey& streams, double years_per_step, const Savings& savings) const;

private:
    DemographyParams params_;
    double skill_dispersion_;
    // Scratch kept across steps: the rows leaving, per block of talent and all together.
    mutable std::vector<std::vector<std::uint32_t>> leaving_rows_;
    mutable std::vector<std::uint32_t> all_leaving_;
};

}  // namespace citysim::models
