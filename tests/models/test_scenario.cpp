#include "fixtures.hpp"
#include "models/scenario.hpp"

#include <catch2/catch.hpp>

#include <filesystem>
#include <regex>

using namespace citysim;

namespace {
std::vector<std::string> errors_of(const std::string& yaml, const std::vector<std::string>& overrides = {}) {
    try {
        models::load_scenario_text(yaml, "bad.yaml", overrides);
    } catch (const scenario::ScenarioError& e) {
        std::vector<std::string> lines;
        for (const auto& d : e.diagnostics()) lines.push_back(d.format());
        return lines;
    }
    return {};
}
bool has(const std::vector<std::string>& lines, const std::string& pattern) {
    const std::regex re(pattern);
    return std::any_of(lines.begin(), lines.end(), [&](const auto& l) { return std::regex_search(l, re); });
}
}  // namespace

TEST_CASE("scenario files: every scenario in scenarios/ validates", "[scenario]") {
    int count = 0;
    for (const auto& entry : std::filesystem::directory_iterator(std::filesystem::path(CITYSIM_SOURCE_DIR) / "scenarios")) {
        if (entry.path().extension() != ".yaml") continue;
        INFO(entry.path());
        CHECK_NOTHROW(models::load_scenario(entry.path()));
        ++count;
    }
    CHECK(count >= 2);
}

TEST_CASE("scenario checks: cross-key mistakes are all reported with their place", "[scenario]") {
    std::string yaml = testing::three_cities_yaml();
    yaml = std::regex_replace(yaml, std::regex("share: 0.2, field_mix: \\{software: 1.0\\}"),
                              "share: 0.25, field_mix: {sofware: 1.0}");
    yaml = std::regex_replace(yaml, std::regex("\\[b, c, 2.0\\]"), "[b, cc, 2.0]");
    const auto lines = errors_of(yaml);
    for (const auto& l : lines) UNSCOPED_INFO(l);
    // Shares summing to 1.05 are divided by their sum, with a note, not an error (test_geography.cpp).
    CHECK_FALSE(has(lines, R"(talent shares over cities)"));
    CHECK(has(lines, R"(cities\.c\.talent\.field_mix\.sofware: 'sofware' is not one of the fields.*; did you mean 'software'\?)"));
    CHECK(has(lines, R"(cities\.c\.talent\.field_mix: missing the share of field 'software')"));
    CHECK(has(lines, R"(network\.links\.1\.to: link to unknown city 'cc'; did you mean 'c'\?)"));
    // Each error carries a real line number.
    for (const auto& l : lines) CHECK(std::regex_search(l, std::regex(R"(^bad\.yaml:[1-9]\d*:[1-9]\d*: error: )")));
}

TEST_CASE("scenario checks: unreachable cities, too many talent, unknown outputs", "[scenario]") {
    const auto lines = errors_of(testing::three_cities_yaml(),
                                 {"network.links=[[a, b, 1.0]]", "cities.c.residents=1000", "output.record=[talent, rnet]"});
    for (const auto& l : lines) UNSCOPED_INFO(l);
    CHECK(has(lines, R"(network\.links: no travel route between a and c, b and c)"));
    CHECK(has(lines, R"(cities\.c\.residents: residents \(1000\) fewer than the households of the talent)"));
    CHECK(has(lines, R"(output\.record\.1: unknown output variable 'rnet' .*; did you mean 'rent'\?)"));
}

TEST_CASE("scenario checks: land that cannot hold the starting stock", "[scenario]") {
    const auto lines = errors_of(testing::three_cities_yaml(), {"cities.a.housing.land_area_km2=10"});
    CHECK(has(lines, R"(cities\.a\.housing: the starting housing stock .* exceeds the land capacity)"));
}
