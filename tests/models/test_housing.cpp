#include "fixtures.hpp"
#include "models/city_model.hpp"
#include "models/housing.hpp"

#include <catch2/catch.hpp>

#include <cmath>

using namespace citysim;

namespace {
// Two cities of talent only (no other residents, no local services), so housing demand is talent
// demand. Floor space demand per person is inelastic (0.3), the textbook limiting case of a fixed
// housing need.
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
  households: {enabled: false, residents_per_worker: 1, local_jobs_per_talent: 0}
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

namespace {
// A city state of `cities` cities of one field, one person per agent, for the market alone.
models::CityState market_state(std::vector<std::int64_t> talent) {
    models::CityState state;
    for (std::size_t c = 0; c < talent.size(); ++c) state.city_names.push_back("c" + std::to_string(c));
    state.field_names = {"f"};
    state.persons_per_agent = 1.0;
    state.residents_per_worker = 1.0;
    state.talent_count = std::move(talent);
    state.local_service_workers.assign(state.cities(), 0.0);
    state.other_residents.assign(state.cities(), 0.0);
    state.reset_flows();
    return state;
}
}  // namespace

TEST_CASE("housing: one step follows the stated equations", "[housing]") {
    auto state = market_state({0});
    state.other_residents = {1000.0};
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
    const double expected = (std::log(rent / 50) / dt) * (1 - std::exp(-params.expectation_rate * dt));
    const double multiple = 20000.0 / 50 * std::exp(params.credit_conditions + params.expectation_weight * expected);
    const double price = 20000 * std::pow(rent * multiple / 20000, 1 - std::exp(-params.price_adjustment_rate * dt));
    const double desired = std::min(50000.0, 40000 * std::pow(price / 20000, 2.0));
    const double stock = desired + (40000 - desired) * std::exp(-(params.depreciation_rate + params.construction_rate) * dt);
    CHECK(state.rent[0] == Approx(rent).epsilon(1e-12));
    CHECK(state.expected_rent_growth[0] == Approx(expected).epsilon(1e-12));
    CHECK(state.home_price[0] == Approx(price).epsilon(1e-12));
    CHECK(state.housing_stock[0] == Approx(stock).epsilon(1e-12));

    // Land binds: a huge demand never builds past capacity.
    state.other_residents = {100000.0};
    for (int i = 0; i < 600; ++i) market.update(state, dt);
    CHECK(state.housing_stock[0] <= market.capacity(0) * (1 + 1e-12));
    CHECK(state.housing_stock[0] > 0.99 * market.capacity(0));
}

TEST_CASE("housing: a demand surge raises rents and prices together, and they fall back after it", "[housing]") {
    auto state = market_state({0});
    state.other_residents = {1.0e6};
    models::HousingParams params;
    models::HousingCityParams city{.home_price = 40000, .rent = 60, .floor_space_per_person = 30, .supply_elasticity = 1.0,
                                   .land_area_km2 = 1e4};
    models::HousingMarket market(params, {city}, state);
    const double dt = 1.0 / 12;
    city.demand_shifter = 1.3;  // two years of credit-fuelled demand, then back to normal
    market.retune(params, {city});
    double highest_rent = 0, highest_price = 0, price_to_rent_before = 40000.0 / 60;
    bool multiple_rose = false;
    for (int m = 0; m < 24; ++m) {
        market.update(state, dt);
        // Up while the surge lasts (building catches up within it, so both may pass a peak).
        CHECK(state.rent[0] > 60.0);
        CHECK(state.home_price[0] > 40000.0);
        if (m >= 2) CHECK(state.home_price[0] > 40000.0 * 1.02);
        multiple_rose = multiple_rose || state.home_price[0] / state.rent[0] > price_to_rent_before;
        highest_rent = std::max(highest_rent, state.rent[0]);
        highest_price = std::max(highest_price, state.home_price[0]);
    }
    CHECK(multiple_rose);  // expected growth lifts the price-to-rent multiple: prices outrun rents
    CHECK(highest_price / 40000 > highest_rent / 60);
    city.demand_shifter = 1.0;
    market.retune(params, {city});
    for (int m = 0; m < 36; ++m) market.update(state, dt);
    CHECK(state.rent[0] < 0.98 * highest_rent);
    CHECK(state.home_price[0] < 0.9 * highest_price);
    CHECK(state.expected_rent_growth[0] < 0.0);  // the bust: rents falling, buyers expect more of it
    // In the long run the market returns near its start; the stock built in the boom wears out.
    const double stock_after_boom = state.housing_stock[0];
    for (int m = 0; m < 12 * 60; ++m) market.update(state, dt);
    CHECK(state.housing_stock[0] < stock_after_boom);
    CHECK(state.rent[0] == Approx(60).epsilon(0.02));
    CHECK(state.home_price[0] == Approx(40000).epsilon(0.03));
}

TEST_CASE("housing: a shrinking city's stock shrinks at the depreciation rate", "[housing]") {
    auto state = market_state({0});
    state.other_residents = {1.0e6};
    models::HousingParams params;
    models::HousingCityParams city{.home_price = 40000, .rent = 60, .floor_space_per_person = 30, .supply_elasticity = 1.0,
                                   .land_area_km2 = 1e4};
    models::HousingMarket market(params, {city}, state);
    state.other_residents = {0.7e6};  // 30% leave
    const double dt = 1.0 / 12;
    double stock = state.housing_stock[0];
    for (int m = 0; m < 120; ++m) {
        market.update(state, dt);
        CHECK(state.housing_stock[0] <= stock);
        // Never faster than depreciation: housing is durable.
        CHECK(state.housing_stock[0] >= stock * std::exp(-params.depreciation_rate * dt) * (1 - 1e-12));
        stock = state.housing_stock[0];
    }
    CHECK(stock < 0.95 * 30e6);
    // With depreciation off, the stock never shrinks.
    params.depreciation_rate = 0;
    auto still = market_state({0});
    still.other_residents = {1.0e6};
    models::HousingMarket durable(params, {city}, still);
    still.other_residents = {0.7e6};
    for (int m = 0; m < 120; ++m) durable.update(still, dt);
    CHECK(still.housing_stock[0] == Approx(30e6).epsilon(1e-12));
}

TEST_CASE("housing: 1% more talent moves the rent by what the multiplier and supply elasticity imply", "[housing]") {
    // Two cities; 1% more talent persons in the first, the second as a control. In the long run
    // (expected growth 0, credit as at the start) P/P0 = R/R0 and H/H0 = (R/R0)^sigma, so with
    // N = r (1 + m) T + O0 (R/R0)^-eta the rent solves ln(R/R0) = ln(N/N0) / (e + sigma).
    auto state = market_state({100000, 100000});
    const double residents = 3.0e6;
    models::HouseholdParams h;  // the documented defaults: r 1.9, m 4.9, eta 0.3
    models::HousingParams params;
    models::HousingCityParams city{.home_price = 40000, .rent = 60, .floor_space_per_person = 30, .supply_elasticity = 1.5,
                                   .land_area_km2 = 1e4};
    models::Households households(h, {residents, residents}, {60, 60}, state);
    state.residents_per_worker = h.residents_per_worker;
    models::HousingMarket market(params, {city, city}, state);
    REQUIRE(state.residents(0) == Approx(residents));
    state.talent_count[0] = 101000;
    const double dt = 1.0 / 12;
    for (int m = 0; m < 12 * 150; ++m) {
        households.update(state, dt);
        market.update(state, dt);
    }
    const double e = params.demand_elasticity, sigma = city.supply_elasticity, eta = h.other_rent_elasticity;
    const double tied = h.residents_per_worker * (1 + h.local_jobs_per_talent) * 101000;
    const double other0 = residents - h.residents_per_worker * (1 + h.local_jobs_per_talent) * 100000;
    double x = 0.0;  // ln(R/R0), by fixed point
    for (int i = 0; i < 200; ++i) x = std::log((tied + other0 * std::exp(-eta * x)) / residents) / (e + sigma);
    const double share = h.residents_per_worker * (1 + h.local_jobs_per_talent) * 100000 / residents;
    const double linear = share * std::log(1.01) / (e + sigma + eta * (1 - share));
    INFO("simulated " << std::log(state.rent[0] / 60) << ", closed form " << x << ", linearised " << linear);
    CHECK(std::log(state.rent[0] / 60) == Approx(x).epsilon(0.01));
    CHECK(x == Approx(linear).epsilon(0.02));
    CHECK(state.rent[1] == Approx(60).epsilon(1e-9));
    // Without local services the same talent moves the rent by far less: the multiplier matters.
    CHECK(x > 3 * (h.residents_per_worker * 100000 / residents) * std::log(1.01) / (e + sigma + eta));
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
