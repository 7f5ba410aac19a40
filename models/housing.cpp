#include "models/housing.hpp"

#include "engine/checkpoint/archive.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace citysim::models {

namespace sc = citysim::scenario;

const sc::Record<HousingParams>& housing_schema() {
    static const auto schema = [] {
        sc::Record<HousingParams> r("Housing markets: stock, rent and price per city");
        r.boolean("hold_prices", &HousingParams::hold_prices, "keep rents and home prices at their starting values",
                  false);
        r.boolean("fixed_supply", &HousingParams::fixed_supply, "keep the housing stock at its starting size", false);
        r.real("demand_elasticity", &HousingParams::demand_elasticity, "1",
               "price elasticity of floor space demanded per person (absolute value); the clearing rent moves "
               "by 1/elasticity log points per log point of excess demand",
               0.7, sc::Range::closed(0.05, 10));
        r.real("rent_adjustment_rate", &HousingParams::rent_adjustment_rate, "1/year",
               "speed at which rents close the gap to the clearing rent", 2.0, sc::Range::closed(0.01, 100));
        r.real("price_adjustment_rate", &HousingParams::price_adjustment_rate, "1/year",
               "speed at which home prices follow rents", 1.0, sc::Range::closed(0.01, 100));
        r.real("construction_rate", &HousingParams::construction_rate, "1/year",
               "speed at which the stock grows towards a desired stock above it (on top of replacing depreciation)",
               0.25, sc::Range::closed(0.001, 100));
        r.real("depreciation_rate", &HousingParams::depreciation_rate, "1/year",
               "share of the stock that wears out or is demolished a year; rebuilt while the desired stock is at least "
               "the stock, so a city whose prices fall loses stock at this rate",
               0.02, sc::Range::closed(0, 1));
        r.real("expectation_rate", &HousingParams::expectation_rate, "1/year",
               "speed at which expected rent growth follows the growth observed (adaptive expectations)", 1.0,
               sc::Range::closed(0.01, 100));
        r.real("expectation_weight", &HousingParams::expectation_weight, "years",
               "log points the price-to-rent multiple gains per unit of expected rent growth a year (0: prices follow "
               "rents at the starting multiple)",
               3.0, sc::Range::closed(0, 50));
        r.real("credit_conditions", &HousingParams::credit_conditions, "log points",
               "national credit conditions: log change of every city's price-to-rent multiple from the start (0 = as "
               "at the start; a schedule writes easing and tightening)",
               0.0, sc::Range::closed(-3, 3));
        return r;
    }();
    return schema;
}

const sc::Record<HousingCityParams>& housing_city_schema() {
    static const auto schema = [] {
        sc::Record<HousingCityParams> r("The city's housing market");
        r.real("home_price", &HousingCityParams::home_price, "CNY/m2", "average home price at the start",
               std::nullopt, sc::Range::above(0).and_at_most(1e7));
        r.real("rent", &HousingCityParams::rent, "CNY/m2/month", "average residential rent at the start",
               std::nullopt, sc::Range::above(0).and_at_most(1e5));
        r.real("floor_space_per_person", &HousingCityParams::floor_space_per_person, "m2/person",
               "residential floor space per resident at the start", 35.0, sc::Range::closed(1, 500));
        r.real("supply_elasticity", &HousingCityParams::supply_elasticity, "1",
               "long-run price elasticity of housing supply (Saiz 2010: 0.6-5.5)", 1.5, sc::Range::above(0).and_at_most(100));
        r.real("land_area_km2", &HousingCityParams::land_area_km2, "km2", "the city's administrative land area",
               std::nullopt, sc::Range::above(0).and_at_most(1e6));
        r.real("residential_land_share", &HousingCityParams::residential_land_share, "1",
               "share of the land area that residential building may ever use", 0.2, sc::Range::closed(0.001, 1));
        r.real("max_floor_area_ratio", &HousingCityParams::max_floor_area_ratio, "1",
               "floor space per unit of residential land at full build-out", 2.5, sc::Range::closed(0.01, 50));
        r.real("demand_shifter", &HousingCityParams::demand_shifter, "1",
               "housing demand beyond the residents' own at the starting rent, as a multiple of it: credit-fuelled and "
               "investment demand (1 = as at the start; a schedule writes a boom as a demand shock)",
               1.0, sc::Range::closed(0.1, 10));
        return r;
    }();
    return schema;
}

HousingMarket::HousingMarket(const HousingParams& params, std::vector<HousingCityParams> cities, CityState& state)
    : params_(params), cities_(std::move(cities)) {
    const std::size_t n = state.cities();
    state.rent.resize(n);
    state.home_price.resize(n);
    state.housing_stock.resize(n);
    state.expected_rent_growth.assign(n, 0.0);
    initial_stock_.resize(n);
    capacity_.resize(n);
    for (std::size_t c = 0; c < n; ++c) {
        const auto& city = cities_[c];
        state.rent[c] = city.rent;
        state.home_price[c] = city.home_price;
        initial_stock_[c] = state.residents(c) * city.floor_space_per_person;
        state.housing_stock[c] = initial_stock_[c];
        capacity_[c] = city.land_area_km2 * 1e6 * city.residential_land_share * city.max_floor_area_ratio;
    }
    starting_rent_ = state.rent;
    starting_price_ = state.home_price;
}

void HousingMarket::retune(const HousingParams& params, std::vector<HousingCityParams> cities) {
    params_ = params;
    cities_ = std::move(cities);
    for (std::size_t c = 0; c < cities_.size(); ++c)
        capacity_[c] = cities_[c].land_area_km2 * 1e6 * cities_[c].residential_land_share * cities_[c].max_floor_area_ratio;
}

void HousingMarket::update(CityState& state, double years_per_step) const {
    const double rent_step = 1.0 - std::exp(-params_.rent_adjustment_rate * years_per_step);
    const double price_step = 1.0 - std::exp(-params_.price_adjustment_rate * years_per_step);
    const double expectation_step = 1.0 - std::exp(-params_.expectation_rate * years_per_step);
    const auto& levers = state.policy;
    for (std::size_t c = 0; c < state.cities(); ++c) {
        const auto& city = cities_[c];
        const double rent0 = starting_rent_[c], price0 = starting_price_[c];
        if (!params_.hold_prices) {
            const double demand = state.residents(c) * city.floor_space_per_person * city.demand_shifter;
            const double clearing_rent = rent0 * std::pow(demand / state.housing_stock[c], 1.0 / params_.demand_elasticity);
            const double rent_before = state.rent[c];
            state.rent[c] *= std::pow(clearing_rent / state.rent[c], rent_step);
            double& expected = state.expected_rent_growth[c];
            expected += (std::log(state.rent[c] / rent_before) / years_per_step - expected) * expectation_step;
            const double multiple =
                price0 / rent0 * std::exp(params_.credit_conditions + params_.expectation_weight * expected);
            const double price_before = state.home_price[c];
            state.home_price[c] *= std::pow(state.rent[c] * multiple / state.home_price[c], price_step);
            const double cap = c < levers.max_price_growth.size() ? levers.max_price_growth[c]
                                                                 : std::numeric_limits<double>::infinity();
            if (std::isfinite(cap))
                state.home_price[c] = std::min(state.home_price[c], price_before * std::pow(1.0 + cap, years_per_step));
        }
        if (!params_.fixed_supply) {
            const double added = c < levers.added_floor_space.size() ? levers.added_floor_space[c] : 0.0;
            const double desired = std::min(capacity_[c] + added, (initial_stock_[c] + added) *
                                                                      std::pow(state.home_price[c] / price0, city.supply_elasticity));
            double& stock = state.housing_stock[c];
            const double rate = params_.depreciation_rate + (stock < desired ? params_.construction_rate : 0.0);
            stock = desired + (stock - desired) * std::exp(-rate * years_per_step);
        }
    }
}


// Checkpoints: the starting references R0, P0 and H0; the capacity follows the land parameters
// (retune), the demand shifter and credit conditions are parameters (the schedule re-applies them);
// expected rent growth is a CityState column. A member added to HousingMarket stops the build here until it is saved below.
CITYSIM_CHECKPOINTED(HousingMarket, 192);
void HousingMarket::save_or_restore(checkpoint::Archive& archive) {
    auto scope = archive.section("housing");
    archive.values("starting_rent", starting_rent_);
    archive.values("starting_price", starting_price_);
    archive.values("initial_stock", initial_stock_);
}

}  // namespace citysim::models
