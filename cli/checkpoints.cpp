#include "cli/checkpoints.hpp"

#include "models/fork.hpp"

#include <algorithm>

namespace citysim::cli {

namespace fs = std::filesystem;
using checkpoint::CheckpointError;

namespace {

// Provenance that a run continued from a checkpoint keeps: a resumed fork is still a fork.
const char* const carried_provenance[] = {"forked_from", "fork_step", "baseline_scenario_digest"};

}  // namespace

std::unique_ptr<checkpoint::FileReader> restore_checkpoint(const RunRequest& request, models::CityModel& model,
                                                           output::FileSpec& spec) {
    auto reader = std::make_unique<checkpoint::FileReader>(request.continue_from);
    const std::string name = reader->file().string();
    reader->require_this_build();
    const std::int64_t step = reader->step();
    const std::string base = reader->text_blob("scenario_resolved");
    const std::string& mine = request.scenario->resolved_yaml;
    if (request.fork) {
        if (const auto why = models::fork_incompatibility(base, mine, step); !why.empty())
            throw CheckpointError("cannot fork from " + name + ": " + why);
    } else if (const auto why = models::resume_incompatibility(base, mine); !why.empty()) {
        throw CheckpointError("cannot resume from " + name + ": " + why);
    }
    if ((reader->attribute("final_record_only") == "1") != request.final_record_only)
        throw CheckpointError(name + " was written by a run that recorded " +
                              (request.final_record_only ? "every step" : "the last step only") +
                              ", and this run records otherwise");
    model.save_or_restore(*reader);
    if (model.steps_done() != step)
        throw CheckpointError(name + " is named after step " + std::to_string(step) + " but holds the state after step " +
                              std::to_string(model.steps_done()));
    auto& provenance = spec.provenance_attributes;
    if (request.fork) {
        provenance["forked_from"] = name;
        provenance["fork_step"] = std::to_string(step);
        provenance["baseline_scenario_digest"] = reader->attribute("scenario_digest").value_or("");
    } else {
        provenance["resumed_from"] = name;
        provenance["resumed_after_step"] = std::to_string(step);
        for (const char* key : carried_provenance)
            if (auto value = reader->attribute(std::string("provenance.") + key)) provenance[key] = *value;
    }
    return reader;
}

void remove_partial_output(const fs::path& output) {
    const fs::path partial = output.string() + ".incomplete";
    std::error_code error;
    if (!fs::is_regular_file(fs::symlink_status(partial, error))) return;
    if (!fs::remove(partial, error) && error)
        throw CheckpointError("cannot remove " + partial.string() + ", the partial output of the run to resume: " +
                              error.message());
}

bool checkpoint_due(const RunRequest& request, std::int64_t step, std::int64_t steps) {
    if (step >= steps) return false;
    if (request.checkpoint_every > 0 && step % request.checkpoint_every == 0) return true;
    return std::find(request.checkpoint_at.begin(), request.checkpoint_at.end(), step) != request.checkpoint_at.end();
}

void write_checkpoint(const RunRequest& request, models::CityModel& model, output::Recorder& recorder,
                      const output::FileSpec& spec) {
    const std::int64_t step = model.steps_done();
    recorder.flush();
    const auto& resolved = request.scenario->resolved_yaml;
    checkpoint::FileWriter writer(checkpoint::checkpoint_path(request.output_path, step), step);
    writer.attribute("scenario_digest", checkpoint::digest(resolved));
    writer.attribute("scenario_file", request.scenario_file);
    writer.attribute("final_record_only", request.final_record_only ? "1" : "0");
    // A resumed run checkpoints as the run it continues did, unless told otherwise.
    writer.attribute("checkpoint_every", std::to_string(request.checkpoint_every));
    std::string at;
    for (auto s : request.checkpoint_at) {
        if (!at.empty()) at += ' ';
        at += std::to_string(s);
    }
    writer.attribute("checkpoint_at", at);
    for (const char* key : carried_provenance)
        if (spec.provenance_attributes.count(key))
            writer.attribute(std::string("provenance.") + key, spec.provenance_attributes.at(key));
    writer.text_blob("scenario_resolved", resolved);
    writer.text_blob("scenario_original", request.scenario_text);
    model.save_or_restore(writer);
    std::map<std::string, std::int64_t> rows;
    for (const auto& table : spec.tables) rows[table.name] = recorder.rows_appended(table.name);
    writer.save_output(recorder.temporary_path(), spec, recorder.records_written(), rows);
    writer.commit();
    checkpoint::remove_old_checkpoints(request.output_path, 2, request.checkpoint_at);
}

fs::path output_of(const fs::path& checkpoint) {
    const std::string name = checkpoint.string();
    const auto at = name.rfind(".step-");
    return at == std::string::npos ? checkpoint : fs::path(name.substr(0, at));
}

fs::path checkpoint_to_resume(const fs::path& target, std::string& notes) {
    if (checkpoint::step_of(target)) return target;
    if (fs::exists(target))
        throw CheckpointError(target.string() + " is complete: there is nothing to resume (to run its last steps again, "
                              "name a checkpoint: --resume " + target.string() + ".step-NNNNNN.ckpt)");
    const auto found = checkpoint::list_checkpoints(target);
    for (auto it = found.rbegin(); it != found.rend(); ++it) {
        try {
            checkpoint::FileReader probe(it->path);
            return it->path;
        } catch (const CheckpointError& e) {
            notes += std::string("citysim: skipping ") + it->path.string() + ": " + e.what() + "\n";
        }
    }
    throw CheckpointError("no checkpoint of " + target.string() + " (" + target.filename().string() +
                          ".step-NNNNNN.ckpt) to resume from: the run wrote none (run it with --checkpoint-every N) "
                          "or was stopped before its first; start it again without --resume");
}

}  // namespace citysim::cli
