// Start-ups: burn, failure, exits, breakthroughs and hiring, and the documented directions.
#include "fixtures.hpp"
#include "models/city_model.hpp"

#include <catch2/catch.hpp>

#include <cmath>

using namespace citysim;

namespace {

std::string startup_yaml() {
    return R"(
simulation: {steps: 120, step_unit: month, seed: 23}
fields:
  ai: {wage_premium: 1.2}
talent: {persons: 600000, agents: 30000}
cities:
  a:
    residents: 5.0e6
    labour: {mean_wage: 200000}
    housing: {home_price: 40000, rent: 60, land_area_km2: 3000}
    talent: {share: 1.0, field_mix: {ai: 1.0}}
    venture_capital: {capital: 5.0e11, funds: 20, raised_per_year: 5.0e10}
network:
  links: []
mechanisms:
  founding: {base_rate: 0.003}
)";
}

struct Run {
    std::int64_t births = 0, failures = 0, exits = 0, breakthroughs = 0;
    double invested = 0.0;
};

Run run(const std::vector<std::string>& overrides, std::int64_t steps = 120) {
    models::CityModel model(testing::load(startup_yaml(), overrides));
    Run r;
    for (std::int64_t s = 0; s < steps; ++s) {
        model.step();
        const auto& eco = model.state().ecosystem;
        for (std::size_t k = 0; k < eco.births.size(); ++k) {
            r.births += eco.births[k];
            r.failures += eco.failures[k];
            r.exits += eco.acquisitions[k] + eco.listings[k];
            r.breakthroughs += eco.breakthroughs[k];
            r.invested += eco.vc_invested[k];
        }
    }
    return r;
}

}  // namespace

TEST_CASE("start-ups: burn is the unpaid founder, paid staff and office rent tied to housing", "[ecosystem][startups]") {
    const auto scenario = testing::load(startup_yaml());
    models::CityModel model(scenario);
    models::Startups startups(scenario.mechanisms.startups);
    const auto& p = scenario.mechanisms.startups;
    const auto& state = model.state();
    const double wage = state.wage[0], rent = state.rent[0];
    const double office = p.office_m2_per_person * 12.0 * p.office_rent_ratio * rent;
    CHECK(startups.burn_per_year(state, 0, 0, 1, true, 1.0) == Approx(office));
    CHECK(startups.burn_per_year(state, 0, 0, 5, true, 1.2) == Approx(p.salary_share * 4 * wage * 1.2 + 5 * office));
    CHECK(startups.burn_per_year(state, 0, 0, 5, false, 1.0) == Approx(p.salary_share * 5 * wage + 5 * office));
}

TEST_CASE("start-ups: firms fail, exit and break through, and every firm's story adds up", "[ecosystem][startups]") {
    models::CityModel model(testing::load(startup_yaml()));
    Run r;
    for (int s = 0; s < 120; ++s) {
        model.step();
        const auto& eco = model.state().ecosystem;
        r.births += eco.births[0];
        r.failures += eco.failures[0];
        r.exits += eco.acquisitions[0] + eco.listings[0];
        r.breakthroughs += eco.breakthroughs[0];
    }
    const auto& eco = model.state().ecosystem;
    INFO("births " << r.births << ", failures " << r.failures << ", exits " << r.exits << ", breakthroughs "
                   << r.breakthroughs);
    CHECK(r.births > 1000);
    CHECK(r.failures > 0.2 * r.births);
    CHECK(r.exits > 0);
    CHECK(r.exits < r.failures);
    // Births - failures - exits = alive.
    CHECK(r.births - r.failures - r.exits == eco.startups_alive[0]);
    // The firm table agrees with the flows.
    const auto& t = eco.firms.table;
    std::int64_t alive = 0, failed = 0, hired = 0;
    for (std::size_t row = 0; row < t.size(); ++row) {
        if (t.column(eco.firms.kind)[row] != static_cast<std::uint8_t>(models::FirmKind::startup)) continue;
        const auto status = static_cast<models::FirmStatus>(t.column(eco.firms.status)[row]);
        alive += status == models::FirmStatus::alive;
        failed += status == models::FirmStatus::failed;
        hired += t.column(eco.firms.peak_team)[row] > 1;
        if (status != models::FirmStatus::alive) CHECK(t.column(eco.firms.end_step)[row] >= t.column(eco.firms.birth_step)[row]);
    }
    CHECK(alive == eco.startups_alive[0]);
    CHECK(failed == r.failures);
    CHECK(hired > 0);  // funded start-ups grow by hiring
}

TEST_CASE("start-ups: without venture capital they cannot hire and fewer survive", "[ecosystem][startups][direction]") {
    const auto with_vc = run({});
    const auto without = run({"mechanisms.venture_capital.enabled=false"});
    INFO("with VC: " << with_vc.births << " births, " << with_vc.failures << " failures, invested " << with_vc.invested);
    INFO("without: " << without.births << " births, " << without.failures << " failures");
    CHECK(with_vc.invested > 0.0);
    CHECK(without.invested == 0.0);
    CHECK(without.exits < with_vc.exits);
}

TEST_CASE("start-ups: breakthroughs rise with the breakthrough rate and team quality", "[ecosystem][startups][direction]") {
    const auto base = run({"mechanisms.startups.breakthrough_rate=0.01"});
    const auto more = run({"mechanisms.startups.breakthrough_rate=0.04"});
    INFO("breakthroughs: " << base.breakthroughs << " vs " << more.breakthroughs);
    CHECK(more.breakthroughs > 2 * base.breakthroughs);
    const auto dispersed = run({"mechanisms.startups.breakthrough_rate=0.01", "talent.skill_dispersion=0.9"});
    INFO("with more skill dispersion (founders are selected on skill): " << dispersed.breakthroughs);
    CHECK(dispersed.breakthroughs > base.breakthroughs);
}
