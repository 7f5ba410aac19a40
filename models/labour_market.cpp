#include "models/labour_market.hpp"

#include "engine/checkpoint/archive.hpp"

#include <algorithm>
#include <cmath>

namespace citysim::models {

namespace sc = citysim::scenario;

const sc::Record<LabourMarketParams>& labour_market_schema() {
    static const auto schema = [] {
        sc::Record<LabourMarketParams> r("Wages per city and field");
        r.boolean("hold_wages", &LabourMarketParams::hold_wages,
                  "wages ignore local talent supply and agglomeration: mean_wage x wage_premium x productivity", false);
        r.real("agglomeration_gain_per_doubling", &LabourMarketParams::agglomeration_gain_per_doubling, "1",
               "productivity gained when same-field local talent doubles; 0 switches agglomeration off "
               "(Rosenthal & Strange 2004: 0.03-0.08)",
               0.05, sc::Range::closed(0, 1));
        r.real("labour_demand_elasticity", &LabourMarketParams::labour_demand_elasticity, "1",
               "wage elasticity of local labour demand (in absolute value): the wage falls by "
               "1/elasticity log points per log point of extra local supply",
               4.0, sc::Range::closed(0.1, 100));
        return r;
    }();
    return schema;
}

const sc::Record<LabourCityParams>& labour_city_schema() {
    static const auto schema = [] {
        sc::Record<LabourCityParams> r("The city's labour market");
        r.real("mean_wage", &LabourCityParams::mean_wage, "CNY/year",
               "annual wage of a skill-1 worker at the start, before the field premium", std::nullopt,
               sc::Range::closed(1, 1e8));
        r.real("productivity", &LabourCityParams::productivity, "1",
               "productivity multiplier on every wage in the city (1 = as at the start)", 1.0,
               sc::Range::closed(1e-3, 1e3));
        return r;
    }();
    return schema;
}

const sc::Record<FieldParams>& field_schema() {
    static const auto schema = [] {
        sc::Record<FieldParams> r("A field of skilled work");
        r.real("wage_premium", &FieldParams::wage_premium, "1", "multiplier on a city's mean wage for this field",
               1.0, sc::Range::closed(1e-3, 1e3));
        r.real("founding_propensity", &FieldParams::founding_propensity, "1",
               "multiplier on the founding rate of talent in this field (founding)", 1.0, sc::Range::closed(0, 100));
        r.real("research_relatedness", &FieldParams::research_relatedness, "1",
               "how much a city's basic research spills over to founding and progress in this field (universities)",
               0.0, sc::Range::unit_interval());
        r.real("cluster_preference", &FieldParams::cluster_preference, "utility",
               "migration utility per log point of a city's specialisation in this field (its location quotient): "
               "talent of the field is drawn to cities where the field is dense (migration)",
               0.0, sc::Range::closed(0, 20));
        return r;
    }();
    return schema;
}

LabourMarket::LabourMarket(const LabourMarketParams& params, std::vector<LabourCityParams> cities,
                           std::vector<double> field_wage_premium)
    : params_(params), cities_(std::move(cities)), field_wage_premium_(std::move(field_wage_premium)) {}

double LabourMarket::supply_exponent() const {
    return std::log2(1.0 + params_.agglomeration_gain_per_doubling) - 1.0 / params_.labour_demand_elasticity;
}

void LabourMarket::update(CityState& state) const {
    const double exponent = supply_exponent();
    for (std::size_t c = 0; c < state.cities(); ++c)
        for (std::size_t f = 0; f < state.fields(); ++f) {
            const std::size_t cf = state.city_field(c, f);
            double wage = cities_[c].mean_wage * field_wage_premium_[f] * cities_[c].productivity;
            if (!params_.hold_wages) {
                const double start = static_cast<double>(std::max<std::int64_t>(state.initial_talent_count[cf], 1));
                const double now = static_cast<double>(std::max<std::int64_t>(state.talent_count[cf], 1));
                wage *= std::pow(now / start, exponent);
            }
            state.wage[cf] = wage;
        }
}


// Checkpoints: parameters only: wages are set from the talent counts each step. A member added to LabourMarket stops the build here until it is saved below (or
// confirmed to be a parameter) and the size updated.
CITYSIM_CHECKPOINTED(LabourMarket, 72);
void LabourMarket::save_or_restore(checkpoint::Archive&) {}

}  // namespace citysim::models
