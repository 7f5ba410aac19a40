// Checkpoints of a run (engine/checkpoint/file.hpp): writing them as it goes, and starting a run from
// one, its own (--resume) or a baseline's (--from-checkpoint, a warm fork).
#pragma once

#include "cli/execute.hpp"
#include "engine/checkpoint/file.hpp"
#include "engine/output/recorder.hpp"
#include "models/city_model.hpp"

#include <filesystem>
#include <memory>
#include <optional>
#include <string>

namespace citysim::cli {

// Opens request.continue_from, checks that this build wrote it and that the request's scenario may
// continue from it (models/fork.hpp), and restores `model`. Adds to `spec` the provenance of the
// continuation. Throws checkpoint::CheckpointError with a message for the user.
std::unique_ptr<checkpoint::FileReader> restore_checkpoint(const RunRequest& request, models::CityModel& model,
                                                           output::FileSpec& spec);

// Removes OUT.incomplete, the partial output of the killed run that `--resume` continues (only a
// regular file: a link or anything else planted there is left for the recorder to refuse).
void remove_partial_output(const std::filesystem::path& output);

// Whether a checkpoint is due after `step` of a run of `steps` steps (never after the last: the
// complete file supersedes it).
bool checkpoint_due(const RunRequest& request, std::int64_t step, std::int64_t steps);

// Writes the checkpoint after the model's last step beside request.output_path (the recorder is
// flushed first, and what it wrote goes into the checkpoint), then removes those no longer kept.
void write_checkpoint(const RunRequest& request, models::CityModel& model, output::Recorder& recorder,
                      const output::FileSpec& spec);

// The checkpoint `citysim run --resume TARGET` continues from: TARGET itself when it names a
// checkpoint, else the newest readable checkpoint of the output TARGET (an unreadable newer one is
// reported in `notes`). Throws CheckpointError when there is none.
std::filesystem::path checkpoint_to_resume(const std::filesystem::path& target, std::string& notes);

// The output a checkpoint belongs to: OUT.h5.step-000120.ckpt -> OUT.h5.
std::filesystem::path output_of(const std::filesystem::path& checkpoint);

}  // namespace citysim::cli
