// Which scenario may continue from a checkpoint: the same one (resume), or one that differs only in
// what cannot have acted yet (a warm fork).
//
// A checkpoint after step K holds the state at the end of step K (record K). A run that continues
// from it simulates steps K+1, K+2, ... on the same random streams (they are keyed by seed, run,
// step, agent and purpose: no generator state exists), so a fork equals the same scenario run from
// step 0 exactly when nothing it changes could have acted in steps 1..K:
//   - a policy (policies.NAME) that starts at step K+1 or later may be added, removed or changed;
//     one in force earlier must be the baseline's, except that its end_step may move as long as it
//     ends after step K in both;
//   - a scheduled change that starts at step K+1 or later may be added, removed or changed; the
//     earlier ones must be the baseline's, in the same order;
//   - description, output (where and what is recorded), simulation.threads and simulation.steps
//     (more than K) are free;
// and every other key must be equal. Resuming requires the same scenario, except
// simulation.threads and output.path.
#pragma once

#include <cstdint>
#include <string>

namespace citysim::models {

// "" when `fork` (a resolved scenario, scenario::Loaded::resolved_yaml) may continue from the
// checkpoint after step `step` of a run of `base`; otherwise why not, naming the key path, for a
// message ("policies.x starts at step 1, ...").
std::string fork_incompatibility(const std::string& base, const std::string& fork, std::int64_t step);
// "" when `other` is `base` as far as a resumed run can tell (threads and output path aside).
std::string resume_incompatibility(const std::string& base, const std::string& other);

}  // namespace citysim::models
