// The city model: builds the state from a scenario and runs its mechanisms each step, in order:
//
//   labour_market  wages from the talent counts at the start of the step
//   households     local-service workers follow talent, other residents answer to rents
//   housing        rents, prices and stock from the residents at the start of the step
//   migration      reconsidering talent chooses a city (logit); movers move
//   savings        income after housing is saved; years in the city advance
//   demography     exits, then entries
// and, when any part of the innovation ecosystem is on (founding, incumbents, universities):
//   census_and_founding  releases employees of firms that ended, counts employment, lists free
//                  talent (firms.hpp); in the same pass over the talent, founding draws who founds
//                  and where (founding.hpp); then the new start-ups are created
//   universities   graduates join the pool; staff are hired
//   incumbents     projects and hiring
//   startups       burn, progress, rounds, failures, exits, breakthroughs, hiring
//   venture_capital  new capital, its mobility between cities, capital within reach
//
// With policies in the scenario (policy.hpp), a `policy` phase opens each step (what each
// instrument offers, public housing built), `policy_talent` follows migration (housing subsidies and
// settlement bonuses paid), `policy_startups` precedes start-ups (the rent subsidy's share) and
// `policy_end` closes the step (incumbents' land discounts charged).
//
// Scheduled changes (schedule.hpp) are applied before everything else in a step.
//
// Step 0 is the starting state; step k's record holds the state at the end of step k and the
// flows during it.
#pragma once

#include "engine/city_graph.hpp"
#include "engine/rng.hpp"
#include "engine/scheduler.hpp"
#include "models/city_state.hpp"
#include "models/firms.hpp"
#include "models/scenario.hpp"

#include <memory>
#include <optional>

namespace citysim::models {

class CityModel {
public:
    explicit CityModel(const Scenario& scenario);

    void step();
    std::int64_t steps_done() const { return steps_done_; }

    // Replaces the scheduled changes (schedule.hpp) while the model runs, as the live page's controls
    // do: the new list must put the same parameters in force as the old at every step done
    // (std::invalid_argument otherwise), so it changes only steps to come. A run of the scenario with
    // the new list as its `schedule` is then identical, step for step.
    void reschedule(std::vector<ScheduledChange> changes);
    const std::vector<ScheduledChange>& schedule() const { return schedule_; }
    double years_per_step() const { return years_per_step_; }

    const CityState& state() const { return state_; }
    const engine::Scheduler& scheduler() const { return scheduler_; }
    void enable_profiling() { scheduler_.enable_profiling(); }
    const engine::CityNetwork& network() const { return network_; }
    Incumbents* incumbents() { return incumbents_.get(); }

    // Saves the whole state after the last step, or restores it into a model just built from the
    // same scenario (or, for a fork, from a scenario that differs only after that step: fork.hpp).
    // Every mechanism saves and restores its own state (their save_or_restore()); the scheduled
    // changes in force are re-applied before the state they act on is restored.
    void save_or_restore(checkpoint::Archive& archive);

    struct Counters {
        std::int64_t agent_steps = 0;          // agents alive at the start of each step, summed
        std::int64_t migration_decisions = 0;  // agents who reconsidered their city
        std::int64_t moves = 0;
    };
    const Counters& counters() const { return counters_; }

private:
    void setup_ecosystem(const Scenario& scenario);
    // Scheduled changes (schedule.hpp): the parameters in force at this step.
    void apply_schedule(std::int64_t step);
    void retune(const Scenario& scenario);
    // The scenario as given, without its schedule, as YAML (what a scheduled change reloads with
    // its overrides): emitted on first use, from unscheduled_, since a run whose scenario schedules
    // nothing never uses it and emitting it was half of building the model of a small scenario.
    const std::string& scenario_yaml();
    std::optional<Scenario> unscheduled_;
    std::string scenario_yaml_;
    std::vector<ScheduledChange> schedule_;
    std::vector<double> scheduled_keys_values_;  // the scenario's value at each change's key
    std::vector<std::string> changes_in_force_;  // as overrides
    std::vector<std::int64_t> schedule_boundaries_;  // steps where a change starts or ends, sorted
    std::vector<double> given_amenity_;          // per city, the scenario's
    std::vector<double> starting_amenity_;       // per city, as migration used them at the start (calibrated or given)
    engine::CityNetwork network_;
    CityState state_;
    double years_per_step_;
    engine::StreamKey streams_;
    LabourMarket labour_market_;
    std::unique_ptr<Households> households_;
    std::unique_ptr<HousingMarket> housing_;
    Migration migration_;
    MigrationParams migration_params_;
    Savings savings_;
    Demography demography_;
    HiringPool hiring_pool_;
    std::unique_ptr<Universities> universities_;
    std::unique_ptr<Incumbents> incumbents_;
    std::unique_ptr<VentureCapital> venture_capital_;
    std::unique_ptr<Founding> founding_;
    std::unique_ptr<Startups> startups_;
    std::unique_ptr<Policies> policies_;
    engine::Scheduler scheduler_;
    std::int64_t steps_done_ = 0;
    Counters counters_;
};

// Starting talent counts per [city * fields + field], apportioned exactly from the shares.
std::vector<std::int64_t> starting_talent_counts(const Scenario& scenario);

}  // namespace citysim::models
