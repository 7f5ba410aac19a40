// Where an output file may go: the checks made before a run starts, so that a run never replaces a
// file it was not asked to, never writes onto one of its own inputs, and never runs for hours only
// to fail on a folder that does not exist.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace citysim::output {

struct OutputProblem {
    // usage: the command line must change (exit 2); io: the file system refused (exit 1).
    enum class Kind { usage, io };
    Kind kind = Kind::usage;
    std::string message;  // one line, without the program name
};

// Checks that `path` may receive a run's output and creates its missing parent folders:
//   - the path is not empty, and is not a folder;
//   - neither `path` nor `path.incomplete` exists, unless `replace` (--force); an existing
//     path that is not a regular file (a device, a FIFO, a socket) is refused even then;
//   - it is none of `inputs` (the scenario file, the files it extends);
//   - its folder exists or can be created.
std::optional<OutputProblem> prepare_output_file(const std::filesystem::path& path, bool replace,
                                                 const std::vector<std::filesystem::path>& inputs);

// Whether `a` and `b` name the same file (the same device and inode), for files that exist.
bool same_file(const std::filesystem::path& a, const std::filesystem::path& b);

// Creates `folder` and its missing parents; on failure the message names the first folder that
// could not be created and why ("cannot create the folder 'out/x': Permission denied").
std::optional<OutputProblem> create_folders(const std::filesystem::path& folder);

// Writes `text` to `path` atomically: to a new temporary file beside it (O_EXCL), flushed to disk,
// then renamed into place without replacing an existing file unless `replace`. On failure the
// temporary file is removed and the message says why; `path` is never left empty or cut short.
std::optional<OutputProblem> write_file_atomically(const std::filesystem::path& path, const std::string& text,
                                                   bool replace);

}  // namespace citysim::output
