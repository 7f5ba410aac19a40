// Tests of the HDF5 recorder: round trip through Reader, the complete/incomplete protocol, and
// interoperability with h5py, xarray (h5netcdf engine), ncdump and h5diff.
#include "engine/output/recorder.hpp"

#include <catch2/catch.hpp>

#include <sys/wait.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
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
using citysim::output::VariableSpec;
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

void write_example(Recorder& recorder, int records) {
    recorder.write_static("area", std::span<const double>(kArea));
    recorder.write_static("firms", std::span<const std::int64_t>(firms()));
    for (int record = 0; record < records; ++record) put_record(recorder, record);
}

template <typename Int>
std::vector<double> as_doubles(const std::vector<Int>& values) {
    return std::vector<double>(values.begin(), values.end());
}

// Number of records in the file on disk as another process sees it. The recorder holds HDF5's
// file lock, so h5dump must not try to take it.
int records_on_disk(const fs::path& file, const fs::path& directory) {
    const auto result = run_command(
        "HDF5_USE_FILE_LOCKING=FALSE h5dump -H -d /time " + quoted(file), directory);
    INFO(result.output);
    REQUIRE(result.exit_code == 0);
    const std::regex extent(R"(DATASPACE\s+SIMPLE\s+\{\s*\(\s*(\d+)\s*\)\s*/\s*\(\s*H5S_UNLIMITED\s*\))");
    std::smatch match;
    REQUIRE(std::regex_search(result.output, match, extent));
    return std::stoi(match[1].str());
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
    // Leftovers of an earlier run are replaced: a stale temporary file and an old final file.
    std::ofstream(incomplete) << "stale temporary file";
    std::ofstream(path) << "previous run";

    Recorder recorder(example_spec(path, 4));
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
    # and attributes, and a superblock a netCDF built on HDF5 1.8 can read (< 3).
    both = h5py.h5p.CRT_ORDER_TRACKED | h5py.h5p.CRT_ORDER_INDEXED
    # (The root group's own property list, not the file's: HDF5 does not report the file
    # creation property list's creation order once the file is reopened.)
    assert f["/"].id.get_create_plist().get_link_creation_order() == both
    assert f["/"].id.get_create_plist().get_attr_creation_order() == both
    assert f["provenance"].id.get_create_plist().get_link_creation_order() == both
    for name in ("time", "city", "rent", "area"):
        assert f[name].id.get_create_plist().get_attr_creation_order() == both, name
    assert f.id.get_create_plist().get_version()[0] < 3, f.id.get_create_plist().get_version()

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
        FileSpec spec = example_spec(scratch.path() / name, 7);
        spec.provenance_attributes.clear();  // nothing run-specific, not even the finish time
        Recorder recorder(spec);
        write_example(recorder, 20);
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
