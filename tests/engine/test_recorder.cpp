// Tests of the HDF5 recorder: round trip through Reader, the complete/incomplete protocol, and
// interoperability with h5py, xarray (h5netcdf engine), ncdump and h5diff.
#include "engine/output/recorder.hpp"

#include <catch2/catch.hpp>

#include <sys/wait.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <random>
#include <regex>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <unistd.h>

namespace {

namespace fs = std::filesystem;
using citysim::output::DType;
using citysim::output::FileSpec;
using citysim::output::LabelledAxis;
using citysim::output::Reader;
using citysim::output::Recorder;
using citysim::output::TableSpec;
using citysim::output::VariableSpec;
using citysim::output::kTableBufferRows;
using ColumnValues = Recorder::ColumnValues;
using Catch::Matchers::Contains;

// A fresh directory per test, so that tests run in parallel by ctest never share files.
class ScratchDirectory {
public:
    explicit ScratchDirectory(const std::string& test_name) {
        static std::atomic<int> counter{0};
        std::random_device entropy;
        path_ = fs::temp_directory_path() /
                ("citysim-recorder-" + test_name + "-" + std::to_string(::getpid()) + "-" +
                 std::to_string(counter++) + "-" + std::to_string(entropy()));
        fs::create_directories(path_);
    }
    ~ScratchDirectory() {
        std::error_code ignored;
        fs::remove_all(path_, ignored);
    }
    ScratchDirectory(const ScratchDirectory&) = delete;
    ScratchDirectory& operator=(const ScratchDirectory&) = delete;
    const fs::path& path() const { return path_; }

private:
    fs::path path_;
};

struct CommandResult {
    int exit_code = -1;
    std::string output;
};

std::string read_text_file(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

// Runs a shell command with stdout and stderr captured into a file in `directory`.
CommandResult run_command(const std::string& command, const fs::path& directory) {
    const fs::path output_file = directory / "command-output.txt";
    const std::string redirected = command + " > '" + output_file.string() + "' 2>&1";
    const int status = std::system(redirected.c_str());
    CommandResult result;
    result.exit_code = (status != -1 && WIFEXITED(status)) ? WEXITSTATUS(status) : -1;
    result.output = read_text_file(output_file);
    return result;
}

std::string quoted(const fs::path& path) { return "'" + path.string() + "'"; }

// The example run: three labelled axes, int and float time series, two static variables.
const std::vector<std::string> kCities{"Lisboa", "São Paulo", "Zürich"};
const std::vector<std::string> kFields{"housing", "labour"};
const std::vector<std::string> kSectors{"agriculture", "industry", "services", "public"};

FileSpec example_spec(const fs::path& path, int flush_every) {
    FileSpec spec;
    spec.path = path;
    spec.time_units = "month";
    spec.axes = {
        {"city", "city name", kCities},
        {"field", "market", kFields},
        {"sector", "economic sector", kSectors},
    };
    spec.variables = {
        {"population", {"time", "city"}, DType::Int64, "person", "resident population", "agents × persons_per_agent"},
        {"rent", {"time", "city", "field"}, DType::Float64, "EUR month-1", "mean rent", ""},
        {"employment", {"time", "city", "sector"}, DType::Int64, "person", "employed persons", ""},
        {"price_index", {"time"}, DType::Float64, "1", "consumer price index", ""},
        {"area", {"city"}, DType::Float64, "km2", "city area", "land area inside the boundary"},
        {"firms", {"city", "sector"}, DType::Int64, "1", "number of firms", ""},
    };
    spec.global_attributes = {{"title", "recorder test"}, {"scenario", "three cities"}};
    spec.global_numeric_attributes = {{"seed", 42.0}, {"persons_per_agent", 12.5}};
    spec.provenance_attributes = {{"command_line", "citysim run test.yaml"}, {"threads", "4"}};
    spec.provenance_texts = {{"resolved_scenario", "cities:\n  - Lisboa\n  - São Paulo\n"}};
    spec.flush_every_steps = flush_every;
    spec.deflate_level = 4;
    return spec;
}

std::int64_t time_of(int record) { return 100 + 3 * record; }

// Values that exercise exactness: large int64 beyond 2^53 would not survive doubles, so ints stay
// below it but well above 2^32; floats include non-representable decimals and negatives.
std::vector<std::int64_t> population_at(int record) {
    std::vector<std::int64_t> values;
    for (std::size_t c = 0; c < kCities.size(); ++c) {
        values.push_back((std::int64_t{1} << 40) + 1000 * record + static_cast<std::int64_t>(c));
    }
    return values;
}
std::vector<double> rent_at(int record) {
    std::vector<double> values;
    for (std::size_t c = 0; c < kCities.size(); ++c) {
        for (std::size_t f = 0; f < kFields.size(); ++f) {
            values.push_back(0.1 * record - 1.7 * static_cast<double>(c) + 1e-9 * static_cast<double>(f));
        }
    }
    return values;
}
std::vector<std::int64_t> employment_at(int record) {
    std::vector<std::int64_t> values;
    for (std::size_t c = 0; c < kCities.size(); ++c) {
        for (std::size_t s = 0; s < kSectors.size(); ++s) {
            values.push_back(-5 + record * 17 + static_cast<std::int64_t>(c * 10 + s));
        }
    }
    return values;
}
std::vector<double> price_index_at(int record) { return {1.0 + record / 3.0}; }
const std::vector<double> kArea{100.05, 1521.11, 87.88};
std::vector<std::int64_t> firms() {
    std::vector<std::int64_t> values;
    for (std::int64_t i = 0; i < 12; ++i) values.push_back(i * i - 3);
    return values;
}

void put_record(Recorder& recorder, int record) {
    recorder.begin_record(time_of(record));
    recorder.put("population", std::span<const std::int64_t>(population_at(record)));
    recorder.put("rent", std::span<const double>(rent_at(record)));
    recorder.put("employment", std::span<const std::int64_t>(employment_at(record)));
    recorder.put("price_index", std::span<const double>(price_index_at(record)));
    recorder.end_record();
}

void write_example_records(Recorder& recorder, int first, int end) {
    for (int record = first; record < end; ++record) put_record(recorder, record);
}

void write_example(Recorder& recorder, int records) {
    recorder.write_static("area", std::span<const double>(kArea));
    recorder.write_static("firms", std::span<const std::int64_t>(firms()));
    write_example_records(recorder, 0, records);
}

template <typename Int>
std::vector<double> as_doubles(const std::vector<Int>& values) {
    return std::vector<double>(values.begin(), values.end());
}

// Length of an unlimited 1-D dataset (the time axis, a table's row axis) in the file on disk as
// another process sees it while the recorder writes: a reader in SWMR mode, as the recorder writes
// in single-writer/multiple-reader mode.
int length_on_disk(const fs::path& file, const std::string& dataset, const fs::path& directory) {
    const auto result = run_command("/usr/bin/python3 -c 'import sys, h5py; "
                                    "print(h5py.File(sys.argv[1], \"r\", swmr=True)[sys.argv[2]].shape[0])' " +
                                        quoted(file) + " " + dataset,
                                    directory);
    INFO(result.output);
    REQUIRE(result.exit_code == 0);
    return std::stoi(result.output);
}

int records_on_disk(const fs::path& file, const fs::path& directory) {
    return length_on_disk(file, "time", directory);
}

// The example run with an events table (appended to during the run) and a firm table (written once
// at the end).
FileSpec spec_with_tables(const fs::path& path, int flush_every) {
    FileSpec spec = example_spec(path, flush_every);
    spec.tables = {
        {"event", "simulation event",
         {
             {"event_firm", {"event"}, DType::Int64, "1", "firm id", ""},
             {"event_step", {"event"}, DType::Int64, "month", "step of the event", ""},
             {"event_code", {"event"}, DType::Int64, "1", "event code", "0 founded, 1 hired, 2 closed"},
             {"event_amount", {"event"}, DType::Float64, "EUR", "amount", ""},
         }},
        {"firm", "firm alive at the end",
         {
             {"firm_id", {"firm"}, DType::Int64, "1", "firm id", ""},
             {"firm_capital", {"firm"}, DType::Float64, "EUR", "capital", ""},
         }},
    };
    return spec;
}

// Events as columns; each row's values follow from its row index, so that any slice of the table
// can be checked. Ids above 2^32 and amounts that are not binary fractions test exactness.
struct Events {
    std::vector<std::int64_t> firm;
    std::vector<std::int64_t> step;
    std::vector<std::int64_t> code;
    std::vector<double> amount;

    static Events rows(std::int64_t first_row, std::int64_t count) {
        Events events;
        for (std::int64_t row = first_row; row < first_row + count; ++row) {
            events.firm.push_back((std::int64_t{1} << 40) + row % 977);
            events.step.push_back(row / 100);
            events.code.push_back(row % 3);
            events.amount.push_back(0.1 * static_cast<double>(row) - 1e6);
        }
        return events;
    }
    void append_to(Events& all) const {
        all.firm.insert(all.firm.end(), firm.begin(), firm.end());
        all.step.insert(all.step.end(), step.begin(), step.end());
        all.code.insert(all.code.end(), code.begin(), code.end());
        all.amount.insert(all.amount.end(), amount.begin(), amount.end());
    }
    std::array<ColumnValues, 4> columns() const {
        return {{{"event_firm", std::span<const std::int64_t>(firm)},
                 {"event_step", std::span<const std::int64_t>(step)},
                 {"event_code", std::span<const std::int64_t>(code)},
                 {"event_amount", std::span<const double>(amount)}}};
    }
};

void append_events(Recorder& recorder, const Events& events) {
    const auto columns = events.columns();
    recorder.append_rows("event", columns);
}

const std::vector<std::int64_t> kFirmIds{7, 1 << 20, (std::int64_t{1} << 40) + 3};
const std::vector<double> kFirmCapital{0.1, -2.5e9, 1.0 / 3.0};

void append_firms(Recorder& recorder) {
    const std::array<ColumnValues, 2> columns{{{"firm_capital", std::span<const double>(kFirmCapital)},
                                               {"firm_id", std::span<const std::int64_t>(kFirmIds)}}};
    recorder.append_rows("firm", columns);
}

std::vector<double> row_indices(std::size_t count) {
    std::vector<double> indices(count);
    std::iota(indices.begin(), indices.end(), 0.0);
    return indices;
}

}  // namespace

TEST_CASE("Recorder round-trips axes, time series, static variables and attributes", "[recorder]") {
    const ScratchDirectory scratch("round-trip");
    const fs::path path = scratch.path() / "run.h5";
    constexpr int kRecords = 25;
    {
        Recorder recorder(example_spec(path, 10));
        write_example(recorder, kRecords);
        CHECK(recorder.records_written() == kRecords);
        recorder.finish({{"wall_seconds", "1.25"}});
    }

    const Reader reader(path);
    CHECK(reader.labels("city") == kCities);
    CHECK(reader.labels("field") == kFields);
    CHECK(reader.labels("sector") == kSectors);

    std::vector<std::int64_t> expected_times;
    for (int record = 0; record < kRecords; ++record) expected_times.push_back(time_of(record));
    CHECK(reader.times() == expected_times);

    CHECK(reader.variables() ==
          std::vector<std::string>{"population", "rent", "employment", "price_index", "area", "firms"});
    CHECK(reader.tables().empty());

    const auto population = reader.variable("population");
    CHECK(population.dims == std::vector<std::string>{"time", "city"});
    CHECK(population.dtype == DType::Int64);
    CHECK(population.units == "person");
    CHECK(population.long_name == "resident population");
    CHECK(population.description == "agents × persons_per_agent");
    const auto rent = reader.variable("rent");
    CHECK(rent.dims == std::vector<std::string>{"time", "city", "field"});
    CHECK(rent.dtype == DType::Float64);
    CHECK(rent.units == "EUR month-1");
    CHECK(rent.description.empty());
    CHECK(reader.variable("price_index").dims == std::vector<std::string>{"time"});
    const auto firms_spec = reader.variable("firms");
    CHECK(firms_spec.dims == std::vector<std::string>{"city", "sector"});
    CHECK(firms_spec.dtype == DType::Int64);
    CHECK(reader.variable("area").units == "km2");

    for (int record = 0; record < kRecords; ++record) {
        INFO("record " << record);
        const auto index = static_cast<std::size_t>(record);
        CHECK(reader.read_record("population", index) == as_doubles(population_at(record)));
        CHECK(reader.read_record("rent", index) == rent_at(record));
        CHECK(reader.read_record("employment", index) == as_doubles(employment_at(record)));
        CHECK(reader.read_record("price_index", index) == price_index_at(record));
    }
    CHECK(reader.read_static("area") == kArea);
    CHECK(reader.read_static("firms") == as_doubles(firms()));

    const auto globals = reader.global_attributes();
    CHECK(globals.at("status") == "complete");
    CHECK(globals.at("Conventions") == "CF-1.8");
    CHECK(globals.at("title") == "recorder test");
    CHECK(globals.at("scenario") == "three cities");
    const auto numbers = reader.global_numeric_attributes();
    CHECK(numbers == std::map<std::string, double>{{"persons_per_agent", 12.5}, {"seed", 42.0}});

    const auto provenance = reader.provenance_attributes();
    CHECK(provenance.at("command_line") == "citysim run test.yaml");
    CHECK(provenance.at("threads") == "4");
    CHECK(provenance.at("wall_seconds") == "1.25");
    CHECK(std::regex_match(provenance.at("finished"),
                           std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)")));
    CHECK(reader.provenance_text("resolved_scenario") == "cities:\n  - Lisboa\n  - São Paulo\n");
    CHECK(reader.provenance_text("absent").empty());

    CHECK_THROWS_WITH(reader.read_record("population", kRecords), Contains("out of range"));
    CHECK_THROWS_WITH(reader.read_record("area", 0), Contains("read_static"));
    CHECK_THROWS_WITH(reader.read_static("rent"), Contains("read_record"));
    CHECK_THROWS_WITH(reader.variable("nonexistent"), Contains(path.string()));
    CHECK_THROWS_WITH(reader.labels("nonexistent"), Contains("nonexistent"));
}

TEST_CASE("Recorder writes buffered records every flush_every_steps records and on flush()",
          "[recorder]") {
    const ScratchDirectory scratch("flush");
    const fs::path path = scratch.path() / "run.h5";
    Recorder recorder(example_spec(path, 10));
    const fs::path incomplete = recorder.temporary_path();
    recorder.write_static("area", std::span<const double>(kArea));
    recorder.write_static("firms", std::span<const std::int64_t>(firms()));

    for (int record = 0; record < 9; ++record) put_record(recorder, record);
    CHECK(records_on_disk(incomplete, scratch.path()) == 0);
    put_record(recorder, 9);
    CHECK(records_on_disk(incomplete, scratch.path()) == 10);
    for (int record = 10; record < 13; ++record) put_record(recorder, record);
    CHECK(records_on_disk(incomplete, scratch.path()) == 10);
    recorder.flush();
    CHECK(records_on_disk(incomplete, scratch.path()) == 13);
    // flush() in the middle of a record writes the complete records and keeps the open one.
    recorder.begin_record(time_of(13));
    recorder.put("population", std::span<const std::int64_t>(population_at(13)));
    recorder.flush();
    recorder.put("rent", std::span<const double>(rent_at(13)));
    recorder.put("employment", std::span<const std::int64_t>(employment_at(13)));
    recorder.put("price_index", std::span<const double>(price_index_at(13)));
    recorder.end_record();
    for (int record = 14; record < 23; ++record) put_record(recorder, record);
    CHECK(records_on_disk(incomplete, scratch.path()) == 23);  // 13 flushed + 10 buffered
    recorder.finish();

    const Reader reader(path);
    REQUIRE(reader.times().size() == 23);
    for (int record = 0; record < 23; ++record) {
        INFO("record " << record);
        CHECK(reader.times()[static_cast<std::size_t>(record)] == time_of(record));
        CHECK(reader.read_record("population", static_cast<std::size_t>(record)) ==
              as_doubles(population_at(record)));
        CHECK(reader.read_record("rent", static_cast<std::size_t>(record)) == rent_at(record));
    }
}

TEST_CASE("Recorder writes <path>.incomplete and renames it on finish", "[recorder]") {
    const ScratchDirectory scratch("finish");
    const fs::path path = scratch.path() / "run.h5";
    const fs::path incomplete = scratch.path() / "run.h5.incomplete";
    // Leftovers of an earlier run are replaced when the spec says so: a stale temporary file and
    // an old final file.
    std::ofstream(incomplete) << "stale temporary file";
    std::ofstream(path) << "previous run";
    FileSpec spec = example_spec(path, 4);
    spec.replace_existing = true;

    Recorder recorder(spec);
    CHECK(recorder.temporary_path() == incomplete);
    CHECK(recorder.final_path() == path);
    write_example(recorder, 6);
    CHECK(fs::exists(incomplete));
    CHECK(read_text_file(path) == "previous run");
    recorder.finish();

    CHECK_FALSE(fs::exists(incomplete));
    REQUIRE(fs::exists(path));
    const Reader reader(path);
    CHECK(reader.global_attributes().at("status") == "complete");
    CHECK(reader.times().size() == 6);
    CHECK_THROWS_AS(recorder.begin_record(0), std::logic_error);
    CHECK_THROWS_AS(recorder.finish(), std::logic_error);
    CHECK_NOTHROW(recorder.abort("too late"));  // after finish(), abort() has nothing to do
    CHECK(Reader(path).global_attributes().at("status") == "complete");
}

TEST_CASE("Recorder replaces nothing unless asked, and never writes through a link", "[recorder]") {
    const ScratchDirectory scratch("no-replace");
    const fs::path path = scratch.path() / "run.h5";
    const fs::path incomplete = scratch.path() / "run.h5.incomplete";
    const fs::path target = scratch.path() / "target.txt";
    std::ofstream(target) << "the link's target";
    SECTION("a temporary file left by an earlier run is kept") {
        std::ofstream(incomplete) << "partial output";
        CHECK_THROWS_WITH(Recorder(example_spec(path, 4)), Contains("it exists"));
        CHECK(read_text_file(incomplete) == "partial output");
    }
    SECTION("a link at the temporary name is not followed, even when replacing") {
        fs::create_symlink(target, incomplete);
        CHECK_THROWS_AS(Recorder(example_spec(path, 4)), std::runtime_error);
        FileSpec spec = example_spec(path, 4);
        spec.replace_existing = true;
        Recorder recorder(spec);
        write_example(recorder, 2);
        recorder.finish();
        CHECK(read_text_file(target) == "the link's target");
        CHECK_FALSE(fs::is_symlink(path));
        CHECK(Reader(path).times().size() == 2);
    }
    SECTION("a final file that appears while the run goes is kept; the output keeps its temporary name") {
        Recorder recorder(example_spec(path, 4));
        write_example(recorder, 2);
        std::ofstream(path) << "appeared meanwhile";
        CHECK_THROWS_WITH(recorder.finish(), Contains("appeared while the run was going"));
        CHECK(read_text_file(path) == "appeared meanwhile");
        CHECK(Reader(incomplete).global_attributes().at("status") == "complete");
    }
    SECTION("a folder where the file should go, and a missing folder, give one-line reasons") {
        fs::create_directory(incomplete);
        CHECK_THROWS_WITH(Recorder(example_spec(path, 4)), Contains("it is a folder"));
        try {
            Recorder recorder(example_spec(scratch.path() / "missing" / "run.h5", 4));
            FAIL("created a file in a folder that does not exist");
        } catch (const std::runtime_error& e) {
            const std::string message = e.what();
            CHECK_THAT(message, Contains("creating the file failed: No such file or directory"));
            CHECK(message.find('\n') == std::string::npos);
            CHECK(message.find("tent_flags") == std::string::npos);
        }
    }
}

TEST_CASE("Reader says in one line what is wrong with a path", "[recorder]") {
    const ScratchDirectory scratch("reader-errors");
    const auto message_of = [](const fs::path& p) {
        try {
            Reader reader(p);
        } catch (const std::runtime_error& e) {
            return std::string(e.what());
        }
        return std::string("(opened)");
    };
    CHECK_THAT(message_of(scratch.path()), Contains("it is a folder, not an HDF5 file"));
    CHECK_THAT(message_of(scratch.path() / "none.h5"), Contains("No such file or directory"));
    std::ofstream(scratch.path() / "text.h5") << "not HDF5";
    CHECK_THAT(message_of(scratch.path() / "text.h5"), Contains("it is not an HDF5 file"));
    CHECK_THAT(message_of("/dev/null"), Contains("not a regular file"));
    for (const auto& p : {scratch.path(), scratch.path() / "none.h5", scratch.path() / "text.h5"})
        CHECK(message_of(p).find('\n') == std::string::npos);
}

TEST_CASE("Recorder::abort keeps the temporary name and records the reason", "[recorder]") {
    const ScratchDirectory scratch("abort");
    const fs::path path = scratch.path() / "run.h5";
    const fs::path incomplete = scratch.path() / "run.h5.incomplete";
    {
        Recorder recorder(example_spec(path, 5));
        write_example(recorder, 7);
        // An open record at abort time is incomplete and is dropped.
        recorder.begin_record(time_of(7));
        recorder.put("population", std::span<const std::int64_t>(population_at(7)));
        recorder.abort("model diverged");
        CHECK_NOTHROW(recorder.abort("again"));
    }
    CHECK_FALSE(fs::exists(path));
    REQUIRE(fs::exists(incomplete));
    const Reader reader(incomplete);
    CHECK(reader.global_attributes().at("status") == "incomplete: model diverged");
    REQUIRE(reader.times().size() == 7);  // 5 flushed + 2 buffered, written by abort()
    CHECK(reader.read_record("population", 6) == as_doubles(population_at(6)));
    CHECK(reader.read_record("rent", 6) == rent_at(6));
    CHECK(reader.provenance_attributes().count("finished") == 0);
}

TEST_CASE("Recorder destroyed without finish() aborts with 'not finished'", "[recorder]") {
    const ScratchDirectory scratch("destructor");
    const fs::path path = scratch.path() / "run.h5";
    const fs::path incomplete = scratch.path() / "run.h5.incomplete";
    {
        Recorder recorder(example_spec(path, 10));
        write_example(recorder, 3);
        CHECK(fs::exists(incomplete));
    }
    CHECK_FALSE(fs::exists(path));
    REQUIRE(fs::exists(incomplete));
    const Reader reader(incomplete);
    CHECK(reader.global_attributes().at("status") == "incomplete: not finished");
    CHECK(reader.times() == std::vector<std::int64_t>{time_of(0), time_of(1), time_of(2)});
}

TEST_CASE("Recorder output opens with h5py, xarray (h5netcdf) and ncdump", "[recorder]") {
    const ScratchDirectory scratch("interop");
    const fs::path path = scratch.path() / "run.h5";
    {
        Recorder recorder(example_spec(path, 10));
        write_example(recorder, 25);
        recorder.finish();
    }

    const fs::path script = scratch.path() / "check.py";
    std::ofstream(script) << R"PY(
import sys
import h5py
import numpy as np
import xarray as xr

path = sys.argv[1]
with h5py.File(path, "r") as f:
    assert f.attrs["status"] == b"complete" or f.attrs["status"] == "complete", f.attrs["status"]
    assert f["time"].maxshape == (None,), f["time"].maxshape
    assert f["rent"].shape == (25, 3, 2), f["rent"].shape
    assert f["rent"].maxshape == (None, 3, 2), f["rent"].maxshape
    assert f["rent"].compression == "gzip" and f["rent"].shuffle
    assert f["rent"].dtype == np.float64 and f["population"].dtype == np.int64
    # Dimension scales, not dimension labels (H5DSset_label), carry the axis names.
    assert [d[0].name for d in f["employment"].dims] == ["/time", "/city", "/sector"]
    assert f["provenance"]["resolved_scenario"][()].decode().startswith("cities:")
    # What netCDF-4 requires of an HDF5 file: creation order tracked and indexed (3) for links
    # and attributes. The superblock is version 3 (the HDF5 1.10 format, for SWMR writing).
    both = h5py.h5p.CRT_ORDER_TRACKED | h5py.h5p.CRT_ORDER_INDEXED
    # (The root group's own property list, not the file's: HDF5 does not report the file
    # creation property list's creation order once the file is reopened.)
    assert f["/"].id.get_create_plist().get_link_creation_order() == both
    assert f["/"].id.get_create_plist().get_attr_creation_order() == both
    assert f["provenance"].id.get_create_plist().get_link_creation_order() == both
    for name in ("time", "city", "rent", "area"):
        assert f[name].id.get_create_plist().get_attr_creation_order() == both, name
    assert f.id.get_create_plist().get_version()[0] == 3, f.id.get_create_plist().get_version()

ds = xr.open_dataset(path, engine="h5netcdf")
assert dict(ds.sizes) == {"time": 25, "city": 3, "field": 2, "sector": 4}, dict(ds.sizes)
assert ds["population"].dims == ("time", "city"), ds["population"].dims
assert ds["rent"].dims == ("time", "city", "field"), ds["rent"].dims
assert ds["employment"].dims == ("time", "city", "sector"), ds["employment"].dims
assert ds["price_index"].dims == ("time",), ds["price_index"].dims
assert ds["area"].dims == ("city",) and ds["firms"].dims == ("city", "sector")
assert ds["population"].attrs["units"] == "person", ds["population"].attrs
assert ds["population"].attrs["long_name"] == "resident population"
assert ds["population"].attrs["description"] == "agents \u00d7 persons_per_agent"
assert ds["rent"].attrs["units"] == "EUR month-1"
assert ds["time"].attrs["units"] == "month"
assert ds.attrs["Conventions"] == "CF-1.8", ds.attrs
assert ds.attrs["status"] == "complete"
assert ds.attrs["seed"] == 42.0
assert "time" in ds.encoding.get("unlimited_dims", set()), ds.encoding
assert list(ds["city"].values) == ["Lisboa", "S\u00e3o Paulo", "Z\u00fcrich"], ds["city"].values
assert ds["time"].values.tolist() == [100 + 3 * i for i in range(25)]
assert ds["population"].dtype == np.int64
assert int(ds["population"].sel(city="Z\u00fcrich").isel(time=24)) == (1 << 40) + 24000 + 2
assert float(ds["price_index"].isel(time=3)) == 2.0
print("ok")
)PY";
    const auto python = run_command("/usr/bin/python3 " + quoted(script) + " " + quoted(path),
                                    scratch.path());
    INFO(python.output);
    CHECK(python.exit_code == 0);

    const auto header = run_command("ncdump -h " + quoted(path), scratch.path());
    INFO(header.output);
    REQUIRE(header.exit_code == 0);
    CHECK_THAT(header.output, Contains("time = UNLIMITED ; // (25 currently)"));
    CHECK_THAT(header.output, Contains("city = 3 ;"));
    CHECK_THAT(header.output, Contains("field = 2 ;"));
    CHECK_THAT(header.output, Contains("sector = 4 ;"));
    CHECK_THAT(header.output, Contains("int64 population(time, city) ;"));
    CHECK_THAT(header.output, Contains("double rent(time, city, field) ;"));
    CHECK_THAT(header.output, Contains("string city(city) ;"));
    CHECK_THAT(header.output, Contains("population:units = \"person\" ;"));
    CHECK_THAT(header.output, Contains(":Conventions = \"CF-1.8\" ;"));
    CHECK_THAT(header.output, Contains("group: provenance"));

    // The data too, not only the header: ncdump reads every value through netCDF-C.
    const auto data = run_command("ncdump -v population,city " + quoted(path), scratch.path());
    INFO(data.output);
    REQUIRE(data.exit_code == 0);
    CHECK_THAT(data.output, Contains("1099511651776, 1099511651777, 1099511651778"));
    CHECK_THAT(data.output, Contains("\"São Paulo\""));
}

TEST_CASE("h5diff --exclude-path /provenance finds no difference between identical runs",
          "[recorder]") {
    const ScratchDirectory scratch("h5diff");
    const auto write = [&scratch](const std::string& name, const std::string& command_line,
                                  const std::string& scenario_text, double rent_shift,
                                  const std::string& title) {
        FileSpec spec = example_spec(scratch.path() / name, 10);
        // Provenance of different lengths, so that the two files also differ in layout.
        spec.provenance_attributes["command_line"] = command_line;
        spec.provenance_texts["resolved_scenario"] = scenario_text;
        spec.global_attributes["title"] = title;
        Recorder recorder(spec);
        write_example(recorder, 12);
        recorder.begin_record(time_of(12));
        recorder.put("population", std::span<const std::int64_t>(population_at(12)));
        auto rent = rent_at(12);
        rent[3] += rent_shift;
        recorder.put("rent", std::span<const double>(rent));
        recorder.put("employment", std::span<const std::int64_t>(employment_at(12)));
        recorder.put("price_index", std::span<const double>(price_index_at(12)));
        recorder.end_record();
        recorder.finish({{"wall_seconds", command_line}});
        return scratch.path() / name;
    };
    const fs::path a = write("a.h5", "citysim run a.yaml --threads 1", "scenario A", 0.0, "t");
    const fs::path b = write("b.h5", "citysim run b.yaml --threads 16 --verbose",
                             std::string(5000, 'x'), 0.0, "t");
    const fs::path changed_value = write("c.h5", "x", "y", 1e-12, "t");
    const fs::path changed_title = write("d.h5", "citysim run a.yaml --threads 1", "scenario A", 0.0,
                                         "another title");

    const auto same = run_command("h5diff --exclude-path /provenance " + quoted(a) + " " + quoted(b),
                                  scratch.path());
    INFO(same.output);
    CHECK(same.exit_code == 0);
    // Without the exclusion the provenance differs, so the comparison above did exclude something.
    CHECK(run_command("h5diff " + quoted(a) + " " + quoted(b), scratch.path()).exit_code == 1);
    // One value differing by 1e-12 is a difference (h5diff compares exactly by default).
    CHECK(run_command("h5diff --exclude-path /provenance " + quoted(a) + " " + quoted(changed_value),
                      scratch.path())
              .exit_code == 1);
    // h5diff compares attributes too, the root group's included: global attributes must be
    // deterministic for runs to compare equal.
    CHECK(run_command("h5diff --exclude-path /provenance " + quoted(a) + " " + quoted(changed_title),
                      scratch.path())
              .exit_code == 1);
}

TEST_CASE("A file built in memory equals the one written in SWMR mode, each copy of a layout its own",
          "[recorder]") {
    const ScratchDirectory scratch("in-memory");
    // The same file (data, tables, root attributes) written in SWMR mode and built in memory.
    const auto write = [&scratch](const std::string& name, bool in_memory, double seed, const std::string& title) {
        FileSpec spec = spec_with_tables(scratch.path() / name, 4);
        spec.in_memory = in_memory;
        spec.global_numeric_attributes["seed"] = seed;
        spec.global_attributes["title"] = title;
        spec.provenance_attributes["command_line"] = "citysim run " + name;
        Recorder recorder(spec);
        write_example(recorder, 2);
        append_events(recorder, Events::rows(0, 10));
        append_firms(recorder);
        // Nothing is named <path>.incomplete while a file built in memory is written.
        CHECK(fs::exists(recorder.temporary_path()) != in_memory);
        put_record(recorder, 2);
        recorder.finish();
        return scratch.path() / name;
    };
    const auto same = [&scratch](const fs::path& a, const fs::path& b) {
        const auto diff = run_command("h5diff --exclude-path /provenance " + quoted(a) + " " + quoted(b), scratch.path());
        INFO(diff.output);
        return diff.exit_code == 0;
    };
    // The first file built in memory makes the layout; the next of the same sizes copy it and
    // write their own root attributes: another seed, a title of the same length, another length
    // (which makes a layout of its own).
    CHECK(same(write("swmr-1.h5", false, 1, "recorder test"), write("memory-1.h5", true, 1, "recorder test")));
    CHECK(same(write("swmr-2.h5", false, 2, "recorder TEST"), write("memory-2.h5", true, 2, "recorder TEST")));
    CHECK(same(write("swmr-3.h5", false, 3, "a longer recorder test"), write("memory-3.h5", true, 3, "a longer recorder test")));
    CHECK_FALSE(same(scratch.path() / "memory-1.h5", scratch.path() / "memory-2.h5"));
    const Reader copy(scratch.path() / "memory-2.h5");
    CHECK(copy.global_numeric_attributes().at("seed") == 2.0);
    CHECK(copy.global_attributes().at("title") == "recorder TEST");
    CHECK(copy.global_attributes().at("status") == "complete");
    CHECK(copy.read_column("event", "event_amount") == Events::rows(0, 10).amount);

    // Aborted, it is written as <path>.incomplete with the reason, and no hidden file is left.
    {
        FileSpec spec = spec_with_tables(scratch.path() / "aborted.h5", 4);
        spec.in_memory = true;
        Recorder recorder(spec);
        write_example(recorder, 3);
        recorder.abort("stopped");
    }
    CHECK_FALSE(fs::exists(scratch.path() / "aborted.h5"));
    const Reader aborted(scratch.path() / "aborted.h5.incomplete");
    CHECK(aborted.global_attributes().at("status") == "incomplete: stopped");
    CHECK(aborted.times().size() == 3);
    for (const auto& entry : fs::directory_iterator(scratch.path()))
        CHECK(entry.path().filename().string().front() != '.');
}

TEST_CASE("Recorder::take_kept_values gives every variable's values as a Reader reads them back", "[recorder]") {
    const ScratchDirectory scratch("kept");
    for (const bool in_memory : {false, true}) {
        const fs::path path = scratch.path() / (in_memory ? "memory.h5" : "swmr.h5");
        FileSpec spec = example_spec(path, 2);  // 5 records: flushed in twos, then the last at finish()
        spec.in_memory = in_memory;
        spec.keep_values = true;
        Recorder recorder(spec);
        write_example(recorder, 4);
        // A record that misses a variable is dropped, from the file and from the copy alike.
        recorder.begin_record(time_of(4));
        recorder.put("rent", std::span<const double>(rent_at(4)));
        CHECK_THROWS_AS(recorder.end_record(), std::logic_error);
        put_record(recorder, 4);
        CHECK(recorder.take_kept_values().empty());  // nothing before finish()
        recorder.finish();
        auto kept = recorder.take_kept_values();
        const Reader reader(path);
        for (const auto& name : reader.variables()) {
            INFO(name << (in_memory ? " (in memory)" : " (SWMR)"));
            std::vector<std::int64_t> integers;
            std::vector<double> floats;
            if (reader.variable(name).dtype == DType::Int64) {
                reader.read_all(name, integers);
                const auto values = kept.integers(name);
                REQUIRE(values.has_value());
                CHECK(std::vector<std::int64_t>(values->begin(), values->end()) == integers);
                CHECK_FALSE(kept.floats(name).has_value());
            } else {
                reader.read_all(name, floats);
                const auto values = kept.floats(name);
                REQUIRE(values.has_value());
                CHECK(std::vector<double>(values->begin(), values->end()) == floats);
                CHECK_FALSE(kept.integers(name).has_value());
            }
        }
        CHECK(kept.integers("population")->size() == 5 * kCities.size());
        CHECK_FALSE(kept.floats("no such variable").has_value());
        CHECK(recorder.take_kept_values().empty());  // moved out
    }
    // Not asked for, or not finished: nothing.
    {
        Recorder recorder(example_spec(scratch.path() / "not-asked.h5", 2));
        write_example(recorder, 2);
        recorder.finish();
        CHECK(recorder.take_kept_values().empty());
    }
    {
        FileSpec spec = example_spec(scratch.path() / "aborted.h5", 2);
        spec.keep_values = true;
        Recorder recorder(spec);
        write_example(recorder, 2);
        recorder.abort("stopped");
        CHECK(recorder.take_kept_values().empty());
    }
}

TEST_CASE("Recorder rejects wrong counts, unknown variables and missing puts", "[recorder]") {
    const ScratchDirectory scratch("errors");
    const fs::path path = scratch.path() / "run.h5";
    Recorder recorder(example_spec(path, 10));
    const std::vector<double> two_values{1.0, 2.0};
    const std::vector<std::int64_t> three_ints{1, 2, 3};

    SECTION("wrong value count names variable, expected and got") {
        recorder.begin_record(0);
        CHECK_THROWS_AS(recorder.put("rent", std::span<const double>(two_values)),
                        std::invalid_argument);
        CHECK_THROWS_WITH(recorder.put("rent", std::span<const double>(two_values)),
                          Contains("'rent'") && Contains("expected 6") && Contains("got 2"));
        CHECK_THROWS_WITH(recorder.write_static("area", std::span<const double>(two_values)),
                          Contains("'area'") && Contains("expected 3") && Contains("got 2"));
    }
    SECTION("unknown variable") {
        recorder.begin_record(0);
        CHECK_THROWS_AS(recorder.put("rents", std::span<const double>(two_values)),
                        std::invalid_argument);
        CHECK_THROWS_WITH(recorder.put("rents", std::span<const double>(two_values)),
                          Contains("'rents'"));
        CHECK_THROWS_AS(recorder.write_static("areas", std::span<const double>(two_values)),
                        std::invalid_argument);
    }
    SECTION("wrong value type, static/time-series mix-ups, put outside a record") {
        CHECK_THROWS_AS(recorder.put("population", std::span<const std::int64_t>(three_ints)),
                        std::logic_error);
        recorder.begin_record(0);
        CHECK_THROWS_WITH(recorder.put("population", std::span<const double>(kArea)),
                          Contains("'population'") && Contains("int64"));
        CHECK_THROWS_AS(recorder.put("area", std::span<const double>(kArea)), std::invalid_argument);
        CHECK_THROWS_AS(recorder.write_static("population", std::span<const std::int64_t>(three_ints)),
                        std::invalid_argument);
        CHECK_THROWS_AS(recorder.begin_record(1), std::logic_error);
        recorder.put("population", std::span<const std::int64_t>(three_ints));
        CHECK_THROWS_AS(recorder.put("population", std::span<const std::int64_t>(three_ints)),
                        std::logic_error);
    }
    SECTION("missing put is an error at end_record, and the record is discarded") {
        write_example(recorder, 2);
        recorder.begin_record(time_of(2));
        recorder.put("population", std::span<const std::int64_t>(population_at(2)));
        recorder.put("employment", std::span<const std::int64_t>(employment_at(2)));
        CHECK_THROWS_AS(recorder.end_record(), std::logic_error);
        CHECK(recorder.records_written() == 2);
        // The recorder stays usable: the next record is complete and is recorded in place of it.
        recorder.begin_record(time_of(2));
        recorder.put("population", std::span<const std::int64_t>(population_at(2)));
        recorder.put("employment", std::span<const std::int64_t>(employment_at(2)));
        recorder.put("price_index", std::span<const double>(price_index_at(2)));
        CHECK_THROWS_WITH(recorder.end_record(), Contains("'rent'") && !Contains("'population'"));
        put_record(recorder, 2);
        recorder.finish();
        const Reader reader(path);
        CHECK(reader.times().size() == 3);
        CHECK(reader.read_record("population", 2) == as_doubles(population_at(2)));
        CHECK(reader.read_record("employment", 2) == as_doubles(employment_at(2)));
    }
    SECTION("finish() needs every static variable and no open record") {
        recorder.write_static("area", std::span<const double>(kArea));
        CHECK_THROWS_WITH(recorder.finish(), Contains("'firms'"));
        CHECK_THROWS_AS(recorder.write_static("area", std::span<const double>(kArea)),
                        std::logic_error);
        recorder.write_static("firms", std::span<const std::int64_t>(firms()));
        recorder.begin_record(0);
        CHECK_THROWS_AS(recorder.finish(), std::logic_error);
    }
}

TEST_CASE("Recorder and Reader report invalid specs and unreadable files", "[recorder]") {
    const ScratchDirectory scratch("bad-spec");

    SECTION("a variable over an unknown axis") {
        FileSpec spec = example_spec(scratch.path() / "run.h5", 10);
        spec.variables.push_back({"wages", {"time", "district"}, DType::Float64, "EUR", "wages", ""});
        CHECK_THROWS_WITH(Recorder(spec), Contains("'district'"));
        CHECK_FALSE(fs::exists(scratch.path() / "run.h5.incomplete"));
    }
    SECTION("time not first, duplicate names, reserved attributes") {
        FileSpec spec = example_spec(scratch.path() / "run.h5", 10);
        spec.variables.push_back({"wages", {"city", "time"}, DType::Float64, "EUR", "wages", ""});
        CHECK_THROWS_AS(Recorder(spec), std::invalid_argument);
        spec = example_spec(scratch.path() / "run.h5", 10);
        spec.variables.push_back({"city", {"time"}, DType::Float64, "1", "clash", ""});
        CHECK_THROWS_AS(Recorder(spec), std::invalid_argument);
        spec = example_spec(scratch.path() / "run.h5", 10);
        spec.global_attributes["status"] = "mine";
        CHECK_THROWS_AS(Recorder(spec), std::invalid_argument);
        spec = example_spec(scratch.path() / "run.h5", 0);
        CHECK_THROWS_AS(Recorder(spec), std::invalid_argument);
    }
    SECTION("tables share the root namespace, and their columns are over their own row axis") {
        const fs::path path = scratch.path() / "run.h5";
        const auto table_named = [&path](const std::string& name) {
            FileSpec spec = spec_with_tables(path, 10);
            spec.tables.front().name = name;
            for (auto& column : spec.tables.front().columns) column.dims = {name};
            return spec;
        };
        CHECK_THROWS_AS(Recorder(table_named("city")), std::invalid_argument);
        CHECK_THROWS_WITH(Recorder(table_named("city")), Contains("table 'city'") && Contains("axis 'city'"));
        CHECK_THROWS_WITH(Recorder(table_named("rent")), Contains("table 'rent'") && Contains("variable 'rent'"));
        CHECK_THROWS_WITH(Recorder(table_named("time")), Contains("table 'time'") && Contains("axis 'time'"));
        CHECK_THROWS_WITH(Recorder(table_named("firm")), Contains("table 'firm'") && Contains("table 'firm'"));
        CHECK_THROWS_WITH(Recorder(table_named("provenance")), Contains("group 'provenance'"));

        FileSpec spec = spec_with_tables(path, 10);
        spec.tables.back().columns.front().name = "rent";
        CHECK_THROWS_WITH(Recorder(spec), Contains("column 'rent' of table 'firm'") && Contains("variable 'rent'"));
        spec = spec_with_tables(path, 10);
        spec.tables.back().columns.front().name = "event_amount";
        CHECK_THROWS_WITH(Recorder(spec), Contains("column 'event_amount' of table 'firm'") &&
                                              Contains("column 'event_amount' of table 'event'"));
        spec = spec_with_tables(path, 10);
        spec.tables.back().columns.front().name = "event";
        CHECK_THROWS_WITH(Recorder(spec), Contains("column 'event' of table 'firm'") && Contains("table 'event'"));
        spec = spec_with_tables(path, 10);
        spec.variables.push_back({"firm_id", {"city"}, DType::Int64, "1", "clash", ""});
        CHECK_THROWS_WITH(Recorder(spec), Contains("column 'firm_id' of table 'firm'") &&
                                              Contains("variable 'firm_id'"));

        spec = spec_with_tables(path, 10);
        spec.tables.front().columns.front().dims = {"event", "city"};
        CHECK_THROWS_WITH(Recorder(spec), Contains("'event_firm'") && Contains("dims"));
        spec.tables.front().columns.front().dims = {"firm"};
        CHECK_THROWS_AS(Recorder(spec), std::invalid_argument);
        spec.tables.front().columns.front().dims = {};
        CHECK_THROWS_AS(Recorder(spec), std::invalid_argument);
        spec = spec_with_tables(path, 10);
        spec.tables.back().columns.clear();
        CHECK_THROWS_WITH(Recorder(spec), Contains("'firm'") && Contains("no columns"));
        // A table's row axis is not an axis that variables may use.
        spec = spec_with_tables(path, 10);
        spec.variables.push_back({"events_per_city", {"event", "city"}, DType::Int64, "1", "n", ""});
        CHECK_THROWS_WITH(Recorder(spec), Contains("unknown axis 'event'"));
        CHECK_FALSE(fs::exists(scratch.path() / "run.h5.incomplete"));
    }
    SECTION("a directory that does not exist is an HDF5 error naming the path") {
        const fs::path path = scratch.path() / "missing-directory" / "run.h5";
        CHECK_THROWS_AS(Recorder(example_spec(path, 10)), std::runtime_error);
        CHECK_THROWS_WITH(Recorder(example_spec(path, 10)), Contains(path.string() + ".incomplete"));
    }
    SECTION("Reader on a missing or non-HDF5 file") {
        const fs::path missing = scratch.path() / "missing.h5";
        CHECK_THROWS_AS(Reader(missing), std::runtime_error);
        CHECK_THROWS_WITH(Reader(missing), Contains(missing.string()));
        const fs::path text = scratch.path() / "text.h5";
        std::ofstream(text) << "not HDF5";
        CHECK_THROWS_WITH(Reader(text), Contains(text.string()));
    }
}

TEST_CASE("Recorder output is identical for identical inputs", "[recorder]") {
    const ScratchDirectory scratch("determinism");
    for (const char* name : {"a.h5", "b.h5"}) {
        FileSpec spec = spec_with_tables(scratch.path() / name, 7);
        spec.provenance_attributes.clear();  // nothing run-specific, not even the finish time
        Recorder recorder(spec);
        // Rows written by the buffer bound, by the periodic flush of records and by flush().
        append_events(recorder, Events::rows(0, static_cast<std::int64_t>(kTableBufferRows) + 100));
        write_example(recorder, 10);
        append_events(recorder, Events::rows(static_cast<std::int64_t>(kTableBufferRows) + 100, 999));
        write_example_records(recorder, 10, 20);
        append_firms(recorder);
        recorder.flush();
        recorder.abort("stopped");  // abort() writes no `finished` time
        // HDF5 timestamps have one-second resolution: without the pause, stored object times
        // would match by chance.
        std::this_thread::sleep_for(std::chrono::milliseconds(1100));
    }
    // Same inputs, same library: the files are byte-identical (no object timestamps are stored).
    const auto compare = run_command("cmp " + quoted(scratch.path() / "a.h5.incomplete") + " " +
                                         quoted(scratch.path() / "b.h5.incomplete"),
                                     scratch.path());
    INFO(compare.output);
    CHECK(compare.exit_code == 0);
}

TEST_CASE("Recorder round-trips tables appended in batches and at once", "[recorder]") {
    const ScratchDirectory scratch("tables");
    const fs::path path = scratch.path() / "run.h5";
    // An empty batch, and one that crosses the buffer bound on its own.
    const std::vector<std::int64_t> batch_sizes{1000, 0, static_cast<std::int64_t>(kTableBufferRows) + 4464, 5};
    Events all;
    {
        Recorder recorder(spec_with_tables(path, 10));
        write_example(recorder, 3);
        std::int64_t rows = 0;
        for (const std::int64_t size : batch_sizes) {
            const Events batch = Events::rows(rows, size);
            append_events(recorder, batch);
            batch.append_to(all);
            rows += size;
            CHECK(recorder.rows_appended("event") == rows);
            put_record(recorder, 3);  // records and rows interleave freely
        }
        CHECK(recorder.rows_appended("firm") == 0);
        append_firms(recorder);
        CHECK(recorder.rows_appended("firm") == 3);
        recorder.finish();
    }

    const Reader reader(path);
    CHECK(reader.tables() == std::vector<std::string>{"event", "firm"});
    CHECK(reader.table_columns("event") ==
          std::vector<std::string>{"event_firm", "event_step", "event_code", "event_amount"});
    CHECK(reader.table_columns("firm") == std::vector<std::string>{"firm_id", "firm_capital"});
    // Tables are not variables: callers that walk variables() see what they saw before tables.
    CHECK(reader.variables() ==
          std::vector<std::string>{"population", "rent", "employment", "price_index", "area", "firms"});

    const std::size_t rows = all.firm.size();
    REQUIRE(rows == 71005);
    CHECK(reader.read_column("event", "event_firm") == as_doubles(all.firm));
    CHECK(reader.read_column("event", "event_step") == as_doubles(all.step));
    CHECK(reader.read_column("event", "event_code") == as_doubles(all.code));
    CHECK(reader.read_column("event", "event_amount") == all.amount);
    CHECK(reader.read_static("event") == row_indices(rows));  // the row axis: row indices
    CHECK(reader.read_column("firm", "firm_id") == as_doubles(kFirmIds));
    CHECK(reader.read_column("firm", "firm_capital") == kFirmCapital);
    CHECK(reader.read_static("firm") == row_indices(3));

    const auto amount = reader.variable("event_amount");
    CHECK(amount.dims == std::vector<std::string>{"event"});
    CHECK(amount.dtype == DType::Float64);
    CHECK(amount.units == "EUR");
    CHECK(amount.long_name == "amount");
    CHECK(reader.variable("event_code").description == "0 founded, 1 hired, 2 closed");
    CHECK(reader.variable("event_code").dtype == DType::Int64);
    const auto row_axis = reader.variable("event");
    CHECK(row_axis.dims == std::vector<std::string>{"event"});
    CHECK(row_axis.long_name == "simulation event");

    CHECK_THROWS_WITH(reader.read_column("firm", "event_amount"), Contains("no column 'event_amount'"));
    CHECK_THROWS_WITH(reader.read_column("event", "event"), Contains("no column 'event'"));
    CHECK_THROWS_WITH(reader.read_column("event", "rent"), Contains("no column 'rent'"));
    CHECK_THROWS_WITH(reader.read_column("events", "event_amount"), Contains("'events'"));
    CHECK_THROWS_WITH(reader.table_columns("city"), Contains("'city' is not a table"));
    CHECK_THROWS_WITH(reader.table_columns("time"), Contains("'time' is not a table"));
    CHECK_THROWS_WITH(reader.table_columns("rent"), Contains("'rent' is not a table"));
}

TEST_CASE("Recorder writes table rows on flush(), with records, and at the buffer bound",
          "[recorder]") {
    const ScratchDirectory scratch("table-flush");
    const fs::path path = scratch.path() / "run.h5";
    Recorder recorder(spec_with_tables(path, 4));
    const fs::path incomplete = recorder.temporary_path();
    recorder.write_static("area", std::span<const double>(kArea));
    recorder.write_static("firms", std::span<const std::int64_t>(firms()));

    append_events(recorder, Events::rows(0, 10));
    CHECK(length_on_disk(incomplete, "event", scratch.path()) == 0);
    recorder.flush();
    CHECK(length_on_disk(incomplete, "event", scratch.path()) == 10);
    CHECK(length_on_disk(incomplete, "event_amount", scratch.path()) == 10);

    append_events(recorder, Events::rows(10, 5));
    write_example_records(recorder, 0, 3);
    CHECK(length_on_disk(incomplete, "event", scratch.path()) == 10);
    put_record(recorder, 3);  // the fourth record: the periodic flush writes rows too
    CHECK(records_on_disk(incomplete, scratch.path()) == 4);
    CHECK(length_on_disk(incomplete, "event", scratch.path()) == 15);

    // Without flushes, rows are written once kTableBufferRows of them are buffered.
    const auto bound = static_cast<std::int64_t>(kTableBufferRows);
    append_events(recorder, Events::rows(15, bound - 1));
    CHECK(length_on_disk(incomplete, "event", scratch.path()) == 15);
    append_events(recorder, Events::rows(15 + bound - 1, 1));
    CHECK(length_on_disk(incomplete, "event", scratch.path()) == 15 + bound);
    CHECK(length_on_disk(incomplete, "event_code", scratch.path()) == 15 + bound);
    CHECK(length_on_disk(incomplete, "firm", scratch.path()) == 0);
    recorder.finish();

    const Reader reader(path);
    CHECK(reader.read_column("event", "event_amount") == Events::rows(0, 15 + bound).amount);
    CHECK(reader.read_column("firm", "firm_id").empty());
    CHECK(reader.read_column("firm", "firm_capital").empty());
}

TEST_CASE("Recorder::append_rows rejects unknown tables and columns, unequal lengths and wrong types",
          "[recorder]") {
    const ScratchDirectory scratch("table-errors");
    const fs::path path = scratch.path() / "run.h5";
    Recorder recorder(spec_with_tables(path, 10));
    write_example(recorder, 1);
    const Events kept = Events::rows(0, 3);
    append_events(recorder, kept);
    const Events two = Events::rows(3, 2);
    const std::vector<std::int64_t> one_int{1};
    const std::vector<double> two_doubles{1.0, 2.0};

    SECTION("unknown table") {
        const auto columns = two.columns();
        CHECK_THROWS_AS(recorder.append_rows("events", columns), std::invalid_argument);
        CHECK_THROWS_WITH(recorder.append_rows("events", columns), Contains("unknown table 'events'"));
        CHECK_THROWS_WITH(recorder.rows_appended("events"), Contains("unknown table 'events'"));
        // Variables and axes are not tables.
        CHECK_THROWS_AS(recorder.append_rows("rent", columns), std::invalid_argument);
        CHECK_THROWS_AS(recorder.append_rows("time", columns), std::invalid_argument);
    }
    SECTION("missing column, named; no columns at all") {
        const auto all = two.columns();
        const std::array<ColumnValues, 3> three{all[0], all[1], all[3]};
        CHECK_THROWS_AS(recorder.append_rows("event", three), std::invalid_argument);
        CHECK_THROWS_WITH(recorder.append_rows("event", three),
                          Contains("'event_code'") && !Contains("'event_firm'"));
        CHECK_THROWS_WITH(recorder.append_rows("event", std::span<const ColumnValues>()),
                          Contains("'event_firm', 'event_step', 'event_code', 'event_amount'"));
    }
    SECTION("unknown column, or a column given twice") {
        auto columns = two.columns();
        columns[2].column = "event_cod";
        CHECK_THROWS_WITH(recorder.append_rows("event", columns), Contains("unknown column 'event_cod'"));
        columns[2].column = "firm_id";  // a column of another table
        CHECK_THROWS_WITH(recorder.append_rows("event", columns), Contains("unknown column 'firm_id'"));
        columns[2].column = "event_step";
        CHECK_THROWS_WITH(recorder.append_rows("event", columns), Contains("'event_step' given twice"));
    }
    SECTION("unequal lengths name both columns and their lengths") {
        auto columns = two.columns();
        columns[1].values = std::span<const std::int64_t>(one_int);
        CHECK_THROWS_AS(recorder.append_rows("event", columns), std::invalid_argument);
        CHECK_THROWS_WITH(recorder.append_rows("event", columns),
                          Contains("'event_firm' has 2") && Contains("'event_step' has 1"));
    }
    SECTION("dtype mismatch, without conversion") {
        auto columns = two.columns();
        columns[3].values = std::span<const std::int64_t>(two.code);  // int64 into a float64 column
        CHECK_THROWS_WITH(recorder.append_rows("event", columns),
                          Contains("'event_amount'") && Contains("float64") && Contains("int64"));
        columns = two.columns();
        columns[0].values = std::span<const double>(two_doubles);  // float64 into an int64 column
        CHECK_THROWS_AS(recorder.append_rows("event", columns), std::invalid_argument);
    }
    // Whatever was rejected appended nothing: the table holds the first batch alone.
    CHECK(recorder.rows_appended("event") == 3);
    recorder.finish();
    const auto columns = two.columns();
    CHECK_THROWS_AS(recorder.append_rows("event", columns), std::logic_error);
    const Reader reader(path);
    CHECK(reader.read_column("event", "event_firm") == as_doubles(kept.firm));
    CHECK(reader.read_column("event", "event_amount") == kept.amount);
}

TEST_CASE("An aborted or unfinished recorder keeps the table rows appended so far", "[recorder]") {
    const ScratchDirectory scratch("table-abort");
    const fs::path path = scratch.path() / "run.h5";
    const fs::path incomplete = scratch.path() / "run.h5.incomplete";
    const bool by_destructor = GENERATE(false, true);
    {
        Recorder recorder(spec_with_tables(path, 10));
        write_example(recorder, 2);
        append_events(recorder, Events::rows(0, 100));
        recorder.flush();
        append_events(recorder, Events::rows(100, 50));  // buffered: written by abort()
        append_firms(recorder);
        if (!by_destructor) recorder.abort("model diverged");
    }
    CHECK_FALSE(fs::exists(path));
    REQUIRE(fs::exists(incomplete));
    const Reader reader(incomplete);
    CHECK(reader.global_attributes().at("status") ==
          (by_destructor ? "incomplete: not finished" : "incomplete: model diverged"));
    const Events expected = Events::rows(0, 150);
    CHECK(reader.read_column("event", "event_step") == as_doubles(expected.step));
    CHECK(reader.read_column("event", "event_amount") == expected.amount);
    CHECK(reader.read_static("event") == row_indices(150));
    CHECK(reader.read_column("firm", "firm_id") == as_doubles(kFirmIds));
}

TEST_CASE("Tables open with h5py, xarray (h5netcdf) and ncdump, an empty table too", "[recorder]") {
    const ScratchDirectory scratch("table-interop");
    const fs::path path = scratch.path() / "run.h5";
    {
        Recorder recorder(spec_with_tables(path, 10));
        write_example(recorder, 12);
        append_events(recorder, Events::rows(0, 5000));  // more than one chunk
        recorder.finish();  // the firm table stays empty
    }

    const fs::path script = scratch.path() / "check.py";
    std::ofstream(script) << R"PY(
import sys
import h5py
import numpy as np
import xarray as xr

path = sys.argv[1]
with h5py.File(path, "r") as f:
    for name in ("event", "event_firm", "event_amount", "firm", "firm_id"):
        assert f[name].maxshape == (None,), (name, f[name].maxshape)
        assert f[name].chunks == (4096,), (name, f[name].chunks)
        assert f[name].compression == "gzip" and f[name].shuffle, name
    assert f["event"].dtype == np.int64 and f["event_amount"].dtype == np.float64
    assert [d[0].name for d in f["event_amount"].dims] == ["/event"]
    assert [d[0].name for d in f["firm_capital"].dims] == ["/firm"]
    both = h5py.h5p.CRT_ORDER_TRACKED | h5py.h5p.CRT_ORDER_INDEXED
    for name in ("event", "event_code", "firm"):
        assert f[name].id.get_create_plist().get_attr_creation_order() == both, name

ds = xr.open_dataset(path, engine="h5netcdf")
assert dict(ds.sizes) == {"time": 12, "city": 3, "field": 2, "sector": 4, "event": 5000, "firm": 0}, dict(ds.sizes)
assert set(ds.encoding["unlimited_dims"]) == {"time", "event", "firm"}, ds.encoding
assert ds["event_amount"].dims == ("event",) and ds["firm_id"].dims == ("firm",)
assert ds["event_firm"].dtype == np.int64 and ds["event_amount"].dtype == np.float64
assert ds["event"].values.tolist() == list(range(5000))
assert ds["event_step"].values.tolist() == [row // 100 for row in range(5000)]
assert ds["event_amount"].values[4999] == 0.1 * 4999 - 1e6
assert ds["event_code"].attrs["description"] == "0 founded, 1 hired, 2 closed"
assert ds["event_amount"].attrs["units"] == "EUR" and ds["event_amount"].attrs["long_name"] == "amount"
assert ds["event"].attrs["long_name"] == "simulation event", ds["event"].attrs
assert ds["firm_capital"].shape == (0,) and ds["firm"].shape == (0,)
assert ds["population"].dims == ("time", "city")
print("ok")
)PY";
    const auto python = run_command("/usr/bin/python3 " + quoted(script) + " " + quoted(path),
                                    scratch.path());
    INFO(python.output);
    CHECK(python.exit_code == 0);

    const auto header = run_command("ncdump -h " + quoted(path), scratch.path());
    INFO(header.output);
    REQUIRE(header.exit_code == 0);
    CHECK_THAT(header.output, Contains("time = UNLIMITED ; // (12 currently)"));
    CHECK_THAT(header.output, Contains("event = UNLIMITED ; // (5000 currently)"));
    CHECK_THAT(header.output, Contains("firm = UNLIMITED ; // (0 currently)"));
    CHECK_THAT(header.output, Contains("int64 event(event) ;"));
    CHECK_THAT(header.output, Contains("int64 event_firm(event) ;"));
    CHECK_THAT(header.output, Contains("double event_amount(event) ;"));
    CHECK_THAT(header.output, Contains("double firm_capital(firm) ;"));
    CHECK_THAT(header.output, Contains("event_amount:units = \"EUR\" ;"));
    CHECK_THAT(header.output, Contains("event:role = \"table row index\" ;"));

    const auto data = run_command("ncdump -v event_firm,firm_id " + quoted(path), scratch.path());
    INFO(data.output);
    REQUIRE(data.exit_code == 0);
    CHECK_THAT(data.output, Contains("event_firm = 1099511627776, 1099511627777, 1099511627778"));
}
