// Universities: Poisson graduates who enter the pool, staff kept employed, basic research that
// raises founding in related fields, the documented direction, and switching them off.
#include "fixtures.hpp"
#include "models/city_model.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <set>

using namespace citysim;

namespace {

constexpr std::size_t university_axis = 2;

std::int64_t staff_employed(const models::CityState& st, std::size_t cf) {
    return st.ecosystem.employment[cf * models::employer_kinds + university_axis];
}

// Graduates per year by [city * fields + field] in the fixture (persons).
const std::vector<double> fixture_graduates = {600, 600, 300, 900, 0, 0};

}  // namespace

TEST_CASE("universities: graduates per step are Poisson with mean graduates_per_year x dt / persons_per_agent",
          "[ecosystem][universities][statistics]") {
    const int steps = 60;
    models::CityModel model(testing::load(testing::ecosystem_yaml()));
    const auto& st = model.state();
    const std::size_t cf_count = st.cities() * st.fields();
    std::vector<std::vector<std::int64_t>> per_step(cf_count);
    for (int s = 0; s < steps; ++s) {
        model.step();
        for (std::size_t cf = 0; cf < cf_count; ++cf) per_step[cf].push_back(st.ecosystem.graduates[cf]);
    }
    for (std::size_t cf = 0; cf < cf_count; ++cf) {
        const double mean = fixture_graduates[cf] * model.years_per_step() / st.persons_per_agent;  // per step
        INFO("city-field " << cf << " mean per step " << mean);
        double total = 0.0, dispersion = 0.0;
        for (auto x : per_step[cf]) {
            total += static_cast<double>(x);
            if (mean > 0) dispersion += (static_cast<double>(x) - mean) * (static_cast<double>(x) - mean) / mean;
        }
        if (mean == 0.0) {
            CHECK(total == 0.0);
            continue;
        }
        // The total over the run: Poisson(steps x mean), within 4 standard errors.
        INFO("total " << total << " expected " << steps * mean);
        CHECK(std::abs(total - steps * mean) < 4 * std::sqrt(steps * mean));
        // Poisson, not rounded: sum of (x - mean)^2 / mean has mean `steps` and variance
        // steps x (2 + 1 / mean) (the fourth central moment of a Poisson is mean + 3 mean^2).
        // Rounding mean x steps to integers would leave almost no dispersion.
        INFO("dispersion " << dispersion);
        CHECK(std::abs(dispersion - steps) < 4 * std::sqrt(steps * (2 + 1 / mean)));
    }
}

TEST_CASE("universities: graduates are new talent agents counted in entries", "[ecosystem][universities]") {
    SECTION("without demography, entries are the graduates") {
        models::CityModel model(testing::load(testing::ecosystem_yaml(), {"mechanisms.demography.enabled=false"}));
        const auto& st = model.state();
        const auto& t = st.talent.table;
        std::int64_t graduates = 0;
        for (int step = 1; step <= 24; ++step) {
            const auto before = st.talent_count;
            const std::size_t rows_before = t.size();
            model.step();
            INFO("step " << step);
            CHECK(st.entries == st.ecosystem.graduates);
            for (std::size_t k = 0; k < before.size(); ++k) {
                CHECK(st.exits[k] == 0);
                CHECK(st.talent_count[k] == before[k] + st.arrivals[k] - st.departures[k] + st.entries[k]);
            }
            // The new rows are the graduates, arrived this step, in their university's city and
            // field (founding runs before the universities in a step, so none has moved yet).
            std::vector<std::int64_t> added(before.size(), 0);
            std::int64_t wrong_arrival = 0, graduates_total = 0;
            for (std::size_t i = rows_before; i < t.size(); ++i) {
                ++added[st.city_field(t.column(st.talent.city)[i], t.column(st.talent.field)[i])];
                wrong_arrival += t.column(st.talent.arrival_step)[i] != static_cast<std::uint32_t>(step);
            }
            for (auto g : st.ecosystem.graduates) graduates_total += g;
            CHECK(added == st.ecosystem.graduates);
            CHECK(wrong_arrival == 0);
            graduates += graduates_total;
        }
        CHECK(graduates > 300);
    }
    SECTION("with demography, entries include the graduates") {
        models::CityModel model(testing::load(testing::ecosystem_yaml()));
        const auto& st = model.state();
        std::int64_t entries = 0, graduates = 0;
        for (int step = 1; step <= 24; ++step) {
            model.step();
            for (std::size_t k = 0; k < st.entries.size(); ++k) {
                CHECK(st.entries[k] >= st.ecosystem.graduates[k]);
                entries += st.entries[k];
                graduates += st.ecosystem.graduates[k];
            }
        }
        CHECK(entries > graduates);
        CHECK(graduates > 300);
    }
}

TEST_CASE("universities: staff employment is staff / persons_per_agent, refilled every step",
          "[ecosystem][universities]") {
    const auto scenario = testing::load(testing::ecosystem_yaml());
    models::CityModel model(scenario);
    const auto& st = model.state();
    const std::size_t cf_count = st.cities() * st.fields();
    const std::vector<std::int64_t> target = {0, 300, 100, 200, 0, 0};  // a ai 3000, b hardware 1000 and ai 2000 persons
    for (std::size_t cf = 0; cf < cf_count; ++cf) CHECK(staff_employed(st, cf) == target[cf]);
    auto staff_ids = [&] {
        std::set<engine::AgentId> ids;
        const auto kind = st.talent.table.column(st.talent.employer_kind);
        for (std::size_t i = 0; i < st.talent.table.size(); ++i)
            if (kind[i] == static_cast<std::uint8_t>(models::EmployerKind::university)) ids.insert(st.talent.table.ids()[i]);
        return ids;
    };
    const auto first_staff = staff_ids();
    // Founding draws ride on the census, before the universities hire: staff who moved, exited or
    // founded a start-up are replaced in the same step, so staff employment stays at its target.
    for (int step = 1; step <= 60; ++step) {
        model.step();
        INFO("step " << step);
        for (std::size_t cf = 0; cf < cf_count; ++cf) {
            INFO("city-field " << cf);
            CHECK(staff_employed(st, cf) == target[cf]);
        }
    }
    // Staff did leave (moved, exited, founded) and were replaced: the refilling was exercised.
    const auto last_staff = staff_ids();
    std::size_t stayed = 0;
    for (auto id : last_staff) stayed += first_staff.count(id);
    CHECK(last_staff.size() == 600);
    CHECK(stayed < 590);
}

TEST_CASE("universities: basic research raises founding in related fields", "[ecosystem][universities][founding]") {
    const auto on_scenario = testing::load(testing::ecosystem_yaml());
    const auto off_scenario = testing::load(testing::ecosystem_yaml(), {"mechanisms.universities.enabled=false"});
    models::CityModel on(on_scenario), off(off_scenario);
    std::vector<double> propensity;
    for (const auto& f : on_scenario.fields) propensity.push_back(f.value.founding_propensity);
    models::Founding founding_on(on_scenario.mechanisms.founding, propensity);
    models::Founding founding_off(off_scenario.mechanisms.founding, propensity);
    founding_on.prepare(on.state());
    founding_off.prepare(off.state());
    const double spillover = on_scenario.mechanisms.founding.research_spillover;
    const std::vector<double> share = {0.1, 0.15, 0.0}, relatedness = {0.3, 0.9};
    for (std::size_t c = 0; c < 3; ++c)
        for (std::size_t f = 0; f < 2; ++f) {
            INFO("city " << c << " field " << f);
            const double r_on = founding_on.rate(c, f, 1.0, 5e4, models::EmployerKind::other, false);
            const double r_off = founding_off.rate(c, f, 1.0, 5e4, models::EmployerKind::other, false);
            CHECK(r_on / r_off == Approx(std::exp(spillover * share[c] * relatedness[f])).epsilon(1e-12));
        }
}

TEST_CASE("universities: more graduates mean more founders and start-ups in their city",
          "[ecosystem][universities][direction]") {
    // b's universities graduate 20000 AI persons a year instead of 900; same seed.
    auto run = [](const std::vector<std::string>& overrides) {
        models::CityModel model(testing::load(testing::ecosystem_yaml(), overrides));
        const auto& eco = model.state().ecosystem;
        std::int64_t births = 0;
        for (int s = 0; s < 60; ++s) {
            model.step();
            births += eco.births[model.state().city_field(1, 0)] + eco.births[model.state().city_field(1, 1)];
        }
        const std::int64_t founders = eco.founders[model.state().city_field(1, 0)] + eco.founders[model.state().city_field(1, 1)];
        return std::make_pair(births, founders);
    };
    const auto [births, founders] = run({});
    const auto [more_births, more_founders] = run({"cities.b.universities.graduates_per_year.ai=20000"});
    INFO("births in b " << births << " -> " << more_births << ", founders " << founders << " -> " << more_founders);
    CHECK(more_births - births > 4 * std::sqrt(static_cast<double>(births + more_births)));
    CHECK(more_founders - founders > 4 * std::sqrt(static_cast<double>(founders + more_founders)));
}

TEST_CASE("universities: switched off, no graduates, no staff, no basic research", "[ecosystem][universities]") {
    {
        // Present in the fixture, so switching off has something to remove.
        models::CityModel on(testing::load(testing::ecosystem_yaml()));
        CHECK(on.state().ecosystem.basic_research == std::vector<double>{0.1, 0.15, 0.0});
    }
    models::CityModel model(testing::load(testing::ecosystem_yaml(), {"mechanisms.universities.enabled=false"}));
    const auto& st = model.state();
    REQUIRE(st.ecosystem.enabled);  // founding and incumbents still run
    std::int64_t births = 0;
    for (int step = 0; step <= 36; ++step) {
        if (step > 0) model.step();
        INFO("step " << step);
        for (std::size_t cf = 0; cf < st.cities() * st.fields(); ++cf) {
            CHECK(st.ecosystem.graduates[cf] == 0);
            CHECK(staff_employed(st, cf) == 0);
        }
        for (double b : st.ecosystem.basic_research) CHECK(b == 0.0);
        for (auto b : st.ecosystem.births) births += b;
    }
    const auto kind = st.talent.table.column(st.talent.employer_kind);
    CHECK(std::count(kind.begin(), kind.end(), static_cast<std::uint8_t>(models::EmployerKind::university)) == 0);
    CHECK(births > 500);
}
