#include "engine/checkpoint/file.hpp"

#include "citysim/version.hpp"

#include <fcntl.h>
#include <hdf5.h>
#include <hdf5_hl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <regex>
#include <span>
#include <utility>

namespace citysim::checkpoint {

namespace fs = std::filesystem;

namespace {

// An HDF5 identifier closed on destruction.
class Id {
public:
    using Close = herr_t (*)(hid_t);
    Id() = default;
    Id(hid_t id, Close close) : id_(id), close_(close) {}
    Id(Id&& o) noexcept : id_(std::exchange(o.id_, H5I_INVALID_HID)), close_(o.close_) {}
    Id& operator=(Id&& o) noexcept {
        std::swap(id_, o.id_);
        std::swap(close_, o.close_);
        return *this;
    }
    Id(const Id&) = delete;
    Id& operator=(const Id&) = delete;
    ~Id() { release(); }
    herr_t release() {
        herr_t status = 0;
        if (id_ >= 0 && close_) status = close_(id_);
        id_ = H5I_INVALID_HID;
        return status;
    }
    hid_t operator*() const { return id_; }

private:
    hid_t id_ = H5I_INVALID_HID;
    Close close_ = nullptr;
};

// Turns HDF5 failures into CheckpointError naming the file and what was being done; HDF5's own
// printing of its error stack is off while an object of this class lives.
class Calls {
public:
    explicit Calls(fs::path file) : file_(std::move(file)) {
        H5Eget_auto2(H5E_DEFAULT, &saved_, &saved_data_);
        H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
    }
    ~Calls() { H5Eset_auto2(H5E_DEFAULT, saved_, saved_data_); }
    Calls(const Calls&) = delete;
    Calls& operator=(const Calls&) = delete;
    [[noreturn]] void fail(const std::string& action) const {
        throw CheckpointError("checkpoint '" + file_.string() + "': " + action + " failed (HDF5)");
    }
    Id id(hid_t id, Id::Close close, const std::string& action) const {
        if (id < 0) fail(action);
        return Id(id, close);
    }
    void ok(herr_t status, const std::string& action) const {
        if (status < 0) fail(action);
    }
    const fs::path& file() const { return file_; }

private:
    fs::path file_;
    H5E_auto2_t saved_ = nullptr;
    void* saved_data_ = nullptr;
};

hid_t memory_type(const std::string& type) {
    if (type == "u8" || type == "bool" || type == "text" || type == "bytes") return H5T_NATIVE_UINT8;
    if (type == "i8") return H5T_NATIVE_INT8;
    if (type == "u16") return H5T_NATIVE_UINT16;
    if (type == "i16") return H5T_NATIVE_INT16;
    if (type == "u32") return H5T_NATIVE_UINT32;
    if (type == "i32") return H5T_NATIVE_INT32;
    if (type == "u64") return H5T_NATIVE_UINT64;
    if (type == "i64") return H5T_NATIVE_INT64;
    if (type == "f32") return H5T_NATIVE_FLOAT;
    if (type == "f64") return H5T_NATIVE_DOUBLE;
    return H5I_INVALID_HID;
}
// Text and plain structs are stored as their bytes.
bool stored_as_bytes(const std::string& type) { return type == "text" || type == "bytes"; }

void write_string_attribute(const Calls& calls, hid_t object, const std::string& name, const std::string& value) {
    Id type = calls.id(H5Tcopy(H5T_C_S1), H5Tclose, "a string type");
    calls.ok(H5Tset_size(*type, std::max<std::size_t>(1, value.size())), "a string type");
    Id space = calls.id(H5Screate(H5S_SCALAR), H5Sclose, "a scalar dataspace");
    Id attribute = calls.id(H5Acreate2(object, name.c_str(), *type, *space, H5P_DEFAULT, H5P_DEFAULT), H5Aclose,
                            "creating attribute " + name);
    std::string padded = value.empty() ? std::string(1, '\0') : value;
    calls.ok(H5Awrite(*attribute, *type, padded.data()), "writing attribute " + name);
}

void write_count_attribute(const Calls& calls, hid_t object, const std::string& name, std::uint64_t value) {
    Id space = calls.id(H5Screate(H5S_SCALAR), H5Sclose, "a scalar dataspace");
    Id attribute = calls.id(H5Acreate2(object, name.c_str(), H5T_STD_U64LE, *space, H5P_DEFAULT, H5P_DEFAULT),
                            H5Aclose, "creating attribute " + name);
    calls.ok(H5Awrite(*attribute, H5T_NATIVE_UINT64, &value), "writing attribute " + name);
}

std::optional<std::string> read_string_attribute(const Calls& calls, hid_t object, const std::string& name) {
    if (H5Aexists(object, name.c_str()) <= 0) return std::nullopt;
    Id attribute = calls.id(H5Aopen(object, name.c_str(), H5P_DEFAULT), H5Aclose, "opening attribute " + name);
    Id type = calls.id(H5Aget_type(*attribute), H5Tclose, "reading attribute " + name);
    if (H5Tget_class(*type) != H5T_STRING || H5Tis_variable_str(*type) > 0) calls.fail("reading attribute " + name);
    // One more byte than stored: a string that fills its size has no terminator in the file.
    std::string value(H5Tget_size(*type) + 1, '\0');
    Id memory = calls.id(H5Tcopy(H5T_C_S1), H5Tclose, "a string type");
    calls.ok(H5Tset_size(*memory, value.size()), "a string type");
    calls.ok(H5Aread(*attribute, *memory, value.data()), "reading attribute " + name);
    value.resize(std::strlen(value.c_str()));
    return value;
}

std::uint64_t read_count_attribute(const Calls& calls, hid_t object, const std::string& name) {
    Id attribute = calls.id(H5Aopen(object, name.c_str(), H5P_DEFAULT), H5Aclose, "opening attribute " + name);
    std::uint64_t value = 0;
    calls.ok(H5Aread(*attribute, H5T_NATIVE_UINT64, &value), "reading attribute " + name);
    return value;
}

// A dataset of `dims` elements of `type`, chunked with Fletcher-32 checksums unless it is empty.
Id create_dataset(const Calls& calls, hid_t file, const std::string& path, hid_t file_type, const std::vector<hsize_t>& dims,
                  std::size_t element_size) {
    Id space = calls.id(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr), H5Sclose,
                        "a dataspace for " + path);
    Id links = calls.id(H5Pcreate(H5P_LINK_CREATE), H5Pclose, "link properties");
    calls.ok(H5Pset_create_intermediate_group(*links, 1), "link properties");
    Id properties = calls.id(H5Pcreate(H5P_DATASET_CREATE), H5Pclose, "dataset properties");
    hsize_t total = 1;
    for (auto d : dims) total *= d;
    if (total > 0) {
        // Chunks of about 1 MiB along the first axis.
        std::vector<hsize_t> chunk = dims;
        hsize_t row = total / dims[0] * element_size;
        chunk[0] = std::clamp<hsize_t>((hsize_t{1} << 20) / std::max<hsize_t>(row, 1), 1, dims[0]);
        calls.ok(H5Pset_chunk(*properties, static_cast<int>(chunk.size()), chunk.data()), "chunking " + path);
        calls.ok(H5Pset_fletcher32(*properties), "checksums for " + path);
    }
    return calls.id(H5Dcreate2(file, path.c_str(), file_type, *space, *links, *properties, H5P_DEFAULT), H5Dclose,
                    "creating " + path);
}

std::vector<hsize_t> extent_of(const Calls& calls, hid_t dataset, const std::string& what) {
    Id space = calls.id(H5Dget_space(dataset), H5Sclose, "reading the shape of " + what);
    const int rank = H5Sget_simple_extent_ndims(*space);
    if (rank < 0) calls.fail("reading the shape of " + what);
    std::vector<hsize_t> dims(static_cast<std::size_t>(rank));
    if (rank > 0 && H5Sget_simple_extent_dims(*space, dims.data(), nullptr) < 0) calls.fail("reading the shape of " + what);
    return dims;
}

template <class Value>
std::vector<Value> read_all(const Calls& calls, hid_t file, const std::string& path, std::vector<hsize_t>* dims = nullptr) {
    Id dataset = calls.id(H5Dopen2(file, path.c_str(), H5P_DEFAULT), H5Dclose, "opening " + path);
    const auto extent = extent_of(calls, *dataset, path);
    hsize_t total = 1;
    for (auto d : extent) total *= d;
    std::vector<Value> values(total);
    const hid_t type = std::is_same_v<Value, double> ? H5T_NATIVE_DOUBLE : H5T_NATIVE_INT64;
    if (total > 0) calls.ok(H5Dread(*dataset, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data()), "reading " + path);
    if (dims) *dims = extent;
    return values;
}

template <class Value>
void write_all(const Calls& calls, hid_t file, const std::string& path, const std::vector<hsize_t>& dims,
               const std::vector<Value>& values) {
    const hid_t type = std::is_same_v<Value, double> ? H5T_NATIVE_DOUBLE : H5T_NATIVE_INT64;
    Id dataset = create_dataset(calls, file, path, std::is_same_v<Value, double> ? H5T_IEEE_F64LE : H5T_STD_I64LE, dims, 8);
    if (!values.empty()) calls.ok(H5Dwrite(*dataset, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data()), "writing " + path);
}

void sync_file(const fs::path& path) {
    const int fd = ::open(path.c_str(), O_RDONLY);
    if (fd < 0) return;
    ::fsync(fd);
    ::close(fd);
}

std::string output_path(const std::string& name) { return "/output/" + name; }

}  // namespace

const std::string& build_id() {
    static const std::string id = [] {
        std::ifstream in("/proc/self/exe", std::ios::binary);
        if (!in) return std::string("unknown");
        std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        // FNV-1a over 8-byte words (a few MB: a byte at a time took 15 ms of every run).
        std::uint64_t hash = 14695981039346656037ull;
        std::size_t at = 0;
        for (std::uint64_t word; at + 8 <= bytes.size(); at += 8) {
            std::memcpy(&word, bytes.data() + at, 8);
            hash = (hash ^ word) * 1099511628211ull;
        }
        char buf[17];
        std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(hash));
        return digest(std::string(buf) + bytes.substr(at));
    }();
    return id;
}

std::string digest(std::string_view text) {
    std::uint64_t hash = 14695981039346656037ull;
    for (unsigned char c : text) {
        hash ^= c;
        hash *= 1099511628211ull;
    }
    char buf[17];
    std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(hash));
    return buf;
}

fs::path checkpoint_path(const fs::path& output, std::int64_t step) {
    char buf[32];
    std::snprintf(buf, sizeof buf, ".step-%06lld.ckpt", static_cast<long long>(step));
    return fs::path(output.string() + buf);
}

std::optional<std::int64_t> step_of(const fs::path& checkpoint) {
    static const std::regex pattern(R"(\.step-([0-9]+)\.ckpt$)");
    std::smatch match;
    const std::string name = checkpoint.filename().string();
    if (!std::regex_search(name, match, pattern)) return std::nullopt;
    return std::stoll(match[1].str());
}

std::vector<Found> list_checkpoints(const fs::path& output) {
    std::vector<Found> found;
    const fs::path dir = output.parent_path().empty() ? fs::path(".") : output.parent_path();
    const std::string prefix = output.filename().string() + ".step-";
    std::error_code error;
    for (const auto& entry : fs::directory_iterator(dir, error)) {
        const std::string name = entry.path().filename().string();
        if (name.rfind(prefix, 0) != 0) continue;
        if (const auto step = step_of(entry.path()); step && name == checkpoint_path(output.filename(), *step).string())
            found.push_back({output.parent_path() / name, *step});
    }
    std::sort(found.begin(), found.end(), [](const Found& a, const Found& b) { return a.step < b.step; });
    return found;
}

void remove_old_checkpoints(const fs::path& output, std::size_t keep, const std::vector<std::int64_t>& kept_steps) {
    auto found = list_checkpoints(output);
    std::error_code ignored;
    std::size_t rotating = 0;
    for (auto it = found.rbegin(); it != found.rend(); ++it) {
        if (std::find(kept_steps.begin(), kept_steps.end(), it->step) != kept_steps.end()) continue;
        if (++rotating > keep) fs::remove(it->path, ignored);
    }
    const fs::path dir = output.parent_path().empty() ? fs::path(".") : output.parent_path();
    const std::string prefix = output.filename().string() + ".step-";
    for (const auto& entry : fs::directory_iterator(dir, ignored)) {
        const std::string name = entry.path().filename().string();
        if (name.rfind(prefix, 0) == 0 && entry.path().extension() == ".partial") fs::remove(entry.path(), ignored);
    }
}

// ---------------------------------------------------------------------------------------------

struct FileWriter::Impl {
    Impl(fs::path final_path) : path(std::move(final_path)), partial(path.string() + ".partial"), calls(partial) {}
    fs::path path, partial;
    Calls calls;
    Id file;
    bool committed = false;
};

FileWriter::FileWriter(fs::path path, std::int64_t step) : impl_(std::make_unique<Impl>(std::move(path))) {
    auto& c = impl_->calls;
    impl_->file = c.id(H5Fcreate(impl_->partial.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT), H5Fclose, "creating the file");
    attribute("format", format_name);
    attribute("citysim_version", version);
    attribute("git_commit", git_commit);
    attribute("build_id", build_id());
    attribute("step", std::to_string(step));
}

FileWriter::~FileWriter() {
    if (impl_->committed) return;
    impl_->file.release();
    std::error_code ignored;
    fs::remove(impl_->partial, ignored);
}

void FileWriter::attribute(const std::string& name, const std::string& value) {
    write_string_attribute(impl_->calls, *impl_->file, name, value);
}

void FileWriter::text_blob(const std::string& name, const std::string& text) {
    const std::string path = "/texts/" + name;
    Id dataset = create_dataset(impl_->calls, *impl_->file, path, H5T_NATIVE_UINT8, {text.size()}, 1);
    if (!text.empty())
        impl_->calls.ok(H5Dwrite(*dataset, H5T_NATIVE_UINT8, H5S_ALL, H5S_ALL, H5P_DEFAULT, text.data()), "writing " + path);
}

void FileWriter::put(const std::string& path, const Entry& entry, const void* data) {
    auto& c = impl_->calls;
    const std::string full = "/state/" + path;
    const hid_t type = memory_type(entry.type);
    if (type < 0) throw std::logic_error("checkpoint entry '" + path + "': unknown type " + entry.type);
    const bool bytes = stored_as_bytes(entry.type);
    const hsize_t n = bytes ? entry.count * entry.element_size : entry.count;
    Id dataset = create_dataset(c, *impl_->file, full, type, {n}, bytes ? 1 : entry.element_size);
    if (n > 0) c.ok(H5Dwrite(*dataset, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data), "writing " + full);
    write_string_attribute(c, *dataset, "type", entry.type);
    write_count_attribute(c, *dataset, "element_size", entry.element_size);
    write_count_attribute(c, *dataset, "count", entry.count);
}

Entry FileWriter::find(const std::string&) { throw std::logic_error("FileWriter only saves"); }
void FileWriter::get(const std::string&, const Entry&, void*) { throw std::logic_error("FileWriter only saves"); }

void FileWriter::save_output(const fs::path& recorder_file, const output::FileSpec& spec, std::int64_t records,
                             const std::map<std::string, std::int64_t>& table_rows) {
    auto& c = impl_->calls;
    Calls source_calls(recorder_file);
    // The recorder holds this file open for writing; HDF5 shares that open file with this reader.
    Id source = source_calls.id(H5Fopen(recorder_file.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose,
                                "opening the run's output to copy what it recorded");
    auto copy = [&](const std::string& name, output::DType dtype, std::optional<std::int64_t> expected_rows) {
        std::vector<hsize_t> dims;
        auto check = [&](const auto& values) {
            if (expected_rows && (dims.empty() || static_cast<std::int64_t>(dims[0]) != *expected_rows))
                source_calls.fail("'" + name + "' holds " + std::to_string(dims.empty() ? 0 : dims[0]) + " rows, " +
                                  std::to_string(*expected_rows) + " expected: copying");
            write_all(c, *impl_->file, output_path(name), dims, values);
        };
        if (dtype == output::DType::Int64)
            check(read_all<std::int64_t>(source_calls, *source, name, &dims));
        else
            check(read_all<double>(source_calls, *source, name, &dims));
    };
    copy(spec.record_axis, output::DType::Int64, records);
    for (const auto& v : spec.variables) {
        const bool series = !v.dims.empty() && v.dims.front() == spec.record_axis;
        copy(v.name, v.dtype, series ? std::optional<std::int64_t>(records) : std::nullopt);
    }
    for (const auto& t : spec.tables) {
        const auto rows = table_rows.count(t.name) ? table_rows.at(t.name) : 0;
        for (const auto& column : t.columns) copy(column.name, column.dtype, rows);
    }
    Id group = c.id(H5Gopen2(*impl_->file, "/output", H5P_DEFAULT), H5Gclose, "opening /output");
    write_count_attribute(c, *group, "records", static_cast<std::uint64_t>(records));
}

void FileWriter::commit() {
    auto& c = impl_->calls;
    c.ok(H5Fflush(*impl_->file, H5F_SCOPE_LOCAL), "flushing");
    if (impl_->file.release() < 0) c.fail("closing");
    sync_file(impl_->partial);
    fs::rename(impl_->partial, impl_->path);
    sync_file(impl_->path.parent_path().empty() ? fs::path(".") : impl_->path.parent_path());
    impl_->committed = true;
}

// ---------------------------------------------------------------------------------------------

struct FileReader::Impl {
    explicit Impl(fs::path p) : path(std::move(p)), calls(path) {}
    fs::path path;
    Calls calls;
    Id file;
    std::int64_t step = 0;
};

FileReader::FileReader(fs::path path) : impl_(std::make_unique<Impl>(std::move(path))) {
    auto& c = impl_->calls;
    if (!fs::exists(impl_->path)) throw CheckpointError("no checkpoint " + impl_->path.string());
    const hid_t file = H5Fopen(impl_->path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
    if (file < 0)
        throw CheckpointError("checkpoint " + impl_->path.string() + " cannot be read as HDF5 (damaged or not a checkpoint)");
    impl_->file = Id(file, H5Fclose);
    const auto format = read_string_attribute(c, *impl_->file, "format");
    if (format != format_name)
        throw CheckpointError(impl_->path.string() + " is not a citysim checkpoint (format '" + format.value_or("none") +
                              "', expected '" + format_name + "')");
    const auto step = read_string_attribute(c, *impl_->file, "step");
    impl_->step = step ? std::stoll(*step) : 0;
}

FileReader::~FileReader() = default;

const fs::path& FileReader::file() const { return impl_->path; }
std::int64_t FileReader::step() const { return impl_->step; }

std::optional<std::string> FileReader::attribute(const std::string& name) const {
    return read_string_attribute(impl_->calls, *impl_->file, name);
}

std::string FileReader::text_blob(const std::string& name) const {
    auto& c = impl_->calls;
    const std::string path = "/texts/" + name;
    if (H5LTpath_valid(*impl_->file, path.c_str(), 1) <= 0) return "";
    Id dataset = c.id(H5Dopen2(*impl_->file, path.c_str(), H5P_DEFAULT), H5Dclose, "opening " + path);
    const auto dims = extent_of(c, *dataset, path);
    std::string text(dims.empty() ? 0 : dims[0], '\0');
    if (!text.empty()) c.ok(H5Dread(*dataset, H5T_NATIVE_UINT8, H5S_ALL, H5S_ALL, H5P_DEFAULT, text.data()), "reading " + path);
    return text;
}

void FileReader::require_this_build() const {
    const auto id = attribute("build_id").value_or("unknown");
    if (id == build_id()) return;
    throw CheckpointError("checkpoint " + impl_->path.string() + " was written by another build of citysim (" +
                          attribute("citysim_version").value_or("?") + ", commit " + attribute("git_commit").value_or("?") +
                          ", build " + id + "); this is " + version + ", commit " + git_commit + ", build " + build_id() +
                          ". A run resumes or forks only under the build that wrote its checkpoint (another build may "
                          "compute different numbers): rebuild that commit, or start the run again");
}

Entry FileReader::find(const std::string& path) {
    auto& c = impl_->calls;
    const std::string full = "/state/" + path;
    if (H5LTpath_valid(*impl_->file, full.c_str(), 1) <= 0)
        throw CheckpointError("checkpoint " + impl_->path.string() + " has no state '" + path +
                              "' (written by a build that did not save it)");
    Id dataset = c.id(H5Dopen2(*impl_->file, full.c_str(), H5P_DEFAULT), H5Dclose, "opening " + full);
    Entry entry;
    entry.type = read_string_attribute(c, *dataset, "type").value_or("");
    entry.element_size = read_count_attribute(c, *dataset, "element_size");
    entry.count = read_count_attribute(c, *dataset, "count");
    const auto dims = extent_of(c, *dataset, full);
    const hsize_t stored = dims.empty() ? 0 : dims[0];
    if (stored != (stored_as_bytes(entry.type) ? entry.count * entry.element_size : entry.count))
        throw CheckpointError("checkpoint " + impl_->path.string() + ": state '" + path + "' is inconsistent (damaged)");
    return entry;
}

void FileReader::get(const std::string& path, const Entry& entry, void* data) {
    auto& c = impl_->calls;
    const std::string full = "/state/" + path;
    if (entry.count == 0) return;
    Id dataset = c.id(H5Dopen2(*impl_->file, full.c_str(), H5P_DEFAULT), H5Dclose, "opening " + full);
    // A checksum that does not match fails the read: a damaged checkpoint is never used.
    c.ok(H5Dread(*dataset, memory_type(entry.type), H5S_ALL, H5S_ALL, H5P_DEFAULT, data),
         "reading state '" + path + "' (checksum or read error: the file is damaged)");
}

void FileReader::put(const std::string&, const Entry&, const void*) { throw std::logic_error("FileReader only restores"); }

std::int64_t FileReader::output_records() const {
    auto& c = impl_->calls;
    if (H5LTpath_valid(*impl_->file, "/output", 1) <= 0) return 0;
    Id group = c.id(H5Gopen2(*impl_->file, "/output", H5P_DEFAULT), H5Gclose, "opening /output");
    return static_cast<std::int64_t>(read_count_attribute(c, *group, "records"));
}

void FileReader::replay_output(output::Recorder& recorder, const output::FileSpec& spec) const {
    auto& c = impl_->calls;
    const hid_t file = *impl_->file;
    auto require = [&](const std::string& name) {
        if (H5LTpath_valid(file, output_path(name).c_str(), 1) <= 0)
            throw CheckpointError("checkpoint " + impl_->path.string() + " holds no recorded '" + name +
                                  "': the run that wrote it did not record it (output.record); a fork may record "
                                  "what its baseline recorded, or less");
    };
    require(spec.record_axis);
    const auto times = read_all<std::int64_t>(c, file, output_path(spec.record_axis));
    struct Series {
        const output::VariableSpec* spec;
        std::vector<double> reals;
        std::vector<std::int64_t> counts;
        std::size_t per_record = 0;
    };
    std::vector<Series> series;
    for (const auto& v : spec.variables) {
        require(v.name);
        const bool is_series = !v.dims.empty() && v.dims.front() == spec.record_axis;
        Series s{&v, {}, {}, 0};
        std::vector<hsize_t> dims;
        if (v.dtype == output::DType::Int64) s.counts = read_all<std::int64_t>(c, file, output_path(v.name), &dims);
        else s.reals = read_all<double>(c, file, output_path(v.name), &dims);
        if (!is_series) {
            if (v.dtype == output::DType::Int64) recorder.write_static(v.name, s.counts);
            else recorder.write_static(v.name, s.reals);
            continue;
        }
        if (dims.empty() || dims[0] != times.size())
            throw CheckpointError("checkpoint " + impl_->path.string() + ": recorded '" + v.name + "' has another length than its record axis (damaged)");
        s.per_record = static_cast<std::size_t>(dims[0] ? (s.counts.size() + s.reals.size()) / dims[0] : 0);
        series.push_back(std::move(s));
    }
    for (std::size_t r = 0; r < times.size(); ++r) {
        recorder.begin_record(times[r]);
        for (const auto& s : series) {
            if (s.spec->dtype == output::DType::Int64)
                recorder.put(s.spec->name, std::span<const std::int64_t>(s.counts).subspan(r * s.per_record, s.per_record));
            else
                recorder.put(s.spec->name, std::span<const double>(s.reals).subspan(r * s.per_record, s.per_record));
        }
        recorder.end_record();
    }
    for (const auto& t : spec.tables) {
        std::vector<std::vector<std::int64_t>> counts(t.columns.size());
        std::vector<std::vector<double>> reals(t.columns.size());
        std::size_t rows = 0;
        for (std::size_t k = 0; k < t.columns.size(); ++k) {
            require(t.columns[k].name);
            if (t.columns[k].dtype == output::DType::Int64) rows = (counts[k] = read_all<std::int64_t>(c, file, output_path(t.columns[k].name))).size();
            else rows = (reals[k] = read_all<double>(c, file, output_path(t.columns[k].name))).size();
        }
        for (std::size_t first = 0; first < rows; first += output::kTableBufferRows) {
            const std::size_t n = std::min(output::kTableBufferRows, rows - first);
            std::vector<output::Recorder::ColumnValues> columns;
            for (std::size_t k = 0; k < t.columns.size(); ++k) {
                if (t.columns[k].dtype == output::DType::Int64)
                    columns.push_back({t.columns[k].name, std::span<const std::int64_t>(counts[k]).subspan(first, n)});
                else
                    columns.push_back({t.columns[k].name, std::span<const double>(reals[k]).subspan(first, n)});
            }
            recorder.append_rows(t.name, columns);
        }
    }
}

}  // namespace citysim::checkpoint
