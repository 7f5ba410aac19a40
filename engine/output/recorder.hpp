// HDF5 recording of a run: time series along an unlimited `time` axis, static arrays, tables of
// rows (events, a final firm list), and provenance.
//
// The file is readable by h5py, by xarray through h5netcdf, and by ncdump: every axis is an HDF5
// dimension scale, every variable carries CF `units` and `long_name` (a labelled axis only
// `long_name`: labels have no unit), the root group carries `Conventions`, and link and attribute
// creation order are tracked (netCDF-4 needs that). The file is in the HDF5 1.10 format
// (superblock 3), which netCDF-4 on HDF5 1.10 (Debian 12's), h5py and h5netcdf read.
//
// Tables: a table is a set of 1-D columns sharing their own unlimited row axis, named like the
// table, which is a dimension scale of int64 row indices 0..n-1 (so xarray and ncdump show it as a
// dimension with a coordinate, like `time`). Its `role` attribute reads "table row index": that is
// how Reader tells a table's row axis from the record axis and from labelled axes, and so keeps
// columns out of variables(). Table, column, axis and variable names share the root group, as they
// do in netCDF. Rows are buffered like records and written at every flush, and written and flushed
// as soon as a table buffers kTableBufferRows rows, so that a run's events never have to fit in
// memory. A table that never gets a row is still a valid unlimited dimension of length 0.
//
// Completeness is explicit: the file is written as `<path>.incomplete`, its root attribute `status`
// reads "incomplete" until finish() sets it to "complete" and renames the file to `<path>`. A run
// that fails or is interrupted calls abort(reason): the data written so far is flushed, `status`
// becomes "incomplete: <reason>", and the file keeps its temporary name so it is never mistaken for
// a complete one.
//
// Files are never lost or redirected: the file is created under a hidden name in the target
// folder (`.<name>.incomplete.creating-<pid>-<n>`, with O_CREAT | O_EXCL) and renamed to
// `<path>.incomplete` (renameat2 RENAME_NOREPLACE) once its objects exist and it is consistent:
// so a symbolic link planted at that name is never followed, nothing there is truncated, and a
// process killed while creating the file leaves nothing half-made under that name (its hidden
// file is removed by the next recorder of the same path). An existing
// temporary file is removed first (the link itself, never its target) only with
// FileSpec::replace_existing; finish() renames into place without replacing an existing `<path>`
// (renameat2 RENAME_NOREPLACE) unless replace_existing says so. Failures (a full disk, a read-only
// folder) are std::runtime_error with a one-line reason (the operating system's, where a system call
// failed); nothing is ever written under the final name before the file is complete.
//
// A killed writer (SIGKILL, a crash, a power cut on a journalled file system) leaves a file that
// opens and reads up to its last flush. Once the file's objects exist, the recorder writes in
// HDF5's single-writer/multiple-reader (SWMR) mode: HDF5 then orders its writes (data before the
// index that points to it, index before the extent that exposes it) and never reuses file space a
// reader could still reach, so the file on disk is consistent at every moment. The invariants the
// writing code keeps, wherever it runs (a background thread included):
//   - every object and attribute is created in create_file(), before H5Fstart_swmr_write(); after
//     it, only H5Dset_extent, H5Dwrite and H5Fflush touch the file (HDF5 refuses anything else);
//   - the record axis never counts a record that some variable lacks: a flush extends and writes
//     every variable, flushes, and only then extends the record axis (a table's columns, then its
//     row axis, likewise). SWMR orders the writes within one dataset, not across datasets, hence
//     the flush between. A killed writer's variables may hold a record more than the record axis;
//     Reader counts records by the record axis;
//   - the closing attributes (status, /provenance/finished) are written after the file is closed,
//     by reopening it outside SWMR mode: that is the only time the file is written outside it.
// A killed writer leaves the SWMR mark in the superblock: Reader (citysim inspect, compare) opens
// such a file in SWMR read mode; h5py needs h5py.File(path, "r", swmr=True); other tools (ncdump,
// h5dump) open it after `h5clear -s --increment=0 <file>` (Debian's hdf5-tools) clears the mark and
// sets the end-of-file address the killed writer had not yet recorded.
//
// A file built in memory (FileSpec::in_memory) is written otherwise; the above holds for it except
// where said here. HDF5's core driver holds the file in memory, no SWMR mode is used, and flushes
// write nothing. The file starts as a copy of a layout (its objects and their attributes, made once
// per process for the first file of the same variables, axes, tables and attribute sizes, then
// copied with this file's root attribute values written in place), which the core driver writes
// under the hidden name when the file is opened. finish() writes the closing attributes into it,
// then the whole file once under the hidden name, names it `<path>.incomplete` and at once renames
// it to `<path>`; abort(reason) does the same with status "incomplete: <reason>" and keeps the
// name `<path>.incomplete`. So a complete file still appears only complete and only under its final
// name, and a failed or interrupted run still leaves `<path>.incomplete` with its reason. But a
// killed writer leaves no readable records: only its hidden file (the layout, status
// "incomplete", no provenance and no data; or less, if killed while writing), which the next
// recorder of that path removes. That is what a final-record-only sweep run uses: before its end
// its file holds no record that a resume could use (a resumed run starts over, or continues from
// its checkpoint, which holds the records written up to it), and a killed sweep, run again,
// makes the same files.
//
// Determinism: the recorder stores exactly the values it is given. Run-specific facts (command line,
// thread count, wall time) go to the `/provenance` group, so that `h5diff --exclude-path /provenance`
// compares two runs' data and scenario alone. What h5diff (1.10) compares: every dataset's values
// (exactly, unless -d/-p is given) and every attribute of every object, the root group's included
// (Conventions, status and all global attributes), so global attributes must not vary between
// identical runs and both files must have the same status. The dimension-scale bookkeeping
// attributes (DIMENSION_LIST, REFERENCE_LIST) compare equal even when object addresses differ.
// `--exclude-path /provenance` skips that group with its attributes and datasets. Object
// modification times are not stored, so identical inputs without provenance give identical bytes.
//
// Reading the file from Python: xarray (engine="h5netcdf") decodes string attributes to str and
// gives labelled axes as object-dtype coordinates of str; h5py returns the same attributes as bytes
// (fixed-length strings) and labels as bytes unless read with `.asstr()`. HDF5's file locking keeps
// other processes from opening a file while it is being written, except in SWMR read mode
// (h5py.File(path, "r", swmr=True)), which sees every flushed record.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace citysim::output {

// An axis of fixed length (city, field, origin, destination; or time in a sweep's combined file).
// It is written as a dataset of the same name that is a dimension scale: variable-length strings
// for `labels`, or int64 for numeric `values` (exactly one of the two is given).
struct LabelledAxis {
    std::string name;
    std::string long_name;
    std::vector<std::string> labels;
    std::vector<std::int64_t> values;
    std::string units;  // for numeric axes
    std::size_t length() const { return values.empty() ? labels.size() : values.size(); }
    static LabelledAxis of(std::string name, std::string long_name, std::vector<std::string> labels) {
        LabelledAxis axis;
        axis.name = std::move(name);
        axis.long_name = std::move(long_name);
        axis.labels = std::move(labels);
        return axis;
    }
};

enum class DType { Int64, Float64 };

struct VariableSpec {
    std::string name;
    // Axis names, outermost first. A time series starts with "time"; a static variable does not.
    std::vector<std::string> dims;
    DType dtype = DType::Float64;
    std::string units;      // CF units string; "1" for dimensionless
    std::string long_name;  // CF long_name
    std::string description;  // free text, stored as attribute `description`
    // CF `coordinates` attribute: names of auxiliary coordinate variables (space-separated), which
    // xarray then shows as coordinates of this variable.
    std::string coordinates;
};

// Columns appended to in batches of rows; see the header comment. Rows are appended by
// Recorder::append_rows() and read back by Reader::read_column().
struct TableSpec {
    std::string name;       // the row axis: an unlimited dimension of this name, e.g. "event"
    std::string long_name;  // of the row axis
    // Each column's dims must be exactly {name}; Int64 or Float64; `coordinates` is written as for
    // variables.
    std::vector<VariableSpec> columns;
};

// Rows a table buffers before they are written whatever the flush interval: 64 Ki rows cost
// 512 KiB a column, and bound the memory of a run that appends millions of events.
inline constexpr std::size_t kTableBufferRows = std::size_t{1} << 16;

struct FileSpec {
    std::filesystem::path path;  // the final path; the file is written to path + ".incomplete"
    // The unlimited axis along which records are appended: `time` in a run's file, `run` in a
    // sweep's combined file. Reader reads files whose record axis is `time`.
    std::string record_axis = "time";
    std::string time_units;      // units of the record axis, e.g. "month"
    std::string time_long_name = "time since the start of the simulation";
    std::vector<LabelledAxis> axes;
    std::vector<VariableSpec> variables;
    std::vector<TableSpec> tables;
    // Root attributes: deterministic facts (title, version, scenario, seed). `Conventions` is added
    // ("CF-1.8") unless given here; `status` is reserved.
    std::map<std::string, std::string> global_attributes;
    // Numeric root attributes (seed, run, persons_per_agent, ...).
    std::map<std::string, double> global_numeric_attributes;
    // `/provenance` group attributes: facts that differ between otherwise identical runs.
    std::map<std::string, std::string> provenance_attributes;
    // Large text blobs stored as scalar string datasets under /provenance (the resolved scenario).
    std::map<std::string, std::string> provenance_texts;
    int flush_every_steps = 12;  // records buffered in memory before they are written and flushed
    int deflate_level = 4;       // 0..9, with the shuffle filter
    // Whether an existing file at `path` (or at the temporary name) may be replaced. Without it the
    // recorder never removes or overwrites a file: the constructor refuses a temporary name that
    // exists, and finish() refuses a final name that exists (even one that appeared during the run).
    bool replace_existing = false;
    // Build the file in memory, from a layout made once per process, and write it once, when
    // finish() or abort() is called (see "A file built in memory" above): for a run whose records
    // are all written at its end anyway (a sweep run that keeps its final record only), where SWMR's
    // ordered writes and flushes buy nothing. The file's whole size is held in memory until then.
    bool in_memory = false;
    // The caller knows that the folder holds no hidden file of a writer of `path` killed while
    // creating it (see "Files are never lost" above), so the recorder need not list the folder to
    // remove one: a sweep lists runs/ once, where a listing per run grew with the runs.
    bool no_abandoned_creation = false;
    // Keep a copy of every value written to a variable (its static values, or its records in
    // order), to be taken after finish() (Recorder::take_kept_values): a sweep combines the runs it
    // made from these instead of reading their files back.
    bool keep_values = false;
};

// The variables' values as written to a file: for each, all of them, records in order, row-major,
// as Reader::read_all gives them back. Held in a few buffers, not one per variable: a sweep keeps
// a copy per run for the whole sweep, and thousands of small long-lived blocks per run made every
// later run's allocations slower.
class KeptValues {
public:
    bool empty() const { return names_.empty(); }
    std::size_t bytes() const { return 8 * (floats_.size() + integers_.size()) + names_.size(); }
    // The values of a Float64 (Int64) variable; nullopt for a variable not kept or of the other dtype.
    std::optional<std::span<const double>> floats(std::string_view variable) const;
    std::optional<std::span<const std::int64_t>> integers(std::string_view variable) const;

private:
    friend class Recorder;
    struct Entry {
        std::size_t name_end;     // the name is names_[previous entry's name_end, name_end)
        bool integer;
        std::size_t first, end;   // its values: floats_ or integers_ [first, end)
    };
    const Entry* find(std::string_view variable) const;
    std::string names_;
    std::vector<Entry> entries_;
    std::vector<double> floats_;
    std::vector<std::int64_t> integers_;
};

// A Recorder is used from one thread only. (Debian's HDF5 is a thread-safe build with one global
// lock, so recorders in different threads are safe, but their HDF5 calls are serialized.)
// Internally it writes from a thread of its own: end_record() and append_rows() hand full buffers
// to it when a flush is due and return (the writes and flushes, and their order, are those the
// caller would have made); flush(), write_static(), finish() and abort() wait for it. An HDF5 error
// of a write it made is thrown by the next call that hands it work or waits for it.
class Recorder {
public:
    // Creates `<path>.incomplete` (replacing one left by an earlier run only with
    // FileSpec::replace_existing) and all datasets. Throws std::runtime_error naming the path and
    // the reason on failure.
    explicit Recorder(FileSpec spec);
    Recorder(const Recorder&) = delete;
    Recorder& operator=(const Recorder&) = delete;
    // A recorder destroyed without finish() or abort() aborts with reason "not finished".
    ~Recorder();

    // Writes a variable without the time axis, once, before or between records.
    // The value type must match the variable's dtype (no silent conversion): std::invalid_argument.
    void write_static(std::string_view variable, std::span<const double> values);
    void write_static(std::string_view variable, std::span<const std::int64_t> values);

    // One record: begin_record(t), then put() for every time-series variable, then end_record().
    // The values of one record are the variable's non-time axes flattened in row-major order.
    // A variable not put in a record is an error at end_record() (std::logic_error); that record is
    // then discarded and the recorder stays usable. Unknown variables, a wrong value count or a
    // dtype mismatch are std::invalid_argument; put() outside a record or twice is std::logic_error.
    void begin_record(std::int64_t time_value);
    void put(std::string_view variable, std::span<const double> values);
    void put(std::string_view variable, std::span<const std::int64_t> values);
    void end_record();

    // Appends rows to a table: every column of the table exactly once, all with the same number of
    // values (0 allowed), of the column's dtype (no conversion); otherwise std::invalid_argument
    // and nothing is appended. Rows are buffered, and written by flush(), by the periodic flush of
    // records, by finish() and abort(), and (with a flush) once the table buffers
    // kTableBufferRows rows. std::logic_error after finish() or abort().
    struct ColumnValues {
        std::string_view column;
        std::variant<std::span<const std::int64_t>, std::span<const double>> values;
    };
    void append_rows(std::string_view table, std::span<const ColumnValues> columns);
    std::int64_t rows_appended(std::string_view table) const;  // buffered or not

    // Writes what is buffered (records and table rows) and flushes the file to disk (a file built
    // in memory: into the file in memory). A record still open stays buffered.
    void flush();

    // Flush, set status "complete" and attribute `/provenance/finished`, close, rename to path.
    // std::logic_error (file left open) while a record is open or a static variable is unwritten.
    void finish(const std::map<std::string, std::string>& final_provenance = {});
    // Flush, set status "incomplete: <reason>", close; the file keeps its temporary name. An open
    // record is dropped. Does nothing after finish() or abort().
    void abort(std::string_view reason);

    // After finish(), with FileSpec::keep_values: every variable's values (tables and the record
    // axis aside); empty otherwise, and on any later call.
    KeptValues take_kept_values();

    std::int64_t records_written() const;  // records handed to end_record(), buffered or not
    double writer_cpu_seconds() const;     // CPU time of the writing thread so far
    const std::filesystem::path& temporary_path() const;
    const std::filesystem::path& final_path() const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

// Read access to any file the recorder wrote (complete or not), for `citysim inspect` and tests.
class Reader {
public:
    explicit Reader(const std::filesystem::path& path);  // throws std::runtime_error if unreadable
    ~Reader();
    Reader(const Reader&) = delete;
    Reader& operator=(const Reader&) = delete;

    std::map<std::string, std::string> global_attributes() const;  // string root attributes,
                                                                     // status and Conventions too
    std::map<std::string, double> global_numeric_attributes() const;       // numeric root attributes
    std::map<std::string, std::string> provenance_attributes() const;
    std::string provenance_text(const std::string& name) const;            // "" if absent
    std::vector<std::string> labels(const std::string& axis) const;
    std::vector<std::int64_t> times() const;
    // Names in creation order; axes, tables' row axes and tables' columns are not listed.
    std::vector<std::string> variables() const;
    VariableSpec variable(const std::string& name) const;                  // dims, units, long_name
    // One time record of a time series (index into times()), or the whole of a static variable,
    // as doubles in row-major order of the non-time axes.
    std::vector<double> read_record(const std::string& variable, std::size_t time_index) const;
    std::vector<double> read_static(const std::string& variable) const;
    // Every value of a variable (all its records, or the static array) in one read, row-major, as
    // int64 or double whatever the stored type; the shape is not checked against the axes (no
    // dimension-scale lookups): for reading many files of a layout known from one of them.
    // `values` is resized to the count; returns the dataset's extent.
    std::vector<std::uint64_t> read_all(const std::string& variable, std::vector<std::int64_t>& values) const;
    std::vector<std::uint64_t> read_all(const std::string& variable, std::vector<double>& values) const;
    // The whole of any variable, time series or not, in row-major order (one read, for tools that
    // go over every record, such as compare and export).
    std::vector<double> read_all(const std::string& variable) const;
    // Index `index` of a variable's first axis, whatever that axis is (a run of a sweep's combined
    // file, whose variables are [run, time, ...]), in row-major order of the other axes.
    std::vector<double> read_index(const std::string& variable, std::size_t index) const;
    // The length of each of a variable's axes, outermost first.
    std::vector<std::size_t> shape(const std::string& variable) const;

    std::vector<std::string> tables() const;  // the tables' (row axes') names, creation order
    std::vector<std::string> table_columns(const std::string& table) const;  // creation order
    std::vector<double> read_column(const std::string& table, const std::string& column) const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace citysim::output
