// What citysim reads as input, and how it shows text it did not write.
//
// Scenario and sweep files are read under fixed bounds, so that no input can make citysim hang,
// exhaust memory or read what it was not meant to read:
//   - only regular files are read (a FIFO, a device or a folder is refused without blocking);
//   - at most limits::max_file_bytes of them;
//   - the text must be UTF-8 made of the characters YAML allows (no NUL, no raw control
//     characters other than tab, line feed and carriage return); the first offending byte is
//     reported with its line and column;
//   - the YAML nests at most limits::max_depth levels and expands (aliases included) to at most
//     limits::max_values values;
//   - `extends:` (and a sweep's `base:`) may only name files inside the folder of the file given on
//     the command line, inside the scenario library this citysim was built with, or inside a
//     folder the user allowed with --allow-path; see AllowedFolders.
// Every message that quotes input goes through printable(), so a control character in a value or a
// file name reaches the terminal as an escape sequence, never raw.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace citysim::scenario {

namespace limits {
// A scenario of the library is 2-20 KiB; a 10,000-entry schedule is under 1 MiB.
inline constexpr std::uintmax_t max_file_bytes = std::uintmax_t{4} << 20;  // 4 MiB
// Scenarios nest about 6 levels deep.
inline constexpr int max_depth = 64;
// Values after aliases are expanded (a "billion laughs" document expands without bound).
inline constexpr std::size_t max_values = 1'000'000;
// Files chained by `extends:`.
inline constexpr int max_extends_chain = 16;
// YAML documents in one stream before the parser is taken to be stuck (yaml-cpp 0.7, upstream
// issue 1040: a stray ',' outside a flow collection makes it return empty documents forever).
inline constexpr std::size_t max_documents = 64;
}  // namespace limits

// `text` with every character that could act on a terminal written as an escape: C0 controls
// (newline and tab included) as \n, \t, \r, \e or \xNN, DEL as \x7f, C1 controls and bidirectional
// overrides as \u{NNNN}, bytes that are not UTF-8 as \xNN. Other characters are kept.
std::string printable(std::string_view text);

// The first place where `text` is not what a YAML file may hold: invalid UTF-8 (an overlong form, a
// surrogate, a stray continuation byte, a truncated sequence) or a character outside YAML's
// printable set (C0 controls other than tab, LF, CR; DEL; C1 controls other than NEL; U+FFFE,
// U+FFFF). Line and column are 1-based, the column counted in characters.
struct TextProblem {
    std::size_t offset = 0;  // byte offset
    int line = 0;
    int column = 0;
    std::string message;  // e.g. "invalid UTF-8: byte 0xff cannot start a character"
};
std::optional<TextProblem> find_text_problem(std::string_view text);

// The folders a scenario or sweep may reach through `extends:` and `base:`. A path is inside when
// its real path (symbolic links resolved) lies in one of them. The scenario library (the
// scenarios/ folder of the source tree this citysim was built from) is always allowed: its files
// are citysim's own.
class AllowedFolders {
public:
    AllowedFolders() = default;
    // The folder of `top_file` (the file given on the command line) and the extra folders.
    static AllowedFolders for_file(const std::filesystem::path& top_file);
    void add(const std::filesystem::path& folder);
    bool contains(const std::filesystem::path& file) const;
    // "scenarios/ (the scenario's folder), /src/citysim/scenarios (the scenario library)"
    std::string describe() const;
    const std::vector<std::filesystem::path>& folders() const { return folders_; }

private:
    std::vector<std::filesystem::path> folders_;  // real paths
    std::vector<std::string> reasons_;
};

// Folders allowed in every load of this process: those given with --allow-path. Set once at
// start-up, before any thread reads them. Relative folders are taken relative to the current folder.
void set_extra_allowed_folders(const std::vector<std::filesystem::path>& folders);
const std::vector<std::filesystem::path>& extra_allowed_folders();

// Reads a whole input file under the bounds above. `what` names it in messages ("scenario file",
// "sweep file"). Throws ScenarioError (file, line, column where known) on any failure.
std::string read_input_file(const std::filesystem::path& path, std::string_view what);

// The keys at the top of a YAML mapping document, in order; empty when the text is not one.
std::vector<std::string> top_level_keys(const std::string& text);

// The message of an errno value, safe to call from any thread (std::strerror is not).
std::string error_text(int error_number);

}  // namespace citysim::scenario
