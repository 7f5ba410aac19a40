// The scenario layer: YAML -> typed structs, every error at once with its position, overrides,
// resolved YAML round trip, key reference.
#include "engine/scenario/schema.hpp"
#include "engine/scenario/detail/internal.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <limits>
#include <random>
#include <string>
#include <vector>

namespace sc = citysim::scenario;

namespace Catch {
template <>
struct StringMaker<citysim::scenario::Mark> {
    static std::string convert(const citysim::scenario::Mark& m) {
        return m.file + ":" + std::to_string(m.line) + ":" + std::to_string(m.column);
    }
};
}  // namespace Catch
using sc::Named;
using sc::Range;

namespace {

// ------------------------------------------------------------------ a small test schema

struct Sim {
    std::int64_t steps = 0;
    std::int64_t seed = 0;
    bool record_agents = false;
    std::string mode;
    bool operator==(const Sim&) const = default;
};
struct Housing {
    double supply_elasticity = 0;
    double depreciation = 0;
    bool operator==(const Housing&) const = default;
};
struct City {
    double productivity = 0;
    std::int64_t population = 0;
    Housing housing;
    std::vector<Named<double>> field_mix;
    bool operator==(const City&) const = default;
};
struct Link {
    std::string from, to;
    double hours = 0;
    double capacity = 0;
    bool operator==(const Link&) const = default;
};
struct Network {
    std::vector<Link> links;
    bool operator==(const Network&) const = default;
};
struct Scenario {
    std::string title;
    Sim sim;
    std::vector<Named<City>> cities;
    Network network;
    std::vector<std::string> tags;
    std::string solver;
    bool operator==(const Scenario&) const = default;
};

sc::Record<Scenario> scenario_schema() {
    sc::Record<Sim> sim("Simulation control.");
    sim.integer("steps", &Sim::steps, "steps", "Number of simulated months.", std::nullopt, Range::at_least(1))
        .integer("seed", &Sim::seed, "", "Random seed.", 42)
        .boolean("record_agents", &Sim::record_agents, "Whether to record every agent.", false)
        .choice("mode", &Sim::mode, {"monthly", "yearly"}, "Step length.", "monthly");

    sc::Record<Housing> housing("Housing market of one city.");
    housing
        .real("supply_elasticity", &Housing::supply_elasticity, "1", "Price elasticity of housing supply.", 1.5,
              Range::positive().because("elasticity must be positive"))
        .real("depreciation", &Housing::depreciation, "1/year", "Share of the stock lost per year.", 0.02,
              Range::unit_interval());

    sc::Record<City> city("One city.");
    city.real("productivity", &City::productivity, "1", "Total factor productivity.", std::nullopt, Range::positive())
        .integer("population", &City::population, "people", "Initial population.", std::nullopt, Range::non_negative())
        .record("housing", &City::housing, housing)
        .named_reals("field_mix", &City::field_mix, "field", "1", "Employment shares by field.", Range::unit_interval(),
                     std::vector<Named<double>>{{"general", 1.0}});

    sc::Record<Link> link("A transport link.");
    link.text("from", &Link::from, "Origin city.", std::nullopt)
        .text("to", &Link::to, "Destination city.", std::nullopt)
        .real("hours", &Link::hours, "hours", "Travel time.", std::nullopt, Range::positive())
        .real("capacity", &Link::capacity, "trips/day", "Capacity.", 0.0, Range::non_negative());

    sc::Record<Network> network("The transport network.");
    network.list("links", &Network::links, link, "Directed links between cities.", {"from", "to", "hours"},
                 std::vector<Link>{});

    sc::Record<Scenario> root("A test scenario.");
    root.text("title", &Scenario::title, "Title.", std::nullopt)
        .record("sim", &Scenario::sim, sim)
        .named("cities", &Scenario::cities, city, "city", "The simulated cities.")
        .record("network", &Scenario::network, network)
        .text_list("tags", &Scenario::tags, "Free-form tags.", std::vector<std::string>{})
        .choice("solver", &Scenario::solver, {"exact", "approximate"}, "Solver.", "exact");
    return root;
}

const char* const valid_yaml = R"(# A valid scenario
title: Pearl River Delta
sim:
  steps: 120
  record_agents: true
cities:
  shenzhen:
    productivity: 1.25
    population: 17.79e6
    housing:
      supply_elasticity: 0.1
    field_mix: {hardware: 0.4, software: 0.6}
  guangzhou:
    productivity: 1e-300
    population: 18800000
network:
  links:
    - [shenzhen, guangzhou, 0.5]
    - {from: guangzhou, to: shenzhen, hours: 0.75, capacity: 2500}
tags: [coastal, "2024"]
)";

std::string all_messages(const std::vector<sc::Diagnostic>& ds) {
    std::string out;
    for (const auto& d : ds) out += d.format() + "\n";
    return out;
}

// Loads `text` into a one-key-per-type schema and returns the single diagnostic's message ("" if none).
struct Scalars {
    double x = 0;
    std::int64_t n = 0;
    bool flag = false;
};
std::string scalar_error(const std::string& text) {
    sc::Record<Scalars> s("scalars");
    s.real("x", &Scalars::x, "", "", 0.0).integer("n", &Scalars::n, "", "", 0).boolean("flag", &Scalars::flag, "", false);
    auto loaded = sc::load_string(s, text, "t.yaml");
    if (loaded.diagnostics.empty()) return "";
    REQUIRE(loaded.diagnostics.size() == 1);
    return loaded.diagnostics[0].message;
}
Scalars scalar_value(const std::string& text) {
    sc::Record<Scalars> s("scalars");
    s.real("x", &Scalars::x, "", "", 0.0).integer("n", &Scalars::n, "", "", 0).boolean("flag", &Scalars::flag, "", false);
    auto loaded = sc::load_string(s, text, "t.yaml");
    INFO(all_messages(loaded.diagnostics));
    REQUIRE(loaded.diagnostics.empty());
    return loaded.value;
}

}  // namespace

TEST_CASE("scenario: a valid file loads with exact values and defaults", "[scenario]") {
    auto loaded = sc::load_string(scenario_schema(), valid_yaml, "pearl.yaml");
    INFO(all_messages(loaded.diagnostics));
    REQUIRE(loaded.diagnostics.empty());
    const Scenario& s = loaded.value;
    CHECK(s.title == "Pearl River Delta");
    CHECK(s.sim.steps == 120);
    CHECK(s.sim.seed == 42);  // default
    CHECK(s.sim.record_agents);
    CHECK(s.sim.mode == "monthly");  // default
    REQUIRE(s.cities.size() == 2);
    CHECK(s.cities[0].name == "shenzhen");  // file order, not sorted
    CHECK(s.cities[1].name == "guangzhou");
    const City& sz = s.cities[0].value;
    CHECK(sz.productivity == 1.25);
    CHECK(sz.population == 17790000);  // 17.79e6 is exactly integral
    CHECK(sz.housing.supply_elasticity == 0.1);
    CHECK(sz.housing.depreciation == 0.02);  // default
    CHECK(sz.field_mix == std::vector<Named<double>>{{"hardware", 0.4}, {"software", 0.6}});
    const City& gz = s.cities[1].value;
    CHECK(gz.productivity == 1e-300);
    CHECK(gz.population == 18800000);
    CHECK(gz.housing.supply_elasticity == 1.5);  // whole record absent: defaults
    CHECK(gz.field_mix == std::vector<Named<double>>{{"general", 1.0}});
    REQUIRE(s.network.links.size() == 2);
    CHECK(s.network.links[0] == Link{"shenzhen", "guangzhou", 0.5, 0.0});  // positional, capacity defaulted
    CHECK(s.network.links[1] == Link{"guangzhou", "shenzhen", 0.75, 2500.0});
    CHECK(s.tags == std::vector<std::string>{"coastal", "2024"});
    CHECK(s.solver == "exact");

    // Where things came from: values at their value, containers at their key, absent keys at the
    // nearest ancestor present.
    CHECK(loaded.source.mark("sim.steps") == sc::Mark{"pearl.yaml", 4, 10});
    CHECK(loaded.source.mark("cities.shenzhen.housing.supply_elasticity") == sc::Mark{"pearl.yaml", 11, 26});
    CHECK(loaded.source.mark("cities.shenzhen") == sc::Mark{"pearl.yaml", 7, 3});
    CHECK(loaded.source.mark("network.links.0.hours") == sc::Mark{"pearl.yaml", 18, 29});
    CHECK(loaded.source.mark("cities.guangzhou.housing.depreciation") == sc::Mark{"pearl.yaml", 13, 3});
    CHECK_FALSE(loaded.source.has_errors_under(""));
    CHECK_NOTHROW(loaded.throw_if_errors());
}

TEST_CASE("scenario: every mistake in a file is reported at once, in file order", "[scenario]") {
    const char* text = R"(title: Bad
sim:
  steps: 010
  seed: 7
  seed: 8
  record_agents: yes
cities:
  shenzhen:
    productivity: "5"
    population: 1.5
    housing:
      suply_elasticity: 2
  guangzhou:
    productivity: 2
    housing:
      supply_elasticity: -0.5
    field_mix: [a, b]
network:
  links:
    - [shenzhen, guangzhou]
)";
    auto loaded = sc::load_string(scenario_schema(), text, "bad.yaml");
    INFO(all_messages(loaded.diagnostics));
    struct Expected {
        int line, column;
        std::string path, message;
    };
    const std::vector<Expected> expected = {
        {3, 10, "sim.steps", "leading zeros are not allowed; YAML 1.1 readers take 010 as octal 8; write 10"},
        {5, 3, "sim.seed", "duplicate key 'seed' (first given at line 4); remove one of them"},
        {6, 18, "sim.record_agents", "expected true or false, got yes; YAML 1.1 readers take yes as true"},
        {9, 19, "cities.shenzhen.productivity", "expected a number, got the string \"5\"; remove the quotes"},
        {10, 17, "cities.shenzhen.population", "expected an integer, got 1.5"},
        {12, 7, "cities.shenzhen.housing.suply_elasticity",
         "unknown key 'suply_elasticity'; did you mean 'supply_elasticity'?"},
        {13, 3, "cities.guangzhou.population", "missing required key 'population' (integer, people)"},
        {16, 26, "cities.guangzhou.housing.supply_elasticity",
         "expected a number > 0 (elasticity must be positive), got -0.5"},
        {17, 16, "cities.guangzhou.field_mix", "expected a mapping <field> -> real"},
        {20, 7, "network.links.0.hours", "missing required key 'hours' (real, hours)"},
    };
    REQUIRE(loaded.diagnostics.size() == expected.size());
    for (std::size_t i = 0; i < expected.size(); ++i) {
        const sc::Diagnostic& d = loaded.diagnostics[i];
        INFO("diagnostic " << i << ": " << d.format());
        CHECK(d.mark.file == "bad.yaml");
        CHECK(d.mark.line == expected[i].line);
        CHECK(d.mark.column == expected[i].column);
        CHECK(d.key_path == expected[i].path);
        CHECK(d.message.find(expected[i].message) == 0);
    }
    CHECK(loaded.diagnostics[0].format() ==
          "bad.yaml:3:10: error: sim.steps: leading zeros are not allowed; YAML 1.1 readers take 010 as octal 8; "
          "write 10");

    // Values in error hold their default (or T{}'s value when there is none).
    CHECK(loaded.value.sim.steps == 0);
    CHECK(loaded.value.sim.seed == 7);  // the first of the duplicates
    CHECK(loaded.value.sim.record_agents == false);
    CHECK(loaded.value.cities[1].value.housing.supply_elasticity == 1.5);

    // Semantic checks can skip what is already in error.
    CHECK(loaded.source.has_errors_under("sim"));
    CHECK(loaded.source.has_errors_under("cities.guangzhou.housing"));
    CHECK(loaded.source.has_errors_under("cities.guangzhou.housing.supply_elasticity"));
    CHECK_FALSE(loaded.source.has_errors_under("cities.guangzhou.housing.depreciation"));
    CHECK_FALSE(loaded.source.has_errors_under("tags"));
    CHECK_FALSE(loaded.source.has_errors_under("cities.shen"));  // a prefix of a name is not a parent

    // Callers add their own errors and throw them all together.
    loaded.error("cities.guangzhou.productivity", "productivity is implausible");
    CHECK(loaded.diagnostics.back().mark == sc::Mark{"bad.yaml", 14, 19});
    try {
        loaded.throw_if_errors();
        FAIL("expected a ScenarioError");
    } catch (const sc::ScenarioError& e) {
        CHECK(e.diagnostics().size() == expected.size() + 1);
        const std::string what = e.what();
        CHECK(std::count(what.begin(), what.end(), '\n') == static_cast<long>(expected.size()));
        CHECK(what.find("bad.yaml:16:26: error: cities.guangzhou.housing.supply_elasticity: expected a number > 0") !=
              std::string::npos);
    }
}

TEST_CASE("scenario: a YAML syntax error throws with its mark", "[scenario]") {
    const char* text = "title: x\nsim:\n  steps: [1, 2\ncities: {}\n";
    try {
        sc::load_string(scenario_schema(), text, "broken.yaml");
        FAIL("expected a ScenarioError");
    } catch (const sc::ScenarioError& e) {
        REQUIRE(e.diagnostics().size() == 1);
        const sc::Diagnostic& d = e.diagnostics()[0];
        CHECK(d.mark.file == "broken.yaml");
        CHECK(d.mark.line >= 3);
        CHECK(d.mark.column >= 1);
        CHECK(d.message.find("invalid YAML: ") == 0);
        CHECK(std::string(e.what()).find("broken.yaml:") == 0);
    }
    CHECK_THROWS_AS(sc::load_string(scenario_schema(), "a: *nowhere\n", "alias.yaml"), sc::ScenarioError);
}

TEST_CASE("scenario: load_file reads a file and reports an unreadable one", "[scenario]") {
    const auto dir = std::filesystem::temp_directory_path() /
                     ("citysim_test_scenario_" + std::to_string(std::random_device{}()));
    std::filesystem::create_directories(dir);
    const auto path = dir / "pearl.yaml";
    {
        std::ofstream out(path);
        out << valid_yaml;
    }
    auto loaded = sc::load_file(scenario_schema(), path);
    CHECK(loaded.diagnostics.empty());
    CHECK(loaded.source.mark("sim.steps").file == path.string());
    try {
        sc::load_file(scenario_schema(), dir / "missing.yaml");
        FAIL("expected a ScenarioError");
    } catch (const sc::ScenarioError& e) {
        CHECK(std::string(e.what()).find("missing.yaml: error: cannot read the scenario file") != std::string::npos);
    }
    std::filesystem::remove_all(dir);
}

TEST_CASE("scenario: overrides", "[scenario]") {
    const auto schema = scenario_schema();
    SECTION("valid overrides change values and are located in --set") {
        auto loaded = sc::load_string(schema, valid_yaml, "pearl.yaml",
                                      {"sim.steps=24", "cities.guangzhou.housing.supply_elasticity=3",
                                       "network.links.0.hours=0.25", "cities.shenzhen.field_mix={hardware: 1}",
                                       "tags=[a, b]", "sim.mode=yearly", "network.links.1={from: a, to: b, hours: 2}"});
        INFO(all_messages(loaded.diagnostics));
        REQUIRE(loaded.diagnostics.empty());
        CHECK(loaded.value.sim.steps == 24);
        CHECK(loaded.value.cities[1].value.housing.supply_elasticity == 3.0);
        CHECK(loaded.value.network.links[0] == Link{"shenzhen", "guangzhou", 0.25, 0.0});
        CHECK(loaded.value.network.links[1] == Link{"a", "b", 2.0, 0.0});
        CHECK(loaded.value.cities[0].value.field_mix == std::vector<Named<double>>{{"hardware", 1.0}});
        CHECK(loaded.value.tags == std::vector<std::string>{"a", "b"});
        CHECK(loaded.value.sim.mode == "yearly");
        CHECK(loaded.source.mark("sim.steps") == sc::Mark{"--set", 1, 11});
        CHECK(loaded.source.mark("cities.guangzhou.housing.supply_elasticity") == sc::Mark{"--set", 2, 44});
    }
    SECTION("an unknown path gets a did-you-mean") {
        auto loaded = sc::load_string(schema, valid_yaml, "pearl.yaml", {"sim.stpes=3"});
        REQUIRE(loaded.diagnostics.size() == 1);
        const sc::Diagnostic& d = loaded.diagnostics[0];
        CHECK(d.mark == sc::Mark{"--set", 1, 5});
        CHECK(d.key_path == "sim.stpes");
        CHECK(d.message == "unknown key 'stpes'; did you mean 'sim.steps'?");
        CHECK(loaded.value.sim.steps == 120);  // unchanged
    }
    SECTION("a city not in the scenario is an error naming those that are") {
        auto loaded = sc::load_string(schema, valid_yaml, "pearl.yaml", {"sim.seed=1", "cities.beijing.productivity=2"});
        REQUIRE(loaded.diagnostics.size() == 1);
        const sc::Diagnostic& d = loaded.diagnostics[0];
        CHECK(d.mark == sc::Mark{"--set", 2, 8});
        CHECK(d.key_path == "cities.beijing");
        CHECK(d.message == "no city named 'beijing' in the scenario; cities are: shenzhen, guangzhou");
        CHECK(loaded.value.sim.seed == 1);
    }
    SECTION("a bad value is reported at its column in the argument") {
        auto loaded = sc::load_string(schema, valid_yaml, "pearl.yaml", {"sim.steps=abc", "sim.seed=0x10"});
        INFO(all_messages(loaded.diagnostics));
        REQUIRE(loaded.diagnostics.size() == 2);
        CHECK(loaded.diagnostics[0].format() == "--set:1:11: error: sim.steps: expected an integer, got 'abc'");
        CHECK(loaded.diagnostics[1].mark == sc::Mark{"--set", 2, 10});
        CHECK(loaded.diagnostics[1].message.find("hexadecimal numbers are not allowed") == 0);
        CHECK(loaded.value.sim.steps == 0);  // required: T{}'s value
        CHECK(loaded.value.sim.seed == 42);  // default
    }
    SECTION("malformed overrides, scalars with sub-keys, list items out of range, unknown field") {
        auto loaded = sc::load_string(
            schema, valid_yaml, "pearl.yaml",
            {"sim.steps", "sim.steps.x=1", "network.links.5.hours=1", "cities.shenzhen.field_mix.biotech=0.1",
             "sim.steps=[1, 2"});
        INFO(all_messages(loaded.diagnostics));
        REQUIRE(loaded.diagnostics.size() == 5);
        CHECK(loaded.diagnostics[0].message.find("expected key.path=value") == 0);
        CHECK(loaded.diagnostics[1].message == "'sim.steps' is an integer; it has no keys below it");
        CHECK(loaded.diagnostics[2].message == "no item 5 in network.links; it has 2 items (0..1)");
        CHECK(loaded.diagnostics[2].mark == sc::Mark{"--set", 3, 15});
        CHECK(loaded.diagnostics[3].message.find("no field named 'biotech' in cities.shenzhen.field_mix; it has: "
                                                 "hardware, software") == 0);
        CHECK(loaded.diagnostics[4].message.find("the value is not valid YAML") == 0);
        CHECK(loaded.diagnostics[4].mark.line == 5);
    }
    SECTION("a positional list item can be overridden by key, and an absent record is created") {
        const char* minimal = "title: t\nsim: {steps: 1}\ncities: {a: {productivity: 1, population: 2}}\n"
                              "network: {links: [[a, a, 1]]}\n";
        auto loaded = sc::load_string(schema, minimal, "m.yaml",
                                      {"network.links.0.capacity=7", "cities.a.housing.depreciation=0.5"});
        INFO(all_messages(loaded.diagnostics));
        REQUIRE(loaded.diagnostics.empty());
        CHECK(loaded.value.network.links[0] == Link{"a", "a", 1.0, 7.0});
        CHECK(loaded.value.cities[0].value.housing.depreciation == 0.5);
        CHECK(loaded.value.cities[0].value.housing.supply_elasticity == 1.5);
    }
}

TEST_CASE("scenario: resolved_yaml round-trips the struct exactly", "[scenario]") {
    const auto schema = scenario_schema();
    auto first = sc::load_string(schema, valid_yaml, "pearl.yaml",
                                 {"cities.shenzhen.housing.depreciation=0.1", "cities.shenzhen.productivity=1e-300",
                                  "cities.guangzhou.productivity=0.30000000000000004",
                                  "cities.guangzhou.housing.depreciation=5e-324",  // subnormal
                                  "cities.shenzhen.field_mix={hardware: 0.1, \"2024\": 0.9}",
                                  "network.links.1.capacity=1.7976931348623157e308",
                                  "tags=[\"yes\", \"010\", \"a b\", \"S\u00e3o Paulo\", \"tab\\there: # x\"]",
                                  "title=\"true\""});
    INFO(all_messages(first.diagnostics));
    REQUIRE(first.diagnostics.empty());
    INFO(first.resolved_yaml);
    // Every key, defaults included.
    CHECK(first.resolved_yaml.find("seed: 42") != std::string::npos);
    CHECK(first.resolved_yaml.find("solver: exact") != std::string::npos);
    CHECK(first.resolved_yaml.find("general: 1") != std::string::npos);
    auto second = sc::load_string(schema, first.resolved_yaml, "resolved.yaml");
    INFO(all_messages(second.diagnostics));
    REQUIRE(second.diagnostics.empty());
    CHECK(second.value == first.value);
    CHECK(second.value.cities[0].value.housing.depreciation == 0.1);
    CHECK(second.value.cities[0].value.productivity == 1e-300);
    CHECK(second.value.cities[1].value.productivity == 0.30000000000000004);
    CHECK(second.value.title == "true");
    CHECK(second.value.cities[1].value.housing.depreciation == 5e-324);
    CHECK(second.value.network.links[1].capacity == 1.7976931348623157e308);
    CHECK(second.value.cities[0].value.field_mix[1].name == "2024");
    CHECK(second.value.tags[3] == "S\u00e3o Paulo");
    CHECK(second.value.tags[4] == "tab\there: # x");
    CHECK(second.resolved_yaml == first.resolved_yaml);  // a fixed point
}

TEST_CASE("scenario: numbers are parsed strictly", "[scenario]") {
    // accepted
    CHECK(scalar_value("x: 1e6").x == 1e6);
    CHECK(scalar_value("x: -0.5").x == -0.5);
    CHECK(scalar_value("x: +3").x == 3.0);
    CHECK(scalar_value("x: .5").x == 0.5);
    CHECK(scalar_value("x: 5.").x == 5.0);
    CHECK(scalar_value("x: 0.25").x == 0.25);
    CHECK(scalar_value("x: 0e3").x == 0.0);
    CHECK(scalar_value("x: 1E-3").x == 1e-3);
    CHECK(scalar_value("n: 1e6").n == 1000000);
    CHECK(scalar_value("n: 17.79e6").n == 17790000);
    CHECK(scalar_value("n: 2.0").n == 2);
    CHECK(scalar_value("n: -0").n == 0);
    CHECK(scalar_value("n: 9223372036854775807").n == INT64_MAX);
    CHECK(scalar_value("n: -9223372036854775808").n == INT64_MIN);
    CHECK(scalar_value("n: 9007199254740993.0").n == 9007199254740993);  // exact, not through a double
    CHECK(scalar_value("flag: true").flag);
    // rejected, with a reason
    CHECK(scalar_error("n: 010") == "leading zeros are not allowed; YAML 1.1 readers take 010 as octal 8; write 10");
    CHECK(scalar_error("n: 019") == "leading zeros are not allowed; write 19");
    CHECK(scalar_error("x: 00.5") == "leading zeros are not allowed; write 0.5");
    CHECK(scalar_error("n: 0x1F") == "hexadecimal numbers are not allowed; write the decimal value (0x1F is 31)");
    CHECK(scalar_error("n: 0o17").find("octal numbers are not allowed") == 0);
    CHECK(scalar_error("x: .inf").find("infinity and NaN are not allowed") != std::string::npos);
    CHECK(scalar_error("x: -.inf").find("infinity and NaN are not allowed") != std::string::npos);
    CHECK(scalar_error("x: .nan").find("infinity and NaN are not allowed") != std::string::npos);
    CHECK(scalar_error("x: 1_000") == "digit separators ('_') are not allowed; write 1000");
    CHECK(scalar_error("x: 1e400").find("too large") != std::string::npos);
    CHECK(scalar_error("x: 1e-400").find("too close to zero") != std::string::npos);
    CHECK(scalar_error("x: \"5\"") == "expected a number, got the string \"5\"; remove the quotes");
    CHECK(scalar_error("x: '0.5'") == "expected a number, got the string \"0.5\"; remove the quotes");
    CHECK(scalar_error("x: !!float 5").find("remove the tag") != std::string::npos);
    CHECK(scalar_error("x: abc") == "expected a number, got 'abc'");
    CHECK(scalar_error("x: 1.2.3") == "expected a number, got '1.2.3'");
    CHECK(scalar_error("x: 1e") == "expected a number, got '1e'");
    CHECK(scalar_error("n: 1.5").find("expected an integer, got 1.5") == 0);
    CHECK(scalar_error("n: 1e-1").find("expected an integer, got 1e-1") == 0);
    CHECK(scalar_error("n: 9223372036854775808").find("out of range for a 64-bit integer") != std::string::npos);
    CHECK(scalar_error("n: 1e19").find("out of range for a 64-bit integer") != std::string::npos);
    CHECK(scalar_error("n: \"7\"") == "expected an integer, got the string \"7\"; remove the quotes");
    CHECK(scalar_error("x: [1]") == "expected a number, got a sequence");
}

TEST_CASE("scenario: booleans are exactly true or false", "[scenario]") {
    CHECK(scalar_error("flag: yes").find("expected true or false, got yes; YAML 1.1 readers take yes as true") == 0);
    CHECK(scalar_error("flag: off").find("write false") != std::string::npos);
    CHECK(scalar_error("flag: True") == "expected true or false, got True; booleans are lowercase: write true");
    CHECK(scalar_error("flag: \"true\"") == "expected true or false, got the string \"true\"; remove the quotes");
    CHECK(scalar_error("flag: 1") == "expected true or false, got 1; write true");
    CHECK(scalar_error("flag: maybe") == "expected true or false, got 'maybe'");
}

TEST_CASE("scenario: null values, wrong kinds, absent mappings, choices, lists", "[scenario]") {
    const auto schema = scenario_schema();
    SECTION("a key with no value is an error even when it has a default") {
        auto loaded = sc::load_string(schema, "title: t\nsim:\n  steps:\n  seed:\ncities: {a: {productivity: 1, population: 1}}\n",
                                      "n.yaml");
        INFO(all_messages(loaded.diagnostics));
        REQUIRE(loaded.diagnostics.size() == 2);
        CHECK(loaded.diagnostics[0].mark == sc::Mark{"n.yaml", 3, 3});
        CHECK(loaded.diagnostics[0].message == "has no value; give a value (integer, steps)");
        CHECK(loaded.diagnostics[1].message == "has no value; remove the key to take the default 42, or give a value");
        CHECK(loaded.value.sim.seed == 42);
    }
    SECTION("wrong kinds are errors, not crashes") {
        auto loaded = sc::load_string(schema,
                                      "title: [a]\nsim: [1, 2]\ncities: 5\nnetwork: {links: {a: 1}}\ntags: solo\n",
                                      "k.yaml");
        INFO(all_messages(loaded.diagnostics));
        REQUIRE(loaded.diagnostics.size() == 5);
        CHECK(loaded.diagnostics[0].message == "expected a string, got a sequence");
        CHECK(loaded.diagnostics[1].message == "expected a mapping, got a sequence");
        CHECK(loaded.diagnostics[2].message.find("expected a mapping <city> -> ...") == 0);
        CHECK(loaded.diagnostics[3].message.find("expected a list of mappings, got a mapping") == 0);
        CHECK(loaded.diagnostics[4].message == "expected a list of strings, got 'solo'; write [solo]");
    }
    SECTION("an absent mapping: an error per required child, at the nearest present ancestor") {
        auto loaded = sc::load_string(schema, "\n\ntitle: t\ncities: {a: {productivity: 1, population: 1}}\n", "a.yaml");
        INFO(all_messages(loaded.diagnostics));
        REQUIRE(loaded.diagnostics.size() == 1);
        CHECK(loaded.diagnostics[0].format() ==
              "a.yaml:3:1: error: sim.steps: missing required key 'steps' (integer, steps); 'sim' is absent");
        CHECK(loaded.value.sim.seed == 42);
    }
    SECTION("an empty file reports every required key") {
        auto loaded = sc::load_string(schema, "", "empty.yaml");
        INFO(all_messages(loaded.diagnostics));
        REQUIRE(loaded.diagnostics.size() == 3);  // title, sim.steps, cities
        CHECK(loaded.diagnostics[0].mark == sc::Mark{"empty.yaml", 1, 1});
    }
    SECTION("choices, text lists, named maps, positional items") {
        auto loaded = sc::load_string(
            schema,
            "title: t\nsolver: exakt\nsim: {steps: 0, mode: weekly}\ntags: [a, b, a]\n"
            "cities: {a.b: {productivity: 1, population: 1}}\nnetwork: {links: [[x, y, 1, 2, 3]]}\n",
            "c.yaml");
        INFO(all_messages(loaded.diagnostics));
        REQUIRE(loaded.diagnostics.size() == 7);
        CHECK(loaded.diagnostics[0].message == "expected one of {exact, approximate}, got 'exakt'; did you mean 'exact'?");
        CHECK(loaded.diagnostics[1].message == "expected an integer >= 1, got 0");
        CHECK(loaded.diagnostics[2].message.find("expected one of {monthly, yearly}, got 'weekly'") == 0);
        CHECK(loaded.diagnostics[3].key_path == "tags.2");
        CHECK(loaded.diagnostics[3].message == "duplicate entry 'a' (first given at line 4); remove one of them");
        CHECK(loaded.diagnostics[4].message == "expected at least 1 city, got 0");  // at `cities:` (5:1)
        CHECK(loaded.diagnostics[5].message.find("contains '.'") != std::string::npos);  // at `a.b` (5:10)
        CHECK(loaded.diagnostics[6].message.find("too many values: expected at most 3 [from, to, hours], got 5") == 0);
    }
    SECTION("unknown keys without a close match list what is allowed") {
        auto loaded = sc::load_string(schema, "title: t\nsim: {steps: 1, zzzzzzzz: 1}\ncities: {a: {productivity: 1, population: 1}}\n",
                                      "u.yaml");
        REQUIRE(loaded.diagnostics.size() == 1);
        CHECK(loaded.diagnostics[0].message == "unknown key 'zzzzzzzz'; the keys here are: steps, seed, record_agents, mode");
    }
}

TEST_CASE("scenario: YAML oddities are errors, not crashes", "[scenario]") {
    const auto schema = scenario_schema();
    const std::string ok = "title: t\nsim: {steps: 1}\ncities: {a: {productivity: 1, population: 1}}\n";
    SECTION("several documents") {
        // Twice: the second load takes the parsed text from the loader's cache, its finding included.
        for (int time = 0; time < 2; ++time) {
            auto loaded = sc::load_string(schema, ok + "---\ntitle: u\n", "d.yaml");
            REQUIRE(loaded.diagnostics.size() == 1);
            CHECK(loaded.diagnostics[0].mark.line == 4);  // the '---' that starts the second
            CHECK(loaded.diagnostics[0].message.find("the file holds 2 YAML documents") == 0);
        }
        // The same text under another name is that name's.
        auto renamed = sc::load_string(schema, ok + "---\ntitle: u\n", "e.yaml");
        REQUIRE(renamed.diagnostics.size() == 1);
        CHECK(renamed.diagnostics[0].mark.file == "e.yaml");
    }
    SECTION("a recursive alias") {
        for (int time = 0; time < 2; ++time)  // a text in error is parsed, and fails, every time
            CHECK_THROWS_WITH(sc::load_string(schema, ok + "tags: &x [*x]\n", "r.yaml"),
                              Catch::Matchers::Contains("r.yaml:4:11: error: an alias refers to the node that contains it"));
    }
    SECTION("tabs in indentation get a hint") {
        try {
            sc::load_string(schema, "title: t\nsim:\n\tsteps: 1\n", "tab.yaml");
            FAIL("expected a ScenarioError");
        } catch (const sc::ScenarioError& e) {
            CHECK(std::string(e.what()).find("tabs") != std::string::npos);
        }
    }
    SECTION("merge keys, non-string keys, a top level that is not a mapping") {
        auto loaded = sc::load_string(schema, ok + "network:\n  <<: {links: []}\n[a]: 1\n", "m.yaml");
        INFO(all_messages(loaded.diagnostics));
        REQUIRE(loaded.diagnostics.size() == 2);
        CHECK(loaded.diagnostics[0].message.find("merge keys are not supported") != std::string::npos);
        CHECK(loaded.diagnostics[1].message == "keys must be strings, got a sequence");
        auto list = sc::load_string(schema, "- a\n- b\n", "l.yaml");
        REQUIRE(list.diagnostics.size() == 1);
        CHECK(list.diagnostics[0].message.find("expected a mapping of keys at the top") == 0);
    }
}

TEST_CASE("scenario: describe() and the renderers", "[scenario]") {
    const auto rows = sc::describe(scenario_schema());
    auto find = [&](const std::string& path) -> const sc::KeyRow* {
        for (const auto& r : rows)
            if (r.path == path) return &r;
        return nullptr;
    };
    const sc::KeyRow* e = find("cities.<city>.housing.supply_elasticity");
    REQUIRE(e != nullptr);
    CHECK(e->type == "real");
    CHECK(e->unit == "1");
    CHECK(e->default_text == "1.5");
    CHECK(e->range == "> 0");
    CHECK(e->description == "Price elasticity of housing supply.");
    REQUIRE(find("cities") != nullptr);
    CHECK(find("cities")->type == "mapping <city> -> ...");
    CHECK(find("cities")->range == "at least 1 entry");
    CHECK(find("cities.<city>.field_mix")->type == "mapping <field> -> real");
    CHECK(find("cities.<city>.field_mix")->default_text == "{general: 1}");
    CHECK(find("cities.<city>.housing")->type == "mapping");
    CHECK(find("sim.steps")->default_text == "(required)");
    CHECK(find("sim.steps")->range == ">= 1");
    CHECK(find("sim.mode")->type == "one of {monthly, yearly}");
    CHECK(find("network.links")->type == "list of mappings");
    CHECK(find("network.links")->default_text == "[]");
    CHECK(find("network.links")->description.find("[from, to, hours]") != std::string::npos);
    CHECK(find("network.links.<i>.hours") != nullptr);
    CHECK(find("tags")->type == "list of strings");
    CHECK(find("sim.record_agents")->type == "boolean");
    CHECK(find("title")->type == "string");
    // depth-first, declaration order
    CHECK(rows[0].path == "title");
    CHECK(rows[1].path == "sim");
    CHECK(rows[2].path == "sim.steps");

    const std::string md = sc::render_markdown(rows, "Scenario reference", "Generated by `citysim schema`.");
    CHECK(md.find("# Scenario reference\n\nGenerated by `citysim schema`.\n\n") == 0);
    CHECK(md.find("| Key | Type | Unit | Default | Range | Description |\n|---|---|---|---|---|---|\n") !=
          std::string::npos);
    CHECK(md.find("| `cities.<city>.housing.supply_elasticity` | `real` | 1 | `1.5` | &gt; 0 |") != std::string::npos);

    const std::string text = sc::render_text(rows);
    CHECK(text.find("KEY") == 0);
    CHECK(text.find("cities.<city>.housing.supply_elasticity") != std::string::npos);
    CHECK(static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n')) == rows.size() + 1);
}

TEST_CASE("scenario: ranges, diagnostics, schema mistakes", "[scenario]") {
    CHECK(Range::any().describe() == "any");
    CHECK(Range::positive().describe() == "> 0");
    CHECK(Range::non_negative().describe() == ">= 0");
    CHECK(Range::unit_interval().describe() == "[0, 1]");
    CHECK(Range::closed(0.5, 2).describe() == "[0.5, 2]");
    CHECK(Range::at_most(1).describe() == "<= 1");
    CHECK(Range::positive().contains(1e-300));
    CHECK_FALSE(Range::positive().contains(0));
    CHECK(Range::unit_interval().contains(1));
    CHECK_FALSE(Range::unit_interval().contains(1.0000001));

    sc::Diagnostic located;
    located.mark = sc::Mark{"f.yaml", 2, 5};
    located.key_path = "a.b";
    located.message = "bad";
    CHECK(located.format() == "f.yaml:2:5: error: a.b: bad");
    sc::Diagnostic unlocated;
    unlocated.mark.file = "f.yaml";
    unlocated.message = "unreadable";
    CHECK(unlocated.format() == "f.yaml: error: unreadable");

    struct S {
        double x = 0;
        std::string c;
    };
    sc::Record<S> s("s");
    s.real("x", &S::x, "", "", 1.0);
    CHECK_THROWS_AS(s.real("x", &S::x, "", "", 1.0), std::logic_error);                          // declared twice
    CHECK_THROWS_AS(s.real("y", &S::x, "", "", -1.0, Range::positive()), std::logic_error);      // bad default
    CHECK_THROWS_AS(s.choice("c", &S::c, {"a", "b"}, "", std::string("z")), std::logic_error);  // not allowed
    CHECK_THROWS_AS(s.real("a.b", &S::x, "", "", 1.0), std::logic_error);                        // '.' in a key
}

// Scalars are written without yaml-cpp's plain-scalar check where that check cannot object
// (detail::emit_plain, emit_key, emit_string): the text must be exactly what yaml-cpp writes.
TEST_CASE("scenario: scalars are written as yaml-cpp's own emitter writes them", "[scenario]") {
    namespace detail = citysim::scenario::detail;
    std::vector<std::string> texts = {"harbour", "New York", "a-b.c/d", "x_1", "_hidden", "S\u00e3o Paulo", "yes", "No",
                                      "null", "~", "with: colon", "trailing ", "#hash", "-dash", "1abc", "a #b",
                                      "tab\there", "line\nbreak", "[x]", "{x}", "x,y", "'q'", "\"q\"", "",
                                      std::string(1100, 'k'), std::string(1024, 'k')};
    std::vector<std::string> numbers;
    for (const double x : {0.3, -1.5, 1e-300, 5e-324, 1.7976931348623157e308, -0.0, 0.0, 120.0, 1e21, 1e-7,
                           std::numeric_limits<double>::infinity(), -std::numeric_limits<double>::infinity(),
                           std::numeric_limits<double>::quiet_NaN()})
        numbers.push_back(detail::format_double(x));
    std::mt19937_64 rng(11);
    for (int i = 0; i < 500; ++i) {
        const double mantissa = std::uniform_real_distribution<double>(-1, 1)(rng);
        numbers.push_back(detail::format_double(std::ldexp(mantissa, std::uniform_int_distribution<int>(-1070, 1020)(rng))));
        numbers.push_back(detail::format_int(static_cast<std::int64_t>(rng())));
    }
    numbers.push_back("true");
    numbers.push_back("false");

    YAML::Emitter expected, written;
    expected << YAML::BeginMap;
    written << YAML::BeginMap;
    for (const auto& key : texts) {
        expected << YAML::Key << key << YAML::Value;
        written << YAML::Key;
        detail::emit_key(written, key);
        written << YAML::Value;
        if (detail::needs_quotes(key)) expected << YAML::DoubleQuoted;
        expected << key;  // a string value, as emit_string wrote it before
        detail::emit_string(written, key);
    }
    for (const auto& number : numbers) {
        expected << YAML::Key << number << YAML::Value << number;
        written << YAML::Key;
        detail::emit_key(written, number);
        written << YAML::Value;
        detail::emit_plain(written, number);
    }
    expected << YAML::Key << "flow" << YAML::Value << YAML::Flow << YAML::BeginSeq;
    written << YAML::Key;
    detail::emit_key(written, "flow");
    written << YAML::Value << YAML::Flow << YAML::BeginSeq;
    for (const auto& number : numbers) {
        expected << number;
        detail::emit_plain(written, number);
    }
    for (const auto& text : texts) {
        if (detail::needs_quotes(text)) expected << YAML::DoubleQuoted;
        expected << text;
        detail::emit_string(written, text);
    }
    expected << YAML::EndSeq << YAML::EndMap;
    written << YAML::EndSeq << YAML::EndMap;
    REQUIRE(expected.good());
    REQUIRE(written.good());
    CHECK(std::string(written.c_str()) == std::string(expected.c_str()));
}
