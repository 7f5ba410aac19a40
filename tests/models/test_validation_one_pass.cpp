// Every error at once (issue 16): a cross-reference check is skipped only when a key it reads is in
// error, so fixing the reported errors never uncovers new ones. And the checks that bound a
// scenario or a sweep (issue 18): schedules checked in time linear in their entries, values that
// would overflow refused by the schema, sweeps that cannot resume wrongly.
#include "engine/scenario/schema.hpp"
#include "engine/sweep/plan.hpp"
#include "models/scenario.hpp"
#include "models/schedule.hpp"

#include <catch2/catch.hpp>

#include <filesystem>
#include <set>
#include <string>

namespace sc = citysim::scenario;
namespace models = citysim::models;
using Catch::Matchers::Contains;

namespace {

std::set<std::string> error_paths(const sc::ScenarioError& e) {
    std::set<std::string> paths;
    for (const auto& d : e.diagnostics()) paths.insert(d.key_path);
    return paths;
}

}  // namespace

TEST_CASE("validation: schema and cross-reference errors are reported in one pass", "[scenario][validation]") {
    const auto file = std::filesystem::path(CITYSIM_SOURCE_DIR) / "tests" / "data" / "mistakes-and-cross-references.yaml";
    try {
        models::load_scenario(file);
        FAIL("an invalid scenario loaded");
    } catch (const sc::ScenarioError& e) {
        const auto paths = error_paths(e);
        for (const char* expected :
             {"simulation.steps", "cities.shenzhen.housing.supply_elasticity", "cities.shenzhen.talent.field_mix.software",
              "cities.shenzhen.talent.field_mix.hardwre", "mechanisms.migration.reconsider_rat", "policies.sz.city",
              "policies.sz.rent_share", "policies.sz.end_step", "schedule.0.multiply", "schedule.0.end_step"}) {
            INFO(e.what());
            CHECK(paths.count(expected) == 1);
        }
        const std::string all = e.what();
        CHECK_THAT(all, Contains("'Shenzhen' is not one of the cities declared under `cities`; did you mean 'shenzhen'?"));
        CHECK_THAT(all, Contains("did you mean 'hardware'?"));
    }
}

TEST_CASE("validation: numbers that would overflow a step are out of range", "[scenario][validation]") {
    const auto file = std::filesystem::path(CITYSIM_SOURCE_DIR) / "scenarios" / "teaching-two-cities.yaml";
    for (const std::string override_text :
         {"fields.software.wage_premium=1e308", "talent.persons=1e308", "cities.harbour.residents=1e300",
          "cities.harbour.labour.mean_wage=1e-300", "cities.harbour.housing.rent=1e200",
          "cities.harbour.universities.graduates_per_year={software: 1e12}"}) {
        INFO(override_text);
        CHECK_THROWS_WITH(models::load_scenario(file, {override_text}), Contains("expected a number"));
    }
}

TEST_CASE("validation: a schedule is checked change by change, without reloading the scenario",
          "[scenario][schedule][validation]") {
    const auto base = std::filesystem::path(CITYSIM_SOURCE_DIR) / "scenarios" / "teaching-two-cities.yaml";
    auto loaded = sc::load_file(models::scenario_schema(), base);
    REQUIRE(loaded.diagnostics.empty());
    const std::string no_schedule = "schedule:\n  []\n";
    std::string text = loaded.resolved_yaml;
    REQUIRE(text.find(no_schedule) != std::string::npos);
    std::string entries;
    for (int i = 0; i < 2000; ++i)
        entries += "  - {key: cities.harbour.housing.demand_shifter, start_step: " + std::to_string(1 + i % 50) +
                   ", end_step: " + std::to_string(2 + i % 50) + ", multiply: " + (i == 1500 ? "100000" : "1.01") + "}\n";
    text.replace(text.find(no_schedule), no_schedule.size(), "schedule:\n" + entries);
    try {
        models::load_scenario_text(text, "long-schedule.yaml");
        FAIL("a demand shifter of 1e5 was accepted");
    } catch (const sc::ScenarioError& e) {
        REQUIRE(e.diagnostics().size() == 1);
        CHECK(e.diagnostics()[0].key_path == "schedule.1500");
        CHECK_THAT(e.diagnostics()[0].message, Contains("the changed value is not valid: expected a number in [0.1, 10]"));
    }
    // More than the limit is refused as a whole.
    std::string many = loaded.resolved_yaml;
    std::string lines;
    for (std::size_t i = 0; i <= models::max_scheduled_changes; ++i)
        lines += "  - {key: cities.harbour.housing.demand_shifter, start_step: 1, multiply: 1}\n";
    many.replace(many.find(no_schedule), no_schedule.size(), "schedule:\n" + lines);
    CHECK_THROWS_WITH(models::load_scenario_text(many, "many.yaml"), Contains("at most 10000"));
}

TEST_CASE("validation: changes of one key that overlap are checked as they compose", "[scenario][schedule][validation]") {
    const auto base = std::filesystem::path(CITYSIM_SOURCE_DIR) / "scenarios" / "teaching-two-cities.yaml";
    const auto text = sc::load_file(models::scenario_schema(), base).resolved_yaml;
    const auto with = [&](const std::string& entries) {
        std::string t = text;
        t.replace(t.find("schedule:\n  []\n"), 15, "schedule:\n" + entries);
        return t;
    };
    // Each factor of 4 is valid alone (demand_shifter is at most 10); together from step 5 they give 16.
    const std::string overlapping = "  - {key: cities.harbour.housing.demand_shifter, start_step: 2, end_step: 9, multiply: 4}\n"
                                    "  - {key: cities.lakeside.housing.demand_shifter, start_step: 2, multiply: 2}\n"
                                    "  - {key: cities.harbour.housing.demand_shifter, start_step: 5, multiply: 4}\n";
    try {
        models::load_scenario_text(with(overlapping), "overlap.yaml");
        FAIL("a demand shifter of 16 was accepted");
    } catch (const sc::ScenarioError& e) {
        REQUIRE(e.diagnostics().size() == 1);
        CHECK(e.diagnostics()[0].key_path == "schedule.2");
        CHECK_THAT(e.diagnostics()[0].message, Contains("in force at step 5, its value is 16") && Contains("[0.1, 10]"));
    }
    // The same factors one after the other, or a value written after them, are fine.
    CHECK_NOTHROW(models::load_scenario_text(
        with("  - {key: cities.harbour.housing.demand_shifter, start_step: 2, end_step: 5, multiply: 4}\n"
             "  - {key: cities.harbour.housing.demand_shifter, start_step: 5, multiply: 4}\n"),
        "sequential.yaml"));
    CHECK_NOTHROW(models::load_scenario_text(
        with("  - {key: cities.harbour.housing.demand_shifter, start_step: 2, multiply: 4}\n"
             "  - {key: cities.harbour.housing.demand_shifter, start_step: 3, multiply: 4}\n"
             "  - {key: cities.harbour.housing.demand_shifter, start_step: 3, value: 2}\n"),
        "reset.yaml"));
    // Composed as the run composes them: the value in force is what the scenario then holds.
    const std::vector<models::ScheduledChange> changes = {{"k", 2, 9, 0.0, 4.0}, {"k", 5, 0, 0.0, 4.0}};
    const auto problems = models::composed_problems(changes, {1.0, 1.0}, [](const std::string&, double v) {
        return v > 10 ? std::string("too big") : std::string();
    });
    REQUIRE(problems.size() == 1);
    CHECK(problems[0].step == 5);
    CHECK(problems[0].value == 16.0);
    CHECK(models::overrides_at(changes, {1.0, 1.0}, 5) == std::vector<std::string>{"k=16"});
}

TEST_CASE("sweep checks: duplicate keys, seed keys and sizes are refused before anything runs", "[sweep]") {
    namespace sw = citysim::sweep;
    const auto sweep_file = std::filesystem::path(CITYSIM_SOURCE_DIR) / "scenarios" / "sweeps" / "check.yaml";
    const auto errors = [&](const std::string& text) {
        auto loaded = sc::load_string(sw::sweep_schema(), text, sweep_file.string());
        sw::check_sweep(loaded, sweep_file);
        std::string all;
        for (const auto& d : loaded.diagnostics) all += d.format() + "\n";
        return all;
    };
    const std::string base = "base: ../teaching-two-cities.yaml\n";
    CHECK(errors(base + "parameters:\n  - {key: mechanisms.migration.income_weight, values: [1, 2]}\n") == "");
    CHECK_THAT(errors(base + "parameters:\n  - {key: a.b, values: [1]}\n  - {key: a.b, values: [2]}\n"),
               Contains("parameters.1.key: 'a.b' is varied twice (first by parameters.0)"));
    CHECK_THAT(errors(base + "parameters:\n  - {key: simulation.seed, values: [1, 2]}\n"),
               Contains("parameters.0.key: simulation.seed is set by the sweep"));
    CHECK_THAT(errors(base + "set: [simulation.run=3]\n"), Contains("set.0: simulation.run is set by the sweep"));
    CHECK_THAT(errors(base + "arms: {a: {set: [simulation.seed=3]}}\n"), Contains("arms.a.set.0: simulation.seed"));
    CHECK_THAT(errors(base + "replicates: 1000000\n"),
               Contains("the sweep has 1,000,000 runs (1 points x 1,000,000 replicates x 1 arms); a sweep may have at most 100,000"));
    CHECK_THAT(errors(base + "design: {kind: saltelli, samples: 50000}\nparameters:\n  - {key: a, min: 0, max: 1}\n"),
               Contains("150,000 runs"));
    CHECK_THAT(errors("base: /etc/passwd\n"), Contains("is outside the folders a sweep may read"));
    CHECK(sw::planned_runs(sw::SweepSpec{}) == 1);
}
