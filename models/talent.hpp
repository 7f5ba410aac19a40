// Talent: skilled workers (hardware, software, AI, research, ...) who choose a city.
//
// Each agent stands for `persons_per_agent` people (= talent.persons / talent.agents). Its skill is a
// multiplier on the city-field wage, log-normal with mean 1:
//     skill = exp(skill_dispersion * z - skill_dispersion^2 / 2),  z ~ N(0, 1)
// A talent person's household and the local-service jobs that skilled jobs create count in the
// city's residents and housing demand (households.hpp).
// The starting population is apportioned exactly (largest remainder) over cities by
// cities.<city>.talent.share and within a city over fields by cities.<city>.talent.field_mix.
#pragma once

#include "engine/agent_table.hpp"
#include "engine/rng.hpp"
#include "engine/scenario/schema.hpp"

#include <cstdint>
#include <vector>

namespace citysim::models {

using CityIndex = std::uint16_t;
using FieldIndex = std::uint8_t;
inline constexpr std::size_t max_cities = 65535;
inline constexpr std::size_t max_fields = 255;

struct TalentParams {
    double persons = 0.0;             // persons, all cities together
    std::int64_t agents = 0;          // agents representing them
    double skill_dispersion = 0.5;    // standard deviation of log skill
};
const scenario::Record<TalentParams>& talent_schema();

struct TalentCityParams {
    double share = 0.0;                                   // of all talent, at the start
    std::vector<scenario::Named<double>> field_mix;       // shares by field, summing to 1
};
const scenario::Record<TalentCityParams>& talent_city_schema();

// The structure-of-arrays columns of the talent agents.
struct TalentAgents {
    TalentAgents();
    engine::AgentTable table;
    engine::ColumnHandle<CityIndex> city;
    engine::ColumnHandle<FieldIndex> field;
    engine::ColumnHandle<float> skill;          // wage multiplier, mean 1
    engine::ColumnHandle<float> savings;        // CNY
    engine::ColumnHandle<std::uint32_t> arrival_step;  // step of arrival in the current city (0 = there at the start)
    // Steps of the agent's next scheduled events, drawn by the mechanism that owns them as
    // geometric waiting times; `unscheduled` until that mechanism first sees the agent.
    engine::ColumnHandle<std::uint32_t> next_reconsider_step;  // migration
    engine::ColumnHandle<std::uint32_t> exit_step;             // demography
    engine::ColumnHandle<std::uint32_t> next_founding_step;    // founding (candidate events, see founding.hpp)
    // Work (see firms.hpp): EmployerKind, and the employer's firm row or no_firm.
    engine::ColumnHandle<std::uint8_t> employer_kind;
    engine::ColumnHandle<std::uint32_t> employer;
    engine::ColumnHandle<std::uint8_t> failures;               // start-ups this person founded that failed
    // Multiplier on the market wage this person is paid: 1, the incumbent's premium, 0 for a
    // founder; set whenever the employer changes, so that savings need not look the employer up.
    engine::ColumnHandle<float> pay;
};
inline constexpr std::uint32_t unscheduled = 0;

// Years an agent who arrived at `arrival_step` has lived in its city at `step`.
inline float years_in_city(std::uint32_t arrival_step, std::int64_t step, double years_per_step) {
    return static_cast<float>(static_cast<double>(step - arrival_step) * years_per_step);
}

// Draws a skill for the agent with this id from its own stream.
float draw_skill(const engine::StreamKey& key, engine::AgentId id, engine::Purpose purpose, double skill_dispersion);

// Splits `total` into integer parts proportional to `weights` (largest remainder, ties to the first).
std::vector<std::int64_t> apportion(std::int64_t total, const std::vector<double>& weights);

// Creates the starting population: counts[c * fields + f] agents in city c and field f.
void populate(TalentAgents& agents, const std::vector<std::int64_t>& counts, std::size_t fields,
              const engine::StreamKey& key, double skill_dispersion);

}  // namespace citysim::models
