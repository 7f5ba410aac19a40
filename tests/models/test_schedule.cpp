// Scheduled changes: a number takes another value from start_step to end_step and its own again
// after; keys that cannot change during a run are refused with the reason; scenarios that extend
// another merge over it and report errors in the file they come from.
#include "fixtures.hpp"
#include "models/city_model.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>

using namespace citysim;
using testing::errors_of;

TEST_CASE("schedule: a demand surge raises rents and prices while in force, and they settle back after", "[schedule]") {
    const auto base = testing::ecosystem_yaml();
    const auto surge = base + R"(
schedule:
  - {key: cities.a.housing.demand_shifter, value: 1.5, start_step: 6, end_step: 18}
)";
    models::CityModel plain(testing::load(base)), shocked(testing::load(surge));
    std::vector<double> gap, price_gap;
    for (int s = 1; s <= 48; ++s) {
        plain.step();
        shocked.step();
        gap.push_back(shocked.state().rent[0] / plain.state().rent[0]);
        price_gap.push_back(shocked.state().home_price[0] / plain.state().home_price[0]);
        if (s < 6) CHECK(shocked.state().rent == plain.state().rent);
    }
    CHECK(gap[16] > 1.2);            // rents well up while in force
    CHECK(price_gap[16] > gap[16]);  // and prices more: expected growth lifts the multiple
    CHECK(gap[47] < gap[16]);        // falling back after end_step
    CHECK(price_gap[47] < price_gap[16]);
    CHECK(gap[47] < 1.1);
}

TEST_CASE("schedule: value, and changes of mechanism rates, take effect in their window only", "[schedule]") {
    const auto yaml = testing::ecosystem_yaml() + R"(
schedule:
  - {key: mechanisms.founding.base_rate, value: 0.0, start_step: 1, end_step: 13}
)";
    models::CityModel model(testing::load(yaml));
    std::int64_t births_in_window = 0, births_after = 0;
    for (int s = 1; s <= 36; ++s) {
        model.step();
        for (auto b : model.state().ecosystem.births) (s < 13 ? births_in_window : births_after) += b;
    }
    CHECK(births_in_window == 0);
    CHECK(births_after > 0);
}

TEST_CASE("schedule: the scenario's values and the overrides in force, for several keys at once", "[schedule]") {
    const auto scenario = testing::load(testing::ecosystem_yaml());
    const auto yaml = scenario::to_yaml(models::scenario_schema(), scenario);
    const std::vector<models::ScheduledChange> changes = {
        {"cities.a.labour.mean_wage", 2, 5, 0.0, 1.5},
        {"cities.b.labour.mean_wage", 3, 0, 40.0, 0.0},
        {"cities.a.labour.mean_wage", 4, 6, 0.0, 2.0},
    };
    const auto values = models::scenario_values(changes, yaml);
    CHECK(values == std::vector<double>{200000.0, 180000.0, 200000.0});
    CHECK(models::overrides_at(changes, values, 1).empty());
    CHECK(models::overrides_at(changes, values, 3) ==
          std::vector<std::string>{"cities.a.labour.mean_wage=300000", "cities.b.labour.mean_wage=40"});
    // Changes of one key compose in the order written: 200000 x 1.5 x 2, one override per key.
    CHECK(models::overrides_at(changes, values, 4) ==
          std::vector<std::string>{"cities.a.labour.mean_wage=600000", "cities.b.labour.mean_wage=40"});
    CHECK(models::schedule_changes_at(changes, 5));
    CHECK_FALSE(models::schedule_changes_at(changes, 7));
}

TEST_CASE("schedule: a number read from the loaded scenario is the one its resolved text gives", "[schedule]") {
    const auto scenario = testing::load(testing::ecosystem_yaml() + R"(policies:
  a_housing: {instrument: talent_housing_subsidy, city: a, rent_share: 0.25}
schedule:
  - {key: cities.a.housing.demand_shifter, multiply: 1.2, start_step: 3}
)");
    const auto yaml = scenario::to_yaml(models::scenario_schema(), scenario);
    const auto same_bits = [](double a, double b) { return std::memcmp(&a, &b, sizeof a) == 0; };
    for (const std::string key : {"cities.a.labour.mean_wage", "cities.c.housing.rent", "simulation.steps",
                                  "simulation.seed", "mechanisms.migration.moving_cost", "talent.skill_dispersion",
                                  "policies.a_housing.rent_share", "policies.a_housing.start_step", "schedule.0.multiply",
                                  "schedule.0.start_step", "cities.a.talent.field_mix.ai"}) {
        INFO(key);
        const double from_object = scenario::number_at(models::scenario_schema(), scenario, key);
        CHECK(!std::isnan(from_object));
        CHECK(same_bits(from_object, models::number_at(yaml, key)));
    }
    // No number there, either way: a name or item that is not there, a mapping, a switch, a text.
    for (const std::string key : {"cities.zz.labour.mean_wage", "cities.a.labour", "cities.a", "cities",
                                  "schedule.1.multiply", "schedule.x.multiply", "schedule.0", "policies.none.rent_share",
                                  "mechanisms.housing.hold_prices", "simulation.step_unit", "cities.a.talent.field_mix.software",
                                  "nope", ""}) {
        INFO(key);
        CHECK(std::isnan(scenario::number_at(models::scenario_schema(), scenario, key)));
        CHECK(std::isnan(models::number_at(yaml, key)));
    }
}

TEST_CASE("schedule: keys that cannot change during a run are refused with the reason", "[schedule][scenario]") {
    const auto base = testing::ecosystem_yaml();
    CHECK_THAT(errors_of(base + "schedule:\n  - {key: talent.agents, value: 5, start_step: 2}\n"),
               Catch::Contains("schedule.0.key") && Catch::Contains("starting population"));
    CHECK_THAT(errors_of(base + "schedule:\n  - {key: cities.zz.housing.demand_shifter, value: 5, start_step: 2}\n"),
               Catch::Contains("no number at"));
    CHECK_THAT(errors_of(base + "schedule:\n  - {key: cities.a.housing.demand_shifter, value: 5, multiply: 2, start_step: 2}\n"),
               Catch::Contains("either value or multiply"));
    CHECK_THAT(errors_of(base + "schedule:\n  - {key: cities.a.housing.demand_shifter, value: -5, start_step: 2}\n"),
               Catch::Contains("not valid"));
    // A boom is a demand shock, not a new starting rent: the message says what to schedule instead.
    CHECK_THAT(errors_of(base + "schedule:\n  - {key: cities.a.housing.rent, multiply: 1.4, start_step: 2}\n"),
               Catch::Contains("starting rent") && Catch::Contains("demand_shifter"));
    CHECK_THAT(errors_of(base + "schedule:\n  - {key: mechanisms.migration.calibrate_amenities, value: 1, start_step: 2}\n"),
               Catch::Contains("boolean"));
    CHECK(errors_of(base + "schedule:\n  - {key: fields.ai.wage_premium, multiply: 1.2, start_step: 2}\n").empty());
}

TEST_CASE("extends: a scenario built on another merges over it; errors name the file they are in", "[scenario]") {
    const auto dir = std::filesystem::temp_directory_path() / "citysim-extends-test";
    std::filesystem::create_directories(dir);
    std::ofstream(dir / "base.yaml") << testing::ecosystem_yaml();
    std::ofstream(dir / "policy.yaml") << "extends: base.yaml\ncities:\n  b:\n    failure_tolerance: 0.1\n";
    std::ofstream(dir / "bad.yaml") << "extends: base.yaml\ncities:\n  b:\n    failure_tolerance: 7\n";
    std::ofstream(dir / "loop.yaml") << "extends: loop.yaml\n";
    const auto loaded = models::load_scenario(dir / "policy.yaml").value;
    const auto base = models::load_scenario(dir / "base.yaml").value;
    CHECK(loaded.cities[1].value.failure_tolerance == 0.1);
    CHECK(loaded.cities[1].value.labour.mean_wage == base.cities[1].value.labour.mean_wage);
    CHECK(loaded.cities.size() == base.cities.size());
    try {
        models::load_scenario(dir / "bad.yaml");
        FAIL("expected an error");
    } catch (const scenario::ScenarioError& e) {
        CHECK_THAT(e.diagnostics().front().format(), Catch::Contains("bad.yaml:4") && Catch::Contains("failure_tolerance"));
    }
    try {
        models::load_scenario(dir / "loop.yaml");
        FAIL("expected an error");
    } catch (const scenario::ScenarioError& e) {
        std::string all;
        for (const auto& d : e.diagnostics()) all += d.format() + "\n";
        CHECK_THAT(all, Catch::Contains("loop.yaml:1") && Catch::Contains("cycle"));
    }
    std::filesystem::remove_all(dir);
}
