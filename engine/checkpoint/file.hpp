// Checkpoint files: a run's whole state at the end of a step, in one HDF5 file beside its output.
//
//   OUT.h5.step-000120.ckpt    the state after step 120 of the run writing OUT.h5
//
// Layout (h5py reads it; nothing in it is meant for analysis):
//   root attributes   format, citysim_version, git_commit, build_id, step, and what the caller adds
//                     (the scenario's digest, ...)
//   /texts/NAME       long texts (the resolved scenario, the scenario file as given)
//   /state/...        the model's state, one dataset per Archive entry, with attributes `type`,
//                     `element_size` and `count`; Fletcher-32 checksums on every non-empty dataset
//   /output/...       what the run had recorded up to the step (every variable's records, every
//                     table's rows, the record axis), so that a resumed run rewrites its output file
//                     from the start and a fork's file holds the baseline's first steps
//
// Writing is atomic: the file is written as `<name>.partial`, flushed to disk (fsync), renamed into
// place and the directory synced; a run killed while writing leaves the previous checkpoints as they
// were and a `.partial` that is ignored (and removed by the next checkpoint of that output).
#pragma once

#include "engine/checkpoint/archive.hpp"
#include "engine/output/recorder.hpp"

#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace citysim::checkpoint {

inline constexpr const char* format_name = "citysim checkpoint 1";

// This executable's identity: a 64-bit FNV-1a digest of its own file, hex. Two builds of the same
// commit with other compilers or flags may compute differently, so a checkpoint names the binary,
// not only the commit. Computed once per process.
const std::string& build_id();
// FNV-1a, 64 bits, as 16 hex digits: the digest of a scenario text (the analysis package computes
// the same, analysis/load.py).
std::string digest(std::string_view text);

// The checkpoint of `output` after `step`, and those that exist (ascending steps).
std::filesystem::path checkpoint_path(const std::filesystem::path& output, std::int64_t step);
struct Found {
    std::filesystem::path path;
    std::int64_t step = 0;
};
std::vector<Found> list_checkpoints(const std::filesystem::path& output);
// The step a checkpoint's name gives (OUT.h5.step-000120.ckpt: 120), or nullopt.
std::optional<std::int64_t> step_of(const std::filesystem::path& checkpoint);

class FileWriter final : public Archive {
public:
    // Starts `<path>.partial`; nothing is visible under `path` until commit().
    FileWriter(std::filesystem::path path, std::int64_t step);
    ~FileWriter() override;  // without commit(): the partial file is removed
    FileWriter(const FileWriter&) = delete;
    FileWriter& operator=(const FileWriter&) = delete;

    bool saving() const override { return true; }
    void attribute(const std::string& name, const std::string& value);
    void text_blob(const std::string& name, const std::string& text);
    // Copies what the recorder has written to `recorder_file` (flushed: Recorder::flush()) for the
    // variables and tables of `spec`: `records` records and each table's rows (rows_appended).
    void save_output(const std::filesystem::path& recorder_file, const output::FileSpec& spec, std::int64_t records,
                     const std::map<std::string, std::int64_t>& table_rows);
    // Closes, syncs and renames the file into place.
    void commit();

protected:
    void put(const std::string& path, const Entry& entry, const void* data) override;
    Entry find(const std::string& path) override;
    void get(const std::string& path, const Entry& entry, void* data) override;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

class FileReader final : public Archive {
public:
    // Opens and checks the format; CheckpointError naming the file otherwise.
    explicit FileReader(std::filesystem::path path);
    ~FileReader() override;
    FileReader(const FileReader&) = delete;
    FileReader& operator=(const FileReader&) = delete;

    bool saving() const override { return false; }
    const std::filesystem::path& file() const;
    std::int64_t step() const;
    std::optional<std::string> attribute(const std::string& name) const;
    std::string text_blob(const std::string& name) const;  // "" when absent
    // Throws CheckpointError unless the checkpoint was written by this very executable.
    void require_this_build() const;
    // Writes what the run had recorded up to the checkpoint into a fresh recorder made from
    // `spec`: the static variables, every record and every table row. Every variable and table
    // of `spec` must be in the checkpoint (a fork may record less than its baseline, not more).
    void replay_output(output::Recorder& recorder, const output::FileSpec& spec) const;
    std::int64_t output_records() const;

protected:
    void put(const std::string& path, const Entry& entry, const void* data) override;
    Entry find(const std::string& path) override;
    void get(const std::string& path, const Entry& entry, void* data) override;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

// Keeps the newest `keep` checkpoints of `output` (with steps in `kept_steps` never removed) and
// removes the others and any `.partial` left by a killed run.
void remove_old_checkpoints(const std::filesystem::path& output, std::size_t keep,
                            const std::vector<std::int64_t>& kept_steps = {});

}  // namespace citysim::checkpoint
