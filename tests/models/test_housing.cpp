#include "fixtures.hpp"
#include "models/city_model.hpp"
#include "models/housing.hpp"

#include <catch2/catch.hpp>

#include <cmath>

using namespace citysim;

namespace {
// Two cities of talent only (no other residents), so housing demand is talent demand. Floor space
// demand per person is inelastic (0.3), the textbook limiting case of a fixed housing need.
std::string talent_only_yaml() {
    return R"(
simulation: {steps: 240, step_unit: month, seed: 3}
fields: {software: {}}
talent: {persons: 200000, agents: 40000}
cities:
  boom:
    residents: 100000
    labour: {mean_wage: 200000}
    housing: {home_price: 40000, rent: 60, land_area_km2: 5000, supply_elasticity: 5.0}
    talent: {share: 0.5, field_mix: {software: 1}}
  other:
    residents: 100000
    labour: {mean_wage: 200000}
    housing: {home_price: 40000, rent: 60, land_area_km2: 5000, supply_elasticity: 5.0}
    talent: {share: 0.5, field_mix: {software: 1}}
network: {links: [[boom, other, 1.0]]}
mechanisms:
  demography: {enabled: false}
  labour_market: {hold_wages: true}
  migration: {reconsider_rate: 1.0, moving_cost: 0.5, moving_cost_per_hour: 0, attachment: 0, attachment_per_year: 0}
  housing: {demand_elasticity: 0.3}
)";
}

struct Outcome {
    double log_rent_change;
    double log_population_change;
};

// Raises productivity in `boom` by 20% and reports how its rent and population respond after 20 years.
Outcome productivity_shock(const std::vector<std::string>& extra) {
    std::vector<std::string> overrides = extra;
    overrides.push_back("cities.boom.labour.productivity=1.2");
    models::CityModel model(testing::load(talent_only_yaml(), overrides));
    const double rent0 = model.state().rent[0], population0 = model.state().residents(0);
    for (int i = 0; i < 240; ++i) model.step();
    return {std::log(model.state().rent[0] / rent0), std::log(model.state().residents(0) / population0)};
}
}  // namespace

TEST_CASE("housing: with supply fixed, a productivity rise ends up mostly in rents, not population", "[housing]") {
    const auto fixed = productivity_shock({"mechanisms.housing.fixed_supply=true"});
    const auto elastic = productivity_shock({});
    INFO("fixed supply: dlog rent " << fixed.log_rent_change << ", dlog population " << fixed.log_population_change);
    INFO("elastic supply: dlog rent " << elastic.log_rent_change << ", dlog population "
                                      << elastic.log_population_change);
    CHECK(fixed.log_rent_change > 0.05);
    CHECK(fixed.log_rent_change > 2 * fixed.log_population_change);
    // With the stock fixed, the clearing rent moves by 1/demand_elasticity per log point of residents.
    CHECK(fixed.log_rent_change == Approx(fixed.log_population_change / 0.3).epsilon(0.1));
    // With elastic supply the same shock brings more people and a smaller rent rise.
    CHECK(elastic.log_population_change > 1.5 * fixed.log_population_change);
    CHECK(elastic.log_rent_change < fixed.log_rent_change);
}

TEST_CASE("housing: the market starts in equilibrium and holds still without a shock", "[housing]") {
    models::CityModel model(testing::load(talent_only_yaml(), {"mechanisms.migration.enabled=false"}));
    for (int i = 0; i < 24; ++i) model.step();
    for (std::size_t c = 0; c < 2; ++c) {
        CHECK(model.state().rent[c] == Approx(60.0).epsilon(1e-12));
        CHECK(model.state().home_price[c] == Approx(40000.0).epsilon(1e-12));
        CHECK(model.state().housing_stock[c] == Approx(100000.0 * 35).epsilon(1e-12));
    }
}

TEST_CASE("housing: one step follows the stated equations", "[housing]") {
    models::CityState state;
    state.city_names = {"c"};
    state.field_names = {"f"};
    state.persons_per_agent = 1.0;
    state.other_residents = {1000.0};
    state.talent_count = {0};
    models::HousingParams params;
    models::HousingCityParams city;
    city.home_price = 20000;
    city.rent = 50;
    city.floor_space_per_person = 40;
    city.supply_elasticity = 2.0;
    city.land_area_km2 = 1;
    city.residential_land_share = 0.1;
    city.max_floor_area_ratio = 0.5;  // capacity 50,000 m2, starting stock 40,000
    models::HousingMarket market(params, {city}, state);
    CHECK(state.housing_stock[0] == 40000.0);
    CHECK(market.capacity(0) == Approx(50000.0));

    state.other_residents = {1100.0};  // 10% more people
    const double dt = 1.0 / 12;
    market.update(state, dt);
    const double clearing = 50 * std::pow(1.1, 1 / params.demand_elasticity);
    const double rent = 50 * std::pow(clearing / 50, 1 - std::exp(-params.rent_adjustment_rate * dt));
    const double price = 20000 * std::pow((20000 * rent / 50) / 20000, 1 - std::exp(-params.price_adjustment_rate * dt));
    const double desired = std::min(50000.0, 40000 * std::pow(price / 20000, 2.0));
    const double stock = 40000 + (desired - 40000) * (1 - std::exp(-params.construction_rate * dt));
    CHECK(state.rent[0] == Approx(rent).epsilon(1e-12));
    CHECK(state.home_price[0] == Approx(price).epsilon(1e-12));
    CHECK(state.housing_stock[0] == Approx(stock).epsilon(1e-12));

    // Land binds: a huge demand never builds past capacity.
    state.other_residents = {100000.0};
    for (int i = 0; i < 600; ++i) market.update(state, dt);
    CHECK(state.housing_stock[0] <= market.capacity(0) * (1 + 1e-12));
    CHECK(state.housing_stock[0] > 0.99 * market.capacity(0));
}

TEST_CASE("housing: hold_prices and fixed_supply hold", "[housing]") {
    models::CityModel model(testing::load(testing::three_cities_yaml(),
                                          {"mechanisms.housing.hold_prices=true", "mechanisms.housing.fixed_supply=true",
                                           "mechanisms.migration.reconsider_rate=5"}));
    const auto rent = model.state().rent, price = model.state().home_price, stock = model.state().housing_stock;
    for (int i = 0; i < 12; ++i) model.step();
    CHECK(model.state().rent == rent);
    CHECK(model.state().home_price == price);
    CHECK(model.state().housing_stock == stock);
    CHECK(model.counters().moves > 0);
}
