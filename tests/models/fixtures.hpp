// Small scenarios for model tests, written as YAML so that tests exercise the real loader.
#pragma once

#include "models/scenario.hpp"

#include <string>
#include <vector>

namespace citysim::testing {

// Three cities on a line (a - b 1 h, b - c 2 h), one field unless overridden; everything on.
inline std::string three_cities_yaml() {
    return R"(
simulation: {steps: 12, step_unit: month, seed: 99}
fields:
  software: {wage_premium: 1.0}
talent: {persons: 300000, agents: 30000, skill_dispersion: 0.4}
cities:
  a:
    residents: 3.0e6
    amenity: 0.2
    labour: {mean_wage: 200000}
    housing: {home_price: 40000, rent: 60, land_area_km2: 3000, supply_elasticity: 1.0}
    talent: {share: 0.5, field_mix: {software: 1.0}}
  b:
    residents: 2.0e6
    labour: {mean_wage: 180000}
    housing: {home_price: 30000, rent: 45, land_area_km2: 3000, supply_elasticity: 2.0}
    talent: {share: 0.3, field_mix: {software: 1.0}}
  c:
    residents: 1.0e6
    amenity: -0.1
    labour: {mean_wage: 150000}
    housing: {home_price: 20000, rent: 30, land_area_km2: 3000, supply_elasticity: 3.0}
    talent: {share: 0.2, field_mix: {software: 1.0}}
network:
  links: [[a, b, 1.0], [b, c, 2.0]]
)";
}

// Two cities of two fields with every mechanism on, for state-level tests.
inline std::string two_fields_yaml() {
    return R"(
simulation: {steps: 24, step_unit: month, seed: 5}
fields:
  hardware: {wage_premium: 0.9}
  ai: {wage_premium: 1.5}
talent: {persons: 100000, agents: 50000}
cities:
  x:
    residents: 1.0e6
    labour: {mean_wage: 200000}
    housing: {home_price: 50000, rent: 70, land_area_km2: 1000}
    talent: {share: 0.6, field_mix: {hardware: 0.7, ai: 0.3}}
  y:
    residents: 1.0e6
    amenity: 0.3
    labour: {mean_wage: 170000}
    housing: {home_price: 30000, rent: 40, land_area_km2: 5000}
    talent: {share: 0.4, field_mix: {hardware: 0.4, ai: 0.6}}
network:
  links: [[x, y, 2.0]]
mechanisms:
  migration: {reconsider_rate: 1.0}
  demography: {exit_rate: 0.1, entry_rate: 0.12}
)";
}

inline models::Scenario load(const std::string& yaml, const std::vector<std::string>& overrides = {}) {
    return models::load_scenario_text(yaml, "test.yaml", overrides).value;
}

// Every error the loader reports for `yaml`, one formatted diagnostic a line ("" when it loads).
inline std::string errors_of(const std::string& yaml) {
    try {
        models::load_scenario_text(yaml, "test.yaml");
    } catch (const scenario::ScenarioError& e) {
        std::string all;
        for (const auto& d : e.diagnostics()) all += d.format() + "\n";
        return all;
    }
    return "";
}

// Three cities of two fields with every part of the innovation ecosystem: incumbents in a,
// universities in a and b, venture funds in a and b (c raises capital but has no funds of its
// own), distinct tolerances of failure. 10 persons per agent; a - b 0.8 h, b - c 1.5 h. Founding
// runs at about four times the default base rate, founders put 5% of their savings in (not 50%) and
// seed rounds are 0.5 M CNY, so that a 60-step run has thousands of start-ups that need rounds
// (about 1800), and funds with 1e12 CNY each that can lead any of them. Runs 60 steps in < 0.1 s.
inline std::string ecosystem_yaml() {
    return R"(
simulation: {steps: 60, step_unit: month, seed: 31}
fields:
  hardware: {wage_premium: 1.0, research_relatedness: 0.3, founding_propensity: 0.8}
  ai: {wage_premium: 1.4, research_relatedness: 0.9, founding_propensity: 1.3}
talent: {persons: 300000, agents: 30000, skill_dispersion: 0.5}
cities:
  a:
    residents: 4.0e6
    amenity: 0.1
    labour: {mean_wage: 200000}
    housing: {home_price: 50000, rent: 70, land_area_km2: 4000}
    talent: {share: 0.5, field_mix: {hardware: 0.6, ai: 0.4}}
    failure_tolerance: 0.3
    universities:
      count: 4
      graduates_per_year: {hardware: 600, ai: 600}
      staff: {ai: 3000}
      basic_research_share: 0.1
    venture_capital: {capital: 6.0e12, funds: 6, raised_per_year: 3.0e11}
    incumbents:
      bigco: {employees: {hardware: 20000, ai: 8000}, wage_premium: 1.3, growth_rate: 0.05}
      chipco: {employees: {hardware: 5000}, wage_premium: 1.15, growth_rate: 0.02}
  b:
    residents: 2.5e6
    labour: {mean_wage: 180000}
    housing: {home_price: 35000, rent: 50, land_area_km2: 3000}
    talent: {share: 0.3, field_mix: {hardware: 0.3, ai: 0.7}}
    failure_tolerance: 0.8
    universities:
      count: 2
      graduates_per_year: {hardware: 300, ai: 900}
      staff: {hardware: 1000, ai: 2000}
      basic_research_share: 0.15
    venture_capital: {capital: 4.0e12, funds: 4, raised_per_year: 2.0e11}
  c:
    residents: 1.5e6
    amenity: -0.1
    labour: {mean_wage: 150000}
    housing: {home_price: 20000, rent: 30, land_area_km2: 3000}
    talent: {share: 0.2, field_mix: {hardware: 0.5, ai: 0.5}}
    failure_tolerance: 0.5
    venture_capital: {raised_per_year: 1.0e11}
network:
  links: [[a, b, 0.8], [b, c, 1.5]]
mechanisms:
  founding: {base_rate: 0.003, own_funds_share: 0.05}
  venture_capital: {seed_round: 5.0e5}
)";
}

}  // namespace citysim::testing
