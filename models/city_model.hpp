// The city model: builds the state from a scenario and runs its mechanisms each step, in order:
//
//   labour_market  wages from the talent counts at the start of the step
//   housing        rents, prices and stock from the residents at the start of the step
//   migration      reconsidering talent chooses a city (logit); movers move
//   savings        income after housing is saved; years in the city advance
//   demography     exits, then entries
//
// Step 0 is the starting state; step k's record holds the state at the end of step k and the
// flows during it.
#pragma once

#include "engine/city_graph.hpp"
#include "engine/rng.hpp"
#include "engine/scheduler.hpp"
#include "models/city_state.hpp"
#include "models/scenario.hpp"

namespace citysim::models {

class CityModel {
public:
    explicit CityModel(const Scenario& scenario);

    void step();
    std::int64_t steps_done() const { return steps_done_; }
    double years_per_step() const { return years_per_step_; }

    const CityState& state() const { return state_; }
    const engine::Scheduler& scheduler() const { return scheduler_; }
    const engine::CityNetwork& network() const { return network_; }

    struct Counters {
        std::int64_t agent_steps = 0;          // agents alive at the start of each step, summed
        std::int64_t migration_decisions = 0;  // agents who reconsidered their city
        std::int64_t moves = 0;
    };
    const Counters& counters() const { return counters_; }

private:
    engine::CityNetwork network_;
    CityState state_;
    double years_per_step_;
    engine::StreamKey streams_;
    LabourMarket labour_market_;
    std::unique_ptr<HousingMarket> housing_;
    Migration migration_;
    Savings savings_;
    Demography demography_;
    engine::Scheduler scheduler_;
    std::int64_t steps_done_ = 0;
    Counters counters_;
};

// Starting talent counts per [city * fields + field], apportioned exactly from the shares.
std::vector<std::int64_t> starting_talent_counts(const Scenario& scenario);

}  // namespace citysim::models
