// The checkpoint archive: what is saved is restored exactly, restoring is strict (missing entries,
// other types, other columns are errors naming the entry), tables are saved whatever their columns,
// and a checkpoint file is written atomically and refuses to be used when damaged.
#include "engine/checkpoint/archive.hpp"
#include "engine/checkpoint/file.hpp"

#include <catch2/catch.hpp>
#include <hdf5.h>

#include <filesystem>
#include <fstream>

using namespace citysim;
using checkpoint::CheckpointError;

namespace {

struct Pair {
    std::uint32_t row;
    std::uint32_t owner;
};

struct Holder {
    double scalar = 0.0;
    std::uint8_t flag = 0;
    std::vector<float> reals;
    std::vector<std::int64_t> counts;
    std::vector<Pair> pairs;
    std::string note;
    std::vector<std::string> names;
    engine::AgentTable table{"things"};
    engine::ColumnHandle<float> size = table.add_column<float>("size", 1.0f);
    engine::ColumnHandle<std::uint16_t> place = table.add_column<std::uint16_t>("place");

    void save_or_restore(checkpoint::Archive& archive) {
        auto scope = archive.section("holder");
        archive.value("scalar", scalar);
        archive.value("flag", flag);
        archive.values("reals", reals);
        archive.values("counts", counts);
        archive.records("pairs", pairs);
        archive.text("note", note);
        archive.texts("names", names);
        archive.table("table", table);
    }
};

Holder filled() {
    Holder h;
    h.scalar = 0.1 + 0.2;
    h.flag = 7;
    h.reals = {1.5f, -2.25f, 1e-30f};
    h.counts = {-1, 0, std::int64_t{1} << 50};
    h.pairs = {{3, 4}, {5, 6}};
    h.note = "a note\nwith a line";
    h.names = {"beijing", "", "shenzhen"};
    h.table.append(5);
    std::vector<std::uint8_t> gone = {0, 1, 0, 0, 1};
    h.table.remove_flagged(gone);  // ids 0, 2, 3; the next id stays 5
    h.table.column(h.size)[1] = 42.0f;
    h.table.column(h.place)[2] = 65535;
    return h;
}

void require_equal(Holder& a, Holder& b) {
    checkpoint::MemoryArchive x, y;
    a.save_or_restore(x);
    b.save_or_restore(y);
    REQUIRE(checkpoint::MemoryArchive::first_difference(x, y) == "");
}

}  // namespace

TEST_CASE("checkpoint archive: what is saved is restored exactly, tables with their ids and next id", "[checkpoint]") {
    Holder original = filled();
    checkpoint::MemoryArchive saved;
    original.save_or_restore(saved);
    Holder restored;
    auto reading = checkpoint::MemoryArchive::reading(saved);
    restored.save_or_restore(reading);
    CHECK(restored.scalar == original.scalar);
    CHECK(restored.reals == original.reals);
    CHECK(restored.counts == original.counts);
    CHECK(restored.pairs.size() == 2);
    CHECK(restored.pairs[1].owner == 6);
    CHECK(restored.note == original.note);
    CHECK(restored.names == original.names);
    REQUIRE(restored.table.size() == 3);
    CHECK(restored.table.ids()[2] == 3);
    CHECK(restored.table.next_id() == 5);
    CHECK(restored.table.column(restored.size)[1] == 42.0f);
    CHECK(restored.table.column(restored.place)[2] == 65535);
    require_equal(original, restored);
    // Appending after a restore continues the ids.
    const std::size_t row = restored.table.append(1);
    CHECK(restored.table.ids()[row] == 5);
}

TEST_CASE("checkpoint archive: first_difference names the entry and element that differ", "[checkpoint]") {
    Holder a = filled(), b = filled();
    b.table.column(b.size)[2] = 2.5f;
    checkpoint::MemoryArchive x, y;
    a.save_or_restore(x);
    b.save_or_restore(y);
    const auto difference = checkpoint::MemoryArchive::first_difference(x, y);
    CHECK(difference.find("holder/table/columns/size: element 2 of 3 differs (1 vs 2.5)") == 0);
}

TEST_CASE("checkpoint archive: restoring is strict about names, types and columns", "[checkpoint]") {
    Holder original = filled();
    checkpoint::MemoryArchive saved;
    original.save_or_restore(saved);

    struct OtherType {
        void save_or_restore(checkpoint::Archive& archive) {
            auto scope = archive.section("holder");
            std::vector<double> reals;
            archive.values("reals", reals);  // saved as f32
        }
    } other_type;
    auto reading = checkpoint::MemoryArchive::reading(saved);
    CHECK_THROWS_WITH(other_type.save_or_restore(reading),
                      Catch::Contains("'holder/reals' holds f32 (4 bytes each), this build expects f64"));

    struct Missing {
        void save_or_restore(checkpoint::Archive& archive) {
            double x = 0;
            archive.value("nowhere", x);
        }
    } missing;
    auto again = checkpoint::MemoryArchive::reading(saved);
    CHECK_THROWS_AS(missing.save_or_restore(again), CheckpointError);

    struct MoreColumns {
        engine::AgentTable table{"things"};
        MoreColumns() {
            table.add_column<float>("size");
            table.add_column<std::uint16_t>("place");
            table.add_column<double>("added later");
        }
        void save_or_restore(checkpoint::Archive& archive) {
            auto scope = archive.section("holder");
            archive.table("table", table);
        }
    } more;
    auto third = checkpoint::MemoryArchive::reading(saved);
    CHECK_THROWS_WITH(more.save_or_restore(third), Catch::Contains("has the columns size, place; this build's table has "
                                                                   "size, place, added later"));
}

TEST_CASE("checkpoint file: round trip, atomic commit, and a damaged file is refused", "[checkpoint]") {
    const auto dir = std::filesystem::temp_directory_path() / "citysim-test-checkpoint-file";
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    const auto output = dir / "run.h5";
    const auto path = checkpoint::checkpoint_path(output, 12);
    CHECK(path.filename() == "run.h5.step-000012.ckpt");
    CHECK(checkpoint::step_of(path) == 12);

    Holder original = filled();
    original.reals.assign(100000, 0.5f);  // several chunks
    {
        checkpoint::FileWriter writer(path, 12);
        writer.attribute("scenario_digest", "abc");
        writer.text_blob("scenario_resolved", "simulation: {steps: 24}\n");
        original.save_or_restore(writer);
        CHECK(std::filesystem::exists(path.string() + ".partial"));
        CHECK_FALSE(std::filesystem::exists(path));
        writer.commit();
    }
    CHECK(std::filesystem::exists(path));
    CHECK_FALSE(std::filesystem::exists(path.string() + ".partial"));
    {
        checkpoint::FileWriter abandoned(checkpoint::checkpoint_path(output, 24), 24);  // never committed
    }
    REQUIRE(checkpoint::list_checkpoints(output).size() == 1);

    {
        checkpoint::FileReader reader(path);
        CHECK(reader.step() == 12);
        CHECK(reader.attribute("scenario_digest") == "abc");
        CHECK(reader.text_blob("scenario_resolved") == "simulation: {steps: 24}\n");
        CHECK_NOTHROW(reader.require_this_build());
        Holder restored;
        restored.save_or_restore(reader);
        require_equal(original, restored);
    }

    // Flip one byte inside a chunk of the reals: the Fletcher-32 checksum catches it.
    haddr_t address = 0;
    {
        const hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
        const hid_t dataset = H5Dopen2(file, "/state/holder/reals", H5P_DEFAULT);
        hsize_t offset[1] = {0};
        unsigned filter_mask = 0;
        hsize_t size = 0;
        REQUIRE(H5Dget_chunk_info_by_coord(dataset, offset, &filter_mask, &address, &size) >= 0);
        H5Dclose(dataset);
        H5Fclose(file);
    }
    {
        std::fstream file(path, std::ios::in | std::ios::out | std::ios::binary);
        file.seekg(static_cast<std::streamoff>(address + 100));
        char byte = 0;
        file.get(byte);
        file.seekp(static_cast<std::streamoff>(address + 100));
        file.put(static_cast<char>(byte ^ 0x40));
    }
    checkpoint::FileReader damaged(path);
    Holder restored;
    CHECK_THROWS_WITH(restored.save_or_restore(damaged), Catch::Contains("holder/reals") && Catch::Contains("damaged"));

    std::ofstream(dir / "run.h5.step-000036.ckpt") << "not HDF5";
    CHECK_THROWS_WITH(checkpoint::FileReader(dir / "run.h5.step-000036.ckpt"), Catch::Contains("cannot be read as HDF5"));
    checkpoint::remove_old_checkpoints(output, 1);
    CHECK(checkpoint::list_checkpoints(output).size() == 1);
    CHECK(checkpoint::list_checkpoints(output)[0].step == 36);
    std::filesystem::remove_all(dir);
}
