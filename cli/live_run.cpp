#include "cli/live_run.hpp"

#include "models/recording.hpp"
#include "models/schedule.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <optional>

namespace citysim::cli {

namespace {

class MemorySink : public models::RecordSink {
public:
    MemorySink(const std::vector<std::string>& wanted, LiveRecord& record) : wanted_(wanted), record_(record) {
        record_.variables.resize(wanted.size());
    }
    bool wants(const std::string& variable) const override { return index(variable) < wanted_.size(); }
    void put(const std::string& variable, std::span<const std::int64_t> values) override {
        store(variable, std::vector<std::int64_t>(values.begin(), values.end()));
    }
    void put(const std::string& variable, std::span<const double> values) override {
        store(variable, std::vector<double>(values.begin(), values.end()));
    }

private:
    std::size_t index(const std::string& variable) const {
        return static_cast<std::size_t>(std::find(wanted_.begin(), wanted_.end(), variable) - wanted_.begin());
    }
    template <class V>
    void store(const std::string& variable, V values) {
        auto& slot = record_.variables[index(variable)];
        slot.name = variable;
        slot.values = std::move(values);
    }
    const std::vector<std::string>& wanted_;
    LiveRecord& record_;
};

std::string number_text(double x) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.10g", x);
    return buf;
}

// The value `key` takes in the overrides (key=value strings), if any of them sets it.
std::optional<double> value_in(const std::vector<std::string>& overrides, const std::string& key) {
    std::optional<double> value;
    for (const auto& o : overrides)
        if (o.size() > key.size() && o.compare(0, key.size(), key) == 0 && o[key.size()] == '=')
            value = std::stod(o.substr(key.size() + 1));
    return value;
}

}  // namespace

LiveRun::LiveRun(const scenario::Loaded<models::Scenario>& scenario, std::string scenario_file, std::int64_t seed,
                 std::vector<std::string> variables)
    : scenario_(scenario), scenario_file_(std::move(scenario_file)), seed_(seed), variables_(std::move(variables)) {
    models::Scenario seeded = scenario_.value;
    seeded.simulation.seed = seed_;
    model_ = std::make_unique<models::CityModel>(seeded);
    own_schedule_values_ = models::scenario_values(scenario_.value.schedule, scenario_.value);
}

LiveRecord LiveRun::record() const {
    LiveRecord record;
    record.time = model_->steps_done();
    MemorySink sink(variables_, record);
    models::put_record(model_->state(), sink);
    return record;
}

std::vector<LiveRecord> LiveRun::advance(std::int64_t count) {
    std::vector<LiveRecord> records;
    for (std::int64_t k = 0; k < count && model_->steps_done() < steps(); ++k) {
        model_->step();
        records.push_back(record());
    }
    return records;
}

double LiveRun::scenario_value(const std::string& key, std::int64_t step) const {
    const auto scheduled = value_in(models::overrides_at(scenario_.value.schedule, own_schedule_values_, step), key);
    return scheduled ? *scheduled : models::number_at(scenario_.value, key);
}

void LiveRun::set_control(const std::string& key, double value) {
    const auto& controls = scenario_.value.controls;
    const auto control = std::find_if(controls.begin(), controls.end(), [&](const auto& c) { return c.key == key; });
    if (control == controls.end()) {
        std::string known;
        for (const auto& c : controls) known += (known.empty() ? "" : ", ") + c.key;
        throw RequestError("no control '" + key + "' in this scenario" +
                           (known.empty() ? std::string(" (it has none)") : "; its controls are " + known));
    }
    if (!std::isfinite(value)) throw RequestError("the value of '" + key + "' must be a finite number");
    // Slack for a value sent in decimal that the page computed in binary floating point.
    const double slack = 1e-9 * (control->max - control->min);
    if (control->kind == "switch") {
        if (std::abs(value - control->min) <= slack) value = control->min;
        else if (std::abs(value - control->max) <= slack) value = control->max;
        else
            throw RequestError("'" + key + "' is a switch: its value is " + number_text(control->min) + " (off) or " +
                               number_text(control->max) + " (on), not " + number_text(value));
    } else if (value < control->min - slack || value > control->max + slack) {
        throw RequestError("the value of '" + key + "' must be in [" + number_text(control->min) + ", " +
                           number_text(control->max) + "], not " + number_text(value));
    } else {
        value = std::clamp(value, control->min, control->max);
    }
    const std::int64_t next = model_->steps_done() + 1;
    if (next > steps())
        throw RequestError("the run is over (step " + std::to_string(steps()) + " of " + std::to_string(steps()) +
                           "); reset it to start again");

    // The move holds from the next step on: it replaces a move not yet in force, and ends the one in force.
    auto moves = moves_;
    std::erase_if(moves, [&](const auto& m) { return m.key == key && m.start_step >= next; });
    for (auto& m : moves)
        if (m.key == key && (m.end_step == 0 || m.end_step > next)) m.end_step = next;
    if (value != scenario_value(key, next)) moves.push_back({key, next, 0, value, 0.0});
    if (moves.size() > max_moves)
        throw RequestError("this run has " + std::to_string(max_moves) + " control moves, the most it keeps; reset it");

    auto schedule = scenario_.value.schedule;
    schedule.insert(schedule.end(), moves.begin(), moves.end());
    model_->reschedule(std::move(schedule));
    moves_ = std::move(moves);
}

std::map<std::string, double> LiveRun::control_values() const {
    const auto& schedule = model_->schedule();
    const auto in_force = models::overrides_at(schedule, models::scenario_values(schedule, scenario_.value),
                                               model_->steps_done() + 1);
    std::map<std::string, double> values;
    for (const auto& c : scenario_.value.controls) {
        const auto scheduled = value_in(in_force, c.key);
        values[c.key] = scheduled ? *scheduled : models::number_at(scenario_.value, c.key);
    }
    return values;
}

std::string LiveRun::saved_scenario(const std::string& saved_at) const {
    models::Scenario saved = scenario_.value;
    saved.simulation.seed = seed_;
    const auto own = saved.schedule.size();
    saved.schedule.insert(saved.schedule.end(), moves_.begin(), moves_.end());
    const auto& unit = saved.simulation.step_unit;
    std::string header;
    header += "# Saved by citysim serve from " + scenario_file_ + " on " + saved_at + ", at " + unit + " " +
              std::to_string(steps_done()) + " of " + std::to_string(steps()) + ".\n";
    header += "# The scenario as it ran (every default written out), seed " + std::to_string(seed_) + ", and the class's " +
              std::to_string(moves_.size()) + " control move" + (moves_.size() == 1 ? "" : "s") +
              " as `schedule` entries" + (own ? " after the scenario's own " + std::to_string(own) : std::string()) +
              ".\n";
    header += "# Replay it (bit-identical to the live run): citysim run THIS_FILE -o replay.h5\n";
    return header + models::scenario_file_text(saved);
}

}  // namespace citysim::cli
