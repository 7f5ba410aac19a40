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
    residents: 8.0e6
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
            r.births += std::llround(eco.births[k]);
            r.failures += std::llround(eco.failures[k]);
            r.exits += std::llround(eco.acquisitions[k] + eco.listings[k]);
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
    Run r;  // firms
    for (int s = 0; s < 120; ++s) {
        model.step();
        const auto& eco = model.state().ecosystem;
        r.births += std::llround(eco.births[0]);
        r.failures += std::llround(eco.failures[0]);
        r.exits += std::llround(eco.acquisitions[0] + eco.listings[0]);
        r.breakthroughs += eco.breakthroughs[0];
    }
    const auto& eco = model.state().ecosystem;
    INFO("births " << r.births << ", failures " << r.failures << ", exits " << r.exits << ", breakthroughs "
                   << r.breakthroughs);
    CHECK(r.births > 1000);
    CHECK(r.failures > 0.2 * r.births);
    CHECK(r.exits > 0);
    CHECK(r.exits < r.failures);
    // Births - failures - exits = alive (firms).
    CHECK(r.births - r.failures - r.exits == std::llround(eco.startups_alive[0]));
    // The firm table agrees with the flows.
    const auto& t = eco.firms.table;
    double alive = 0, failed = 0;
    std::int64_t hired = 0;
    for (std::size_t row = 0; row < t.size(); ++row) {
        if (t.column(eco.firms.kind)[row] != static_cast<std::uint8_t>(models::FirmKind::startup)) continue;
        const auto status = static_cast<models::FirmStatus>(t.column(eco.firms.status)[row]);
        const double firms = t.column(eco.firms.represents)[row];
        alive += status == models::FirmStatus::alive ? firms : 0.0;
        failed += status == models::FirmStatus::failed ? firms : 0.0;
        hired += t.column(eco.firms.peak_team)[row] > 1;
        if (status != models::FirmStatus::alive) CHECK(t.column(eco.firms.end_step)[row] >= t.column(eco.firms.birth_step)[row]);
    }
    CHECK(alive == Approx(eco.startups_alive[0]));
    CHECK(failed == Approx(static_cast<double>(r.failures)));
    CHECK(hired > 0);  // funded start-ups grow by hiring
}

TEST_CASE("start-ups: every breakthrough is one firm, which splits off and shares its cohort's team",
          "[ecosystem][startups]") {
    // 20 persons per agent: a start-up agent stands for 20 firms, each of which may break through.
    models::CityModel model(testing::load(startup_yaml(), {"mechanisms.startups.breakthrough_rate=0.0003"}));
    const auto& st = model.state();
    const auto& eco = st.ecosystem;
    const auto& t = eco.firms.table;
    std::int64_t flow = 0, events = 0, events_of_one_firm = 0, split_events = 0;
    double investments_before_split = 0.0;
    for (int s = 0; s < 120; ++s) {
        model.step();
        flow += eco.breakthroughs[0];
        for (std::size_t e = 0; e < eco.events.size(); ++e) {
            if (static_cast<models::FirmEvent>(eco.events.event[e]) != models::FirmEvent::breakthrough) continue;
            ++events;
            const auto row = t.find(static_cast<engine::AgentId>(eco.events.firm[e]));
            REQUIRE(row);
            events_of_one_firm += t.column(eco.firms.represents)[*row] == 1.0f;
            // The firm it split from (a row down to its last firm breaks through itself: -1).
            split_events += eco.events.counterpart_city[e] >= 0 || t.column(eco.firms.team_row)[*row] == models::no_firm;
        }
        // Funds' portfolios equal the investments they hold, splits or not.
        double held = 0.0;
        for (double v : eco.vc_portfolio) held += v;
        investments_before_split = held;
    }
    INFO("breakthroughs " << flow << ", events " << events);
    CHECK(flow > 20);
    CHECK(events == flow);
    CHECK(events_of_one_firm == events);
    CHECK(split_events == events);
    // In the firm table: every firm that broke through stands for one firm, split off a cohort whose
    // team it reads; the cohort counts its members and firms.
    std::int64_t broke = 0;
    const auto team_row = t.column(eco.firms.team_row);
    for (std::size_t row = 0; row < t.size(); ++row) {
        if (t.column(eco.firms.breakthroughs)[row] == 0) continue;
        ++broke;
        CHECK(t.column(eco.firms.represents)[row] == 1.0f);
        if (team_row[row] == models::no_firm) continue;  // a cohort's last firm, which broke through itself
        CHECK(team_row[team_row[row]] == models::no_firm);  // the team row is an ordinary start-up row
        CHECK(t.column(eco.firms.team)[row] == 0);          // its own team columns are not used
    }
    CHECK(broke == flow);
    // Cohorts: members alive and firms alive agree with the rows working with each team.
    std::vector<std::int32_t> members(t.size(), 0);
    std::vector<double> firms(t.size(), 0.0);
    for (std::size_t row = 0; row < t.size(); ++row) {
        if (t.column(eco.firms.kind)[row] != static_cast<std::uint8_t>(models::FirmKind::startup) ||
            t.column(eco.firms.status)[row] != static_cast<std::uint8_t>(models::FirmStatus::alive))
            continue;
        const auto team = models::team_of(team_row, static_cast<std::uint32_t>(row));
        ++members[team];
        firms[team] += t.column(eco.firms.represents)[row];
    }
    std::int64_t wrong_members = 0, wrong_firms = 0, acqui_hires = 0;
    for (std::size_t row = 0; row < t.size(); ++row) {
        if (t.column(eco.firms.kind)[row] != static_cast<std::uint8_t>(models::FirmKind::startup) ||
            team_row[row] != models::no_firm)
            continue;
        wrong_members += t.column(eco.firms.cohort_members)[row] != members[row];
        if (members[row] > 0) {
            wrong_firms += std::abs(t.column(eco.firms.cohort_firms)[row] - firms[row]) > 1e-4;
            acqui_hires += models::team_scale(eco.firms, static_cast<std::uint32_t>(row), st.persons_per_agent) > 1.0;
        }
    }
    CHECK(wrong_members == 0);
    CHECK(wrong_firms == 0);
    INFO("cohorts whose firms carry more than one person per team agent: " << acqui_hires);
    CHECK(investments_before_split > 0.0);
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
