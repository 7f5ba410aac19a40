// Scheduled changes: a number of the scenario takes another value for a while, to write shocks
// (a price surge like Shenzhen's 2015-16 and 2019-21, a national AI boom) and phased programmes.
//
// A change names a key path (`cities.shenzhen.housing.rent`, `mechanisms.founding.base_rate`),
// start_step and end_step (0 = to the end of the run), and either `value` or `multiply`: from
// start_step on the key reads value (or its scenario value times multiply), and from end_step on
// its scenario value again. Changes of the same key apply in the order written. The mechanisms
// take the new parameters at the start of the step, with their state (people, firms, prices,
// stocks) as it is; a demand shifter such as cities.<city>.housing.demand_shifter moves the market's
// clearing rent, so rents and prices follow it at their adjustment speeds rather than jumping.
//
// Keys that set the starting state or the run's layout cannot change on a schedule (simulation,
// talent, output, network, fields other than their rates, a policy's steps in force and
// eligibility (its amounts may change: rent_share, amount_per_year, ...), a city's residents, talent
// shares, floor space per person, starting rent and home price, persons per household,
// incumbents' employees, funds, and rates drawn once as waiting
// times: demography.exit_rate and founding.max_rate); booleans and texts cannot either.
#pragma once

#include "engine/scenario/schema.hpp"

#include <functional>
#include <string>
#include <vector>

namespace citysim::models {

// The most changes a schedule may hold: each one can make every run reload its parameters.
inline constexpr std::size_t max_scheduled_changes = 10'000;

struct ScheduledChange {
    std::string key;
    std::int64_t start_step = 0;
    std::int64_t end_step = 0;
    double value = 0.0;
    double multiply = 0.0;  // 0: value applies
};
const scenario::Record<ScheduledChange>& scheduled_change_schema();

// Why `key` cannot change on a schedule, or "" if it can. `rows` is the scenario's key reference.
std::string why_not_schedulable(const std::string& key, const std::vector<scenario::KeyRow>& rows);

// The row of the key reference that describes `key` (cities.shenzhen.housing.rent matches
// cities.<city>.housing.rent), or nullptr.
const scenario::KeyRow* key_row(const std::string& key, const std::vector<scenario::KeyRow>& rows);

// The scenario's number at `key` in `yaml` (the scenario as YAML), or NaN if there is none; for
// a holder of the text alone (a model keeps its scenario as text). Given the Scenario itself,
// number_at and scenario_values of models/scenario.hpp read it without parsing anything.
double number_at(const std::string& yaml, const std::string& key);

// The scenario's value at each change's key (read once: the YAML is parsed once for all of them).
std::vector<double> scenario_values(const std::vector<ScheduledChange>& changes, const std::string& yaml);

// Whether a change starts or ends at `step`, so that the parameters in force differ from the step before.
bool schedule_changes_at(const std::vector<ScheduledChange>& changes, std::int64_t step);

// The --set style overrides ("key=value") of the changes in force at `step`, one per key (its
// value after every change of it in force, in the order written), keys in order of their first
// change; scenario_value[k] is the scenario's value at changes[k].key.
std::vector<std::string> overrides_at(const std::vector<ScheduledChange>& changes,
                                      const std::vector<double>& scenario_value, std::int64_t step);

// Where changes of one key overlap they compose, so the value in force can leave the key's range
// though each change alone stays inside it. For each key, the first step at which two or more of
// its changes are in force together and the value they give fails `invalid` (a message, or ""):
// that step, the value, the message, and the change written last among those in force. Exact: the
// same fold as overrides_at. Cost: per key, its changes times its boundaries.
struct ComposedProblem {
    std::size_t change = 0;
    std::int64_t step = 0;
    double value = 0.0;
    std::string message;
};
std::vector<ComposedProblem> composed_problems(const std::vector<ScheduledChange>& changes,
                                               const std::vector<double>& scenario_value,
                                               const std::function<std::string(const std::string& key, double value)>& invalid);

}  // namespace citysim::models
