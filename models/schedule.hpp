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
// talent, output, network, fields other than their rates, policies, a city's residents, talent
// shares, floor space per person, starting rent and home price, persons per household,
// incumbents' employees, funds, and rates drawn once as waiting
// times: demography.exit_rate and founding.max_rate); booleans and texts cannot either.
#pragma once

#include "engine/scenario/schema.hpp"

#include <string>
#include <vector>

namespace citysim::models {

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

// The scenario's number at `key` in `yaml` (the scenario as YAML), or NaN if there is none.
double number_at(const std::string& yaml, const std::string& key);

// The scenario's value at each change's key (read once: the YAML is parsed once for all of them).
std::vector<double> scenario_values(const std::vector<ScheduledChange>& changes, const std::string& yaml);

// Whether a change starts or ends at `step`, so that the parameters in force differ from the step before.
bool schedule_changes_at(const std::vector<ScheduledChange>& changes, std::int64_t step);

// The --set style overrides ("key=value") of the changes in force at `step`; scenario_value[k] is
// the scenario's value at changes[k].key.
std::vector<std::string> overrides_at(const std::vector<ScheduledChange>& changes,
                                      const std::vector<double>& scenario_value, std::int64_t step);

}  // namespace citysim::models
