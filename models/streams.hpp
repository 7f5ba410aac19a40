// The purposes of random draws (the last part of every stream key, see engine/rng.hpp). One value
// per mechanism and reason; never reuse or renumber one once results have been published, or seeds
// stop reproducing them.
#pragma once

#include "engine/rng.hpp"

namespace citysim::models::streams {

inline constexpr engine::Purpose initial_skill = 1;
inline constexpr engine::Purpose migration_choice = 2;    // words: next wait, stay-or-move, destination
inline constexpr engine::Purpose migration_schedule = 3;  // an agent's first reconsideration
inline constexpr engine::Purpose exit_schedule = 4;
inline constexpr engine::Purpose talent_entry_count = 5;  // keyed by city * fields + field
inline constexpr engine::Purpose entrant_skill = 6;
inline constexpr engine::Purpose founding_schedule = 7;     // an agent's first founding candidate event
inline constexpr engine::Purpose founding_decision = 8;     // words: next candidate, accept, location
inline constexpr engine::Purpose hiring = 9;                // keyed by firm id (or city_field for universities)
inline constexpr engine::Purpose startup_fate = 10;         // words: progress (2), breakthrough, exit; keyed by firm id
inline constexpr engine::Purpose funding_round = 11;        // words: deal, fund; keyed by firm id
inline constexpr engine::Purpose incumbent_project = 12;    // words: size rounding, location; keyed by firm id
inline constexpr engine::Purpose graduate_count = 13;       // keyed by city * fields + field
inline constexpr engine::Purpose graduate_skill = 14;
inline constexpr engine::Purpose university_hiring = 15;    // keyed by city * fields + field

}  // namespace citysim::models::streams
