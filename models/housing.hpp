// Housing market per city: a stock of floor space, a rent and a price (stock-flow, after DiPasquale
// & Wheaton 1992). With N residents (talent persons + other residents), h0 floor space per person at
// the starting rent R0, demand elasticity e, stock H, price P, and dt years per step:
//
//   demand          D = N * h0                                  (m2 wanted at the starting rent)
//   clearing rent   R* = R0 * (D / H)^(1/e)
//   rent            R' = R * (R* / R)^(1 - exp(-rent_adjustment_rate * dt))
//   target price    P* = P0 * R' / R0                           (the starting price-to-rent ratio)
//   price           P' = P * (P* / P)^(1 - exp(-price_adjustment_rate * dt))
//   desired stock   H* = min(capacity, H0 * (P' / P0)^supply_elasticity)
//   stock           H' = H + max(0, H* - H) * (1 - exp(-construction_rate * dt))   (never demolished)
//   capacity        = land_area_km2 * 1e6 * residential_land_share * max_floor_area_ratio
//
// Policies (policy.hpp) may cap the price's growth, P' <= P * (1 + g_max)^dt, and build floor space A
// on land the city provides: A is added to H when built and to H0 and the capacity from then on.
// H0 = N(0) * h0, so the market starts in equilibrium (R* = R0). supply_elasticity is the city's
// long-run price elasticity of housing supply (Saiz 2010: 0.6 to 5.5 across US metros); the land
// capacity bounds it. hold_prices keeps R and P at their starting values; fixed_supply keeps H.
#pragma once

#include "engine/scenario/schema.hpp"
#include "models/city_state.hpp"

namespace citysim::models {

struct HousingParams {
    bool hold_prices = false;
    bool fixed_supply = false;
    double demand_elasticity = 0.7;
    double rent_adjustment_rate = 2.0;
    double price_adjustment_rate = 1.0;
    double construction_rate = 0.25;
};
const scenario::Record<HousingParams>& housing_schema();

struct HousingCityParams {
    double home_price = 0.0;               // CNY per m2
    double rent = 0.0;                     // CNY per m2 per month
    double floor_space_per_person = 35.0;  // m2 per person
    double supply_elasticity = 1.5;
    double land_area_km2 = 0.0;
    double residential_land_share = 0.2;
    double max_floor_area_ratio = 2.5;
};
const scenario::Record<HousingCityParams>& housing_city_schema();

class HousingMarket {
public:
    // Sets the starting stock (state.housing_stock = residents * floor space), rent and price.
    HousingMarket(const HousingParams& params, std::vector<HousingCityParams> cities, CityState& state);
    // Saves or restores this mechanism's own state (checkpoints, engine/checkpoint/archive.hpp).
    void save_or_restore(checkpoint::Archive& archive);
    // New parameters mid-run (schedule.hpp): the stock and its reference H0 stay, the capacity follows the land.
    void retune(const HousingParams& params, std::vector<HousingCityParams> cities);
    void update(CityState& state, double years_per_step) const;
    double capacity(std::size_t city) const { return capacity_[city]; }

private:
    HousingParams params_;
    std::vector<HousingCityParams> cities_;
    std::vector<double> initial_stock_;
    std::vector<double> capacity_;
};

}  // namespace citysim::models
