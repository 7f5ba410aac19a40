#include "models/labour_market.hpp"

#include <catch2/catch.hpp>

#include <cmath>

using namespace citysim;

TEST_CASE("labour market: wages follow productivity, agglomeration and local supply", "[labour]") {
    models::CityState state;
    state.city_names = {"c"};
    state.field_names = {"f", "g"};
    state.initial_talent_count = {100, 0};
    state.talent_count = {200, 5};
    state.wage.resize(2);
    models::LabourMarketParams params;
    params.agglomeration_gain_per_doubling = 0.06;
    params.labour_demand_elasticity = 5.0;
    models::LabourMarket market(params, {{100000.0, 1.1}}, {1.0, 2.0});
    market.update(state);
    const double exponent = std::log2(1.06) - 1.0 / 5.0;
    CHECK(market.supply_exponent() == Approx(exponent));
    CHECK(state.wage[0] == Approx(100000 * 1.1 * std::pow(2.0, exponent)));
    // A field with no starting talent counts from one agent.
    CHECK(state.wage[1] == Approx(100000 * 1.1 * 2.0 * std::pow(5.0, exponent)));

    params.hold_wages = true;
    models::LabourMarket held(params, {{100000.0, 1.1}}, {1.0, 2.0});
    held.update(state);
    CHECK(state.wage[0] == Approx(110000.0));
    CHECK(state.wage[1] == Approx(220000.0));
}

TEST_CASE("labour market: with demand elastic enough, agglomeration makes wages rise with size", "[labour]") {
    models::CityState state;
    state.city_names = {"c"};
    state.field_names = {"f"};
    state.initial_talent_count = {100};
    state.talent_count = {400};
    state.wage.resize(1);
    models::LabourMarketParams params;
    params.agglomeration_gain_per_doubling = 0.08;
    params.labour_demand_elasticity = 50.0;
    models::LabourMarket market(params, {{1.0, 1.0}}, {1.0});
    market.update(state);
    CHECK(state.wage[0] > 1.0);
    params.agglomeration_gain_per_doubling = 0.0;
    models::LabourMarket no_agglomeration(params, {{1.0, 1.0}}, {1.0});
    no_agglomeration.update(state);
    CHECK(state.wage[0] < 1.0);
}
