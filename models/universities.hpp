// Universities and basic research: graduates join the city's talent pool, staff work at the
// universities, and basic research raises founding and breakthrough chances in related fields.
//
// Each step, each city's universities graduate Poisson(graduates_per_year[f] * dt / persons_per_agent)
// new talent agents per field into the city (they count as entries; they may leave like anyone:
// Nanjing trains many who found elsewhere). They keep staff[f] persons employed as university staff,
// hiring from the city's free talent of the field. The city's basic research share b (of its R&D)
// enters founding and start-up progress as exp(research_spillover * b * relatedness[f])
// (founding.hpp, startups.hpp): knowledge spills over to the fields close to research.
#pragma once

#include "engine/rng.hpp"
#include "engine/scenario/schema.hpp"
#include "models/city_state.hpp"
#include "models/savings.hpp"

#include <vector>

namespace citysim::models {

struct UniversitiesParams {
    bool enabled = true;
};
const scenario::Record<UniversitiesParams>& universities_schema();

struct UniversityCityParams {
    std::int64_t count = 0;
    std::vector<scenario::Named<double>> graduates_per_year;  // persons/year per field
    std::vector<scenario::Named<double>> staff;               // persons per field
    double basic_research_share = 0.0;
};
const scenario::Record<UniversityCityParams>& university_city_schema();

class HiringPool;

class Universities {
public:
    // New parameters mid-run (schedule.hpp): graduates, staff targets and basic research.
    void retune(const UniversitiesParams& params, const std::vector<UniversityCityParams>& cities, CityState& state);
    Universities(const UniversitiesParams& params, std::vector<UniversityCityParams> cities, double skill_dispersion,
                 CityState& state);
    // Saves or restores this mechanism's own state (checkpoints, engine/checkpoint/archive.hpp).
    void save_or_restore(checkpoint::Archive& archive);
    // Graduates join the pool (after the census: they are free talent, counted in employment
    // `other`, but cannot be hired before the next census lists them).
    void graduate(CityState& state, const engine::StreamKey& streams, double years_per_step, const Savings& savings) const;
    // Staff hiring (after the census); until_filled keeps drawing past one call's draws (the start).
    void hire(CityState& state, HiringPool& pool, const engine::StreamKey& streams, bool until_filled = false) const;
    bool enabled() const { return params_.enabled; }

private:
    UniversitiesParams params_;
    std::vector<double> graduates_;     // [city * fields + field], persons/year
    std::vector<std::int64_t> staff_;   // [city * fields + field], agents
    double skill_dispersion_;
};

}  // namespace citysim::models
