// Incumbents: starting employment, projects and their location choice, the founding penalty of
// their employees, the documented direction (growing incumbents absorb would-be founders), and
// switching them off.
#include "fixtures.hpp"
#include "models/city_model.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <map>

using namespace citysim;

namespace {

constexpr std::size_t incumbent_axis = 1;

std::int64_t incumbent_employment(const models::CityState& st, std::size_t c, std::size_t f) {
    return st.ecosystem.employment[st.city_field(c, f) * models::employer_kinds + incumbent_axis];
}

struct Run {
    std::int64_t births_a = 0;      // start-ups founded in city a over the run
    std::int64_t incumbent_a = 0;   // incumbent employment in a at the end
};

Run run(const std::vector<std::string>& overrides, int steps = 60) {
    models::CityModel model(testing::load(testing::ecosystem_yaml(), overrides));
    const auto& st = model.state();
    Run r;
    for (int s = 0; s < steps; ++s) {
        model.step();
        for (std::size_t f = 0; f < st.fields(); ++f) r.births_a += st.ecosystem.births[st.city_field(0, f)];
    }
    for (std::size_t f = 0; f < st.fields(); ++f) r.incumbent_a += incumbent_employment(st, 0, f);
    return r;
}

}  // namespace

TEST_CASE("incumbents: the starting state employs employees / persons_per_agent per city and field",
          "[ecosystem][incumbents]") {
    const auto scenario = testing::load(testing::ecosystem_yaml());
    models::CityModel model(scenario);
    const auto& st = model.state();
    const auto& firms = st.ecosystem.firms;
    REQUIRE(st.persons_per_agent == 10.0);
    std::map<std::pair<std::size_t, std::size_t>, std::int64_t> expected;
    std::int64_t establishments = 0;
    for (std::size_t c = 0; c < scenario.cities.size(); ++c)
        for (const auto& incumbent : scenario.cities[c].value.incumbents)
            for (const auto& e : incumbent.value.employees) {
                const auto f = static_cast<std::size_t>(
                    std::find(st.field_names.begin(), st.field_names.end(), e.name) - st.field_names.begin());
                expected[{c, f}] += std::llround(e.value / st.persons_per_agent);
                ++establishments;
            }
    REQUIRE(establishments == 3);
    CHECK(expected[{0, 0}] == 2500);  // bigco 20000 + chipco 5000 hardware persons
    CHECK(expected[{0, 1}] == 800);
    for (std::size_t c = 0; c < st.cities(); ++c)
        for (std::size_t f = 0; f < st.fields(); ++f) {
            INFO("city " << c << " field " << f);
            const auto want = expected.count({c, f}) ? expected[{c, f}] : 0;
            CHECK(incumbent_employment(st, c, f) == want);
            // Enough talent was there, so the targets were met in full.
            CHECK(st.talent_count[st.city_field(c, f)] > want);
        }
    // One establishment per incumbent and field, at its home, with its target employed.
    std::int64_t rows = 0;
    for (std::size_t r = 0; r < firms.table.size(); ++r) {
        if (firms.table.column(firms.kind)[r] != static_cast<std::uint8_t>(models::FirmKind::incumbent)) continue;
        ++rows;
        INFO("incumbent row " << r);
        CHECK(firms.table.column(firms.team)[r] == firms.table.column(firms.target_team)[r]);
        CHECK(firms.table.column(firms.parent)[r] == r);
        CHECK(firms.table.column(firms.city)[r] == 0);
        CHECK(firms.table.column(firms.status)[r] == static_cast<std::uint8_t>(models::FirmStatus::alive));
    }
    CHECK(rows == establishments);
}

TEST_CASE("incumbents: their employees found at incumbent_employee_factor times the rate of others",
          "[ecosystem][incumbents][founding]") {
    for (double factor : {0.3, 0.7}) {
        // max_rate lifted so that the cap never hides the factor (the fixture founds at about four
        // times the default base rate, and the cap binds for skilled, saving AI talent in b).
        const auto scenario = testing::load(
            testing::ecosystem_yaml(), {"mechanisms.founding.incumbent_employee_factor=" + std::to_string(factor),
                                        "mechanisms.founding.max_rate=10"});
        REQUIRE(scenario.mechanisms.founding.incumbent_employee_factor == factor);
        models::CityModel model(scenario);
        for (int s = 0; s < 3; ++s) model.step();
        std::vector<double> propensity;
        for (const auto& f : scenario.fields) propensity.push_back(f.value.founding_propensity);
        models::Founding founding(scenario.mechanisms.founding, propensity);
        founding.prepare(model.state());
        for (std::size_t c = 0; c < 3; ++c)
            for (std::size_t f = 0; f < 2; ++f)
                for (double skill : {0.5, 1.0, 2.0})
                    for (double savings : {2.0e4, 2.0e5}) {
                        INFO("factor " << factor << " city " << c << " field " << f << " skill " << skill << " savings " << savings);
                        const double other = founding.rate(c, f, skill, savings, models::EmployerKind::other, false);
                        const double incumbent = founding.rate(c, f, skill, savings, models::EmployerKind::incumbent, false);
                        REQUIRE(other < scenario.mechanisms.founding.max_rate);  // no cap in the way
                        CHECK(incumbent / other == Approx(factor).epsilon(1e-12));
                    }
    }
    // The default makes them found less.
    CHECK(models::FoundingParams{}.incumbent_employee_factor < 1.0);
}

TEST_CASE("incumbents: projects leave home more often where home rent is higher", "[ecosystem][incumbents]") {
    const auto base_scenario = testing::load(testing::ecosystem_yaml());
    models::CityModel base(base_scenario);
    models::CityModel dear(testing::load(testing::ecosystem_yaml(), {"cities.a.housing.rent=140"}));
    const auto& p = base_scenario.mechanisms.incumbents;
    REQUIRE(dear.state().rent[0] == 2 * base.state().rent[0]);
    REQUIRE(dear.state().rent[1] == base.state().rent[1]);
    // Same starting talent and staff, so the same free talent: only the rent differs.
    REQUIRE(dear.state().ecosystem.free_talent == base.state().ecosystem.free_talent);

    const auto& st = base.state();
    for (std::size_t f = 0; f < 2; ++f) {
        INFO("field " << f);
        const auto pb = base.incumbents()->location_probabilities(base.state(), 0, f);
        const auto pd = dear.incumbents()->location_probabilities(dear.state(), 0, f);
        REQUIRE(pb.size() == 3);
        double sum_b = 0.0, sum_d = 0.0;
        for (std::size_t d = 0; d < 3; ++d) sum_b += pb[d], sum_d += pd[d];
        CHECK(sum_b == Approx(1.0).epsilon(1e-12));
        CHECK(sum_d == Approx(1.0).epsilon(1e-12));

        // The documented utilities, written out.
        std::vector<double> u(3);
        double total = 0.0;
        for (std::size_t d = 0; d < 3; ++d) {
            const double free_d = static_cast<double>(st.ecosystem.free_talent[st.city_field(d, f)]);
            const double free_home = static_cast<double>(st.ecosystem.free_talent[st.city_field(0, f)]);
            u[d] = (d == 0 ? p.location_home_preference : 0.0) - p.location_cost_weight * std::log(st.rent[d] / st.rent[0]) +
                   p.location_pool_weight * std::log((free_d + 1) / (free_home + 1)) -
                   p.location_cost_per_hour * st.travel_hours[0 * 3 + d];
            total += std::exp(u[d]);
        }
        for (std::size_t d = 0; d < 3; ++d) CHECK(pb[d] == Approx(std::exp(u[d]) / total).epsilon(1e-12));

        // Elsewhere becomes more likely, home less; the odds of each other city against home grow
        // by exactly 2^location_cost_weight when home rent doubles.
        CHECK(pd[0] < pb[0]);
        for (std::size_t d = 1; d < 3; ++d) {
            CHECK(pd[d] > pb[d]);
            CHECK((pd[d] / pd[0]) / (pb[d] / pb[0]) == Approx(std::pow(2.0, p.location_cost_weight)).epsilon(1e-9));
        }
        // Home is still the most likely place at the default preferences.
        CHECK(pb[0] > 0.5);
    }
}

TEST_CASE("incumbents: every project_interval a home establishment grows by growth_rate x its employees",
          "[ecosystem][incumbents]") {
    models::CityModel model(testing::load(testing::ecosystem_yaml()));
    const auto& st = model.state();
    const auto& firms = st.ecosystem.firms;
    const auto& t = firms.table;
    // Growth per home establishment from the scenario: bigco (premium 1.3) 0.05/year, chipco 0.02.
    auto growth_of = [&](std::size_t home_row) {
        return std::abs(t.column(firms.wage_premium)[home_row] - 1.3f) < 1e-6f ? 0.05 : 0.02;
    };
    std::int64_t projects = 0;
    for (int step = 1; step <= 60; ++step) {
        // Targets of each incumbent and field, summed over its establishments.
        std::map<std::uint32_t, std::int64_t> before;
        for (std::size_t r = 0; r < t.size(); ++r)
            if (t.column(firms.kind)[r] == static_cast<std::uint8_t>(models::FirmKind::incumbent))
                before[t.column(firms.parent)[r]] += t.column(firms.target_team)[r];
        model.step();
        INFO("step " << step);
        std::map<std::uint32_t, std::int64_t> after;
        for (std::size_t r = 0; r < t.size(); ++r) {
            if (t.column(firms.kind)[r] != static_cast<std::uint8_t>(models::FirmKind::incumbent)) continue;
            after[t.column(firms.parent)[r]] += t.column(firms.target_team)[r];
            // Hiring never goes beyond the target.
            CHECK(t.column(firms.team)[r] <= t.column(firms.target_team)[r]);
        }
        std::int64_t expanded = 0;
        double expanded_persons = 0.0;
        for (std::size_t e = 0; e < st.ecosystem.events.size(); ++e)
            if (st.ecosystem.events.event[e] == static_cast<std::int64_t>(models::FirmEvent::expanded)) {
                ++expanded;
                expanded_persons += st.ecosystem.events.amount[e];
                CHECK(st.ecosystem.events.counterpart_city[e] == 0);  // every incumbent is based in a
            }
        if (step % 12 != 0) {
            CHECK(expanded == 0);
            CHECK(after == before);
            continue;
        }
        // One project per incumbent and field, of growth x its employees (stochastically rounded).
        REQUIRE(before.size() == 3);
        CHECK(expanded == 3);
        double added = 0.0;
        for (const auto& [home, target] : before) {
            const double size = growth_of(home) * static_cast<double>(target);
            INFO("home row " << home << " target " << target << " expected size " << size);
            const auto grown = after[home] - target;
            CHECK(grown >= std::floor(size));
            CHECK(grown <= std::ceil(size));
            added += static_cast<double>(grown);
        }
        CHECK(expanded_persons == added * st.persons_per_agent);
        projects += expanded;
    }
    CHECK(projects == 15);
}

TEST_CASE("incumbents: a faster-growing incumbent lowers founding in its city", "[ecosystem][incumbents][direction]") {
    // Documented direction: incumbents absorb talent, and their employees found less. bigco growing
    // 100% a year (all its projects' hiring at 20% of the free pool a step) against no growth at all;
    // same seed, so both runs share their random numbers.
    const std::vector<std::string> common = {"cities.a.incumbents.chipco.growth_rate=0",
                                             "mechanisms.incumbents.hiring_share_per_step=0.2"};
    auto still = common, growing = common;
    still.push_back("cities.a.incumbents.bigco.growth_rate=0");
    growing.push_back("cities.a.incumbents.bigco.growth_rate=1");
    const auto s = run(still), g = run(growing);
    INFO("births in a: " << s.births_a << " without growth, " << g.births_a << " with; incumbent employment "
                         << s.incumbent_a << " and " << g.incumbent_a);
    CHECK(g.incumbent_a > 2 * s.incumbent_a);
    // Far beyond the noise of two independent Poisson counts (4 standard errors).
    CHECK(s.births_a - g.births_a > 4 * std::sqrt(static_cast<double>(s.births_a + g.births_a)));
}

TEST_CASE("incumbents: switched off, nobody works for one", "[ecosystem][incumbents]") {
    models::CityModel model(testing::load(testing::ecosystem_yaml(), {"mechanisms.incumbents.enabled=false"}));
    const auto& st = model.state();
    REQUIRE(st.ecosystem.enabled);  // founding and universities still run
    std::int64_t births = 0;
    for (int step = 0; step <= 36; ++step) {
        if (step > 0) model.step();
        for (std::size_t c = 0; c < st.cities(); ++c)
            for (std::size_t f = 0; f < st.fields(); ++f) CHECK(incumbent_employment(st, c, f) == 0);
        for (std::size_t e = 0; e < st.ecosystem.events.size(); ++e)
            CHECK(st.ecosystem.events.event[e] != static_cast<std::int64_t>(models::FirmEvent::expanded));
        for (auto b : st.ecosystem.births) births += b;
    }
    const auto kind = st.ecosystem.firms.table.column(st.ecosystem.firms.kind);
    CHECK(std::count(kind.begin(), kind.end(), static_cast<std::uint8_t>(models::FirmKind::incumbent)) == 0);
    const auto employer = st.talent.table.column(st.talent.employer_kind);
    CHECK(std::count(employer.begin(), employer.end(), static_cast<std::uint8_t>(models::EmployerKind::incumbent)) == 0);
    CHECK(births > 500);
}

TEST_CASE("incumbents: projects that open establishments elsewhere, while the firm table grows", "[ecosystem][incumbents]") {
    // These settings made a project open an establishment while the firm table reallocated its
    // columns (a use-after-free once); every establishment must still belong to a home one.
    const auto scenario = models::load_scenario(std::string(CITYSIM_SOURCE_DIR) + "/scenarios/china-2025.yaml",
                                                {"talent.agents=5000", "simulation.steps=24", "simulation.seed=4",
                                                 "mechanisms.migration.income_weight=2",
                                                 "mechanisms.migration.moving_cost=0.5"})
                              .value;
    models::CityModel model(scenario);
    for (int s = 0; s < 24; ++s) model.step();
    const auto& firms = model.state().ecosystem.firms;
    const auto& t = firms.table;
    std::size_t away = 0;
    for (std::size_t r = 0; r < t.size(); ++r) {
        if (t.column(firms.kind)[r] != static_cast<std::uint8_t>(models::FirmKind::incumbent)) continue;
        const auto home = t.column(firms.parent)[r];
        REQUIRE(home < t.size());
        CHECK(t.column(firms.parent)[home] == home);
        CHECK(t.column(firms.field)[home] == t.column(firms.field)[r]);
        CHECK(t.column(firms.origin_city)[r] == t.column(firms.city)[home]);
        if (home != r) {
            ++away;
            CHECK(t.column(firms.city)[r] != t.column(firms.city)[home]);
        }
    }
    CHECK(away > 0);
}
