// HDF5 recording of a run; see recorder.hpp for the file layout and its guarantees.
//
// Layout written here (netCDF-4 compatible, checked with h5py, xarray/h5netcdf and ncdump):
//   /                      attrs: Conventions, the FileSpec's global attributes, status
//   /time                  int64 [time], unlimited, chunked; dimension scale "time"
//   /<axis>                vlen UTF-8 strings [axis]; dimension scale "<axis>"
//   /<variable>            int64 or float64 [time, axes...] (time series) or [axes...] (static)
//   /<table>               int64 [table] row indices 0..n-1, unlimited, chunked, compressed;
//                          dimension scale "<table>", attribute role = "table row index"
//   /<column>              int64 or float64 [table], unlimited, chunked, compressed
//   /provenance            attrs: provenance_attributes, finished; scalar string datasets: texts
#include "engine/output/recorder.hpp"

#include <hdf5.h>
#include <hdf5_hl.h>

#include "engine/scenario/input.hpp"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>
#include <time.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstring>
#include <ctime>
#include <deque>
#include <exception>
#include <fstream>
#include <functional>
#include <iterator>
#include <memory>
#include <mutex>
#include <numeric>
#include <optional>
#include <set>
#include <stdexcept>
#include <thread>
#include <type_traits>
#include <utility>

namespace citysim::output {
namespace {

constexpr const char* kTimeAxis = "time";
constexpr const char* kProvenanceGroup = "provenance";
constexpr const char* kStatusAttribute = "status";
constexpr const char* kConventionsAttribute = "Conventions";
constexpr const char* kConventions = "CF-1.8";
// A chunk is the unit of compression and of the default 1 MiB chunk cache; keeping chunks below
// the cache size means a flush rewrites each chunk once instead of re-reading it per record.
constexpr std::uint64_t kMaxChunkBytes = std::uint64_t{1} << 20;
// The time axis is tiny (8 bytes a record); a large chunk keeps the chunk index short.
constexpr hsize_t kTimeAxisChunkLength = 512;
constexpr std::uint64_t kValueBytes = 8;  // int64 and float64 alike
// 32 KiB a column chunk: large enough for deflate and a short chunk index at a million rows, small
// enough that a table of a few rows (the final firm table) does not allocate megabytes.
constexpr hsize_t kTableChunkRows = 4096;
// Marks a dimension scale as a table's row axis. The record axis (`time`, or `run` in a sweep's
// file) is an unlimited int64 scale too, so only an explicit mark tells them apart.
constexpr const char* kRoleAttribute = "role";
constexpr const char* kTableRowIndexRole = "table row index";

// Owns one HDF5 identifier and releases it with the matching H5?close function.
class Handle {
public:
    using Closer = herr_t (*)(hid_t);

    Handle() = default;
    Handle(hid_t id, Closer closer) : id_(id), closer_(closer) {}
    Handle(const Handle&) = delete;
    Handle& operator=(const Handle&) = delete;
    Handle(Handle&& other) noexcept
        : id_(std::exchange(other.id_, H5I_INVALID_HID)), closer_(other.closer_) {}
    Handle& operator=(Handle&& other) noexcept {
        if (this != &other) {
            reset();
            id_ = std::exchange(other.id_, H5I_INVALID_HID);
            closer_ = other.closer_;
        }
        return *this;
    }
    ~Handle() { reset(); }

    hid_t get() const { return id_; }
    bool valid() const { return id_ >= 0; }

    void reset() noexcept { static_cast<void>(close()); }
    // Closes now and returns the close status: closing a file is where its metadata is written,
    // so that failure must be reported rather than swallowed by a destructor.
    herr_t close() noexcept {
        herr_t status = 0;
        if (id_ >= 0 && closer_ != nullptr) status = closer_(id_);
        id_ = H5I_INVALID_HID;
        return status;
    }

private:
    hid_t id_ = H5I_INVALID_HID;
    Closer closer_ = nullptr;
};

// HDF5 prints its error stack to stderr by default. The recorder turns failures into exceptions
// with their own message, so printing is switched off while a public function runs and restored
// afterwards (the setting is per thread in thread-safe builds, and other code may rely on it).
class SilencedHdf5ErrorPrinting {
public:
    SilencedHdf5ErrorPrinting() {
        if (H5Eget_auto2(H5E_DEFAULT, &saved_function_, &saved_data_) < 0) {
            saved_function_ = nullptr;
            saved_data_ = nullptr;
        }
        H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
    }
    ~SilencedHdf5ErrorPrinting() { H5Eset_auto2(H5E_DEFAULT, saved_function_, saved_data_); }
    SilencedHdf5ErrorPrinting(const SilencedHdf5ErrorPrinting&) = delete;
    SilencedHdf5ErrorPrinting& operator=(const SilencedHdf5ErrorPrinting&) = delete;

private:
    H5E_auto2_t saved_function_ = nullptr;
    void* saved_data_ = nullptr;
};

herr_t collect_error_description(unsigned /*depth*/, const H5E_error2_t* error, void* descriptions) {
    auto& collected = *static_cast<std::vector<std::string>*>(descriptions);
    std::string description = error->desc != nullptr ? error->desc : "";
    if (description.empty() && error->func_name != nullptr) description = error->func_name;
    // Some descriptions embed a ctime() stamp with its newline; keep the message on one line.
    std::replace(description.begin(), description.end(), '\n', ' ');
    if (!description.empty() && (collected.empty() || collected.back() != description)) {
        collected.push_back(std::move(description));
    }
    return 0;
}

// The current thread's HDF5 error stack, outermost call first. Must run before any other HDF5
// call, because every API call clears the stack on entry.
std::vector<std::string> hdf5_error_stack() {
    std::vector<std::string> descriptions;
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_DOWNWARD, collect_error_description, &descriptions);
    return descriptions;
}

// What went wrong, in one line, from an HDF5 error stack: the operating system's reason when a
// system call failed (HDF5 records "errno = N" in its message), else what HDF5 says at the point
// of failure, for the few failures a user can meet; the stack as a last resort.
std::string hdf5_failure_reason(const std::vector<std::string>& stack) {
    for (auto it = stack.rbegin(); it != stack.rend(); ++it) {
        const std::size_t at = it->find("errno = ");
        if (at == std::string::npos) continue;
        const int number = std::atoi(it->c_str() + at + 8);
        if (number > 0) return scenario::error_text(number);
    }
    const auto mentions = [&stack](std::string_view text) {
        return std::any_of(stack.begin(), stack.end(),
                           [text](const std::string& d) { return d.find(text) != std::string::npos; });
    };
    if (mentions("file signature not found")) return "it is not an HDF5 file";
    if (mentions("file is already open for")) return "another program has it open for writing";
    if (mentions("unable to lock file")) return "another program holds a lock on it (is it being written?)";
    if (mentions("truncated file")) return "the file is truncated (cut off before its end)";
    if (mentions("inflate() failed") || mentions("filter returned failure"))
        return "its compressed data is damaged";
    if (mentions("addr overflow")) return "it refers to data beyond its end (damaged or cut off)";
    if (stack.empty()) return "no detail on the HDF5 error stack";
    // The innermost description says what failed where; outer ones repeat "unable to ...".
    return stack.back();
}

std::string hdf5_error_stack_text() { return hdf5_failure_reason(hdf5_error_stack()); }

// Checks HDF5 return values and turns failures into std::runtime_error naming the file.
class Hdf5Calls {
public:
    explicit Hdf5Calls(std::filesystem::path file_path) : file_path_(std::move(file_path)) {}

    [[noreturn]] void fail(std::string_view action) const {
        throw std::runtime_error("HDF5 file '" + file_path_.string() + "': " + std::string(action) +
                                 " failed: " + hdf5_error_stack_text());
    }
    Handle handle(hid_t id, Handle::Closer closer, std::string_view action) const {
        if (id < 0) fail(action);
        return Handle(id, closer);
    }
    void require(herr_t status, std::string_view action) const {
        if (status < 0) fail(action);
    }
    bool test(htri_t answer, std::string_view action) const {
        if (answer < 0) fail(action);
        return answer > 0;
    }
    const std::filesystem::path& file_path() const { return file_path_; }

private:
    std::filesystem::path file_path_;
};

Handle make_property_list(hid_t property_class, const Hdf5Calls& calls) {
    return calls.handle(H5Pcreate(property_class), H5Pclose, "creating a property list");
}

// Transfer properties for writing variable-length strings: HDF5 converts them through a buffer of
// H5Pset_buffer's size, 1 MiB by default, allocated and (its background buffer) zeroed on every
// write. The labels and provenance texts of a file are a few KiB, and at the default those ~20
// writes touched ~40 MiB per file: most of the time a small run spends creating its file.
Handle string_transfer_properties(const Hdf5Calls& calls) {
    Handle properties = make_property_list(H5P_DATASET_XFER, calls);
    constexpr std::size_t kConversionBufferBytes = 16 * 1024;  // converted in pieces if larger
    calls.require(H5Pset_buffer(properties.get(), kConversionBufferBytes, nullptr, nullptr),
                  "setting the string conversion buffer");
    return properties;
}

Handle scalar_dataspace(const Hdf5Calls& calls) {
    return calls.handle(H5Screate(H5S_SCALAR), H5Sclose, "creating a scalar dataspace");
}

bool is_ascii(std::string_view text) {
    return std::all_of(text.begin(), text.end(),
                       [](char c) { return static_cast<unsigned char>(c) < 0x80; });
}

// Variable-length UTF-8 strings: netCDF-4 reads them as NC_STRING, h5py and xarray as str.
Handle variable_length_string_type(const Hdf5Calls& calls) {
    Handle type = calls.handle(H5Tcopy(H5T_C_S1), H5Tclose, "creating a string type");
    calls.require(H5Tset_size(type.get(), H5T_VARIABLE), "sizing a string type");
    calls.require(H5Tset_cset(type.get(), H5T_CSET_UTF8), "setting a string character set");
    return type;
}

// Attributes are written as scalar fixed-length NULLTERM strings of exactly the text's length,
// as netCDF-C writes NC_CHAR attributes: ncdump then shows them as text, not as `string`.
// An empty text is stored as one NUL byte because HDF5 string types cannot have size 0.
void write_text_attribute(hid_t object, const std::string& name, std::string_view value,
                          const Hdf5Calls& calls) {
    const std::string action = "writing attribute '" + name + "'";
    // Attributes cannot be resized, so a new value replaces the attribute.
    if (calls.test(H5Aexists(object, name.c_str()), action)) {
        calls.require(H5Adelete(object, name.c_str()), action);
    }
    std::string stored(value);
    if (stored.empty()) stored.push_back('\0');
    Handle type = calls.handle(H5Tcopy(H5T_C_S1), H5Tclose, action);
    calls.require(H5Tset_size(type.get(), stored.size()), action);
    calls.require(H5Tset_strpad(type.get(), H5T_STR_NULLTERM), action);
    calls.require(H5Tset_cset(type.get(), is_ascii(value) ? H5T_CSET_ASCII : H5T_CSET_UTF8),
                  action);
    Handle space = scalar_dataspace(calls);
    Handle attribute = calls.handle(
        H5Acreate2(object, name.c_str(), type.get(), space.get(), H5P_DEFAULT, H5P_DEFAULT),
        H5Aclose, action);
    calls.require(H5Awrite(attribute.get(), type.get(), stored.data()), action);
}

void write_number_attribute(hid_t object, const std::string& name, double value,
                            const Hdf5Calls& calls) {
    const std::string action = "writing attribute '" + name + "'";
    if (calls.test(H5Aexists(object, name.c_str()), action)) {
        calls.require(H5Adelete(object, name.c_str()), action);
    }
    Handle space = scalar_dataspace(calls);
    Handle attribute = calls.handle(H5Acreate2(object, name.c_str(), H5T_IEEE_F64LE, space.get(),
                                               H5P_DEFAULT, H5P_DEFAULT),
                                    H5Aclose, action);
    calls.require(H5Awrite(attribute.get(), H5T_NATIVE_DOUBLE, &value), action);
}

// netCDF-4 numbers variables, dimensions and attributes by creation order, and netCDF-C can only
// open a file for writing when that order is both tracked and indexed on every group and dataset.
constexpr unsigned kCreationOrderFlags = H5P_CRT_ORDER_TRACKED | H5P_CRT_ORDER_INDEXED;

Handle dataset_creation_properties(const Hdf5Calls& calls) {
    Handle properties = make_property_list(H5P_DATASET_CREATE, calls);
    calls.require(H5Pset_attr_creation_order(properties.get(), kCreationOrderFlags),
                  "setting attribute creation order");
    // Object headers otherwise carry modification times, which would make identical runs differ.
    calls.require(H5Pset_obj_track_times(properties.get(), false), "disabling time tracking");
    return properties;
}

Handle group_creation_properties(const Hdf5Calls& calls) {
    Handle properties = make_property_list(H5P_GROUP_CREATE, calls);
    calls.require(H5Pset_link_creation_order(properties.get(), kCreationOrderFlags),
                  "setting link creation order");
    calls.require(H5Pset_attr_creation_order(properties.get(), kCreationOrderFlags),
                  "setting attribute creation order");
    calls.require(H5Pset_obj_track_times(properties.get(), false), "disabling time tracking");
    return properties;
}

// The HDF5 1.10 file format: single-writer/multiple-reader writing (what keeps a killed run's file
// readable) needs its version-3 superblock and its chunk indexes. netCDF-4 built on HDF5 1.10 (as
// Debian's is), h5py and h5netcdf read it; netCDF built on HDF5 1.8 would not.
Handle file_access_properties(const Hdf5Calls& calls) {
    Handle access = make_property_list(H5P_FILE_ACCESS, calls);
    calls.require(H5Pset_libver_bounds(access.get(), H5F_LIBVER_V110, H5F_LIBVER_LATEST),
                  "setting library version bounds");
    return access;
}

// Shrinks a chunk, outermost axis first, until it holds at most kMaxChunkBytes. Outermost first
// because for a time series that is the time axis: fewer records per chunk before cutting records.
std::vector<hsize_t> bounded_chunk(std::vector<hsize_t> chunk) {
    const auto bytes = [&chunk] {
        return std::accumulate(chunk.begin(), chunk.end(), kValueBytes,
                               [](std::uint64_t product, hsize_t length) { return product * length; });
    };
    for (std::size_t axis = 0; axis < chunk.size() && bytes() > kMaxChunkBytes; ++axis) {
        const std::uint64_t other_axes_bytes = bytes() / chunk[axis];
        chunk[axis] = std::max<hsize_t>(1, std::min<hsize_t>(chunk[axis], kMaxChunkBytes / other_axes_bytes));
    }
    return chunk;
}

void apply_compression(hid_t properties, int deflate_level, const Hdf5Calls& calls) {
    if (deflate_level <= 0) return;
    // Shuffle groups the bytes of equal significance, which is what makes deflate effective on
    // slowly varying integers and floats.
    calls.require(H5Pset_shuffle(properties), "setting the shuffle filter");
    calls.require(H5Pset_deflate(properties, static_cast<unsigned>(deflate_level)),
                  "setting the deflate filter");
}

std::string utc_now_iso8601() {
    const std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
    std::tm utc{};
    gmtime_r(&now, &utc);
    std::array<char, 32> text{};
    const std::size_t length = std::strftime(text.data(), text.size(), "%Y-%m-%dT%H:%M:%SZ", &utc);
    return std::string(text.data(), length);
}

const char* dtype_name(DType dtype) { return dtype == DType::Int64 ? "int64" : "float64"; }

template <typename Value>
constexpr DType dtype_of() {
    return std::is_same_v<Value, std::int64_t> ? DType::Int64 : DType::Float64;
}

// Names become HDF5 link names and netCDF names: no '/', no control characters, not "." or "..".
void require_valid_name(const std::string& name, std::string_view what) {
    const bool has_forbidden_character = std::any_of(name.begin(), name.end(), [](char c) {
        return c == '/' || (static_cast<unsigned char>(c) < 0x20) || c == 0x7f;
    });
    if (name.empty() || name == "." || name == ".." || has_forbidden_character ||
        name.front() == ' ' || name.back() == ' ') {
        throw std::invalid_argument("recorder: invalid " + std::string(what) + " name '" + name +
                                    "' (must be non-empty, without '/', control characters or "
                                    "leading/trailing spaces)");
    }
}

void validate(const FileSpec& spec) {
    if (spec.path.empty()) throw std::invalid_argument("recorder: FileSpec.path is empty");
    if (spec.flush_every_steps < 1) {
        throw std::invalid_argument("recorder: flush_every_steps must be at least 1, got " +
                                    std::to_string(spec.flush_every_steps));
    }
    if (spec.deflate_level < 0 || spec.deflate_level > 9) {
        throw std::invalid_argument("recorder: deflate_level must be 0..9, got " +
                                    std::to_string(spec.deflate_level));
    }
    require_valid_name(spec.record_axis, "record axis");
    // Every object of the root group by name, described for clash messages.
    std::map<std::string, std::string, std::less<>> root_names{
        {spec.record_axis, "axis '" + spec.record_axis + "'"},
        {kProvenanceGroup, "group '" + std::string(kProvenanceGroup) + "'"}};
    std::set<std::string, std::less<>> axis_names{spec.record_axis};
    for (const auto& axis : spec.axes) {
        require_valid_name(axis.name, "axis");
        axis_names.insert(axis.name);
        if (!root_names.emplace(axis.name, "axis '" + axis.name + "'").second) {
            throw std::invalid_argument("recorder: axis name '" + axis.name +
                                        "' is reserved or used twice");
        }
        // A zero-length axis cannot be chunked, and a variable over it would hold nothing.
        if (axis.labels.empty() && axis.values.empty()) {
            throw std::invalid_argument("recorder: axis '" + axis.name + "' has no labels");
        }
        if (!axis.labels.empty() && !axis.values.empty()) {
            throw std::invalid_argument("recorder: axis '" + axis.name + "' has both labels and numeric values");
        }
    }
    for (const auto& variable : spec.variables) {
        require_valid_name(variable.name, "variable");
        if (!root_names.emplace(variable.name, "variable '" + variable.name + "'").second) {
            throw std::invalid_argument("recorder: variable name '" + variable.name +
                                        "' is reserved or already used by an axis or variable");
        }
        for (std::size_t i = 0; i < variable.dims.size(); ++i) {
            const std::string& dim = variable.dims[i];
            if (!axis_names.contains(dim)) {
                throw std::invalid_argument("recorder: variable '" + variable.name +
                                            "' uses unknown axis '" + dim + "'");
            }
            if (dim == spec.record_axis && i != 0) {
                throw std::invalid_argument("recorder: variable '" + variable.name + "': '" + spec.record_axis +
                                            "' must be the first axis");
            }
            // xarray cannot index a variable that repeats a dimension; origin/destination exist
            // as separate axes for that reason.
            if (std::count(variable.dims.begin(), variable.dims.end(), dim) > 1) {
                throw std::invalid_argument("recorder: variable '" + variable.name +
                                            "' uses axis '" + dim + "' twice");
            }
        }
    }
    // Tables after variables, so that a clash names the table or column as the newcomer.
    const auto claim_root_name = [&root_names](const std::string& name, const std::string& description) {
        const auto [existing, inserted] = root_names.emplace(name, description);
        if (!inserted) {
            throw std::invalid_argument("recorder: " + description + " clashes with " + existing->second +
                                        " (axes, variables, tables and columns share the root group)");
        }
    };
    for (const auto& table : spec.tables) {
        require_valid_name(table.name, "table");
        claim_root_name(table.name, "table '" + table.name + "'");
        // Without a column a batch of rows has no length.
        if (table.columns.empty()) {
            throw std::invalid_argument("recorder: table '" + table.name + "' has no columns");
        }
        for (const auto& column : table.columns) {
            require_valid_name(column.name, "column");
            const std::string description = "column '" + column.name + "' of table '" + table.name + "'";
            if (column.dims != std::vector<std::string>{table.name}) {
                throw std::invalid_argument("recorder: " + description + " must have the dims {'" +
                                            table.name + "'} and no other");
            }
            claim_root_name(column.name, description);
        }
    }
    for (const auto& [name, value] : spec.global_attributes) {
        require_valid_name(name, "global attribute");
        if (name == kStatusAttribute) {
            throw std::invalid_argument("recorder: global attribute 'status' is reserved");
        }
        if (spec.global_numeric_attributes.contains(name)) {
            throw std::invalid_argument("recorder: global attribute '" + name +
                                        "' is both a string and a number");
        }
    }
    for (const auto& [name, value] : spec.global_numeric_attributes) {
        require_valid_name(name, "global attribute");
        if (name == kStatusAttribute || name == kConventionsAttribute) {
            throw std::invalid_argument("recorder: global attribute '" + name +
                                        "' is reserved for text");
        }
    }
    for (const auto& [name, value] : spec.provenance_attributes) {
        require_valid_name(name, "provenance attribute");
    }
    for (const auto& [name, value] : spec.provenance_texts) {
        require_valid_name(name, "provenance text");
    }
}

// ---- reading helpers (Reader, and the Recorder's own checks) ------------------------------------

std::optional<std::string> read_text_attribute(hid_t attribute, const Hdf5Calls& calls) {
    Handle type = calls.handle(H5Aget_type(attribute), H5Tclose, "reading an attribute type");
    if (H5Tget_class(type.get()) != H5T_STRING) return std::nullopt;
    Handle space = calls.handle(H5Aget_space(attribute), H5Sclose, "reading an attribute space");
    if (H5Sget_simple_extent_npoints(space.get()) != 1) return std::nullopt;
    if (calls.test(H5Tis_variable_str(type.get()), "reading an attribute type")) {
        Handle memory_type = variable_length_string_type(calls);
        char* text = nullptr;
        calls.require(H5Aread(attribute, memory_type.get(), &text), "reading a string attribute");
        std::string value = text != nullptr ? text : "";
        H5free_memory(text);
        return value;
    }
    const std::size_t size = H5Tget_size(type.get());
    std::string buffer(size + 1, '\0');
    calls.require(H5Aread(attribute, type.get(), buffer.data()), "reading a string attribute");
    // NULLTERM strings of exactly the text's length have no terminator; NULLPAD ones are padded.
    return std::string(buffer.c_str());
}

std::optional<double> read_number_attribute(hid_t attribute, const Hdf5Calls& calls) {
    Handle type = calls.handle(H5Aget_type(attribute), H5Tclose, "reading an attribute type");
    const H5T_class_t type_class = H5Tget_class(type.get());
    if (type_class != H5T_INTEGER && type_class != H5T_FLOAT) return std::nullopt;
    Handle space = calls.handle(H5Aget_space(attribute), H5Sclose, "reading an attribute space");
    if (H5Sget_simple_extent_npoints(space.get()) != 1) return std::nullopt;
    double value = 0.0;
    calls.require(H5Aread(attribute, H5T_NATIVE_DOUBLE, &value), "reading a numeric attribute");
    return value;
}

herr_t collect_attribute_name(hid_t /*object*/, const char* name, const H5A_info_t* /*info*/,
                              void* names) {
    static_cast<std::vector<std::string>*>(names)->emplace_back(name);
    return 0;
}

std::vector<std::string> attribute_names(hid_t object, const Hdf5Calls& calls) {
    std::vector<std::string> names;
    hsize_t position = 0;
    calls.require(H5Aiterate2(object, H5_INDEX_NAME, H5_ITER_INC, &position,
                              collect_attribute_name, &names),
                  "listing attributes");
    return names;
}

Handle open_attribute(hid_t object, const std::string& name, const Hdf5Calls& calls) {
    return calls.handle(H5Aopen(object, name.c_str(), H5P_DEFAULT), H5Aclose,
                        "opening attribute '" + name + "'");
}

std::map<std::string, std::string> text_attributes(hid_t object, const Hdf5Calls& calls) {
    std::map<std::string, std::string> texts;
    for (const auto& name : attribute_names(object, calls)) {
        Handle attribute = open_attribute(object, name, calls);
        if (auto text = read_text_attribute(attribute.get(), calls)) texts.emplace(name, *text);
    }
    return texts;
}

std::optional<std::string> text_attribute(hid_t object, const std::string& name,
                                          const Hdf5Calls& calls) {
    if (!calls.test(H5Aexists(object, name.c_str()), "looking up attribute '" + name + "'")) {
        return std::nullopt;
    }
    Handle attribute = open_attribute(object, name, calls);
    return read_text_attribute(attribute.get(), calls);
}

// Reads a whole string dataset (variable-length or fixed-length) of any shape, in row-major order.
std::vector<std::string> read_strings(hid_t dataset, const Hdf5Calls& calls, std::string_view what) {
    const std::string action = "reading " + std::string(what);
    Handle type = calls.handle(H5Dget_type(dataset), H5Tclose, action);
    if (H5Tget_class(type.get()) != H5T_STRING) {
        throw std::runtime_error("HDF5 file '" + calls.file_path().string() + "': " +
                                 std::string(what) + " is not a string dataset");
    }
    Handle space = calls.handle(H5Dget_space(dataset), H5Sclose, action);
    const hssize_t count = H5Sget_simple_extent_npoints(space.get());
    if (count < 0) calls.fail(action);
    std::vector<std::string> values;
    values.reserve(static_cast<std::size_t>(count));
    if (count == 0) return values;
    if (calls.test(H5Tis_variable_str(type.get()), action)) {
        Handle memory_type = variable_length_string_type(calls);
        std::vector<char*> pointers(static_cast<std::size_t>(count), nullptr);
        calls.require(H5Dread(dataset, memory_type.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT,
                              pointers.data()),
                      action);
        for (const char* text : pointers) values.emplace_back(text != nullptr ? text : "");
#if H5_VERSION_GE(1, 12, 0)
        H5Treclaim(memory_type.get(), space.get(), H5P_DEFAULT, pointers.data());
#else
        H5Dvlen_reclaim(memory_type.get(), space.get(), H5P_DEFAULT, pointers.data());
#endif
        return values;
    }
    const std::size_t size = H5Tget_size(type.get());
    std::vector<char> buffer(size * static_cast<std::size_t>(count));
    calls.require(H5Dread(dataset, type.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, buffer.data()), action);
    for (std::size_t i = 0; i < static_cast<std::size_t>(count); ++i) {
        const char* start = buffer.data() + i * size;
        values.emplace_back(start, strnlen(start, size));
    }
    return values;
}

std::vector<hsize_t> dataset_extent(hid_t dataset, const Hdf5Calls& calls, std::string_view what) {
    const std::string action = "reading the shape of " + std::string(what);
    Handle space = calls.handle(H5Dget_space(dataset), H5Sclose, action);
    const int rank = H5Sget_simple_extent_ndims(space.get());
    if (rank < 0) calls.fail(action);
    std::vector<hsize_t> extent(static_cast<std::size_t>(rank));
    if (rank > 0 && H5Sget_simple_extent_dims(space.get(), extent.data(), nullptr) < 0) {
        calls.fail(action);
    }
    return extent;
}

herr_t copy_first_scale_name(hid_t /*dataset*/, unsigned /*dim*/, hid_t scale, void* name) {
    const ssize_t length = H5DSget_scale_name(scale, nullptr, 0);
    if (length < 0) return -1;
    std::string buffer(static_cast<std::size_t>(length) + 1, '\0');
    if (H5DSget_scale_name(scale, buffer.data(), buffer.size()) < 0) return -1;
    buffer.resize(static_cast<std::size_t>(length));
    *static_cast<std::string*>(name) = std::move(buffer);
    return 1;  // the first attached scale names the dimension, as in netCDF
}

// The dimension names of a dataset from its attached dimension scales ("" where none is attached);
// a dimension scale's only dimension is itself.
std::vector<std::string> dimension_names(hid_t dataset, const std::string& dataset_name,
                                         const Hdf5Calls& calls) {
    const std::string action = "reading the dimensions of '" + dataset_name + "'";
    const std::size_t rank = dataset_extent(dataset, calls, "'" + dataset_name + "'").size();
    if (calls.test(H5DSis_scale(dataset), action)) return std::vector<std::string>(rank, dataset_name);
    std::vector<std::string> names(rank);
    for (std::size_t dim = 0; dim < rank; ++dim) {
        const int scales = H5DSget_num_scales(dataset, static_cast<unsigned>(dim));
        if (scales < 0) calls.fail(action);
        if (scales == 0) continue;
        if (H5DSiterate_scales(dataset, static_cast<unsigned>(dim), nullptr, copy_first_scale_name,
                               &names[dim]) < 0) {
            calls.fail(action);
        }
    }
    return names;
}

}  // namespace

// The recorder's write path runs on a thread of its own: the caller buffers records and rows and,
// when a flush is due, hands the full buffers over as a job and goes on filling the next (double
// buffering), while this thread compresses, writes and flushes them, in the order they were handed
// over. So a run's steps do not wait for HDF5, and the file goes through the same writes and
// flushes, in the same order, as when the caller wrote them itself: what a flush made durable is
// the same. At most `max_pending` jobs wait, so a writer that falls behind holds the caller back
// rather than letting buffers pile up. A job that fails stops the writing: the jobs after it are
// dropped and the failure is rethrown to the caller at its next post(), wait() or stop_and_rethrow().
class BackgroundWriter {
public:
    static constexpr std::size_t max_pending = 2;

    BackgroundWriter() = default;
    BackgroundWriter(const BackgroundWriter&) = delete;
    BackgroundWriter& operator=(const BackgroundWriter&) = delete;
    ~BackgroundWriter() { stop(); }

    void start() {
        thread_ = std::thread([this] { work(); });
    }
    void post(std::function<void()> job) {
        std::unique_lock lock(mutex_);
        space_.wait(lock, [this] { return jobs_.size() < max_pending || failure_; });
        rethrow_failure(lock);
        jobs_.push_back(std::move(job));
        work_.notify_one();
    }
    // Waits until every job posted so far has run; rethrows a failure (once).
    void wait() {
        std::unique_lock lock(mutex_);
        idle_.wait(lock, [this] { return (jobs_.empty() && !busy_) || !thread_.joinable(); });
        rethrow_failure(lock);
    }
    // Runs what is pending, ends the thread; a failure is kept for failure().
    void stop() noexcept {
        {
            const std::lock_guard lock(mutex_);
            if (!thread_.joinable()) return;
            stopping_ = true;
            work_.notify_one();
        }
        thread_.join();
    }
    void stop_and_rethrow() {
        stop();
        std::unique_lock lock(mutex_);
        rethrow_failure(lock);
    }
    // The failure of a job that nobody has been told of yet, if any.
    std::exception_ptr failure() {
        const std::lock_guard lock(mutex_);
        return std::exchange(unreported_, nullptr);
    }
    double cpu_seconds() const { return cpu_seconds_.load(); }

private:
    void rethrow_failure(std::unique_lock<std::mutex>&) {
        if (unreported_) std::rethrow_exception(std::exchange(unreported_, nullptr));
    }
    void work() {
        // This thread's HDF5 errors become exceptions with their own message (as in the caller's
        // SilencedHdf5ErrorPrinting); the setting is per thread.
        H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
        std::unique_lock lock(mutex_);
        for (;;) {
            work_.wait(lock, [this] { return !jobs_.empty() || stopping_; });
            if (jobs_.empty()) break;
            std::function<void()> job = std::move(jobs_.front());
            jobs_.pop_front();
            busy_ = true;
            space_.notify_one();
            if (!failure_) {
                lock.unlock();
                std::exception_ptr error;
                try {
                    job();
                } catch (...) {
                    error = std::current_exception();
                }
                job = nullptr;  // its buffers are freed here, not under the lock
                timespec now{};
                clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
                cpu_seconds_.store(static_cast<double>(now.tv_sec) + 1e-9 * static_cast<double>(now.tv_nsec));
                lock.lock();
                if (error) failure_ = unreported_ = error;
            }
            busy_ = false;
            if (jobs_.empty()) idle_.notify_all();
            space_.notify_one();
        }
        idle_.notify_all();
    }

    std::thread thread_;
    std::mutex mutex_;
    std::condition_variable work_, space_, idle_;
    std::deque<std::function<void()>> jobs_;
    bool busy_ = false, stopping_ = false;
    std::exception_ptr failure_, unreported_;
    std::atomic<double> cpu_seconds_{0.0};
};

// =================================================================================================
// Recorder
// =================================================================================================

namespace {

// The objects of a file built in memory, made once per layout and process and copied for every
// file of that layout: the runs of a sweep differ only in their root attributes' values, their
// provenance and their data, and making ~80 datasets with their attributes and dimension scales was
// most of the cost of a small run's file. `image` is the file as closed after create_objects()
// (no provenance, no data); its root attributes hold the values of the file that made it, which
// a copy overwrites in place with its own (same types and sizes: creation order and object
// addresses stay those of a file made from scratch).
struct Layout {
    std::string signature;  // layout_signature() of the files it serves
    std::vector<char> image;
    std::map<std::string, std::string> texts;  // the root attributes written into the image
    std::map<std::string, double> numbers;
};

// Everything create_objects() writes but the root attributes' values, of which only what fixes
// their storage: the names, the text's length and character set. Two specs of the same signature
// give files that differ only in those values. (Each string is written as length:text.)
std::string layout_signature(const FileSpec& spec) {
    std::string out;
    const auto add = [&out](std::string_view text) {
        out += std::to_string(text.size());
        out += ':';
        out += text;
    };
    const auto add_variable = [&](const VariableSpec& v) {
        add(v.name);
        add(std::to_string(v.dims.size()));
        for (const auto& dim : v.dims) add(dim);
        add(v.dtype == DType::Int64 ? "i" : "f");
        for (const auto* text : {&v.units, &v.long_name, &v.description, &v.coordinates}) add(*text);
    };
    for (const auto* text : {&spec.record_axis, &spec.time_units, &spec.time_long_name}) add(*text);
    add(std::to_string(spec.flush_every_steps) + " " + std::to_string(spec.deflate_level));
    add("axes " + std::to_string(spec.axes.size()));
    for (const auto& axis : spec.axes) {
        for (const auto* text : {&axis.name, &axis.long_name, &axis.units}) add(*text);
        add(std::to_string(axis.labels.size()) + " " + std::to_string(axis.values.size()));
        for (const auto& label : axis.labels) add(label);
        for (const auto value : axis.values) add(std::to_string(value));
    }
    add("variables " + std::to_string(spec.variables.size()));
    for (const auto& variable : spec.variables) add_variable(variable);
    add("tables " + std::to_string(spec.tables.size()));
    for (const auto& table : spec.tables) {
        add(table.name);
        add(table.long_name);
        add(std::to_string(table.columns.size()));
        for (const auto& column : table.columns) add_variable(column);
    }
    add("texts " + std::to_string(spec.global_attributes.size()));
    for (const auto& [name, value] : spec.global_attributes) {
        add(name);
        add(std::to_string(value.size()) + (is_ascii(value) ? " ascii" : " utf-8"));
    }
    add("numbers " + std::to_string(spec.global_numeric_attributes.size()));
    for (const auto& [name, value] : spec.global_numeric_attributes) add(name);
    return out;
}

// A file built in memory grows in steps of this much memory.
constexpr std::size_t kInMemoryIncrement = std::size_t{1} << 18;

// A root attribute of a copy of a layout, given this file's value: written in place, in the type
// the layout gave it (layout_signature() makes that the size this value needs).
void overwrite_text_attribute(hid_t object, const std::string& name, const std::string& value, const Hdf5Calls& calls) {
    const std::string action = "writing attribute '" + name + "'";
    Handle attribute = calls.handle(H5Aopen(object, name.c_str(), H5P_DEFAULT), H5Aclose, action);
    Handle type = calls.handle(H5Aget_type(attribute.get()), H5Tclose, action);
    std::string stored(value);
    if (stored.empty()) stored.push_back('\0');  // as write_text_attribute stores it
    if (H5Tget_size(type.get()) != stored.size()) throw std::logic_error("recorder: " + action + ": the layout's size differs");
    calls.require(H5Awrite(attribute.get(), type.get(), stored.data()), action);
}

void overwrite_number_attribute(hid_t object, const std::string& name, double value, const Hdf5Calls& calls) {
    const std::string action = "writing attribute '" + name + "'";
    Handle attribute = calls.handle(H5Aopen(object, name.c_str(), H5P_DEFAULT), H5Aclose, action);
    calls.require(H5Awrite(attribute.get(), H5T_NATIVE_DOUBLE, &value), action);
}

// The layouts made by this process, newest last; a sweep needs one per shape of its runs (arms with
// other policies have other axes), so a few are kept.
constexpr std::size_t kLayoutsKept = 8;
std::mutex layouts_mutex;
std::deque<std::shared_ptr<const Layout>> layouts;

std::shared_ptr<const Layout> find_layout(const std::string& signature) {
    const std::lock_guard lock(layouts_mutex);
    for (const auto& layout : layouts)
        if (layout->signature == signature) return layout;
    return nullptr;
}

void keep_layout(std::shared_ptr<const Layout> layout) {
    const std::lock_guard lock(layouts_mutex);
    for (const auto& kept : layouts)
        if (kept->signature == layout->signature) return;  // made meanwhile by another thread
    if (layouts.size() == kLayoutsKept) layouts.pop_front();
    layouts.push_back(std::move(layout));
}

}  // namespace

struct Recorder::Impl {
    struct Variable {
        VariableSpec spec;
        Handle dataset;
        bool is_time_series = false;
        std::vector<hsize_t> record_shape;  // extents of the non-time axes
        std::size_t values_per_record = 1;
        // Buffered complete records followed, during an open record, by this record's values.
        std::vector<double> float_buffer;
        std::vector<std::int64_t> int_buffer;
        bool put_in_open_record = false;
        bool static_written = false;
        // With spec.keep_values: everything written, complete records only (one of the two).
        std::vector<double> kept_floats;
        std::vector<std::int64_t> kept_integers;
    };
    struct Column {
        Handle dataset;
        std::vector<double> float_buffer;
        std::vector<std::int64_t> int_buffer;
    };
    struct Table {
        TableSpec spec;
        Handle row_axis;
        std::vector<Column> columns;  // parallel to spec.columns
        std::map<std::string, std::size_t, std::less<>> column_index;
        std::size_t rows_buffered = 0;
        hsize_t rows_on_disk = 0;
        std::int64_t rows_total = 0;
    };

    explicit Impl(FileSpec file_spec);

    void create_file();
    void create_objects();
    void close_objects();
    std::shared_ptr<const Layout> layout_for_file(hid_t creation_properties);
    void open_from_layout(const Layout& layout);
    Handle open_dataset(const std::string& name) const;
    void open_table(Table& table);
    void create_time_axis();
    void create_labelled_axis(const LabelledAxis& axis);
    void create_variable(Variable& variable);
    void create_table(Table& table);
    void attach_scales(hid_t dataset, const std::vector<hid_t>& scales, const std::string& name);
    void write_reference_lists();
    void create_provenance();
    void write_variable_attributes(hid_t dataset, const std::string& units,
                                   const std::string& long_name, const std::string& description);

    Variable& find_variable(std::string_view name, std::string_view operation);
    Table& find_table(std::string_view name, std::string_view operation);
    void require_open(std::string_view operation) const;
    template <typename Value>
    void put(std::string_view name, std::span<const Value> values);
    template <typename Value>
    void write_static(std::string_view name, std::span<const Value> values);
    void end_record();
    void append_rows(std::string_view table_name, std::span<const ColumnValues> given);
    // Complete records and table rows taken out of the buffers (by the caller), to be written (by
    // the writer thread, or by the caller once the writer has stopped).
    struct Batch {
        std::vector<std::int64_t> times;
        std::vector<std::vector<double>> record_floats;       // per variable
        std::vector<std::vector<std::int64_t>> record_ints;   // per variable
        struct Rows {
            std::size_t count = 0;
            std::vector<std::vector<double>> floats;           // per column
            std::vector<std::vector<std::int64_t>> ints;       // per column
        };
        std::vector<Rows> rows;                                // per table
        bool flush = false;                                    // flush the file after writing
    };
    Batch take_records();
    void take_rows(Table& table, Batch& batch);
    void write_records(const Batch& batch);
    void write_rows(std::size_t table_number, const Batch::Rows& rows);
    void write_batch(const Batch& batch);
    void write_buffers();  // on the caller's thread: the writer must have stopped
    // Hands the batch to the writer thread.
    void post(Batch batch);
    void extend_and_write(hid_t dataset, hsize_t first, std::vector<hsize_t> block,
                          hid_t memory_type, const void* values, const std::string& dataset_name);
    void flush_file();
    void set_status(std::string_view status);
    void close_file();
    void claim_temporary_path();
    void open_unnamed();
    void name_file();
    void forget_unnamed();
    void write_closing_attributes(std::string_view status, const std::map<std::string, std::string>& provenance,
                                  bool stamp_finished);
    void closing_attributes(hid_t target, std::string_view status,
                            const std::map<std::string, std::string>& provenance, bool stamp_finished);
    void publish();
    void write_in_memory_file();
    void finish(const std::map<std::string, std::string>& final_provenance);
    void abort(std::string_view reason);

    FileSpec spec;
    std::filesystem::path temporary_path;
    Hdf5Calls calls;
    // Declared before the datasets so that, when members are destroyed, datasets close first.
    Handle file;
    Handle time_dataset;
    std::map<std::string, Handle, std::less<>> axis_datasets;  // "time" excluded
    std::map<std::string, hsize_t, std::less<>> axis_lengths;
    std::vector<Variable> variables;
    std::map<std::string, std::size_t, std::less<>> variable_index;
    std::vector<Table> tables;
    std::map<std::string, std::size_t, std::less<>> table_index;
    // Dimension scales, attached in bulk (attach_scales): each scale's object reference, and the
    // (dataset, dimension) pairs attached to it so far, in attach order, for its REFERENCE_LIST.
    struct ScaleUse {
        hobj_ref_t reference{};
        std::vector<std::pair<hobj_ref_t, int>> attached;
    };
    std::map<hid_t, ScaleUse> scale_uses;
    std::vector<hid_t> scale_order;  // scales in first-attach order

    std::vector<std::int64_t> buffered_times;
    hsize_t records_on_disk = 0;
    std::int64_t records_total = 0;
    bool record_open = false;
    std::int64_t open_record_time = 0;
    bool closed = false;
    bool finished = false;  // finish() completed: the file is in place under its name
    // After a failed write the datasets may disagree in length; no further data is written.
    // (Set by the writer thread; read by the caller only once the writer has stopped.)
    bool write_failed = false;
    // While the file is being created it has a hidden name: `<path>.incomplete` appears only once
    // the file is consistent, so that a process killed while creating it leaves nothing half-made
    // under that name. (HDF5 cannot create a file through an O_TMPFILE descriptor's /proc link.)
    std::filesystem::path creation_path;
    // Declared last: destroyed (joined) first, before the datasets it writes are closed.
    BackgroundWriter writer;
};

Recorder::Impl::Impl(FileSpec file_spec)
    : spec(std::move(file_spec)),
      temporary_path(spec.path.string() + ".incomplete"),
      calls(temporary_path) {
    validate(spec);
    for (const auto& axis : spec.axes) axis_lengths.emplace(axis.name, axis.length());
    variables.reserve(spec.variables.size());
    for (const auto& variable_spec : spec.variables) {
        Variable variable;
        variable.spec = variable_spec;
        variable.is_time_series = !variable_spec.dims.empty() && variable_spec.dims.front() == spec.record_axis;
        for (std::size_t i = variable.is_time_series ? 1 : 0; i < variable_spec.dims.size(); ++i) {
            variable.record_shape.push_back(axis_lengths.at(variable_spec.dims[i]));
        }
        variable.values_per_record = std::accumulate(
            variable.record_shape.begin(), variable.record_shape.end(), std::size_t{1},
            [](std::size_t product, hsize_t length) { return product * static_cast<std::size_t>(length); });
        variable_index.emplace(variable_spec.name, variables.size());
        variables.push_back(std::move(variable));
    }
    tables.reserve(spec.tables.size());
    for (const auto& table_spec : spec.tables) {
        Table table;
        table.spec = table_spec;
        table.columns.resize(table_spec.columns.size());
        for (std::size_t i = 0; i < table_spec.columns.size(); ++i) {
            table.column_index.emplace(table_spec.columns[i].name, i);
        }
        table_index.emplace(table_spec.name, tables.size());
        tables.push_back(std::move(table));
    }

    const SilencedHdf5ErrorPrinting silenced;
    try {
        create_file();
    } catch (...) {
        // Remove only a file this recorder created and named: a failed H5Fcreate may mean the
        // file belongs to another process that holds its lock.
        const bool named = file.valid() && creation_path.empty();
        tables.clear();
        variables.clear();
        axis_datasets.clear();
        time_dataset.reset();
        file.reset();
        forget_unnamed();
        if (named) {
            std::error_code ignored;
            std::filesystem::remove(temporary_path, ignored);
        }
        throw;
    }
    writer.start();
}

void Recorder::Impl::create_file() {
    Handle creation = make_property_list(H5P_FILE_CREATE, calls);
    calls.require(H5Pset_link_creation_order(creation.get(), kCreationOrderFlags),
                  "setting link creation order");
    calls.require(H5Pset_attr_creation_order(creation.get(), kCreationOrderFlags),
                  "setting attribute creation order");
    calls.require(H5Pset_obj_track_times(creation.get(), false), "disabling time tracking");
    Handle access = file_access_properties(calls);
    claim_temporary_path();
    open_unnamed();
    if (spec.in_memory) {
        open_from_layout(*layout_for_file(creation.get()));
        create_provenance();
        return;  // a file built in memory keeps its hidden name until finish() or abort() writes it
    }
    // H5F_ACC_EXCL is open(O_CREAT | O_EXCL): it never follows a link nor truncates a file.
    file = calls.handle(H5Fcreate(creation_path.c_str(), H5F_ACC_EXCL, creation.get(), access.get()), H5Fclose,
                        "creating the file");
    create_objects();
    // Provenance last: its sizes differ between runs, and placing it after the data keeps the
    // data's object addresses (and so the dimension-scale references) identical across runs.
    create_provenance();
    flush_file();
    // From here on only data is written (datasets extended and filled): single-writer/
    // multiple-reader mode orders those writes so that the file on disk is consistent at every
    // moment, and a process killed at any point leaves a file that opens and reads up to its last
    // flush (see recorder.hpp).
    calls.require(H5Fstart_swmr_write(file.get()), "starting single-writer/multiple-reader writing");
    name_file();
}

// The layout of this file's signature, made now if this process has none: this file's objects are
// created in a file of their own beside the output, under the hidden name with "-layout" added,
// which is closed, read back and removed. (An image of a file still open cannot be had: HDF5 1.10's
// H5Fget_file_image leaves its superblock's checksum wrong.)
std::shared_ptr<const Layout> Recorder::Impl::layout_for_file(hid_t creation_properties) {
    std::string signature = layout_signature(spec);
    if (auto found = find_layout(signature)) return found;
    auto layout = std::make_shared<Layout>();
    layout->signature = std::move(signature);
    layout->texts = spec.global_attributes;
    layout->numbers = spec.global_numeric_attributes;
    const std::filesystem::path layout_path = creation_path.string() + "-layout";
    struct Removed {
        const std::filesystem::path& path;
        ~Removed() { ::unlink(path.c_str()); }
    } removed{layout_path};
    Handle access = file_access_properties(calls);
    file = calls.handle(H5Fcreate(layout_path.c_str(), H5F_ACC_EXCL, creation_properties, access.get()), H5Fclose,
                        "creating the file's layout");
    create_objects();
    close_objects();
    if (file.close() < 0) calls.fail("closing the file's layout");
    std::ifstream in(layout_path, std::ios::binary);
    layout->image.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    if (!in || layout->image.empty())
        throw std::runtime_error("cannot read back '" + layout_path.string() + "', the layout of '" +
                                 temporary_path.string() + "'");
    keep_layout(layout);
    return layout;
}

// This file, in memory, as a copy of `layout` with this file's root attributes; the core driver
// writes it to the hidden name when it is closed.
void Recorder::Impl::open_from_layout(const Layout& layout) {
    Handle access = file_access_properties(calls);
    calls.require(H5Pset_fapl_core(access.get(), kInMemoryIncrement, true), "keeping the file in memory");
    calls.require(H5Pset_file_image(access.get(), const_cast<char*>(layout.image.data()), layout.image.size()),
                  "copying the file's layout");
    // Given an image, the core driver creates its file with open(O_CREAT) once it found none there,
    // not with O_EXCL: so nothing may be at the hidden name, not even a link to nowhere.
    struct stat info {};
    if (::lstat(creation_path.c_str(), &info) == 0)
        throw std::runtime_error("cannot create '" + creation_path.string() + "': something is there");
    if (errno != ENOENT) throw std::runtime_error("cannot create '" + creation_path.string() + "': " + scenario::error_text(errno));
    file = calls.handle(H5Fopen(creation_path.c_str(), H5F_ACC_RDWR, access.get()), H5Fclose, "creating the file");
    for (const auto& [name, value] : spec.global_attributes)
        if (layout.texts.at(name) != value) overwrite_text_attribute(file.get(), name, value, calls);
    for (const auto& [name, value] : spec.global_numeric_attributes) {
        const double old = layout.numbers.at(name);
        if (std::memcmp(&old, &value, sizeof value) != 0) overwrite_number_attribute(file.get(), name, value, calls);
    }
    time_dataset = open_dataset(spec.record_axis);
    for (auto& variable : variables) variable.dataset = open_dataset(variable.spec.name);
    // A table's datasets are opened when it gets rows (open_table()): most runs write none to most.
}

Handle Recorder::Impl::open_dataset(const std::string& name) const {
    return calls.handle(H5Dopen2(file.get(), name.c_str(), H5P_DEFAULT), H5Dclose, "opening '" + name + "'");
}

// The datasets of a table, opened if they are not (a file copied from a layout).
void Recorder::Impl::open_table(Table& table) {
    if (table.row_axis.valid()) return;
    table.row_axis = open_dataset(table.spec.name);
    for (std::size_t i = 0; i < table.columns.size(); ++i)
        table.columns[i].dataset = open_dataset(table.spec.columns[i].name);
}

// Every object of the file but the provenance, in `file`.
void Recorder::Impl::create_objects() {
    if (!spec.global_attributes.contains(kConventionsAttribute)) {
        write_text_attribute(file.get(), kConventionsAttribute, kConventions, calls);
    }
    for (const auto& [name, value] : spec.global_attributes) {
        write_text_attribute(file.get(), name, value, calls);
    }
    for (const auto& [name, value] : spec.global_numeric_attributes) {
        write_number_attribute(file.get(), name, value, calls);
    }
    set_status("incomplete");

    // Dimension scales first, then variables: netCDF numbers both in creation order.
    create_time_axis();
    for (const auto& axis : spec.axes) create_labelled_axis(axis);
    for (auto& variable : variables) create_variable(variable);
    // Tables after the variables: a file without tables keeps the layout it had before tables.
    for (auto& table : tables) create_table(table);
    write_reference_lists();
}

namespace {

// Hidden creation names are `.<name>.incomplete.creating-<pid>-<n>`.
constexpr const char* kCreatingMark = ".incomplete.creating-";

// Removes the hidden creation files in `folder` whose names start with `prefix` (which ends with
// kCreatingMark) and whose process no longer exists.
void remove_abandoned(const std::filesystem::path& folder, const std::string& prefix) {
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(folder, ec)) {
        const std::string name = entry.path().filename().string();
        if (name.rfind(prefix, 0) != 0) continue;
        const long pid = std::atol(name.c_str() + prefix.size());
        if (pid > 0 && ::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH) ::unlink(entry.path().c_str());
    }
}

}  // namespace

// The hidden name the file is created under: `.<name>.incomplete.creating-<pid>-<n>`, in the
// output's folder (so that the rename is atomic). Hidden names left by processes that no longer
// exist (killed while creating their file) are removed first.
void Recorder::Impl::open_unnamed() {
    const std::filesystem::path folder =
        temporary_path.has_parent_path() ? temporary_path.parent_path() : std::filesystem::path(".");
    const std::string prefix = "." + spec.path.filename().string() + kCreatingMark;
    if (!spec.no_abandoned_creation) remove_abandoned(folder, prefix);
    static std::atomic<unsigned> counter{0};
    creation_path = folder / (prefix + std::to_string(::getpid()) + "-" + std::to_string(counter++));
}

// Gives the consistent file its name `<path>.incomplete`, never replacing anything there:
// renameat2(RENAME_NOREPLACE) (or link(), where the file system lacks it) fails if the name exists,
// and does not follow a link there.
void Recorder::Impl::name_file() {
    int result = ::renameat2(AT_FDCWD, creation_path.c_str(), AT_FDCWD, temporary_path.c_str(), RENAME_NOREPLACE);
    if (result != 0 && (errno == EINVAL || errno == ENOSYS || errno == ENOTSUP)) {
        result = ::link(creation_path.c_str(), temporary_path.c_str());
        if (result == 0) ::unlink(creation_path.c_str());
    }
    if (result != 0)
        throw std::runtime_error("cannot create '" + temporary_path.string() + "': " + scenario::error_text(errno));
    creation_path.clear();
}

// Called when creation failed: the file under its hidden name is removed.
void Recorder::Impl::forget_unnamed() {
    if (!creation_path.empty()) ::unlink(creation_path.c_str());
    creation_path.clear();
}

void Recorder::Impl::claim_temporary_path() {
    struct stat info {};
    if (::lstat(temporary_path.c_str(), &info) == 0) {
        if (S_ISDIR(info.st_mode))
            throw std::runtime_error("cannot write '" + temporary_path.string() + "': it is a folder");
        if (!spec.replace_existing)
            throw std::runtime_error("cannot write '" + temporary_path.string() +
                                     "': it exists (the partial output of an earlier run?); replace it only "
                                     "when asked to");
        // unlink() removes a symbolic link itself, never what it points to.
        if (::unlink(temporary_path.c_str()) != 0 && errno != ENOENT)
            throw std::runtime_error("cannot remove '" + temporary_path.string() +
                                     "': " + scenario::error_text(errno));
    }
}

// The last attributes (status, the end of the provenance) are written after single-writer mode
// ends: the file is closed, so every dataset is complete on disk, then reopened for them alone.
void Recorder::Impl::write_closing_attributes(std::string_view status,
                                              const std::map<std::string, std::string>& provenance,
                                              bool stamp_finished) {
    Handle access = file_access_properties(calls);
    Handle reopened = calls.handle(H5Fopen(temporary_path.c_str(), H5F_ACC_RDWR, access.get()), H5Fclose,
                                   "reopening the file to record its status");
    closing_attributes(reopened.get(), status, provenance, stamp_finished);
    if (reopened.close() < 0) calls.fail("closing the file");
}

// The closing attributes, written to `target` (the reopened file, or a file built in memory).
void Recorder::Impl::closing_attributes(hid_t target, std::string_view status,
                                        const std::map<std::string, std::string>& provenance, bool stamp_finished) {
    if (!provenance.empty() || stamp_finished) {
        Handle group = calls.handle(H5Gopen2(target, kProvenanceGroup, H5P_DEFAULT), H5Gclose,
                                    "opening the provenance group");
        for (const auto& [name, value] : provenance) write_text_attribute(group.get(), name, value, calls);
        if (stamp_finished) write_text_attribute(group.get(), "finished", utc_now_iso8601(), calls);
    }
    write_text_attribute(target, kStatusAttribute, status, calls);
}

// Renames the complete file to its final name. Without replace_existing the final name is never
// replaced, even by a file that appeared while the run was going (renameat2 RENAME_NOREPLACE, or
// link + unlink where the file system lacks it).
void Recorder::Impl::publish() {
    const std::string from = temporary_path.string();
    const std::string to = spec.path.string();
    const auto fail = [&](int error) {
        if (error == EEXIST)
            throw std::runtime_error("'" + to + "' appeared while the run was going and is kept; the complete "
                                     "output is '" + from + "'");
        throw std::runtime_error("cannot rename '" + from + "' to '" + to + "': " + scenario::error_text(error));
    };
    if (spec.replace_existing) {
        // POSIX rename replaces an existing file atomically: readers see the old or the new run.
        if (::rename(from.c_str(), to.c_str()) != 0) fail(errno);
        return;
    }
    if (::renameat2(AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(), RENAME_NOREPLACE) == 0) return;
    if (errno != EINVAL && errno != ENOSYS && errno != ENOTSUP) fail(errno);
    if (::link(from.c_str(), to.c_str()) == 0) {
        ::unlink(from.c_str());
        return;
    }
    if (errno == EEXIST) fail(errno);
    struct stat info {};
    if (::lstat(to.c_str(), &info) == 0) fail(EEXIST);
    if (::rename(from.c_str(), to.c_str()) != 0) fail(errno);
}

void Recorder::Impl::write_variable_attributes(hid_t dataset, const std::string& units,
                                               const std::string& long_name,
                                               const std::string& description) {
    write_text_attribute(dataset, "units", units, calls);
    write_text_attribute(dataset, "long_name", long_name, calls);
    if (!description.empty()) write_text_attribute(dataset, "description", description, calls);
}

void Recorder::Impl::create_time_axis() {
    const hsize_t initial = 0;
    const hsize_t maximum = H5S_UNLIMITED;
    Handle space = calls.handle(H5Screate_simple(1, &initial, &maximum), H5Sclose,
                                "creating the time dataspace");
    Handle properties = dataset_creation_properties(calls);
    const hsize_t chunk =
        std::max<hsize_t>(kTimeAxisChunkLength, static_cast<hsize_t>(spec.flush_every_steps));
    calls.require(H5Pset_chunk(properties.get(), 1, &chunk), "chunking the time axis");
    time_dataset = calls.handle(H5Dcreate2(file.get(), spec.record_axis.c_str(), H5T_STD_I64LE, space.get(),
                                           H5P_DEFAULT, properties.get(), H5P_DEFAULT),
                                H5Dclose, "creating the record axis");
    calls.require(H5DSset_scale(time_dataset.get(), spec.record_axis.c_str()),
                  "making '" + spec.record_axis + "' a dimension scale");
    write_variable_attributes(time_dataset.get(), spec.time_units, spec.time_long_name, "");
}

void Recorder::Impl::create_labelled_axis(const LabelledAxis& axis) {
    const std::string action = "creating axis '" + axis.name + "'";
    const hsize_t length = axis.length();
    Handle space = calls.handle(H5Screate_simple(1, &length, nullptr), H5Sclose, action);
    Handle properties = dataset_creation_properties(calls);
    Handle dataset;
    if (axis.values.empty()) {
        Handle type = variable_length_string_type(calls);
        dataset = calls.handle(H5Dcreate2(file.get(), axis.name.c_str(), type.get(), space.get(), H5P_DEFAULT,
                                          properties.get(), H5P_DEFAULT),
                               H5Dclose, action);
        std::vector<const char*> labels;
        labels.reserve(axis.labels.size());
        for (const auto& label : axis.labels) labels.push_back(label.c_str());
        Handle transfer = string_transfer_properties(calls);
        calls.require(H5Dwrite(dataset.get(), type.get(), H5S_ALL, H5S_ALL, transfer.get(), labels.data()),
                      "writing the labels of axis '" + axis.name + "'");
    } else {
        dataset = calls.handle(H5Dcreate2(file.get(), axis.name.c_str(), H5T_STD_I64LE, space.get(), H5P_DEFAULT,
                                          properties.get(), H5P_DEFAULT),
                               H5Dclose, action);
        calls.require(H5Dwrite(dataset.get(), H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, axis.values.data()),
                      "writing the values of axis '" + axis.name + "'");
    }
    calls.require(H5DSset_scale(dataset.get(), axis.name.c_str()),
                  "making '" + axis.name + "' a dimension scale");
    // Labels have no physical unit; CF asks units only of quantities.
    if (!axis.units.empty()) write_text_attribute(dataset.get(), "units", axis.units, calls);
    write_text_attribute(dataset.get(), "long_name", axis.long_name.empty() ? axis.name : axis.long_name,
                         calls);
    axis_datasets.emplace(axis.name, std::move(dataset));
}

void Recorder::Impl::create_variable(Variable& variable) {
    const std::string& name = variable.spec.name;
    const std::string action = "creating variable '" + name + "'";
    std::vector<hsize_t> current = variable.record_shape;
    std::vector<hsize_t> maximum = variable.record_shape;
    if (variable.is_time_series) {
        current.insert(current.begin(), 0);
        maximum.insert(maximum.begin(), H5S_UNLIMITED);
    }
    const int rank = static_cast<int>(current.size());
    Handle space = rank == 0 ? scalar_dataspace(calls)
                             : calls.handle(H5Screate_simple(rank, current.data(), maximum.data()),
                                            H5Sclose, action);
    Handle properties = dataset_creation_properties(calls);
    // Unlimited datasets must be chunked; static ones only need chunks to be compressed.
    if (variable.is_time_series || (rank > 0 && spec.deflate_level > 0)) {
        std::vector<hsize_t> chunk = variable.record_shape;
        if (variable.is_time_series) {
            chunk.insert(chunk.begin(), static_cast<hsize_t>(spec.flush_every_steps));
        }
        chunk = bounded_chunk(std::move(chunk));
        calls.require(H5Pset_chunk(properties.get(), rank, chunk.data()), action);
        apply_compression(properties.get(), spec.deflate_level, calls);
    }
    const hid_t file_type = variable.spec.dtype == DType::Int64 ? H5T_STD_I64LE : H5T_IEEE_F64LE;
    variable.dataset = calls.handle(H5Dcreate2(file.get(), name.c_str(), file_type, space.get(),
                                               H5P_DEFAULT, properties.get(), H5P_DEFAULT),
                                    H5Dclose, action);
    write_variable_attributes(variable.dataset.get(), variable.spec.units, variable.spec.long_name,
                              variable.spec.description);
    if (!variable.spec.coordinates.empty())
        write_text_attribute(variable.dataset.get(), "coordinates", variable.spec.coordinates, calls);
    std::vector<hid_t> scales;
    for (const std::string& axis : variable.spec.dims)
        scales.push_back(axis == spec.record_axis ? time_dataset.get() : axis_datasets.find(axis)->second.get());
    if (!scales.empty()) attach_scales(variable.dataset.get(), scales, name);
}

void Recorder::Impl::create_table(Table& table) {
    const std::string& name = table.spec.name;
    const hsize_t initial = 0;
    const hsize_t maximum = H5S_UNLIMITED;
    const hsize_t chunk = bounded_chunk({kTableChunkRows}).front();
    const auto create_rows_dataset = [&](const std::string& dataset_name, hid_t file_type) {
        const std::string action = "creating '" + dataset_name + "' of table '" + name + "'";
        Handle space = calls.handle(H5Screate_simple(1, &initial, &maximum), H5Sclose, action);
        Handle properties = dataset_creation_properties(calls);
        calls.require(H5Pset_chunk(properties.get(), 1, &chunk), action);
        // The row indices too: a million of them are 8 MB raw and almost nothing deflated.
        apply_compression(properties.get(), spec.deflate_level, calls);
        return calls.handle(H5Dcreate2(file.get(), dataset_name.c_str(), file_type, space.get(),
                                       H5P_DEFAULT, properties.get(), H5P_DEFAULT),
                            H5Dclose, action);
    };
    table.row_axis = create_rows_dataset(name, H5T_STD_I64LE);
    calls.require(H5DSset_scale(table.row_axis.get(), name.c_str()),
                  "making '" + name + "' a dimension scale");
    write_variable_attributes(table.row_axis.get(), "1",
                              table.spec.long_name.empty() ? name : table.spec.long_name, "");
    write_text_attribute(table.row_axis.get(), kRoleAttribute, kTableRowIndexRole, calls);
    for (std::size_t i = 0; i < table.columns.size(); ++i) {
        const VariableSpec& column_spec = table.spec.columns[i];
        Column& column = table.columns[i];
        column.dataset = create_rows_dataset(
            column_spec.name, column_spec.dtype == DType::Int64 ? H5T_STD_I64LE : H5T_IEEE_F64LE);
        write_variable_attributes(column.dataset.get(), column_spec.units, column_spec.long_name,
                                  column_spec.description);
        if (!column_spec.coordinates.empty()) {
            write_text_attribute(column.dataset.get(), "coordinates", column_spec.coordinates, calls);
        }
        attach_scales(column.dataset.get(), {table.row_axis.get()}, column_spec.name);
    }
}

// What H5DSattach_scale writes, written once per dataset and once per scale: H5DSattach_scale
// rereads, deletes and rewrites a scale's whole REFERENCE_LIST at every attach and opens the
// scales already attached again, which made attaching a third of a file's creation. The attributes
// are HDF5 1.10's H5DS ones (the same types, values and creation order), so H5DS, netCDF, h5py and
// xarray read them as before. On the dataset, DIMENSION_LIST: per dimension a variable-length list
// of object references (here one each), created after the dataset's other attributes, where the
// first attach created it. On each scale, REFERENCE_LIST (write_reference_lists()).
void Recorder::Impl::attach_scales(hid_t dataset, const std::vector<hid_t>& scales, const std::string& name) {
    const std::string action = "attaching the axes of '" + name + "'";
    hobj_ref_t self{};
    calls.require(H5Rcreate(&self, dataset, ".", H5R_OBJECT, -1), action);
    std::vector<hobj_ref_t> references(scales.size());
    std::vector<hvl_t> lists(scales.size());
    for (std::size_t dim = 0; dim < scales.size(); ++dim) {
        const auto [use, first] = scale_uses.try_emplace(scales[dim]);
        if (first) {
            calls.require(H5Rcreate(&use->second.reference, scales[dim], ".", H5R_OBJECT, -1), action);
            scale_order.push_back(scales[dim]);
        }
        use->second.attached.emplace_back(self, static_cast<int>(dim));
        references[dim] = use->second.reference;
        lists[dim] = hvl_t{1, &references[dim]};
    }
    const hsize_t rank = scales.size();
    Handle space = calls.handle(H5Screate_simple(1, &rank, nullptr), H5Sclose, action);
    Handle type = calls.handle(H5Tvlen_create(H5T_STD_REF_OBJ), H5Tclose, action);
    Handle attribute = calls.handle(
        H5Acreate2(dataset, "DIMENSION_LIST", type.get(), space.get(), H5P_DEFAULT, H5P_DEFAULT), H5Aclose, action);
    calls.require(H5Awrite(attribute.get(), type.get(), lists.data()), action);
}

// Each scale's REFERENCE_LIST: per attached dimension, in attach order, the compound
// {dataset: object reference, dimension: int} of H5DS's ds_list_t. Written once every dataset is
// attached; H5DS recreates it at each attach, so there too it ends up the scale's last attribute.
void Recorder::Impl::write_reference_lists() {
    const std::string action = "writing the dimension scales' reference lists";
    struct Entry {  // H5DS's ds_list_t
        hobj_ref_t dataset;
        int dimension;
    };
    Handle type = calls.handle(H5Tcreate(H5T_COMPOUND, sizeof(Entry)), H5Tclose, action);
    calls.require(H5Tinsert(type.get(), "dataset", offsetof(Entry, dataset), H5T_STD_REF_OBJ), action);
    calls.require(H5Tinsert(type.get(), "dimension", offsetof(Entry, dimension), H5T_NATIVE_INT), action);
    for (const hid_t scale : scale_order) {
        std::vector<Entry> entries;
        for (const auto& [dataset, dimension] : scale_uses.at(scale).attached) entries.push_back({dataset, dimension});
        const hsize_t count = entries.size();
        Handle space = calls.handle(H5Screate_simple(1, &count, nullptr), H5Sclose, action);
        Handle attribute = calls.handle(
            H5Acreate2(scale, "REFERENCE_LIST", type.get(), space.get(), H5P_DEFAULT, H5P_DEFAULT), H5Aclose, action);
        calls.require(H5Awrite(attribute.get(), type.get(), entries.data()), action);
    }
    scale_uses.clear();
    scale_order.clear();
}

void Recorder::Impl::create_provenance() {
    Handle properties = group_creation_properties(calls);
    Handle group = calls.handle(
        H5Gcreate2(file.get(), kProvenanceGroup, H5P_DEFAULT, properties.get(), H5P_DEFAULT),
        H5Gclose, "creating the provenance group");
    for (const auto& [name, value] : spec.provenance_attributes) {
        write_text_attribute(group.get(), name, value, calls);
    }
    // Large texts are datasets, not attributes: attributes over 64 KiB need dense storage, and
    // netCDF tools print every attribute with the header.
    for (const auto& [name, text] : spec.provenance_texts) {
        const std::string action = "writing provenance text '" + name + "'";
        Handle space = scalar_dataspace(calls);
        Handle type = variable_length_string_type(calls);
        Handle dataset_properties = dataset_creation_properties(calls);
        Handle dataset = calls.handle(H5Dcreate2(group.get(), name.c_str(), type.get(), space.get(),
                                                 H5P_DEFAULT, dataset_properties.get(), H5P_DEFAULT),
                                      H5Dclose, action);
        const char* pointer = text.c_str();
        Handle transfer = string_transfer_properties(calls);
        calls.require(H5Dwrite(dataset.get(), type.get(), H5S_ALL, H5S_ALL, transfer.get(), &pointer),
                      action);
    }
}

void Recorder::Impl::require_open(std::string_view operation) const {
    if (closed) {
        throw std::logic_error("recorder '" + spec.path.string() + "': " + std::string(operation) +
                               " after finish() or abort()");
    }
}

Recorder::Impl::Variable& Recorder::Impl::find_variable(std::string_view name,
                                                       std::string_view operation) {
    const auto found = variable_index.find(name);
    if (found == variable_index.end()) {
        throw std::invalid_argument("recorder '" + spec.path.string() + "': " +
                                    std::string(operation) + ": unknown variable '" +
                                    std::string(name) + "'");
    }
    return variables[found->second];
}

Recorder::Impl::Table& Recorder::Impl::find_table(std::string_view name, std::string_view operation) {
    const auto found = table_index.find(name);
    if (found == table_index.end()) {
        throw std::invalid_argument("recorder '" + spec.path.string() + "': " +
                                    std::string(operation) + ": unknown table '" +
                                    std::string(name) + "'");
    }
    return tables[found->second];
}

template <typename Value>
void Recorder::Impl::put(std::string_view name, std::span<const Value> values) {
    require_open("put()");
    if (!record_open) {
        throw std::logic_error("recorder '" + spec.path.string() + "': put('" + std::string(name) +
                               "') outside begin_record() ... end_record()");
    }
    Variable& variable = find_variable(name, "put()");
    if (!variable.is_time_series) {
        throw std::invalid_argument("recorder: variable '" + variable.spec.name +
                                    "' has no time axis; use write_static()");
    }
    // No silent conversion: rounding a float into an integer variable would change the data.
    if (variable.spec.dtype != dtype_of<Value>()) {
        throw std::invalid_argument("recorder: variable '" + variable.spec.name + "' is " +
                                    dtype_name(variable.spec.dtype) + ", got " +
                                    dtype_name(dtype_of<Value>()) + " values");
    }
    if (variable.put_in_open_record) {
        throw std::logic_error("recorder: variable '" + variable.spec.name +
                               "' put twice in the record for time " +
                               std::to_string(open_record_time));
    }
    if (values.size() != variable.values_per_record) {
        throw std::invalid_argument("recorder: variable '" + variable.spec.name + "': expected " +
                                    std::to_string(variable.values_per_record) +
                                    " values per record, got " + std::to_string(values.size()));
    }
    if constexpr (std::is_same_v<Value, std::int64_t>) {
        variable.int_buffer.insert(variable.int_buffer.end(), values.begin(), values.end());
    } else {
        variable.float_buffer.insert(variable.float_buffer.end(), values.begin(), values.end());
    }
    variable.put_in_open_record = true;
}

template <typename Value>
void Recorder::Impl::write_static(std::string_view name, std::span<const Value> values) {
    require_open("write_static()");
    Variable& variable = find_variable(name, "write_static()");
    if (variable.is_time_series) {
        throw std::invalid_argument("recorder: variable '" + variable.spec.name +
                                    "' is a time series; use put() within a record");
    }
    if (variable.spec.dtype != dtype_of<Value>()) {
        throw std::invalid_argument("recorder: variable '" + variable.spec.name + "' is " +
                                    dtype_name(variable.spec.dtype) + ", got " +
                                    dtype_name(dtype_of<Value>()) + " values");
    }
    if (variable.static_written) {
        throw std::logic_error("recorder: static variable '" + variable.spec.name +
                               "' written twice");
    }
    if (values.size() != variable.values_per_record) {
        throw std::invalid_argument("recorder: variable '" + variable.spec.name + "': expected " +
                                    std::to_string(variable.values_per_record) + " values, got " +
                                    std::to_string(values.size()));
    }
    writer.wait();  // the file is written by one thread at a time
    if (write_failed) calls.fail("writing after an earlier failed write");
    const SilencedHdf5ErrorPrinting silenced;
    const hid_t memory_type =
        std::is_same_v<Value, std::int64_t> ? H5T_NATIVE_INT64 : H5T_NATIVE_DOUBLE;
    calls.require(H5Dwrite(variable.dataset.get(), memory_type, H5S_ALL, H5S_ALL, H5P_DEFAULT,
                           values.data()),
                  "writing static variable '" + variable.spec.name + "'");
    variable.static_written = true;
    if (spec.keep_values) {
        if constexpr (std::is_same_v<Value, std::int64_t>) variable.kept_integers.assign(values.begin(), values.end());
        else variable.kept_floats.assign(values.begin(), values.end());
    }
}

void Recorder::Impl::end_record() {
    require_open("end_record()");
    if (!record_open) {
        throw std::logic_error("recorder '" + spec.path.string() +
                               "': end_record() without begin_record()");
    }
    std::string missing;
    for (const auto& variable : variables) {
        if (variable.is_time_series && !variable.put_in_open_record) {
            missing += (missing.empty() ? "'" : ", '") + variable.spec.name + "'";
        }
    }
    const std::size_t buffered = buffered_times.size();
    if (!missing.empty()) {
        // Discard the incomplete record so that the recorder stays consistent: the caller may
        // still abort() and keep every complete record.
        for (auto& variable : variables) {
            if (!variable.put_in_open_record) continue;
            const std::size_t complete_values = buffered * variable.values_per_record;
            if (variable.spec.dtype == DType::Int64) {
                variable.int_buffer.resize(complete_values);
            } else {
                variable.float_buffer.resize(complete_values);
            }
            variable.put_in_open_record = false;
        }
        record_open = false;
        throw std::logic_error("recorder '" + spec.path.string() + "': end_record() for time " +
                               std::to_string(open_record_time) + ": variable " + missing +
                               " not put in the record");
    }
    for (auto& variable : variables) {
        variable.put_in_open_record = false;
        if (!spec.keep_values || !variable.is_time_series) continue;
        // This record's values are the buffer's last values_per_record.
        const auto record = static_cast<std::ptrdiff_t>(variable.values_per_record);
        if (variable.spec.dtype == DType::Int64)
            variable.kept_integers.insert(variable.kept_integers.end(), variable.int_buffer.end() - record,
                                          variable.int_buffer.end());
        else
            variable.kept_floats.insert(variable.kept_floats.end(), variable.float_buffer.end() - record,
                                        variable.float_buffer.end());
    }
    buffered_times.push_back(open_record_time);
    record_open = false;
    ++records_total;
    if (buffered_times.size() >= static_cast<std::size_t>(spec.flush_every_steps)) {
        Batch batch = take_records();
        for (auto& table : tables) take_rows(table, batch);
        batch.flush = true;
        post(std::move(batch));
    }
}

namespace {

// Makes room for `more` values with geometric growth: reserving exactly, batch after batch, would
// copy the buffer at every batch.
template <typename Value>
void reserve_for_more(std::vector<Value>& buffer, std::size_t more) {
    const std::size_t needed = buffer.size() + more;
    if (needed > buffer.capacity()) buffer.reserve(std::max(needed, 2 * buffer.capacity()));
}

DType dtype_of(const Recorder::ColumnValues& values) {
    return std::holds_alternative<std::span<const std::int64_t>>(values.values) ? DType::Int64
                                                                                 : DType::Float64;
}

std::size_t value_count(const Recorder::ColumnValues& values) {
    return std::visit([](const auto& span) { return span.size(); }, values.values);
}

}  // namespace

void Recorder::Impl::append_rows(std::string_view table_name, std::span<const ColumnValues> given) {
    require_open("append_rows()");
    Table& table = find_table(table_name, "append_rows()");
    const auto where = [&table] { return "recorder: table '" + table.spec.name + "'"; };
    // Everything is checked before anything is buffered, so that a rejected call appends nothing.
    std::vector<const ColumnValues*> given_by_column(table.columns.size(), nullptr);
    const ColumnValues* first_given = nullptr;
    for (const auto& values : given) {
        const auto found = table.column_index.find(values.column);
        if (found == table.column_index.end()) {
            throw std::invalid_argument(where() + ": append_rows(): unknown column '" +
                                        std::string(values.column) + "'");
        }
        const VariableSpec& column = table.spec.columns[found->second];
        if (given_by_column[found->second] != nullptr) {
            throw std::invalid_argument(where() + ": append_rows(): column '" + column.name +
                                        "' given twice");
        }
        if (dtype_of(values) != column.dtype) {
            throw std::invalid_argument(where() + ": column '" + column.name + "' is " +
                                        dtype_name(column.dtype) + ", got " +
                                        dtype_name(dtype_of(values)) + " values");
        }
        if (first_given != nullptr && value_count(values) != value_count(*first_given)) {
            throw std::invalid_argument(
                where() + ": append_rows(): columns of unequal length: '" +
                std::string(first_given->column) + "' has " + std::to_string(value_count(*first_given)) +
                " values, '" + column.name + "' has " + std::to_string(value_count(values)));
        }
        if (first_given == nullptr) first_given = &values;
        given_by_column[found->second] = &values;
    }
    std::string missing;
    for (std::size_t i = 0; i < table.columns.size(); ++i) {
        if (given_by_column[i] == nullptr) {
            missing += (missing.empty() ? "'" : ", '") + table.spec.columns[i].name + "'";
        }
    }
    if (!missing.empty()) {
        throw std::invalid_argument(where() + ": append_rows() without column " + missing);
    }
    const std::size_t rows = value_count(*first_given);
    if (rows == 0) return;
    // Room first: once every buffer has it, copying cannot fail part-way through the columns.
    for (std::size_t i = 0; i < table.columns.size(); ++i) {
        Column& column = table.columns[i];
        if (table.spec.columns[i].dtype == DType::Int64) {
            reserve_for_more(column.int_buffer, rows);
        } else {
            reserve_for_more(column.float_buffer, rows);
        }
    }
    for (std::size_t i = 0; i < table.columns.size(); ++i) {
        Column& column = table.columns[i];
        std::visit(
            [&column](const auto& values) {
                using Value = typename std::decay_t<decltype(values)>::value_type;
                if constexpr (std::is_same_v<Value, std::int64_t>) {
                    column.int_buffer.insert(column.int_buffer.end(), values.begin(), values.end());
                } else {
                    column.float_buffer.insert(column.float_buffer.end(), values.begin(), values.end());
                }
            },
            given_by_column[i]->values);
    }
    table.rows_buffered += rows;
    table.rows_total += static_cast<std::int64_t>(rows);
    // Flushed too, as records are: then what left memory is also what a reader or a crash sees,
    // at the cost of one flush per kTableBufferRows rows.
    if (table.rows_buffered >= kTableBufferRows) {
        Batch batch;
        batch.rows.resize(tables.size());
        take_rows(table, batch);
        batch.flush = true;
        post(std::move(batch));
    }
}

// Grows `dataset` along its first axis from `first` (its current length) by `block`'s first extent
// and writes `values` there.
void Recorder::Impl::extend_and_write(hid_t dataset, hsize_t first, std::vector<hsize_t> block,
                                      hid_t memory_type, const void* values,
                                      const std::string& dataset_name) {
    const std::string action = "appending to '" + dataset_name + "'";
    std::vector<hsize_t> extent = block;
    extent.front() = first + block.front();
    calls.require(H5Dset_extent(dataset, extent.data()), action);
    Handle file_space = calls.handle(H5Dget_space(dataset), H5Sclose, action);
    std::vector<hsize_t> start(block.size(), 0);
    start.front() = first;
    calls.require(H5Sselect_hyperslab(file_space.get(), H5S_SELECT_SET, start.data(), nullptr,
                                      block.data(), nullptr),
                  action);
    Handle memory_space = calls.handle(
        H5Screate_simple(static_cast<int>(block.size()), block.data(), nullptr), H5Sclose, action);
    calls.require(H5Dwrite(dataset, memory_type, memory_space.get(), file_space.get(), H5P_DEFAULT,
                           values),
                  action);
}

Recorder::Impl::Batch Recorder::Impl::take_records() {
    Batch batch;
    batch.rows.resize(tables.size());
    const std::size_t count = buffered_times.size();
    if (count == 0) return batch;
    batch.times = std::move(buffered_times);
    buffered_times.clear();
    batch.record_floats.resize(variables.size());
    batch.record_ints.resize(variables.size());
    // Complete records only: what an open record has put so far stays (flush() may come between
    // put() and end_record()). Copied rather than moved, so that the buffers keep their capacity.
    for (std::size_t v = 0; v < variables.size(); ++v) {
        Variable& variable = variables[v];
        if (!variable.is_time_series) continue;
        const auto written = static_cast<std::ptrdiff_t>(count * variable.values_per_record);
        const auto take = [written](auto& buffer, auto& to) {
            to.assign(buffer.begin(), buffer.begin() + written);
            buffer.erase(buffer.begin(), buffer.begin() + written);
        };
        if (variable.spec.dtype == DType::Int64) take(variable.int_buffer, batch.record_ints[v]);
        else take(variable.float_buffer, batch.record_floats[v]);
    }
    return batch;
}

void Recorder::Impl::take_rows(Table& table, Batch& batch) {
    Batch::Rows& rows = batch.rows[static_cast<std::size_t>(&table - tables.data())];
    rows.count = table.rows_buffered;
    if (rows.count == 0) return;
    rows.floats.resize(table.columns.size());
    rows.ints.resize(table.columns.size());
    for (std::size_t i = 0; i < table.columns.size(); ++i) {
        Column& column = table.columns[i];
        rows.floats[i].assign(column.float_buffer.begin(), column.float_buffer.end());
        rows.ints[i].assign(column.int_buffer.begin(), column.int_buffer.end());
    }
    table.rows_buffered = 0;
    // One huge batch must not pin its memory for the rest of the run; ordinary growth up to the
    // buffer bound is kept for the next rows.
    const auto empty = [](auto& buffer) {
        buffer.clear();
        if (buffer.capacity() > 2 * kTableBufferRows) buffer.shrink_to_fit();
    };
    for (auto& column : table.columns) {
        empty(column.int_buffer);
        empty(column.float_buffer);
    }
}

void Recorder::Impl::write_records(const Batch& batch) {
    const std::size_t count = batch.times.size();
    if (count == 0) return;
    if (write_failed) calls.fail("writing after an earlier failed write");
    try {
        // The variables first, then the record axis that counts their records, with a flush
        // between: SWMR orders the writes of one dataset, not those of several, so this is what
        // keeps the record axis on disk from counting a record that some variable lacks.
        for (std::size_t v = 0; v < variables.size(); ++v) {
            const Variable& variable = variables[v];
            if (!variable.is_time_series) continue;
            std::vector<hsize_t> block = variable.record_shape;
            block.insert(block.begin(), count);
            if (variable.spec.dtype == DType::Int64) {
                extend_and_write(variable.dataset.get(), records_on_disk, std::move(block),
                                 H5T_NATIVE_INT64, batch.record_ints[v].data(), variable.spec.name);
            } else {
                extend_and_write(variable.dataset.get(), records_on_disk, std::move(block),
                                 H5T_NATIVE_DOUBLE, batch.record_floats[v].data(), variable.spec.name);
            }
        }
        flush_file();
        extend_and_write(time_dataset.get(), records_on_disk, {count}, H5T_NATIVE_INT64,
                         batch.times.data(), spec.record_axis);
    } catch (...) {
        write_failed = true;
        throw;
    }
    records_on_disk += count;
}

void Recorder::Impl::write_rows(std::size_t table_number, const Batch::Rows& rows) {
    Table& table = tables[table_number];
    const std::size_t count = rows.count;
    if (count == 0) return;
    if (write_failed) calls.fail("writing after an earlier failed write");
    try {
        open_table(table);
        // The columns first, then the row axis, with a flush between (as for records).
        for (std::size_t i = 0; i < table.columns.size(); ++i) {
            const Column& column = table.columns[i];
            const std::string& name = table.spec.columns[i].name;
            if (table.spec.columns[i].dtype == DType::Int64) {
                extend_and_write(column.dataset.get(), table.rows_on_disk, {count}, H5T_NATIVE_INT64,
                                 rows.ints[i].data(), name);
            } else {
                extend_and_write(column.dataset.get(), table.rows_on_disk, {count}, H5T_NATIVE_DOUBLE,
                                 rows.floats[i].data(), name);
            }
        }
        flush_file();
        std::vector<std::int64_t> row_indices(count);
        std::iota(row_indices.begin(), row_indices.end(), static_cast<std::int64_t>(table.rows_on_disk));
        extend_and_write(table.row_axis.get(), table.rows_on_disk, {count}, H5T_NATIVE_INT64,
                         row_indices.data(), table.spec.name);
    } catch (...) {
        write_failed = true;
        throw;
    }
    table.rows_on_disk += count;
}

void Recorder::Impl::write_batch(const Batch& batch) {
    write_records(batch);
    for (std::size_t t = 0; t < batch.rows.size(); ++t) write_rows(t, batch.rows[t]);
    if (batch.flush) flush_file();
}

void Recorder::Impl::write_buffers() {
    Batch batch = take_records();
    for (auto& table : tables) take_rows(table, batch);
    write_batch(batch);
}

void Recorder::Impl::post(Batch batch) {
    writer.post([this, batch = std::make_shared<Batch>(std::move(batch))] { write_batch(*batch); });
}

void Recorder::Impl::flush_file() {
    // A file built in memory reaches the disk whole, once, at its end: a flush would write it all.
    if (spec.in_memory) return;
    calls.require(H5Fflush(file.get(), H5F_SCOPE_LOCAL), "flushing the file");
}

void Recorder::Impl::set_status(std::string_view status) {
    write_text_attribute(file.get(), kStatusAttribute, status, calls);
}

void Recorder::Impl::close_objects() {
    for (auto& variable : variables) variable.dataset.reset();
    for (auto& table : tables) {
        for (auto& column : table.columns) column.dataset.reset();
        table.row_axis.reset();
    }
    axis_datasets.clear();
    time_dataset.reset();
}

void Recorder::Impl::close_file() {
    close_objects();
    closed = true;
    if (file.close() < 0) calls.fail("closing the file");
}

void Recorder::Impl::finish(const std::map<std::string, std::string>& final_provenance) {
    require_open("finish()");
    if (record_open) {
        throw std::logic_error("recorder '" + spec.path.string() +
                               "': finish() inside a record (begin_record() without end_record())");
    }
    std::string unwritten;
    for (const auto& variable : variables) {
        if (!variable.is_time_series && !variable.static_written) {
            unwritten += (unwritten.empty() ? "'" : ", '") + variable.spec.name + "'";
        }
    }
    if (!unwritten.empty()) {
        throw std::logic_error("recorder '" + spec.path.string() + "': finish() with static variable " +
                               unwritten + " never written");
    }
    for (const auto& [name, value] : final_provenance) require_valid_name(name, "provenance attribute");

    writer.stop_and_rethrow();  // from here on this thread writes the file
    const SilencedHdf5ErrorPrinting silenced;
    write_buffers();
    if (spec.in_memory) {
        closing_attributes(file.get(), "complete", final_provenance, true);
        write_in_memory_file();
    } else {
        close_file();
        write_closing_attributes("complete", final_provenance, true);
    }
    publish();
    finished = true;
}

// Closes a file built in memory, which the core driver then writes whole to its hidden name, and
// names it `<path>.incomplete` (finish() then renames it into place at once). A file that could
// not be written is removed.
void Recorder::Impl::write_in_memory_file() {
    try {
        close_file();
    } catch (...) {
        forget_unnamed();
        throw;
    }
    name_file();
}

void Recorder::Impl::abort(std::string_view reason) {
    if (closed) return;
    const SilencedHdf5ErrorPrinting silenced;
    // A record still open is incomplete and is dropped; complete records are kept.
    record_open = false;
    writer.stop();  // what was handed to it is written first
    std::exception_ptr first_error = writer.failure();
    const auto attempt = [&first_error](const auto& step) {
        try {
            step();
        } catch (...) {
            if (!first_error) first_error = std::current_exception();
        }
    };
    if (!write_failed) attempt([this] { write_buffers(); });
    const std::string status = reason.empty() ? std::string("incomplete") : "incomplete: " + std::string(reason);
    if (spec.in_memory) {
        attempt([this, &status] { closing_attributes(file.get(), status, {}, false); });
        attempt([this] { write_in_memory_file(); });
        if (first_error) std::rethrow_exception(first_error);
        return;
    }
    attempt([this] { close_file(); });
    // The file says "incomplete" since it was created; the reason is added when the file can be
    // reopened (not, say, on a full disk).
    attempt([this, &status] { write_closing_attributes(status, {}, false); });
    if (first_error) std::rethrow_exception(first_error);
}

Recorder::Recorder(FileSpec spec) : impl_(std::make_unique<Impl>(std::move(spec))) {}

Recorder::~Recorder() {
    if (!impl_ || impl_->closed) return;
    try {
        impl_->abort("not finished");
    } catch (...) {
        // A destructor must not throw; the file keeps its temporary name whatever happened.
    }
}

void Recorder::write_static(std::string_view variable, std::span<const double> values) {
    impl_->write_static(variable, values);
}

void Recorder::write_static(std::string_view variable, std::span<const std::int64_t> values) {
    impl_->write_static(variable, values);
}

void Recorder::begin_record(std::int64_t time_value) {
    impl_->require_open("begin_record()");
    if (impl_->record_open) {
        throw std::logic_error("recorder '" + impl_->spec.path.string() + "': begin_record(" +
                               std::to_string(time_value) + ") while the record for time " +
                               std::to_string(impl_->open_record_time) + " is open");
    }
    impl_->record_open = true;
    impl_->open_record_time = time_value;
}

void Recorder::put(std::string_view variable, std::span<const double> values) {
    impl_->put(variable, values);
}

void Recorder::put(std::string_view variable, std::span<const std::int64_t> values) {
    impl_->put(variable, values);
}

void Recorder::end_record() { impl_->end_record(); }

void Recorder::append_rows(std::string_view table, std::span<const ColumnValues> columns) {
    impl_->append_rows(table, columns);
}

std::int64_t Recorder::rows_appended(std::string_view table) const {
    return impl_->find_table(table, "rows_appended()").rows_total;
}

void Recorder::flush() {
    impl_->require_open("flush()");
    Impl::Batch batch = impl_->take_records();
    for (auto& table : impl_->tables) impl_->take_rows(table, batch);
    batch.flush = true;
    impl_->post(std::move(batch));
    impl_->writer.wait();
}

double Recorder::writer_cpu_seconds() const { return impl_->writer.cpu_seconds(); }

void Recorder::finish(const std::map<std::string, std::string>& final_provenance) {
    impl_->finish(final_provenance);
}

void Recorder::abort(std::string_view reason) { impl_->abort(reason); }

KeptValues Recorder::take_kept_values() {
    KeptValues kept;
    if (!impl_->spec.keep_values || !impl_->finished) return kept;
    std::size_t names = 0, floats = 0, integers = 0;
    for (const auto& variable : impl_->variables) {
        names += variable.spec.name.size();
        floats += variable.kept_floats.size();
        integers += variable.kept_integers.size();
    }
    kept.names_.reserve(names);
    kept.entries_.reserve(impl_->variables.size());
    kept.floats_.reserve(floats);
    kept.integers_.reserve(integers);
    for (auto& variable : impl_->variables) {
        kept.names_ += variable.spec.name;
        const bool integer = variable.spec.dtype == DType::Int64;
        const std::size_t first = integer ? kept.integers_.size() : kept.floats_.size();
        if (integer) kept.integers_.insert(kept.integers_.end(), variable.kept_integers.begin(), variable.kept_integers.end());
        else kept.floats_.insert(kept.floats_.end(), variable.kept_floats.begin(), variable.kept_floats.end());
        kept.entries_.push_back({kept.names_.size(), integer, first, integer ? kept.integers_.size() : kept.floats_.size()});
        std::vector<double>().swap(variable.kept_floats);
        std::vector<std::int64_t>().swap(variable.kept_integers);
    }
    impl_->spec.keep_values = false;
    return kept;
}

const KeptValues::Entry* KeptValues::find(std::string_view variable) const {
    std::size_t name_start = 0;
    for (const Entry& entry : entries_) {
        if (std::string_view(names_).substr(name_start, entry.name_end - name_start) == variable) return &entry;
        name_start = entry.name_end;
    }
    return nullptr;
}

std::optional<std::span<const double>> KeptValues::floats(std::string_view variable) const {
    const Entry* entry = find(variable);
    if (entry == nullptr || entry->integer) return std::nullopt;
    return std::span<const double>(floats_).subspan(entry->first, entry->end - entry->first);
}

std::optional<std::span<const std::int64_t>> KeptValues::integers(std::string_view variable) const {
    const Entry* entry = find(variable);
    if (entry == nullptr || !entry->integer) return std::nullopt;
    return std::span<const std::int64_t>(integers_).subspan(entry->first, entry->end - entry->first);
}

std::int64_t Recorder::records_written() const { return impl_->records_total; }

const std::filesystem::path& Recorder::temporary_path() const { return impl_->temporary_path; }

const std::filesystem::path& Recorder::final_path() const { return impl_->spec.path; }

// =================================================================================================
// Reader
// =================================================================================================

struct Reader::Impl {
    explicit Impl(const std::filesystem::path& file_path) : calls(file_path) {}

    [[noreturn]] void fail(const std::string& message) const {
        throw std::runtime_error("HDF5 file '" + calls.file_path().string() + "': " + message);
    }
    // Opens first and looks the link up only when that fails, for the message: a sweep's combine
    // opens every variable of every run, and the lookup cost as much as the opening.
    Handle open_dataset(hid_t location, const std::string& name, std::string_view what) const {
        if (name.empty() || name.find('/') != std::string::npos) fail("no " + std::string(what) + " '" + name + "'");
        const hid_t dataset = H5Dopen2(location, name.c_str(), H5P_DEFAULT);
        if (dataset >= 0) return Handle(dataset, H5Dclose);
        const std::string reason = hdf5_error_stack_text();  // before the next call clears the stack
        if (!calls.test(H5Lexists(location, name.c_str(), H5P_DEFAULT),
                        "looking up " + std::string(what) + " '" + name + "'")) {
            fail("no " + std::string(what) + " '" + name + "'");
        }
        fail("opening " + std::string(what) + " '" + name + "' failed: " + reason);
    }
    std::optional<Handle> open_provenance() const {
        if (!calls.test(H5Lexists(file.get(), kProvenanceGroup, H5P_DEFAULT),
                        "looking up the provenance group")) {
            return std::nullopt;
        }
        return calls.handle(H5Gopen2(file.get(), kProvenanceGroup, H5P_DEFAULT), H5Gclose,
                            "opening the provenance group");
    }
    // Reads `count` records of a numeric dataset as doubles, starting at `first` along axis 0
    // (the whole dataset when `whole`).
    std::vector<double> read_doubles(hid_t dataset, const std::string& name, bool whole,
                                     hsize_t first) const;

    struct RootDataset {
        std::string name;
        Handle dataset;
        bool is_scale = false;
        bool is_table_row_axis = false;
    };
    // The root group's datasets in creation order (name order in files that do not track it).
    std::vector<RootDataset> root_datasets() const;
    bool is_table_row_axis(hid_t dataset) const {
        return text_attribute(dataset, kRoleAttribute, calls) == kTableRowIndexRole;
    }
    // A table's column is any other dataset whose one dimension is the table's row axis.
    bool is_column_of(const RootDataset& dataset, const std::string& table) const {
        return !dataset.is_scale &&
               dimension_names(dataset.dataset.get(), dataset.name, calls) == std::vector<std::string>{table};
    }
    void require_table(const std::string& table) const {
        Handle dataset = open_dataset(file.get(), table, "table");
        if (!calls.test(H5DSis_scale(dataset.get()), "reading table '" + table + "'") ||
            !is_table_row_axis(dataset.get())) {
            fail("'" + table + "' is not a table");
        }
    }

    Hdf5Calls calls;
    Handle file;
};

std::vector<double> Reader::Impl::read_doubles(hid_t dataset, const std::string& name, bool whole,
                                               hsize_t first) const {
    const std::string action = "reading variable '" + name + "'";
    Handle type = calls.handle(H5Dget_type(dataset), H5Tclose, action);
    const H5T_class_t type_class = H5Tget_class(type.get());
    if (type_class != H5T_INTEGER && type_class != H5T_FLOAT) fail("'" + name + "' is not numeric");
    Handle file_space = calls.handle(H5Dget_space(dataset), H5Sclose, action);
    const std::vector<hsize_t> extent = dataset_extent(dataset, calls, "'" + name + "'");
    if (whole) {
        const hssize_t count = H5Sget_simple_extent_npoints(file_space.get());
        if (count < 0) calls.fail(action);
        std::vector<double> values(static_cast<std::size_t>(count));
        if (count > 0) {
            calls.require(H5Dread(dataset, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT,
                                  values.data()),
                          action);
        }
        return values;
    }
    std::vector<hsize_t> start(extent.size(), 0);
    std::vector<hsize_t> block = extent;
    start.front() = first;
    block.front() = 1;
    calls.require(H5Sselect_hyperslab(file_space.get(), H5S_SELECT_SET, start.data(), nullptr,
                                      block.data(), nullptr),
                  action);
    const hsize_t count = std::accumulate(block.begin(), block.end(), hsize_t{1},
                                          [](hsize_t product, hsize_t length) { return product * length; });
    std::vector<double> values(static_cast<std::size_t>(count));
    if (count == 0) return values;
    Handle memory_space = calls.handle(H5Screate_simple(1, &count, nullptr), H5Sclose, action);
    calls.require(H5Dread(dataset, H5T_NATIVE_DOUBLE, memory_space.get(), file_space.get(),
                          H5P_DEFAULT, values.data()),
                  action);
    return values;
}

Reader::Reader(const std::filesystem::path& path) : impl_(std::make_unique<Impl>(path)) {
    // Checked first: HDF5 would block on a FIFO and report a folder as a read error deep in its stack.
    struct stat info {};
    if (::stat(path.c_str(), &info) != 0) impl_->fail(scenario::error_text(errno));
    if (S_ISDIR(info.st_mode))
        impl_->fail("it is a folder, not an HDF5 file (a sweep's folder? its runs are in sweep.h5 and runs/)");
    if (!S_ISREG(info.st_mode)) impl_->fail("it is not a regular file");
    const SilencedHdf5ErrorPrinting silenced;
    // A small file is read into memory in one go (HDF5's core driver, without writing back): its
    // objects are then opened from memory, not by a read() of a few bytes each, which made
    // opening and reading the runs most of a sweep's combine.
    constexpr off_t kReadWholeBytes = off_t{16} << 20;
    Handle access = make_property_list(H5P_FILE_ACCESS, impl_->calls);
    if (info.st_size <= kReadWholeBytes)
        impl_->calls.require(H5Pset_fapl_core(access.get(), std::size_t{1} << 20, false), "reading the file into memory");
    hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDONLY, access.get());
    if (file < 0) {
        const std::vector<std::string> stack = hdf5_error_stack();
        const bool still_marked = std::any_of(stack.begin(), stack.end(), [](const std::string& d) {
            return d.find("file is already open for") != std::string::npos;
        });
        if (!still_marked) impl_->fail("opening the file for reading failed: " + hdf5_failure_reason(stack));
        // A writer killed in single-writer/multiple-reader mode leaves that mark in the superblock;
        // such a file reads consistently in the reader's mode of that protocol.
        file = H5Fopen(path.c_str(), H5F_ACC_RDONLY | H5F_ACC_SWMR_READ, H5P_DEFAULT);
    }
    impl_->file = impl_->calls.handle(file, H5Fclose, "opening the file for reading");
}

Reader::~Reader() = default;

std::map<std::string, std::string> Reader::global_attributes() const {
    const SilencedHdf5ErrorPrinting silenced;
    return text_attributes(impl_->file.get(), impl_->calls);
}

std::map<std::string, double> Reader::global_numeric_attributes() const {
    const SilencedHdf5ErrorPrinting silenced;
    std::map<std::string, double> numbers;
    for (const auto& name : attribute_names(impl_->file.get(), impl_->calls)) {
        Handle attribute = open_attribute(impl_->file.get(), name, impl_->calls);
        if (auto number = read_number_attribute(attribute.get(), impl_->calls)) {
            numbers.emplace(name, *number);
        }
    }
    return numbers;
}

std::map<std::string, std::string> Reader::provenance_attributes() const {
    const SilencedHdf5ErrorPrinting silenced;
    const auto group = impl_->open_provenance();
    if (!group) return {};
    return text_attributes(group->get(), impl_->calls);
}

std::string Reader::provenance_text(const std::string& name) const {
    const SilencedHdf5ErrorPrinting silenced;
    const auto group = impl_->open_provenance();
    if (!group || name.empty() || name.find('/') != std::string::npos ||
        !impl_->calls.test(H5Lexists(group->get(), name.c_str(), H5P_DEFAULT),
                           "looking up provenance text '" + name + "'")) {
        return "";
    }
    Handle dataset = impl_->open_dataset(group->get(), name, "provenance text");
    const auto texts = read_strings(dataset.get(), impl_->calls, "provenance text '" + name + "'");
    return texts.empty() ? std::string() : texts.front();
}

std::vector<std::string> Reader::labels(const std::string& axis) const {
    const SilencedHdf5ErrorPrinting silenced;
    Handle dataset = impl_->open_dataset(impl_->file.get(), axis, "axis");
    return read_strings(dataset.get(), impl_->calls, "axis '" + axis + "'");
}

std::vector<std::int64_t> Reader::times() const {
    const SilencedHdf5ErrorPrinting silenced;
    Handle dataset = impl_->open_dataset(impl_->file.get(), kTimeAxis, "axis");
    const std::vector<hsize_t> extent = dataset_extent(dataset.get(), impl_->calls, "'time'");
    if (extent.size() != 1) impl_->fail("'time' is not one-dimensional");
    std::vector<std::int64_t> values(static_cast<std::size_t>(extent.front()));
    if (!values.empty()) {
        impl_->calls.require(H5Dread(dataset.get(), H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT,
                                     values.data()),
                             "reading 'time'");
    }
    return values;
}

std::vector<Reader::Impl::RootDataset> Reader::Impl::root_datasets() const {
    const std::string action = "listing the root group";
    Handle root = calls.handle(H5Gopen2(file.get(), "/", H5P_DEFAULT), H5Gclose, action);
    Handle properties = calls.handle(H5Gget_create_plist(root.get()), H5Pclose, action);
    unsigned order_flags = 0;
    calls.require(H5Pget_link_creation_order(properties.get(), &order_flags), action);
    // Files from other writers may not track creation order; name order is the fallback.
    const H5_index_t index =
        (order_flags & H5P_CRT_ORDER_TRACKED) != 0 ? H5_INDEX_CRT_ORDER : H5_INDEX_NAME;
    H5G_info_t group_info{};
    calls.require(H5Gget_info(root.get(), &group_info), action);
    std::vector<RootDataset> datasets;
    for (hsize_t position = 0; position < group_info.nlinks; ++position) {
        const ssize_t length = H5Lget_name_by_idx(root.get(), ".", index, H5_ITER_INC, position,
                                                  nullptr, 0, H5P_DEFAULT);
        if (length < 0) calls.fail(action);
        std::string name(static_cast<std::size_t>(length) + 1, '\0');
        if (H5Lget_name_by_idx(root.get(), ".", index, H5_ITER_INC, position, name.data(),
                               name.size(), H5P_DEFAULT) < 0) {
            calls.fail(action);
        }
        name.resize(static_cast<std::size_t>(length));
        Handle object = calls.handle(H5Oopen(root.get(), name.c_str(), H5P_DEFAULT), H5Oclose, action);
        if (H5Iget_type(object.get()) != H5I_DATASET) continue;
        RootDataset dataset;
        dataset.is_scale = calls.test(H5DSis_scale(object.get()), action);
        dataset.is_table_row_axis = dataset.is_scale && is_table_row_axis(object.get());
        dataset.name = std::move(name);
        dataset.dataset = std::move(object);
        datasets.push_back(std::move(dataset));
    }
    return datasets;
}

std::vector<std::string> Reader::variables() const {
    const SilencedHdf5ErrorPrinting silenced;
    const auto datasets = impl_->root_datasets();
    std::vector<std::string> tables;
    for (const auto& dataset : datasets) {
        if (dataset.is_table_row_axis) tables.push_back(dataset.name);
    }
    std::vector<std::string> names;
    for (const auto& dataset : datasets) {
        if (dataset.is_scale) continue;  // axes are not variables
        const bool is_column = std::any_of(tables.begin(), tables.end(), [&](const std::string& table) {
            return impl_->is_column_of(dataset, table);
        });
        if (!is_column) names.push_back(dataset.name);
    }
    return names;
}

VariableSpec Reader::variable(const std::string& name) const {
    const SilencedHdf5ErrorPrinting silenced;
    const Hdf5Calls& calls = impl_->calls;
    Handle dataset = impl_->open_dataset(impl_->file.get(), name, "variable");
    VariableSpec spec;
    spec.name = name;
    spec.dims = dimension_names(dataset.get(), name, calls);
    Handle type = calls.handle(H5Dget_type(dataset.get()), H5Tclose, "reading the type of '" + name + "'");
    switch (H5Tget_class(type.get())) {
        case H5T_INTEGER: spec.dtype = DType::Int64; break;
        case H5T_FLOAT: spec.dtype = DType::Float64; break;
        default: impl_->fail("'" + name + "' is not a numeric variable");
    }
    spec.units = text_attribute(dataset.get(), "units", calls).value_or("");
    spec.long_name = text_attribute(dataset.get(), "long_name", calls).value_or("");
    spec.description = text_attribute(dataset.get(), "description", calls).value_or("");
    return spec;
}

std::vector<double> Reader::read_record(const std::string& variable, std::size_t time_index) const {
    const SilencedHdf5ErrorPrinting silenced;
    Handle dataset = impl_->open_dataset(impl_->file.get(), variable, "variable");
    const auto dims = dimension_names(dataset.get(), variable, impl_->calls);
    if (dims.empty() || dims.front() != kTimeAxis || variable == kTimeAxis) {
        impl_->fail("variable '" + variable + "' has no time axis; use read_static()");
    }
    const auto extent = dataset_extent(dataset.get(), impl_->calls, "'" + variable + "'");
    if (time_index >= extent.front()) {
        impl_->fail("variable '" + variable + "': time index " + std::to_string(time_index) +
                    " out of range (" + std::to_string(extent.front()) + " records)");
    }
    return impl_->read_doubles(dataset.get(), variable, false, time_index);
}

std::vector<double> Reader::read_static(const std::string& variable) const {
    const SilencedHdf5ErrorPrinting silenced;
    Handle dataset = impl_->open_dataset(impl_->file.get(), variable, "variable");
    const auto dims = dimension_names(dataset.get(), variable, impl_->calls);
    if (!dims.empty() && dims.front() == kTimeAxis && variable != kTimeAxis) {
        impl_->fail("variable '" + variable + "' is a time series; use read_record()");
    }
    return impl_->read_doubles(dataset.get(), variable, true, 0);
}

namespace {
template <typename Value>
std::vector<std::uint64_t> read_all_values(hid_t dataset, const Hdf5Calls& calls, const std::string& variable,
                                           std::vector<Value>& values) {
    const std::vector<hsize_t> extent = dataset_extent(dataset, calls, "'" + variable + "'");
    const hsize_t count = std::accumulate(extent.begin(), extent.end(), hsize_t{1},
                                          [](hsize_t product, hsize_t length) { return product * length; });
    values.resize(static_cast<std::size_t>(count));
    if (count > 0) {
        const hid_t memory_type = std::is_same_v<Value, std::int64_t> ? H5T_NATIVE_INT64 : H5T_NATIVE_DOUBLE;
        calls.require(H5Dread(dataset, memory_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data()),
                      "reading variable '" + variable + "'");
    }
    return {extent.begin(), extent.end()};
}
}  // namespace

std::vector<std::uint64_t> Reader::read_all(const std::string& variable, std::vector<std::int64_t>& values) const {
    const SilencedHdf5ErrorPrinting silenced;
    Handle dataset = impl_->open_dataset(impl_->file.get(), variable, "variable");
    return read_all_values(dataset.get(), impl_->calls, variable, values);
}

std::vector<std::uint64_t> Reader::read_all(const std::string& variable, std::vector<double>& values) const {
    const SilencedHdf5ErrorPrinting silenced;
    Handle dataset = impl_->open_dataset(impl_->file.get(), variable, "variable");
    return read_all_values(dataset.get(), impl_->calls, variable, values);
}

std::vector<double> Reader::read_all(const std::string& variable) const {
    const SilencedHdf5ErrorPrinting silenced;
    Handle dataset = impl_->open_dataset(impl_->file.get(), variable, "variable");
    return impl_->read_doubles(dataset.get(), variable, true, 0);
}

std::vector<double> Reader::read_index(const std::string& variable, std::size_t index) const {
    const SilencedHdf5ErrorPrinting silenced;
    Handle dataset = impl_->open_dataset(impl_->file.get(), variable, "variable");
    const auto extent = dataset_extent(dataset.get(), impl_->calls, "'" + variable + "'");
    if (extent.empty()) impl_->fail("variable '" + variable + "' is a scalar; it has no first axis");
    if (index >= extent.front()) {
        impl_->fail("variable '" + variable + "': index " + std::to_string(index) + " out of range (" +
                    std::to_string(extent.front()) + " along its first axis)");
    }
    return impl_->read_doubles(dataset.get(), variable, false, index);
}

std::vector<std::size_t> Reader::shape(const std::string& variable) const {
    const SilencedHdf5ErrorPrinting silenced;
    Handle dataset = impl_->open_dataset(impl_->file.get(), variable, "variable");
    const auto extent = dataset_extent(dataset.get(), impl_->calls, "'" + variable + "'");
    return std::vector<std::size_t>(extent.begin(), extent.end());
}

std::vector<std::string> Reader::tables() const {
    const SilencedHdf5ErrorPrinting silenced;
    std::vector<std::string> names;
    for (const auto& dataset : impl_->root_datasets()) {
        if (dataset.is_table_row_axis) names.push_back(dataset.name);
    }
    return names;
}

std::vector<std::string> Reader::table_columns(const std::string& table) const {
    const SilencedHdf5ErrorPrinting silenced;
    impl_->require_table(table);
    std::vector<std::string> names;
    for (const auto& dataset : impl_->root_datasets()) {
        if (impl_->is_column_of(dataset, table)) names.push_back(dataset.name);
    }
    return names;
}

std::vector<double> Reader::read_column(const std::string& table, const std::string& column) const {
    const SilencedHdf5ErrorPrinting silenced;
    impl_->require_table(table);
    Handle dataset = impl_->open_dataset(impl_->file.get(), column, "column");
    if (column == table || dimension_names(dataset.get(), column, impl_->calls) !=
                               std::vector<std::string>{table}) {
        impl_->fail("table '" + table + "' has no column '" + column + "'");
    }
    return impl_->read_doubles(dataset.get(), column, true, 0);
}

}  // namespace citysim::output
