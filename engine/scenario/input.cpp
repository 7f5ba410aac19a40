// Bounded reading of input files, text checks, the folders a scenario may reach, printable text.
#include "engine/scenario/input.hpp"

#include "engine/scenario/schema.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <type_traits>

namespace citysim::scenario {

namespace fs = std::filesystem;

// ------------------------------------------------------------------ UTF-8

namespace {

struct Decoded {
    char32_t code = 0;
    std::size_t length = 0;  // 0: invalid
    std::string problem;     // when invalid
};

std::string hex_byte(unsigned char byte) {
    char buffer[8];
    std::snprintf(buffer, sizeof buffer, "0x%02x", static_cast<unsigned>(byte));
    return buffer;
}

// One UTF-8 character at text[i] (RFC 3629: no overlong forms, no surrogates, at most U+10FFFF).
Decoded decode(std::string_view text, std::size_t i) {
    const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[k]); };
    const unsigned char lead = byte(i);
    Decoded d;
    if (lead < 0x80) {
        d.code = lead;
        d.length = 1;
        return d;
    }
    std::size_t length = 0;
    char32_t code = 0;
    char32_t minimum = 0;
    if (lead >= 0xC2 && lead <= 0xDF) {
        length = 2;
        code = lead & 0x1Fu;
        minimum = 0x80;
    } else if (lead >= 0xE0 && lead <= 0xEF) {
        length = 3;
        code = lead & 0x0Fu;
        minimum = 0x800;
    } else if (lead >= 0xF0 && lead <= 0xF4) {
        length = 4;
        code = lead & 0x07u;
        minimum = 0x10000;
    } else {
        d.problem = "byte " + hex_byte(lead) + (lead >= 0x80 && lead <= 0xBF ? " continues no character"
                                                                             : " cannot start a character");
        return d;
    }
    if (i + length > text.size()) {
        d.problem = "the character starting with byte " + hex_byte(lead) + " is cut off by the end of the text";
        return d;
    }
    for (std::size_t k = 1; k < length; ++k) {
        const unsigned char c = byte(i + k);
        if ((c & 0xC0u) != 0x80u) {
            d.problem = "byte " + hex_byte(c) + " should continue the character starting with " + hex_byte(lead);
            return d;
        }
        code = (code << 6) | (c & 0x3Fu);
    }
    if (code < minimum) {
        d.problem = "an overlong encoding starting with byte " + hex_byte(lead);
        return d;
    }
    if (code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF)) {
        d.problem = "the bytes starting with " + hex_byte(lead) + " encode no Unicode character";
        return d;
    }
    d.code = code;
    d.length = length;
    return d;
}

bool is_bidi_control(char32_t c) {
    return (c >= 0x202A && c <= 0x202E) || (c >= 0x2066 && c <= 0x2069) || c == 0x200E || c == 0x200F ||
           c == 0x061C;
}

std::string code_point(char32_t c) {
    char buffer[16];
    std::snprintf(buffer, sizeof buffer, "U+%04X", static_cast<unsigned>(c));
    return buffer;
}

const char* control_name(char32_t c) {
    static const std::array<const char*, 32> names = {
        "NUL", "SOH", "STX", "ETX", "EOT", "ENQ", "ACK", "BEL", "BS", "TAB", "LF", "VT", "FF", "CR", "SO", "SI",
        "DLE", "DC1", "DC2", "DC3", "DC4", "NAK", "SYN", "ETB", "CAN", "EM", "SUB", "ESC", "FS", "GS", "RS", "US"};
    if (c < 32) return names[c];
    if (c == 0x7F) return "DEL";
    return "a C1 control";
}

}  // namespace

std::string printable(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size();) {
        const Decoded d = decode(text, i);
        if (d.length == 0) {
            char buffer[8];
            std::snprintf(buffer, sizeof buffer, "\\x%02x", static_cast<unsigned>(static_cast<unsigned char>(text[i])));
            out += buffer;
            ++i;
            continue;
        }
        const char32_t c = d.code;
        if (c < 0x20 || c == 0x7F) {
            switch (c) {
                case '\n': out += "\\n"; break;
                case '\t': out += "\\t"; break;
                case '\r': out += "\\r"; break;
                case 0x1B: out += "\\e"; break;
                default: {
                    char buffer[8];
                    std::snprintf(buffer, sizeof buffer, "\\x%02x", static_cast<unsigned>(c));
                    out += buffer;
                }
            }
        } else if ((c >= 0x80 && c <= 0x9F) || is_bidi_control(c)) {
            char buffer[16];
            std::snprintf(buffer, sizeof buffer, "\\u{%04X}", static_cast<unsigned>(c));
            out += buffer;
        } else {
            out.append(text.substr(i, d.length));
        }
        i += d.length;
    }
    return out;
}

std::optional<TextProblem> find_text_problem(std::string_view text) {
    int line = 1;
    int column = 1;
    for (std::size_t i = 0; i < text.size();) {
        const Decoded d = decode(text, i);
        std::string problem;
        if (d.length == 0) {
            problem = "invalid UTF-8: " + d.problem + "; save the file as UTF-8";
        } else {
            const char32_t c = d.code;
            const bool allowed_control = c == '\t' || c == '\n' || c == '\r';
            if ((c < 0x20 && !allowed_control) || c == 0x7F || (c >= 0x80 && c <= 0x9F && c != 0x85)) {
                char escape[8];
                std::snprintf(escape, sizeof escape, "\\x%02x", static_cast<unsigned>(c));
                problem = "the control character " + code_point(c) + " (" + control_name(c) +
                          ") is not allowed in YAML; remove it, or write it as " + escape +
                          " inside double quotes";
            } else if (c == 0xFFFE || c == 0xFFFF) {
                problem = "the non-character " + code_point(c) + " is not allowed in YAML";
            }
        }
        if (!problem.empty()) return TextProblem{i, line, column, std::move(problem)};
        if (d.code == '\n') {
            ++line;
            column = 1;
        } else if (d.code == '\r') {
            // CR LF counts once; a lone CR ends a line too (as in yaml-cpp).
            if (i + 1 >= text.size() || text[i + 1] != '\n') {
                ++line;
                column = 1;
            }
        } else {
            ++column;
        }
        i += d.length;
    }
    return std::nullopt;
}

// ------------------------------------------------------------------ errno text

std::string error_text(int error_number) {
    char buffer[256] = {};
    // The GNU strerror_r returns a pointer (to buffer or to a static string); the XSI one an int.
    const auto result = strerror_r(error_number, buffer, sizeof buffer);
    if constexpr (std::is_same_v<decltype(result), char* const>) {
        return result != nullptr ? std::string(result) : "error " + std::to_string(error_number);
    } else {
        return result == 0 ? std::string(buffer) : "error " + std::to_string(error_number);
    }
}

// ------------------------------------------------------------------ allowed folders

namespace {

fs::path real_path(const fs::path& path) {
    std::error_code ec;
    fs::path absolute = fs::absolute(path, ec);
    if (ec) absolute = path;
    fs::path real = fs::weakly_canonical(absolute, ec);
    return ec ? absolute.lexically_normal() : real;
}

bool is_within(const fs::path& file, const fs::path& folder) {
    auto f = file.begin();
    for (auto d = folder.begin(); d != folder.end(); ++d, ++f) {
        if (d->empty()) continue;  // a trailing separator
        if (f == file.end() || *f != *d) return false;
    }
    return true;
}

std::mutex extra_folders_mutex;
std::vector<fs::path>& extra_folders_storage() {
    static std::vector<fs::path> folders;
    return folders;
}

}  // namespace

void set_extra_allowed_folders(const std::vector<fs::path>& folders) {
    std::lock_guard lock(extra_folders_mutex);
    auto& stored = extra_folders_storage();
    stored.clear();
    for (const auto& folder : folders)
        if (!folder.empty()) stored.push_back(real_path(folder));
}

const std::vector<fs::path>& extra_allowed_folders() { return extra_folders_storage(); }

AllowedFolders AllowedFolders::for_file(const fs::path& top_file) {
    AllowedFolders allowed;
    const fs::path folder = real_path(top_file).parent_path();
    allowed.folders_.push_back(folder);
    allowed.reasons_.push_back("the folder of " + top_file.filename().string());
#ifdef CITYSIM_SCENARIO_LIBRARY
    {
        std::error_code ec;
        const fs::path library = CITYSIM_SCENARIO_LIBRARY;
        if (fs::is_directory(library, ec)) {
            allowed.folders_.push_back(real_path(library));
            allowed.reasons_.push_back("citysim's scenario library");
        }
    }
#endif
    for (const auto& extra : extra_allowed_folders()) {
        allowed.folders_.push_back(extra);
        allowed.reasons_.push_back("--allow-path");
    }
    return allowed;
}

void AllowedFolders::add(const fs::path& folder) {
    folders_.push_back(real_path(folder));
    reasons_.push_back("--allow-path");
}

bool AllowedFolders::contains(const fs::path& file) const {
    const fs::path real = real_path(file);
    for (const auto& folder : folders_)
        if (is_within(real, folder)) return true;
    return false;
}

std::string AllowedFolders::describe() const {
    std::string out;
    for (std::size_t i = 0; i < folders_.size(); ++i) {
        if (!out.empty()) out += ", ";
        out += folders_[i].string() + " (" + reasons_[i] + ")";
    }
    return out;
}

// ------------------------------------------------------------------ reading

std::string read_input_file(const fs::path& path, std::string_view what) {
    const std::string name = path.string();
    auto fail = [&](const std::string& why, int line = 0, int column = 0) -> std::string {
        throw ScenarioError({Diagnostic{Mark{name, line, column}, "", "cannot read the " + std::string(what) + ": " + why}});
    };
    // O_NONBLOCK: opening a FIFO with no writer must not wait; O_NOCTTY: a terminal device must not
    // become the controlling terminal. Neither changes how a regular file reads.
    const int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    if (fd < 0) {
        const int error = errno;
        if (error == ENOENT) return fail("no such file");
        return fail(error_text(error));
    }
    struct Closer {
        int fd;
        ~Closer() { ::close(fd); }
    } closer{fd};
    struct stat info {};
    if (::fstat(fd, &info) != 0) return fail(error_text(errno));
    if (S_ISDIR(info.st_mode)) return fail("it is a folder, not a file");
    if (!S_ISREG(info.st_mode)) {
        const char* kind = S_ISFIFO(info.st_mode)   ? "a FIFO (named pipe)"
                           : S_ISCHR(info.st_mode)  ? "a character device"
                           : S_ISBLK(info.st_mode)  ? "a block device"
                           : S_ISSOCK(info.st_mode) ? "a socket"
                                                    : "not a regular file";
        return fail(std::string("it is ") + kind + "; citysim reads only regular files");
    }
    const auto too_big = [&] {
        return fail("it is larger than " + std::to_string(limits::max_file_bytes >> 20) +
                    " MiB, the most citysim reads (a scenario is a few KiB)");
    };
    if (static_cast<std::uintmax_t>(info.st_size) > limits::max_file_bytes) return too_big();
    std::string text;
    text.resize(static_cast<std::size_t>(info.st_size));
    std::size_t filled = 0;
    // The file may grow while it is read: read at most one byte past the limit.
    for (;;) {
        if (filled == text.size()) {
            if (text.size() > limits::max_file_bytes) return too_big();
            text.resize(std::min<std::size_t>(text.size() + 4096, limits::max_file_bytes + 1));
        }
        const ssize_t got = ::read(fd, text.data() + filled, text.size() - filled);
        if (got < 0) {
            if (errno == EINTR) continue;
            return fail(error_text(errno));
        }
        if (got == 0) break;
        filled += static_cast<std::size_t>(got);
    }
    text.resize(filled);
    if (text.size() > limits::max_file_bytes) return too_big();
    // A UTF-8 byte order mark is allowed at the start (YAML allows it); yaml-cpp skips it.
    if (const auto problem = find_text_problem(text)) {
        throw ScenarioError({Diagnostic{Mark{name, problem->line, problem->column}, "", problem->message}});
    }
    return text;
}

}  // namespace citysim::scenario
