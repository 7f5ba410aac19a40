// Housing market per city: a stock of floor space, a rent and a price (stock-flow, after DiPasquale
// & Wheaton 1992; prices from rents by the user-cost relation of Poterba 1984). With N residents
// (households.hpp), h0 floor space per person at the starting rent R0, a demand shifter s[c]
// (credit-fuelled and investment demand; 1 = none beyond the start), demand elasticity e, stock H,
// price P and dt years per step:
//
//   demand          D = N * h0 * s                                 (m2 wanted at the starting rent)
//   clearing rent   R* = R0 * (D / H)^(1/e)
//   rent            R' = R * (R* / R)^(1 - exp(-rent_adjustment_rate * dt))
//   expected growth g' = g + (ln(R'/R)/dt - g) * (1 - exp(-expectation_rate * dt))   (adaptive, 1/year)
//   price-to-rent   M* = M0 * exp(credit_conditions + expectation_weight * g')       M0 = P0 / R0
//   price           P' = P * (R' M* / P)^(1 - exp(-price_adjustment_rate * dt))
//   desired stock   H* = min(capacity, H0 * (P' / P0)^supply_elasticity)
//   stock           H' = H* + (H - H*) * exp(-(depreciation_rate + [H < H*] construction_rate) * dt)
//   capacity        = land_area_km2 * 1e6 * residential_land_share * max_floor_area_ratio
//
// So a home is worth the rent it earns times a multiple that rises when rents are expected to grow
// (extrapolated from their recent growth: Case & Shiller 2003) and when credit is easy, and falls
// back when the growth stops. A demand surge (a scheduled s) raises rents and prices together; when
// it ends, rents fall back at rent_adjustment_rate and prices with them, overshooting while expected
// growth is negative. The stock depreciates (or is demolished) at depreciation_rate and is rebuilt
// while the desired stock is at least the stock, so a city whose prices fall below P0 loses stock at
// that rate (housing is durable: Glaeser & Gyourko 2005), and one whose prices rise builds towards
// H* at depreciation_rate + construction_rate.
//
// Policies (policy.hpp) may cap the price's growth, P' <= P * (1 + g_max)^dt, and build floor space A
// on land the city provides: A is added to H when built and to H0 and the capacity from then on.
// H0 = N(0) * h0, so the market starts in equilibrium (R* = R0, P* = P0, H* = H0). supply_elasticity
// is the city's long-run price elasticity of housing supply (Saiz 2010: 0.6 to 5.5 across US metros);
// the land capacity bounds it. hold_prices keeps R and P at their starting values; fixed_supply
// keeps H (no depreciation either).
//
// Long run (tested in a two-city scenario): with g = 0 and credit_conditions = 0, P/P0 = R/R0 and
// H/H0 = (R/R0)^supply_elasticity, so ln(R/R0) = ln(D/D0) / (e + supply_elasticity).
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
    double depreciation_rate = 0.02;
    double expectation_rate = 1.0;
    double expectation_weight = 3.0;
    double credit_conditions = 0.0;
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
    double demand_shifter = 1.0;
};
const scenario::Record<HousingCityParams>& housing_city_schema();

class HousingMarket {
public:
    // Sets the starting stock (state.housing_stock = residents * floor space), rent and price.
    HousingMarket(const HousingParams& params, std::vector<HousingCityParams> cities, CityState& state);
    // Saves or restores this mechanism's own state (checkpoints, engine/checkpoint/archive.hpp).
    void save_or_restore(checkpoint::Archive& archive);
    // New parameters mid-run (schedule.hpp): the stock, the starting references (R0, P0, H0, M0)
    // and expectations stay; the capacity follows the land.
    void retune(const HousingParams& params, std::vector<HousingCityParams> cities);
    void update(CityState& state, double years_per_step) const;
    double capacity(std::size_t city) const { return capacity_[city]; }
    const HousingParams& params() const { return params_; }

private:
    HousingParams params_;
    std::vector<HousingCityParams> cities_;
    std::vector<double> starting_rent_, starting_price_;
    std::vector<double> initial_stock_;
    std::vector<double> capacity_;
};

}  // namespace citysim::models
