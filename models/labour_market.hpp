// Labour market: one wage per city and field, for a worker of skill 1.
//
//     w[c,f](t) = mean_wage[c] * wage_premium[f] * productivity[c] * (L[c,f](t) / L[c,f](0))^(g - 1/s)
//
//  - g = log2(1 + agglomeration_gain_per_doubling): agglomeration, productivity gained when the
//    same-field local talent doubles (Rosenthal & Strange 2004: 3-8% per doubling);
//  - s = labour_demand_elasticity: local employers pay less as local supply grows (wage elasticity
//    of labour demand; 1/s is how far the wage falls per log point of extra supply);
//  - L counts talent agents; L(0) counts at the start, at least one.
// A worker's wage is w[c,f] * skill. hold_wages drops the last factor (wages then move only with
// productivity).
#pragma once

#include "engine/scenario/schema.hpp"
#include "models/city_state.hpp"

namespace citysim::models {

struct LabourMarketParams {
    bool hold_wages = false;
    double agglomeration_gain_per_doubling = 0.05;
    double labour_demand_elasticity = 4.0;
};
const scenario::Record<LabourMarketParams>& labour_market_schema();

struct LabourCityParams {
    double mean_wage = 0.0;     // CNY per year
    double productivity = 1.0;  // multiplier
};
const scenario::Record<LabourCityParams>& labour_city_schema();

// A field's keys come from the mechanisms that use them: labour market (wage_premium), founding
// (founding_propensity), universities (research_relatedness) and migration (cluster_preference).
struct FieldParams {
    double wage_premium = 1.0;          // multiplier on the city's mean wage
    double founding_propensity = 1.0;   // multiplier on the founding rate
    double research_relatedness = 0.0;  // 0..1, how much basic research spills over to this field
    double cluster_preference = 0.0;    // migration utility per log point of the city's location quotient
};
const scenario::Record<FieldParams>& field_schema();

class LabourMarket {
public:
    LabourMarket(const LabourMarketParams& params, std::vector<LabourCityParams> cities,
                 std::vector<double> field_wage_premium);
    // Saves or restores this mechanism's own state (checkpoints, engine/checkpoint/archive.hpp).
    void save_or_restore(checkpoint::Archive& archive);
    // Sets state.wage from the current talent counts.
    void update(CityState& state) const;
    // The exponent g - 1/s applied to L/L(0).
    double supply_exponent() const;

private:
    LabourMarketParams params_;
    std::vector<LabourCityParams> cities_;
    std::vector<double> field_wage_premium_;
};

}  // namespace citysim::models
