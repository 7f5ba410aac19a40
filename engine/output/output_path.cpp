#include "engine/output/output_path.hpp"

#include "engine/scenario/input.hpp"

#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <string_view>

namespace citysim::output {

namespace fs = std::filesystem;
using scenario::error_text;

namespace {

std::string quoted(const fs::path& path) {
    std::string out(1, '\'');
    out += path.native();
    out += '\'';
    return out;
}

const char* kind_of(mode_t mode) {
    if (S_ISDIR(mode)) return "a folder";
    if (S_ISCHR(mode)) return "a character device";
    if (S_ISBLK(mode)) return "a block device";
    if (S_ISFIFO(mode)) return "a FIFO (named pipe)";
    if (S_ISSOCK(mode)) return "a socket";
    if (S_ISLNK(mode)) return "a symbolic link";
    return "not a regular file";
}

OutputProblem usage(std::string message) { return OutputProblem{OutputProblem::Kind::usage, std::move(message)}; }
OutputProblem io(std::string message) { return OutputProblem{OutputProblem::Kind::io, std::move(message)}; }

// Refuses an existing entry at `path` unless `replace`; refuses what is not a regular file (or a
// link, which a rename replaces without touching its target) whatever `replace` says.
std::optional<OutputProblem> check_existing(const fs::path& path, bool replace, std::string_view what) {
    struct stat info {};
    if (::lstat(path.c_str(), &info) != 0) {
        if (errno == ENOENT || errno == ENOTDIR) return std::nullopt;
        return io("cannot check " + quoted(path) + ": " + error_text(errno));
    }
    if (S_ISDIR(info.st_mode))
        return usage(quoted(path) + " is a folder; give the output a file name (for example " +
                     (path / "run.h5").string() + ")");
    if (!S_ISREG(info.st_mode) && !S_ISLNK(info.st_mode))
        return usage(quoted(path) + " is " + kind_of(info.st_mode) + "; citysim writes only regular files");
    if (!replace)
        return usage(quoted(path) + " exists" + std::string(what) +
                     "; citysim does not replace files unless asked: give --force to replace it, or another -o");
    return std::nullopt;
}

}  // namespace

bool same_file(const fs::path& a, const fs::path& b) {
    struct stat sa {}, sb {};
    if (::stat(a.c_str(), &sa) != 0 || ::stat(b.c_str(), &sb) != 0) return false;
    return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

std::optional<OutputProblem> create_folders(const fs::path& folder) {
    if (folder.empty()) return std::nullopt;
    struct stat info {};
    if (::stat(folder.c_str(), &info) == 0) {
        if (S_ISDIR(info.st_mode)) return std::nullopt;
        return usage("cannot create the folder " + quoted(folder) + ": " + kind_of(info.st_mode) +
                     " of that name is in the way");
    }
    if (const auto problem = create_folders(folder.parent_path() == folder ? fs::path() : folder.parent_path()))
        return problem;
    if (::mkdir(folder.c_str(), 0777) != 0 && errno != EEXIST)
        return io("cannot create the folder " + quoted(folder) + ": " + error_text(errno));
    return std::nullopt;
}

std::optional<OutputProblem> prepare_output_file(const fs::path& path, bool replace, const std::vector<fs::path>& inputs) {
    if (path.empty()) return usage("the output path is empty; give a file name with -o");
    const std::string text = path.string();
    if (text.back() == '/') return usage(quoted(path) + " names a folder; give the output a file name");
    for (const auto& input : inputs) {
        if (same_file(path, input) || path.lexically_normal() == input.lexically_normal())
            return usage(quoted(path) + " is " + (inputs.front() == input ? "the scenario file" : "a file the scenario extends") +
                         " itself; give another -o");
        const fs::path temporary = text + ".incomplete";
        if (same_file(temporary, input))
            return usage(quoted(temporary) + " (where the run writes until it is complete) is an input of the run; "
                         "give another -o");
    }
    if (auto problem = check_existing(path, replace, "")) return problem;
    if (auto problem = check_existing(text + ".incomplete", replace, " (the partial output of an earlier run)"))
        return problem;
    return create_folders(path.parent_path());
}

std::optional<OutputProblem> write_file_atomically(const fs::path& path, const std::string& text, bool replace) {
    const fs::path temporary = path.string() + ".writing-" + std::to_string(::getpid());
    const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666);
    if (fd < 0) return io("cannot create " + quoted(temporary) + ": " + error_text(errno));
    int error = 0;
    for (std::size_t written = 0; written < text.size() && error == 0;) {
        const ssize_t n = ::write(fd, text.data() + written, text.size() - written);
        if (n < 0) {
            if (errno != EINTR) error = errno;
            continue;
        }
        written += static_cast<std::size_t>(n);
    }
    if (error == 0 && ::fsync(fd) != 0) error = errno;
    if (::close(fd) != 0 && error == 0) error = errno;
    if (error == 0) {
        const int renamed = replace ? ::rename(temporary.c_str(), path.c_str())
                                    : ::renameat2(AT_FDCWD, temporary.c_str(), AT_FDCWD, path.c_str(), RENAME_NOREPLACE);
        if (renamed != 0) error = errno;
        if (renamed != 0 && !replace && (error == EINVAL || error == ENOSYS || error == ENOTSUP)) {
            error = 0;
            if (::link(temporary.c_str(), path.c_str()) != 0) error = errno;
            ::unlink(temporary.c_str());
            return error == 0 ? std::nullopt
                              : std::optional(io("cannot write " + quoted(path) + ": " + error_text(error)));
        }
    }
    if (error != 0) {
        ::unlink(temporary.c_str());
        return io("cannot write " + quoted(path) + ": " + error_text(error));
    }
    return std::nullopt;
}

}  // namespace citysim::output
