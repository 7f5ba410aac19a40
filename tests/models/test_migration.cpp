#include "engine/parallel.hpp"
#include "fixtures.hpp"
#include "models/city_model.hpp"
#include "models/migration.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>

using namespace citysim;

namespace {
// The logit formula written out independently of the model code.
std::vector<double> logit_shares(const models::Scenario& s) {
    const auto& m = s.mechanisms.migration;
    std::vector<double> weight;
    double total = 0;
    for (const auto& c : s.cities) {
        const double v = m.income_weight * (std::log(c.value.labour.mean_wage) -
                                            m.housing_cost_share * std::log(c.value.housing.rent)) +
                         c.value.amenity;
        weight.push_back(std::exp(v));
        total += weight.back();
    }
    for (auto& w : weight) w /= total;
    return weight;
}
}  // namespace

TEST_CASE("migration: with wages, prices and amenities fixed, one round of choices matches the logit formula",
          "[migration]") {
    // Everyone reconsiders in the step; no moving cost or attachment, so every agent faces the same
    // plain logit over the three cities whatever its origin.
    const auto s = testing::load(testing::three_cities_yaml(),
                                 {"mechanisms.labour_market.hold_wages=true", "mechanisms.housing.hold_prices=true",
                                  "mechanisms.housing.fixed_supply=true", "mechanisms.demography.enabled=false",
                                  "mechanisms.migration.reconsider_rate=1000", "mechanisms.migration.moving_cost=0",
                                  "mechanisms.migration.moving_cost_per_hour=0", "mechanisms.migration.attachment=0",
                                  "mechanisms.migration.attachment_per_year=0", "talent.agents=200000"});
    models::CityModel model(s);
    model.step();
    const auto expected = logit_shares(s);
    const double n = static_cast<double>(s.talent.agents);
    for (std::size_t c = 0; c < 3; ++c) {
        const double share = static_cast<double>(model.state().talent_count[c]) / n;
        const double standard_error = std::sqrt(expected[c] * (1 - expected[c]) / n);
        INFO("city " << c << " share " << share << " expected " << expected[c]);
        CHECK(std::abs(share - expected[c]) < 4 * standard_error);
    }
    // The shares moved well away from the starting 0.5/0.3/0.2, so the check has teeth.
    CHECK(std::abs(expected[0] - 0.5) > 10 * std::sqrt(0.25 / n));
}

TEST_CASE("migration: choice probabilities include moving costs and attachment by tenure", "[migration]") {
    const auto s = testing::load(testing::three_cities_yaml());
    models::CityModel model(s);
    const auto& m = s.mechanisms.migration;
    models::MigrationChoice choice(m, {0.2, 0.0, -0.1}, {0.0}, 3, 1);
    choice.prepare(model.state());
    const auto& st = model.state();
    auto value = [&](std::size_t origin, std::size_t d, double years) {
        double v = m.income_weight * (std::log(st.wage[d]) - m.housing_cost_share * std::log(st.rent[d])) +
                   std::vector<double>{0.2, 0.0, -0.1}[d];
        if (d == origin)
            v += m.attachment + m.attachment_per_year * std::min(years, m.attachment_cap_years);
        else
            v -= m.moving_cost + m.moving_cost_per_hour * st.travel_hours[origin * 3 + d];
        return v;
    };
    for (std::size_t origin = 0; origin < 3; ++origin)
        for (double years : {0.0, 3.5, 40.0}) {
            double total = 0;
            for (std::size_t d = 0; d < 3; ++d) total += std::exp(value(origin, d, years));
            const auto p = choice.probabilities(static_cast<models::CityIndex>(origin), 0, static_cast<float>(years));
            for (std::size_t d = 0; d < 3; ++d) {
                INFO("origin " << origin << " destination " << d << " years " << years);
                CHECK(p[d] == Approx(std::exp(value(origin, d, years)) / total).epsilon(1e-5));
            }
        }
    // a to c is 3 hours via b.
    CHECK(st.travel_hours[0 * 3 + 2] == 3.0);

    // The move part of the weights is kept from step to step while the travel times hold: when they
    // change (a faster link from a to c), the probabilities follow them, as the formula says.
    const models::CityModel faster_model(
        testing::load(testing::three_cities_yaml(), {"network.links=[[a, b, 1.0], [b, c, 2.0], [a, c, 0.5]]"}));
    const auto& faster = faster_model.state();
    REQUIRE(faster.travel_hours[0 * 3 + 2] == 0.5);
    choice.prepare(faster);
    const auto p = choice.probabilities(0, 0, 0.0f);
    auto faster_value = [&](std::size_t d) {
        return m.income_weight * (std::log(faster.wage[d]) - m.housing_cost_share * std::log(faster.rent[d])) +
               std::vector<double>{0.2, 0.0, -0.1}[d] +
               (d == 0 ? m.attachment : -(m.moving_cost + m.moving_cost_per_hour * faster.travel_hours[d]));
    };
    double total = 0;
    for (std::size_t d = 0; d < 3; ++d) total += std::exp(faster_value(d));
    for (std::size_t d = 0; d < 3; ++d) CHECK(p[d] == Approx(std::exp(faster_value(d)) / total).epsilon(1e-12));
    choice.prepare(st);
    CHECK(choice.probabilities(0, 0, 0.0f)[2] < p[2]);  // and back
}

TEST_CASE("migration: attachment by steps in the city comes from a table with the formula's very values", "[migration]") {
    const auto s = testing::load(testing::three_cities_yaml());
    for (const double cap : {10.0, 2.5, 0.0})
        for (const double years_per_step : {1.0 / 12, 1.0 / 52, 1.0, 0.7}) {
            auto m = s.mechanisms.migration;
            m.attachment_per_year = 0.1;
            m.attachment_cap_years = cap;
            models::MigrationChoice choice(m, {0.0, 0.0, 0.0}, {0.0}, 3, 1);
            const auto formula = [&](std::int64_t steps) {
                const float years = models::years_in_city(0, steps, years_per_step);
                return std::exp(m.attachment_per_year * std::min<double>(years, m.attachment_cap_years));
            };
            for (int tabulated = 0; tabulated < 2; ++tabulated) {
                if (tabulated) choice.tabulate_attachment(years_per_step);
                for (std::int64_t steps = -3; steps < 800; ++steps) {
                    INFO("cap " << cap << " years per step " << years_per_step << " steps " << steps << " tabulated " << tabulated);
                    const double expected = formula(steps);
                    const double got = choice.attachment_after(steps, years_per_step);
                    REQUIRE(std::memcmp(&got, &expected, sizeof got) == 0);
                }
                // A table made for another step length is not used for this one.
                const double other = choice.attachment_after(5, years_per_step / 2);
                const double expected = std::exp(m.attachment_per_year *
                                                 std::min<double>(models::years_in_city(0, 5, years_per_step / 2), cap));
                CHECK(std::memcmp(&other, &expected, sizeof other) == 0);
            }
        }
}

TEST_CASE("migration: switching it off stops every move", "[migration]") {
    const auto s = testing::load(testing::three_cities_yaml(), {"mechanisms.migration.enabled=false"});
    models::CityModel model(s);
    for (int i = 0; i < 6; ++i) model.step();
    for (auto v : model.state().migration) CHECK(v == 0);
    CHECK(model.counters().migration_decisions == 0);
}

TEST_CASE("migration: higher moving costs mean fewer moves", "[migration]") {
    auto moves = [](const char* cost) {
        models::CityModel model(testing::load(testing::three_cities_yaml(), {std::string("mechanisms.migration.moving_cost=") + cost}));
        for (int i = 0; i < 12; ++i) model.step();
        return model.counters().moves;
    };
    CHECK(moves("0") > moves("1.5"));
    CHECK(moves("1.5") > moves("4"));
}

TEST_CASE("migration: calibrated amenities make the starting distribution a steady state", "[migration]") {
    // Everyone reconsiders in the first step, with moving costs (so choices depend on the origin).
    const std::vector<std::string> common = {"mechanisms.labour_market.hold_wages=true",
                                             "mechanisms.housing.hold_prices=true",
                                             "mechanisms.demography.enabled=false",
                                             "mechanisms.migration.reconsider_rate=1000",
                                             "mechanisms.migration.attachment_per_year=0",
                                             "talent.agents=200000"};
    auto shares_after_one_round = [&](bool calibrate) {
        auto overrides = common;
        overrides.push_back(std::string("mechanisms.migration.calibrate_amenities=") + (calibrate ? "true" : "false"));
        models::CityModel model(testing::load(testing::three_cities_yaml(), overrides));
        const auto before = model.state().talent_count;
        model.step();
        std::vector<double> change;
        for (std::size_t c = 0; c < 3; ++c)
            change.push_back(static_cast<double>(model.state().talent_count[c] - before[c]) / 200000.0);
        return std::make_pair(change, model.state().amenity);
    };
    const auto [calibrated_change, amenity] = shares_after_one_round(true);
    const auto [raw_change, given] = shares_after_one_round(false);
    for (std::size_t c = 0; c < 3; ++c) {
        INFO("city " << c << ": change " << calibrated_change[c] << " calibrated, " << raw_change[c] << " as given");
        // The change of a share is a difference of two binomial counts: standard error about 0.001.
        CHECK(std::abs(calibrated_change[c]) < 0.0035);
    }
    // Without calibration the same round moves the shares far more, so the check has teeth.
    double largest_raw = 0;
    for (double d : raw_change) largest_raw = std::max(largest_raw, std::abs(d));
    CHECK(largest_raw > 0.006);
    CHECK(given == std::vector<double>{0.2, 0.0, -0.1});
    CHECK((amenity[0] + amenity[1] + amenity[2]) / 3 == Approx((0.2 + 0.0 - 0.1) / 3).margin(1e-9));
    CHECK(amenity != given);
}

TEST_CASE("migration: talent of a field is pulled to the cities that specialise in it", "[migration]") {
    // Two cities of two fields, x hardware-heavy and y AI-heavy, everything else alike.
    const auto s = testing::load(testing::two_fields_yaml(), {"cities.y.amenity=0"});
    models::CityModel model(s);
    const auto& st = model.state();
    const auto quotient = models::location_quotients(st);
    // x: 0.7 hardware against 0.58 nationally; y: 0.6 AI against 0.42.
    CHECK(quotient[st.city_field(0, 0)] > 1.0);
    CHECK(quotient[st.city_field(1, 1)] > 1.0);
    CHECK(quotient[st.city_field(0, 1)] < 1.0);
    const auto& m = s.mechanisms.migration;
    models::MigrationChoice plain(m, {0.0, 0.0}, {0.0, 0.0}, 2, 2), pulled(m, {0.0, 0.0}, {1.0, 1.0}, 2, 2);
    plain.prepare(st);
    pulled.prepare(st);
    // The preference multiplies the weight of d by LQ[d,f]^preference: an AI worker in x is drawn to y
    // by exactly the ratio of the two cities' AI quotients (the stay alternative gains x's own).
    const auto p0 = plain.probabilities(0, 1, 0.0f), p1 = pulled.probabilities(0, 1, 0.0f);
    const double odds_plain = p0[1] / p0[0], odds_pulled = p1[1] / p1[0];
    CHECK(odds_pulled / odds_plain == Approx(quotient[st.city_field(1, 1)] / quotient[st.city_field(0, 1)]).epsilon(1e-9));
    // Hardware talent the other way.
    const auto h0 = plain.probabilities(1, 0, 0.0f), h1 = pulled.probabilities(1, 0, 0.0f);
    CHECK(h1[0] > h0[0]);
}

TEST_CASE("migration: without a pull by field the fields mix; with it each field's concentration holds",
          "[migration]") {
    auto spread = [](const std::vector<std::string>& extra) {
        std::vector<std::string> overrides = {"mechanisms.migration.reconsider_rate=0.5", "talent.agents=100000",
                                              "mechanisms.demography.enabled=false"};
        overrides.insert(overrides.end(), extra.begin(), extra.end());
        models::CityModel model(testing::load(testing::two_fields_yaml(), overrides));
        for (int s = 0; s < 120; ++s) model.step();
        const auto& st = model.state();
        // AI share of y's talent minus of x's: 0.6 - 0.3 at the start.
        const auto share = [&](std::size_t c) {
            return static_cast<double>(st.talent_count[st.city_field(c, 1)]) /
                   static_cast<double>(st.talent_count[st.city_field(c, 0)] + st.talent_count[st.city_field(c, 1)]);
        };
        return share(1) - share(0);
    };
    const double mixed = spread({}), held = spread({"fields.hardware.cluster_preference=2", "fields.ai.cluster_preference=2"});
    INFO("AI share of y minus x after ten years: " << mixed << " without, " << held << " with a pull by field");
    CHECK(mixed < 0.25);  // migration mixes the fields: the gap closes from 0.3
    CHECK(held > mixed + 0.05);
}
