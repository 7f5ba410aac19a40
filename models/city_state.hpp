// The state that the mechanisms read and write: city-level markets, the talent agents, and the
// flows of the current step. Arrays indexed by city and field are row-major: [city * fields + field].
#pragma once

#include "models/firms.hpp"
#include "models/talent.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace citysim::models {

struct CityState {
    std::vector<std::string> city_names;
    std::vector<std::string> field_names;
    std::size_t cities() const { return city_names.size(); }
    std::size_t fields() const { return field_names.size(); }
    std::size_t city_field(std::size_t city, std::size_t field) const { return city * fields() + field; }

    double persons_per_agent = 1.0;
    std::vector<double> amenity;       // per city, as used by migration (calibrated or given)
    double residents_per_talent = 1.0;  // residents housed per talent person
    std::vector<double> travel_hours;  // [origin * cities + destination], shortest route

    // Housing market, per city.
    std::vector<double> rent;                  // CNY per m2 per month
    std::vector<double> home_price;            // CNY per m2
    std::vector<double> housing_stock;         // m2 of residential floor space
    std::vector<double> other_residents;       // persons not tied to talent (held fixed)

    // Labour market, per city and field.
    std::vector<double> wage;                  // CNY per year for skill 1
    std::vector<double> skill_sum;             // sum of agents' skills in the step (for mean wages)
    std::vector<double> skill_count;           // the agents that skill_sum covers (exact integers)

    // Talent agents and their counts per city and field (kept current by every mechanism that
    // moves, adds or removes agents).
    TalentAgents talent;
    std::vector<std::int64_t> talent_count;    // agents
    std::vector<std::int64_t> initial_talent_count;

    // Flows of the current step, in agents; reset at the start of each step.
    std::vector<std::int64_t> arrivals, departures, entries, exits;  // [city * fields + field]
    std::vector<std::int64_t> migration;                             // [origin * cities + destination]

    // Firms, funds and their flows (founding, start-ups, incumbents, universities, venture capital).
    Ecosystem ecosystem;
    // Floor space per resident per city (m2/person), for the cost of living.
    std::vector<double> floor_space_per_person;
    // What one person's floor space costs a year in the city (CNY/year): what savings pay for, and
    // what a founder's savings must cover while unpaid.
    double annual_housing_cost(std::size_t city) const { return 12.0 * rent[city] * floor_space_per_person[city]; }

    double talent_persons_in(std::size_t city) const {
        std::int64_t n = 0;
        for (std::size_t f = 0; f < fields(); ++f) n += talent_count[city_field(city, f)];
        return static_cast<double>(n) * persons_per_agent;
    }
    double residents(std::size_t city) const {
        return other_residents[city] + talent_persons_in(city) * residents_per_talent;
    }

    void reset_flows() {
        for (auto* v : {&arrivals, &departures, &entries, &exits}) v->assign(cities() * fields(), 0);
        migration.assign(cities() * cities(), 0);
        ecosystem.reset_flows();
    }
    // Moves talent row `row` to `destination` as a migration of the step (founders who found elsewhere).
    void move_talent(std::size_t row, CityIndex destination, std::uint32_t step);
    // Adds counts[city * fields + field] new talent agents (entries of the step) with skills drawn
    // from their own streams; returns the first new row.
    std::size_t add_talent(const std::vector<std::int64_t>& counts, const engine::StreamKey& streams,
                           engine::Purpose skill_purpose, double skill_dispersion);
};

}  // namespace citysim::models
