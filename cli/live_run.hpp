// One live run of the city model for the classroom page (citysim serve): it steps a CityModel,
// hands back each step's values as the output file would hold them (models::put_record), and turns
// the class's control moves into scheduled changes (models/schedule.hpp), so that the saved
// scenario (the scenario, the moves as its `schedule`, the seed) replays bit for bit with
// `citysim run`. Not thread-safe: the server holds one lock per run.
#pragma once

#include "engine/scenario/schema.hpp"
#include "models/city_model.hpp"
#include "models/scenario.hpp"

#include <cstdint>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <variant>
#include <vector>

namespace citysim::cli {

// A request the run cannot honour (a value out of range, an unknown control): a 4xx for the page.
class RequestError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// One variable's values at one step, flattened as in the output file.
struct LiveValues {
    std::string name;
    std::variant<std::vector<std::int64_t>, std::vector<double>> values;
};

struct LiveRecord {
    std::int64_t time = 0;
    std::vector<LiveValues> variables;  // in the order asked for
};

class LiveRun {
public:
    // `variables`: output variables (models/recording.hpp) to hand back each step.
    LiveRun(const scenario::Loaded<models::Scenario>& scenario, std::string scenario_file, std::int64_t seed,
            std::vector<std::string> variables);

    std::int64_t seed() const { return seed_; }
    std::int64_t steps_done() const { return model_->steps_done(); }
    std::int64_t steps() const { return scenario_.value.simulation.steps; }
    const models::CityModel& model() const { return *model_; }

    // The state now (time = steps done).
    LiveRecord record() const;
    // Runs up to `count` steps (fewer at the end of the run) and returns their records.
    std::vector<LiveRecord> advance(std::int64_t count);

    // Sets a control (controls.hpp) from the next step on: a RequestError when `key` is no control
    // or `value` is outside its range (a switch: not min or max).
    void set_control(const std::string& key, double value);
    // The value each control has at the next step.
    std::map<std::string, double> control_values() const;
    // The class's moves, as scheduled changes (after the scenario's own).
    const std::vector<models::ScheduledChange>& moves() const { return moves_; }

    // The scenario to replay this run: resolved (defaults written out), with the seed, and the
    // scenario's schedule followed by the moves; headed by comments that say what it is.
    std::string saved_scenario(const std::string& saved_at) const;

    // At most this many moves in one run (each is a scheduled change the model checks every step).
    static constexpr std::size_t max_moves = 2000;

private:
    double scenario_value(const std::string& key, std::int64_t step) const;

    const scenario::Loaded<models::Scenario>& scenario_;
    std::string scenario_file_;
    std::int64_t seed_;
    std::vector<std::string> variables_;
    std::unique_ptr<models::CityModel> model_;
    std::vector<models::ScheduledChange> moves_;
    std::vector<double> own_schedule_values_;  // the scenario's value at each of its own changes' keys
};

}  // namespace citysim::cli
