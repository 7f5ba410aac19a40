// Venture capital: the accounting of dry powder and portfolio per fund city, the distance decay of
// the fund weight, the fund drawn for a deal, and switching it off.
#include "fixtures.hpp"
#include "models/city_model.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>

using namespace citysim;

namespace {

double sum(const std::vector<double>& v) {
    double s = 0.0;
    for (double x : v) s += x;
    return s;
}

// |a - b| within a relative 1e-9 of the largest magnitude involved.
bool close(double a, double b, double scale) {
    return std::abs(a - b) <= 1e-9 * std::max({std::abs(a), std::abs(b), scale, 1.0});
}

bool firm_alive(const models::Ecosystem& eco, std::size_t row) {
    return eco.firms.table.column(eco.firms.status)[row] == static_cast<std::uint8_t>(models::FirmStatus::alive);
}

}  // namespace

TEST_CASE("venture capital: dry powder and portfolio are conserved every step in every city",
          "[ecosystem][venture_capital]") {
    const auto scenario = testing::load(testing::ecosystem_yaml());
    models::CityModel model(scenario);
    const auto& st = model.state();
    const auto& eco = st.ecosystem;
    const std::size_t cities = st.cities();
    REQUIRE(eco.funds.size() == 10);
    CHECK(eco.fund_count == std::vector<std::int64_t>{6, 4, 0});
    // Each city's starting capital is split evenly over its funds.
    for (std::size_t c = 0; c < cities; ++c) CHECK(eco.vc_dry_powder[c] == Approx(scenario.cities[c].value.venture_capital.capital));
    for (std::size_t j = 0; j < eco.funds.size(); ++j)
        CHECK(eco.funds.dry_powder[j] == Approx(1.0e12));  // 6e12 / 6 and 4e12 / 4

    double raised_due = 0.0;  // CNY raised per step by all cities together
    for (const auto& c : scenario.cities) raised_due += c.value.venture_capital.raised_per_year * model.years_per_step();
    double invested = 0.0, returned = 0.0, written_off = 0.0, raised = 0.0;
    for (int step = 1; step <= 60; ++step) {
        const auto dry_before = eco.vc_dry_powder;
        const auto portfolio_before = eco.vc_portfolio;
        model.step();
        INFO("step " << step);
        for (std::size_t c = 0; c < cities; ++c) {
            INFO("city " << c);
            const double scale = dry_before[c] + portfolio_before[c] + eco.vc_raised[c] + eco.fund_invested[c] +
                                 eco.fund_returned[c];
            CHECK(close(eco.vc_dry_powder[c],
                        dry_before[c] + eco.vc_raised[c] - eco.fund_invested[c] + eco.fund_returned[c], scale));
            CHECK(close(eco.vc_portfolio[c],
                        portfolio_before[c] + eco.fund_invested[c] - eco.fund_written_off[c] - eco.fund_exited_cost[c],
                        scale));
            CHECK(eco.vc_portfolio[c] >= -1e-9 * scale);
        }
        // The city stocks are the funds' own, and no fund invests what it does not have.
        std::vector<double> by_city(cities, 0.0);
        for (std::size_t j = 0; j < eco.funds.size(); ++j) {
            CHECK(eco.funds.dry_powder[j] >= 0.0);
            by_city[eco.funds.home_city[j]] += eco.funds.dry_powder[j];
        }
        for (std::size_t c = 0; c < cities; ++c) CHECK(close(by_city[c], eco.vc_dry_powder[c], eco.vc_dry_powder[c]));
        // The portfolio is the cost of the investments in start-ups still alive.
        std::vector<double> held(cities, 0.0);
        for (std::size_t k = 0; k < eco.investments.size(); ++k)
            if (firm_alive(eco, eco.investments.firm[k])) held[eco.funds.home_city[eco.investments.fund[k]]] += eco.investments.amount[k];
        for (std::size_t c = 0; c < cities; ++c) CHECK(close(held[c], eco.vc_portfolio[c], sum(eco.vc_portfolio)));
        // Per fund city and per start-up city and field, the same money.
        CHECK(close(sum(eco.fund_invested), sum(eco.vc_invested), sum(eco.fund_invested)));
        CHECK(close(sum(eco.fund_returned), sum(eco.vc_returned), sum(eco.fund_returned)));
        CHECK(close(sum(eco.fund_written_off), sum(eco.vc_written_off), sum(eco.fund_written_off)));
        // New capital: everything the cities raise lands with some funds (c has none: its capital
        // goes to the funds nearest to it), none is created or lost.
        CHECK(close(sum(eco.vc_raised), raised_due, raised_due));
        CHECK(eco.vc_raised[2] == 0.0);
        invested += sum(eco.fund_invested);
        returned += sum(eco.fund_returned);
        written_off += sum(eco.fund_written_off);
        raised += sum(eco.vc_raised);
    }
    // Every flow of the identities happened.
    CHECK(invested > 1e9);
    CHECK(returned > 0.0);
    CHECK(written_off > 1e8);
    CHECK(raised > 0.0);
}

TEST_CASE("venture capital: new capital is raised at home, a share follows recent returns, reach is K[c]",
          "[ecosystem][venture_capital]") {
    const auto scenario = testing::load(testing::ecosystem_yaml());
    models::CityModel model(scenario);
    const auto& st = model.state();
    const auto& eco = st.ecosystem;
    const std::size_t cities = st.cities();
    const double dt = model.years_per_step();
    const double mobility = scenario.mechanisms.venture_capital.capital_mobility;
    REQUIRE(mobility == 0.2);
    // The documented weight (defaults: within_city_hours 0.3, distance_elasticity 0.45, home_bias 1.3).
    auto w = [&](std::size_t h, std::size_t c) {
        const double hours = h == c ? 0.3 : std::max(0.3, st.travel_hours[h * cities + c]);
        return (h == c ? 1.3 : 1.0) * std::pow(hours / 0.3, -0.45);
    };
    // c has no funds; the funds nearest it (by weight) are b's.
    REQUIRE(w(1, 2) > w(0, 2));
    std::vector<double> recent(cities, 0.0);  // exponential average of returns, CNY/year
    int mobile_steps = 0;
    for (int step = 1; step <= 60; ++step) {
        model.step();
        INFO("step " << step);
        double recent_total = 0.0;
        for (std::size_t c = 0; c < cities; ++c) {
            recent[c] = recent[c] * std::exp(-dt) + eco.fund_returned[c] * (1 - std::exp(-dt)) / dt;
            if (eco.fund_count[c] > 0) recent_total += recent[c];
        }
        std::vector<double> expected(cities, 0.0);
        for (std::size_t c = 0; c < cities; ++c) {
            const double raised = scenario.cities[c].value.venture_capital.raised_per_year * dt;
            const double mobile = recent_total > 0 ? mobility * raised : 0.0;
            // The home share goes to the city's own funds, or to the nearest funds if it has none.
            expected[eco.fund_count[c] > 0 ? c : 1] += raised - mobile;
            for (std::size_t d = 0; d < cities; ++d)
                if (eco.fund_count[d] > 0 && recent_total > 0) expected[d] += mobile * recent[d] / recent_total;
        }
        for (std::size_t c = 0; c < cities; ++c) CHECK(close(eco.vc_raised[c], expected[c], expected[0]));
        if (recent_total > 0) ++mobile_steps;
        // Capital within reach per talent person: K[c] = sum_h dry_powder_h w(h, c) / persons in c.
        for (std::size_t c = 0; c < cities; ++c) {
            double reach = 0.0;
            for (std::size_t h = 0; h < cities; ++h) reach += eco.vc_dry_powder[h] * w(h, c);
            CHECK(close(eco.capital_access[c], reach / st.talent_persons_in(c), eco.capital_access[c]));
        }
    }
    // Returns came in, so capital moved for part of the run.
    CHECK(mobile_steps > 0);
    CHECK(mobile_steps < 60);
}

TEST_CASE("venture capital: the fund weight decays with travel time as a power law, home counts extra",
          "[ecosystem][venture_capital]") {
    // Four cities at 0.8 h, 2.4 h and 0.1 h from city 0; one field.
    models::CityState state;
    state.city_names = {"home", "near", "far", "suburb"};
    state.field_names = {"f"};
    state.travel_hours = {0.0, 0.8, 2.4, 0.1,   //
                          0.8, 0.0, 1.6, 0.9,   //
                          2.4, 1.6, 0.0, 2.5,   //
                          0.1, 0.9, 2.5, 0.0};
    state.talent_count = {1000, 1000, 1000, 1000};
    state.ecosystem.resize(4, 1);
    const models::VentureCapitalParams params;  // the defaults
    const models::VentureCapital vc(params, {}, state);
    const double home = vc.weight(0, 0, state);
    const double near = vc.weight(0, 1, state);
    CHECK(home == Approx(params.home_bias));
    CHECK(home / near == Approx(params.home_bias * std::pow(0.8 / 0.3, 0.45)).epsilon(1e-12));
    // Sorenson & Stuart's ratio for 10 and 100 miles: about 2.
    CHECK(home / near == Approx(2.0).epsilon(0.02));
    // Three times the distance, 3^-0.45 the weight; trips shorter than within_city_hours count as
    // within_city_hours (no home bias away from home).
    CHECK(vc.weight(0, 2, state) / near == Approx(std::pow(3.0, -0.45)).epsilon(1e-12));
    CHECK(vc.weight(0, 3, state) == Approx(1.0).epsilon(1e-12));
    // Symmetric travel times, symmetric weights.
    CHECK(vc.weight(1, 0, state) == vc.weight(0, 1, state));

    // The same in the fixture: a to b is 0.8 h.
    models::CityModel model(testing::load(testing::ecosystem_yaml()));
    CHECK(model.state().travel_hours[0 * 3 + 1] == 0.8);
}

TEST_CASE("venture capital: switched off, no funds and no investments", "[ecosystem][venture_capital]") {
    models::CityModel model(
        testing::load(testing::ecosystem_yaml(), {"mechanisms.venture_capital.enabled=false"}));
    const auto& eco = model.state().ecosystem;
    CHECK(eco.funds.size() == 0);
    std::int64_t births = 0, seekers = 0;
    for (int step = 0; step < 36; ++step) {
        model.step();
        for (auto b : eco.births) births += b;
        for (auto s : eco.funding_seekers) seekers += s;
        for (const auto* v : {&eco.vc_invested, &eco.vc_returned, &eco.vc_written_off, &eco.vc_raised, &eco.fund_invested,
                              &eco.fund_returned, &eco.fund_written_off, &eco.vc_dry_powder, &eco.vc_portfolio,
                              &eco.capital_access})
            for (double x : *v) CHECK(x == 0.0);
    }
    CHECK(eco.funds.size() == 0);
    CHECK(eco.investments.size() == 0);
    for (auto n : eco.fund_count) CHECK(n == 0);
    const auto rounds = eco.firms.table.column(eco.firms.rounds);
    const auto raised = eco.firms.table.column(eco.firms.raised);
    CHECK(std::all_of(rounds.begin(), rounds.end(), [](auto r) { return r == 0; }));
    CHECK(std::all_of(raised.begin(), raised.end(), [](double r) { return r == 0.0; }));
    // Start-ups were founded and sought rounds: there was demand that nobody met.
    CHECK(births > 500);
    CHECK(seekers > 500);
}

TEST_CASE("venture capital: the fund leading a deal is drawn with probability w / sum w",
          "[ecosystem][venture_capital][statistics]") {
    // Every deal: P(the lead fund is based in a) = n_a w(a, c) / sum_h n_h w(h, c) for a start-up in
    // c, as long as every fund could cover the round (checked below). Given the deals, the counts
    // by fund city are binomial.
    const auto scenario = testing::load(testing::ecosystem_yaml());
    models::CityModel model(scenario);
    for (int step = 0; step < 60; ++step) model.step();
    const auto& st = model.state();
    const auto& eco = st.ecosystem;
    const std::size_t cities = st.cities();
    const auto firm_city = eco.firms.table.column(eco.firms.city);

    // Every fund could have led every round: the smallest fund's starting capital, less all that all
    // funds invested, still covers the largest round.
    double invested = 0.0, largest = 0.0;
    for (double a : eco.investments.amount) invested += a, largest = std::max(largest, a);
    REQUIRE(1.0e12 - invested >= largest);

    // The weights, written out from the documented formula (within_city_hours 0.3, elasticity 0.45,
    // home bias 1.3).
    auto w = [&](std::size_t h, std::size_t c) {
        const double hours = h == c ? 0.3 : std::max(0.3, st.travel_hours[h * cities + c]);
        return (h == c ? 1.3 : 1.0) * std::pow(hours / 0.3, -0.45);
    };
    std::vector<double> deals(cities, 0.0), from_a(cities, 0.0);
    for (std::size_t k = 0; k < eco.investments.size(); ++k) {
        const std::size_t c = firm_city[eco.investments.firm[k]];
        deals[c] += 1;
        if (eco.funds.home_city[eco.investments.fund[k]] == 0) from_a[c] += 1;
    }
    double checked = 0.0;
    for (std::size_t c = 0; c < cities; ++c) {
        const double p = 6 * w(0, c) / (6 * w(0, c) + 4 * w(1, c));
        const double n = deals[c];
        INFO("start-ups in city " << c << ": " << n << " deals, " << from_a[c] << " led by funds of a, expected share " << p);
        REQUIRE(n >= 30);
        const double se = std::sqrt(n * p * (1 - p));
        CHECK(std::abs(from_a[c] - n * p) < 4 * se);
        // The test can tell the weighted draw from a draw uniform over the 10 funds (share 0.6 for a)
        // in the cities where they differ most.
        if (c != 2) CHECK(std::abs(p - 0.6) * n > 4 * se);
        checked += n;
    }
    CHECK(checked == static_cast<double>(eco.investments.size()));
}
