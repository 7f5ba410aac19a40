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

}  // namespace citysim::models::streams
