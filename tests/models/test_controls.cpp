// Controls (the live page's sliders and switches) and changes to a running model's schedule: a
// control names a number a schedule may change, over a range of valid values that holds the
// scenario's; a policy's amount may change on a schedule; rescheduling a running model gives the
// run of the scenario with that schedule, step for step, and cannot rewrite steps done.
#include "fixtures.hpp"
#include "models/city_model.hpp"
#include "models/recording.hpp"

#include <catch2/catch.hpp>

#include <map>

using namespace citysim;
using testing::errors_of;

namespace {

// Every recorded value of the state, by variable.
class Snapshot : public models::RecordSink {
public:
    bool wants(const std::string&) const override { return true; }
    void put(const std::string& name, std::span<const std::int64_t> values) override {
        values_[name].assign(values.begin(), values.end());
    }
    void put(const std::string& name, std::span<const double> values) override {
        values_[name].assign(values.begin(), values.end());
    }
    std::map<std::string, std::vector<double>> values_;
};

std::map<std::string, std::vector<double>> snapshot(const models::CityModel& model) {
    Snapshot sink;
    models::put_record(model.state(), sink);
    return sink.values_;
}

const std::string policy = R"(
policies:
  a_housing: {instrument: talent_housing_subsidy, city: a, rent_share: 0}
)";

}  // namespace

TEST_CASE("controls: a control is a schedulable number over a valid range that holds the scenario's value",
          "[controls][scenario]") {
    const auto base = testing::ecosystem_yaml() + policy;
    auto with = [&](const std::string& controls) { return errors_of(base + "controls:\n" + controls); };
    CHECK(with("  - {key: cities.a.labour.productivity, label: A's productivity, min: 0.8, max: 1.5, step: 0.05}\n"
               "  - {key: policies.a_housing.rent_share, kind: switch, min: 0, max: 0.3}\n")
              .empty());
    CHECK_THAT(with("  - {key: talent.agents, min: 1, max: 2}\n"),
               Catch::Contains("controls.0.key") && Catch::Contains("starting population"));
    CHECK_THAT(with("  - {key: cities.a.labour.productivity, min: 1.1, max: 1.5}\n"),
               Catch::Contains("outside [1.1, 1.5]"));
    CHECK_THAT(with("  - {key: cities.a.failure_tolerance, min: 0, max: 2}\n"),
               Catch::Contains("controls.0.max") && Catch::Contains("invalid value"));
    CHECK_THAT(with("  - {key: cities.a.housing.rent, min: 60, max: 80}\n"),
               Catch::Contains("cannot be a control") && Catch::Contains("demand_shifter"));
    CHECK_THAT(with("  - {key: cities.a.housing.demand_shifter, kind: switch, min: 1.2, max: 1.5}\n"),
               Catch::Contains("a switch sets min (off) or max (on)"));
    CHECK_THAT(with("  - {key: policies.a_housing.grant, min: 0, max: 2}\n"),
               Catch::Contains("does not read `grant`"));
    CHECK_THAT(with("  - {key: cities.zz.housing.demand_shifter, min: 0.5, max: 2}\n"), Catch::Contains("no number at"));
    CHECK_THAT(with("  - {key: cities.a.housing.demand_shifter, min: 2, max: 0.5}\n"), Catch::Contains("must be above min"));
    CHECK_THAT(with("  - {key: cities.a.housing.demand_shifter, min: 0.5, max: 2, step: 2}\n"), Catch::Contains("wider than"));
    CHECK_THAT(with("  - {key: cities.a.housing.demand_shifter, min: 0.5, max: 2}\n"
                    "  - {key: cities.a.housing.demand_shifter, min: 0.8, max: 1.5}\n"),
               Catch::Contains("a second control"));
    CHECK_THAT(with("  - {key: cities.a.housing.demand_shifter, kind: knob, min: 0.5, max: 2}\n"), Catch::Contains("slider"));
    // Controls do not change a run.
    models::CityModel plain(testing::load(base)),
        controlled(testing::load(base + "controls:\n  - {key: cities.a.housing.demand_shifter, min: 0.5, max: 2}\n"));
    for (int s = 0; s < 6; ++s) {
        plain.step();
        controlled.step();
    }
    CHECK(snapshot(plain) == snapshot(controlled));
}

TEST_CASE("schedule: a policy's amount may change during a run; its steps and eligibility may not", "[schedule][policy]") {
    const auto base = testing::ecosystem_yaml() + policy;
    CHECK_THAT(errors_of(base + "schedule:\n  - {key: policies.a_housing.start_step, value: 3, start_step: 2}\n"),
               Catch::Contains("own start_step and end_step"));
    CHECK_THAT(errors_of(base + "schedule:\n  - {key: policies.a_housing.eligibility.min_skill, value: 1, start_step: 2}\n"),
               Catch::Contains("who qualifies"));
    models::CityModel model(testing::load(base + "schedule:\n  - {key: policies.a_housing.rent_share, value: 0.3, start_step: 4}\n"));
    double before = 0.0, after = 0.0;
    for (int s = 1; s <= 8; ++s) {
        model.step();
        double paid = 0.0;
        for (const double x : model.state().policy.fiscal_cost) paid += x;
        (s < 4 ? before : after) += paid;
    }
    CHECK(before == 0.0);
    CHECK(after > 0.0);
}

TEST_CASE("reschedule: changes added to a running model give the run of the scenario with that schedule",
          "[schedule][controls]") {
    const auto base = testing::ecosystem_yaml() + policy;
    const std::string moves = R"(
schedule:
  - {key: cities.a.labour.productivity, value: 1.3, start_step: 5, end_step: 9}
  - {key: cities.a.labour.productivity, value: 0.9, start_step: 9}
  - {key: policies.a_housing.rent_share, value: 0.2, start_step: 7}
)";
    const auto scheduled = testing::load(base + moves);
    models::CityModel replay(scheduled), live(testing::load(base));
    auto changes = scheduled.schedule;
    for (int s = 1; s <= 14; ++s) {
        if (s == 5) live.reschedule({changes[0]});  // before step 5: the first move, open-ended for now
        if (s == 7) {
            auto first = changes[0];
            first.end_step = 0;
            live.reschedule({first, changes[2]});
        }
        if (s == 9) live.reschedule(changes);  // the first move ends where the second starts
        replay.step();
        live.step();
        INFO("step " << s);
        REQUIRE(snapshot(live) == snapshot(replay));
    }
    // Steps done cannot change.
    CHECK_THROWS_WITH(live.reschedule({}), Catch::Contains("differ from the old at step 5"));
    CHECK_THROWS_WITH(live.reschedule({models::ScheduledChange{"cities.zz.housing.demand_shifter", 20, 0, 1.0, 0.0}}),
                      Catch::Contains("no number at"));
    // A run the schedule never touches differs: the comparison above can fail.
    models::CityModel untouched(testing::load(base));
    for (int s = 1; s <= 14; ++s) untouched.step();
    CHECK(snapshot(untouched) != snapshot(replay));
}

TEST_CASE("scenario file text: the resolved scenario loads back and runs the same", "[scenario]") {
    const auto base = testing::ecosystem_yaml() + policy +
                      "schedule:\n  - {key: cities.a.housing.demand_shifter, multiply: 1.2, start_step: 3}\n";
    const auto scenario = testing::load(base);
    // scenario::to_yaml writes every key, which the checks refuse (grant on a housing subsidy, value
    // beside multiply); scenario_file_text leaves those out.
    CHECK_THROWS(models::load_scenario_text(scenario::to_yaml(models::scenario_schema(), scenario), "resolved.yaml"));
    const auto text = models::scenario_file_text(scenario);
    const auto reloaded = models::load_scenario_text(text, "saved.yaml").value;
    models::CityModel a(scenario), b(reloaded);
    for (int s = 0; s < 6; ++s) {
        a.step();
        b.step();
    }
    CHECK(snapshot(a) == snapshot(b));
    // Loading the text gives it back unchanged (the loader writes it as scenario_file_text does).
    CHECK(models::load_scenario_text(text, "saved.yaml").resolved_yaml == text);
    CHECK(text.find("grant:") == std::string::npos);
    CHECK(text.find("value:") == std::string::npos);
}

TEST_CASE("scenario file text: a text a YAML 1.1 reader would take for a boolean stays quoted", "[scenario]") {
    // (Python's yaml, which the analysis reads provenance with, reads a bare yes as true.)
    const auto loaded = models::load_scenario_text(
        testing::ecosystem_yaml() + policy +
            "controls:\n  - {key: cities.a.labour.productivity, label: \"yes\", min: 0.8, max: 1.5, step: 0.05}\n",
        "labels.yaml");
    INFO(loaded.resolved_yaml);
    CHECK(loaded.resolved_yaml.find("label: \"yes\"") != std::string::npos);
}
