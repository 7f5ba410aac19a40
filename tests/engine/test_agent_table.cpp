#include "engine/agent_table.hpp"

#include <catch2/catch.hpp>

#include <random>

using namespace citysim::engine;

TEST_CASE("agent table: columns, stable ids, stable removal, lookup", "[agents]") {
    AgentTable table("test");
    const auto city = table.add_column<std::uint16_t>("city", 7);
    const auto wealth = table.add_column<float>("wealth", 1.5f);
    CHECK(table.append(5) == 0);
    CHECK(table.size() == 5);
    CHECK(table.column(city)[4] == 7);
    CHECK(table.column(wealth)[0] == 1.5f);
    for (std::size_t i = 0; i < 5; ++i) table.column(city)[i] = static_cast<std::uint16_t>(10 + i);

    std::vector<std::uint8_t> flags = {1, 0, 1, 1, 0};
    table.remove_flagged(flags);
    REQUIRE(table.size() == 2);
    CHECK(table.ids()[0] == 1);
    CHECK(table.ids()[1] == 4);
    CHECK(table.column(city)[0] == 11);
    CHECK(table.column(city)[1] == 14);

    CHECK(table.append(2) == 2);
    CHECK(table.ids()[2] == 5);  // ids are never reused
    CHECK(table.find(4) == std::optional<std::size_t>(1));
    CHECK(table.find(5) == std::optional<std::size_t>(2));
    CHECK_FALSE(table.find(0).has_value());
    CHECK_FALSE(table.find(99).has_value());
    CHECK(table.bytes_per_agent() == sizeof(StoredId) + sizeof(std::uint16_t) + sizeof(float));

    CHECK_THROWS_AS(table.add_column<int>("late"), std::logic_error);
    CHECK_THROWS_AS(table.remove_flagged(std::vector<std::uint8_t>(3)), std::invalid_argument);
}

TEST_CASE("agent table: removing everything and nothing", "[agents]") {
    AgentTable table("test");
    const auto value = table.add_column<int>("value");
    table.append(1000);
    for (std::size_t i = 0; i < 1000; ++i) table.column(value)[i] = static_cast<int>(i);
    table.remove_flagged(std::vector<std::uint8_t>(1000, 0));
    CHECK(table.size() == 1000);
    std::vector<std::uint8_t> odd(1000);
    for (std::size_t i = 0; i < 1000; ++i) odd[i] = i % 2;
    table.remove_flagged(odd);
    REQUIRE(table.size() == 500);
    for (std::size_t i = 0; i < 500; ++i) {
        CHECK(table.column(value)[i] == static_cast<int>(2 * i));
        CHECK(table.ids()[i] == 2 * i);
    }
    table.remove_flagged(std::vector<std::uint8_t>(500, 1));
    CHECK(table.size() == 0);
}

TEST_CASE("agent table: growth policy sets how often appends reallocate", "[agents]") {
    auto reallocations = [](Growth growth) {
        AgentTable table("test", growth);
        const auto value = table.add_column<std::uint32_t>("value");
        int changes = 0;
        std::size_t bytes = table.allocated_bytes();
        for (std::uint32_t i = 0; i < 100000; ++i) {
            const std::size_t row = table.append(1);
            table.column(value)[row] = i;
            if (table.allocated_bytes() != bytes) ++changes;
            bytes = table.allocated_bytes();
        }
        for (std::uint32_t i = 0; i < 100000; i += 997) CHECK(table.column(value)[i] == i);
        CHECK(table.ids()[99999] == 99999);
        return changes;
    };
    const int doubling = reallocations(Growth::doubling);
    const int by_quarter = reallocations(Growth::by_quarter);
    CHECK(doubling <= 18);    // 1, 2, 4, ... 131072
    CHECK(by_quarter >= 40);  // grows by max(1, capacity / 4) from 1
    CHECK(by_quarter > 2 * doubling);
}

TEST_CASE("agent table: the parallel compaction keeps what a serial one keeps, at any thread count", "[agents]") {
    // Removal patterns that move rows across many groups: scattered, clustered at the start (every
    // later row moves far), clustered at the end, and a table of several groups with one removal.
    auto run = [](std::size_t n, const std::vector<std::uint32_t>& removed, int threads) {
        ThreadLimit limit(threads);
        AgentTable table("test");
        const auto small = table.add_column<std::uint8_t>("small");
        const auto wide = table.add_column<double>("wide", 0.5);
        table.append(n);
        for (std::size_t i = 0; i < n; ++i) {
            table.column(small)[i] = static_cast<std::uint8_t>(i * 7);
            table.column(wide)[i] = static_cast<double>(i) * 1.25;
        }
        table.remove_rows(removed);
        return table;
    };
    std::mt19937 random(17);
    const std::size_t n = 300000;
    std::vector<std::vector<std::uint32_t>> patterns(4);
    for (std::uint32_t i = 0; i < n; ++i)
        if (random() % 500 == 0) patterns[0].push_back(i);
    for (std::uint32_t i = 0; i < 4000; ++i) patterns[1].push_back(i);
    for (std::uint32_t i = n - 5000; i < n; ++i) patterns[2].push_back(i);
    patterns[3] = {123457};
    for (const auto& removed : patterns) {
        std::vector<std::uint8_t> gone(n, 0);
        for (auto r : removed) gone[r] = 1;
        for (int threads : {1, 2, 4}) {
            const AgentTable table = run(n, removed, threads);
            REQUIRE(table.size() == n - removed.size());
            std::size_t row = 0;
            bool same = true;
            for (std::size_t i = 0; i < n; ++i) {
                if (gone[i]) continue;
                same = same && table.ids()[row] == i && table.column(ColumnHandle<std::uint8_t>{0})[row] == static_cast<std::uint8_t>(i * 7) &&
                       table.column(ColumnHandle<double>{1})[row] == static_cast<double>(i) * 1.25;
                ++row;
            }
            CHECK(same);
        }
    }
}

TEST_CASE("agent table: columns listed without their types", "[agents]") {
    AgentTable table("test");
    const auto city = table.add_column<std::uint16_t>("city", 3);
    table.add_column<double>("cash");
    table.append(4);
    REQUIRE(table.column_count() == 2);
    CHECK(table.column_name(0) == "city");
    CHECK(table.column_name(1) == "cash");
    CHECK(table.column_element_size(0) == 2);
    CHECK(table.column_bytes(1).size() == 4 * sizeof(double));
    CHECK(table.column_bytes(0).data() == reinterpret_cast<const std::byte*>(table.column(city).data()));
}
