// Where cities are and how far apart: great-circle distances, travel times computed from
// coordinates (checked against the given China rail links), which pairs get a computed link, the
// checks of a location; and talent shares that do not sum to 1, divided by their sum with a note.
#include "fixtures.hpp"
#include "models/city_model.hpp"
#include "models/geography.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <map>
#include <numbers>

using namespace citysim;
using testing::errors_of;

namespace {

std::string china() { return std::string(CITYSIM_SOURCE_DIR) + "/scenarios/china-2025.yaml"; }

// Three cities without links but with locations (a Beijing, a Shanghai and a Guangzhou).
std::string located_yaml(const std::string& network = "") {
    return R"(
simulation: {steps: 6, seed: 3}
fields: {software: {wage_premium: 1.0}}
talent: {persons: 30000, agents: 3000}
cities:
  north: {residents: 1.0e6, labour: {mean_wage: 200000}, housing: {home_price: 40000, rent: 60, land_area_km2: 3000},
          talent: {share: 0.4, field_mix: {software: 1.0}}, location: {latitude: 39.91, longitude: 116.40}}
  east: {residents: 1.0e6, labour: {mean_wage: 190000}, housing: {home_price: 40000, rent: 60, land_area_km2: 3000},
         talent: {share: 0.3, field_mix: {software: 1.0}}, location: {latitude: 31.22, longitude: 121.46}}
  south: {residents: 1.0e6, labour: {mean_wage: 180000}, housing: {home_price: 30000, rent: 50, land_area_km2: 3000},
          talent: {share: 0.3, field_mix: {software: 1.0}}, location: {latitude: 23.12, longitude: 113.25}}
)" + network;
}

}  // namespace

TEST_CASE("geography: great-circle distances by the haversine formula", "[geography]") {
    const models::GeoPoint beijing{39.91, 116.40}, shanghai{31.22, 121.46};
    CHECK(models::great_circle_km(beijing, shanghai) == Approx(1068).margin(5));  // published: about 1,067 km
    CHECK(models::great_circle_km(beijing, shanghai) == models::great_circle_km(shanghai, beijing));
    CHECK(models::great_circle_km(beijing, beijing) == 0.0);
    CHECK(models::great_circle_km({0, 0}, {0, 180}) == Approx(std::numbers::pi * models::earth_radius_km));
    CHECK(models::great_circle_km({90, 0}, {-90, 0}) == Approx(std::numbers::pi * models::earth_radius_km));
}

TEST_CASE("geography: computed travel times against the China rail links", "[geography]") {
    // The default speed and access time come from these links; each computed time is within 0.75 h
    // of the given one, except Guangzhou - Hangzhou, which has no direct line (the computed time is
    // then the shorter one).
    const auto loaded = models::load_scenario(china());
    const auto& s = loaded.value;
    std::map<std::string, models::GeoPoint> where;
    for (const auto& c : s.cities) where[c.name] = *models::location_of(c.value);
    REQUIRE(where.size() == 6);
    REQUIRE(s.network.links.size() == 8);
    double worst = 0.0;
    for (const auto& link : s.network.links) {
        const double computed =
            models::travel_hours_from_distance(models::great_circle_km(where[link.from], where[link.to]), s.network);
        INFO(link.from << " - " << link.to << ": given " << link.hours << " h, computed " << computed << " h");
        if ((link.from == "guangzhou" && link.to == "hangzhou") || (link.from == "hangzhou" && link.to == "guangzhou")) {
            CHECK(computed < link.hours);
        } else {
            CHECK(std::abs(computed - link.hours) < 0.75);
            worst = std::max(worst, std::abs(computed - link.hours) / link.hours);
        }
    }
    CHECK(worst < 0.3);
}

TEST_CASE("geography: located cities without links get computed links; given networks keep theirs", "[geography]") {
    // No links at all: every pair is computed, and the model's travel times are those.
    const auto scenario = testing::load(located_yaml());
    const auto links = models::network_links(scenario);
    REQUIRE(links.size() == 3);
    models::CityModel model(scenario);
    const auto& hours = model.state().travel_hours;
    const double north_east = 0.1 + models::great_circle_km({39.91, 116.40}, {31.22, 121.46}) / 230.0;
    CHECK(hours[0 * 3 + 1] == Approx(north_east));
    CHECK(hours[1 * 3 + 0] == hours[0 * 3 + 1]);

    // A given link wins over the computed one for its pair; with cities_without_links (the default)
    // cities that have links get no computed ones, so the south is reached through the east.
    const auto given = testing::load(located_yaml("network: {links: [[north, east, 2.0], [east, south, 3.0]]}\n"));
    CHECK(models::network_links(given).size() == 2);
    models::CityModel routed(given);
    CHECK(routed.state().travel_hours[0 * 3 + 2] == Approx(5.0));

    // all_missing_pairs: north - south is computed too, and faster than the (slow) route through the east.
    const auto all = testing::load(
        located_yaml("network: {links: [[north, east, 2.0], [east, south, 9.0]], computed_links: all_missing_pairs}\n"));
    REQUIRE(models::network_links(all).size() == 3);
    models::CityModel direct(all);
    const double north_south = 0.1 + models::great_circle_km({39.91, 116.40}, {23.12, 113.25}) / 230.0;
    CHECK(direct.state().travel_hours[0 * 3 + 2] == Approx(north_south));
    CHECK(direct.state().travel_hours[0 * 3 + 1] == Approx(2.0));

    // The China baseline's locations change none of its travel times.
    const auto loaded = models::load_scenario(china());
    CHECK(models::network_links(loaded.value).size() == loaded.value.network.links.size());
}

TEST_CASE("geography: a location is a latitude and a longitude; unreachable cities are told about locations",
          "[geography][scenario]") {
    CHECK(errors_of(located_yaml()).empty());
    auto yaml = located_yaml();
    auto set = [&](const std::string& from, const std::string& to) {
        auto copy = yaml;
        copy.replace(copy.find(from), from.size(), to);
        return errors_of(copy);
    };
    CHECK_THAT(set("latitude: 39.91", "latitude: 95"), Catch::Contains("cities.north.location.latitude") &&
                                                          Catch::Contains("[-90, 90]"));
    CHECK_THAT(set("longitude: 116.40", "longitude: 200"), Catch::Contains("cities.north.location.longitude"));
    CHECK_THAT(set("{latitude: 39.91, longitude: 116.40}", "{latitude: 39.91}"),
               Catch::Contains("missing the longitude") && Catch::Contains("both or neither"));
    CHECK_THAT(set("{latitude: 39.91, longitude: 116.40}", "{lat: 39.91, longitude: 116.40}"),
               Catch::Contains("unknown coordinate 'lat'"));
    // Without a location and without links, a city cannot be reached: the message says what to add.
    CHECK_THAT(set(", location: {latitude: 23.12, longitude: 113.25}", ""),
               Catch::Contains("network.links") && Catch::Contains("cities.<city>.location"));
}

TEST_CASE("shares: talent shares and field mixes that do not sum to 1 are divided by their sum, with a note",
          "[scenario]") {
    auto uneven = located_yaml();
    uneven.replace(uneven.find("share: 0.4"), 10, "share: 0.5");  // 0.5 + 0.3 + 0.3 = 1.1
    const auto loaded = models::load_scenario_text(uneven, "test.yaml");
    REQUIRE(loaded.notes.size() == 1);
    CHECK(loaded.notes[0].key_path == "cities");
    CHECK_THAT(loaded.notes[0].format("note"), Catch::Contains("note:") && Catch::Contains("sum to 1.1") &&
                                                   Catch::Contains("north 0.5 -> 0.454545455"));
    CHECK(loaded.value.cities[0].value.talent.share == Approx(0.5 / 1.1));
    // The run is the run of the divided shares, and the resolved scenario holds them.
    auto divided = located_yaml();
    divided.replace(divided.find("share: 0.4"), 10, "share: " + std::to_string(0.5 / 1.1));
    divided.replace(divided.find("share: 0.3"), 10, "share: " + std::to_string(0.3 / 1.1));
    divided.replace(divided.find("share: 0.3"), 10, "share: " + std::to_string(0.3 / 1.1));
    CHECK(models::starting_talent_counts(loaded.value) == models::starting_talent_counts(testing::load(divided)));
    CHECK(models::load_scenario_text(loaded.resolved_yaml, "resolved.yaml").notes.empty());

    auto mix = testing::two_fields_yaml();
    mix.replace(mix.find("{hardware: 0.7, ai: 0.3}"), 24, "{hardware: 7, ai: 3}");
    CHECK_THAT(errors_of(mix), Catch::Contains("expected a number in [0, 1]"));  // shares stay shares
    mix = testing::two_fields_yaml();
    mix.replace(mix.find("{hardware: 0.7, ai: 0.3}"), 24, "{hardware: 0.7, ai: 0.7}");
    const auto mixed = models::load_scenario_text(mix, "test.yaml");
    REQUIRE(mixed.notes.size() == 1);
    CHECK(mixed.notes[0].key_path == "cities.x.talent.field_mix");
    CHECK(mixed.value.cities[0].value.talent.field_mix[0].value == Approx(0.5));

    auto zero = testing::two_fields_yaml();
    zero.replace(zero.find("{hardware: 0.7, ai: 0.3}"), 24, "{hardware: 0, ai: 0}");
    CHECK_THAT(errors_of(zero), Catch::Contains("field shares sum to 0"));
}

TEST_CASE("adding a city: a seventh city with a location and a share joins the China scenario", "[geography][scenario]") {
    const std::string chengdu = "extends: " + china() + R"(
cities:
  chengdu:
    location: {latitude: 30.66, longitude: 104.07}
    residents: 21.4e6
    labour: {mean_wage: 120000}
    housing: {home_price: 18000, rent: 25.5, land_area_km2: 14335, supply_elasticity: 2.0}
    talent:
      share: 0.06
      field_mix: {hardware: 0.3, software: 0.35, ai: 0.1, research: 0.25}
)";
    const auto loaded = models::load_scenario_text(chengdu, std::string(CITYSIM_SOURCE_DIR) + "/scenarios/chengdu.yaml");
    REQUIRE(loaded.notes.size() == 1);
    CHECK_THAT(loaded.notes[0].message, Catch::Contains("sum to 1.06"));
    const auto& s = loaded.value;
    REQUIRE(s.cities.size() == 7);
    const auto links = models::network_links(s);
    CHECK(links.size() == s.network.links.size() + 6);  // Chengdu to each of the six
    auto scenario = s;
    scenario.talent.agents = 20000;
    scenario.simulation.steps = 2;
    models::CityModel model(scenario);
    const auto& hours = model.state().travel_hours;
    // Chengdu (index 6) to Shanghai (index 1): about 1,660 km, 7.3 h direct, but 7.2 h by Nanjing (computed,
    // then the given 1.0 h): the fastest route counts.
    const double direct = 0.1 + models::great_circle_km({30.66, 104.07}, {31.22, 121.46}) / 230.0;
    const double by_nanjing = 0.1 + models::great_circle_km({30.66, 104.07}, {32.06, 118.78}) / 230.0 + 1.0;
    CHECK(hours[6 * 7 + 1] == Approx(std::min(direct, by_nanjing)));
    CHECK(hours[6 * 7 + 3] == Approx(0.1 + models::great_circle_km({30.66, 104.07}, {30.29, 120.16}) / 230.0));
    model.step();
    model.step();
    CHECK(model.state().talent_persons_in(6) > 0);
}
