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

}  // namespace citysim::testing
