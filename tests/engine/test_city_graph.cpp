#include "engine/city_graph.hpp"

#include <catch2/catch.hpp>

using namespace citysim::engine;

TEST_CASE("city network: all-pairs shortest travel times", "[network]") {
    // a - b 1h, b - c 2h, a - c 5h (slower than via b), c - d 0.5h
    CityNetwork network({"a", "b", "c", "d"}, {{0, 1, 1.0}, {1, 2, 2.0}, {0, 2, 5.0}, {2, 3, 0.5}});
    CHECK(network.hours(0, 0) == 0.0);
    CHECK(network.hours(0, 1) == 1.0);
    CHECK(network.hours(0, 2) == 3.0);
    CHECK(network.hours(2, 0) == 3.0);
    CHECK(network.hours(0, 3) == 3.5);
    CHECK(network.hours(3, 1) == 2.5);
    CHECK(network.hours_matrix().size() == 16);
}

TEST_CASE("city network: an unreachable city is an error naming the pair", "[network]") {
    try {
        CityNetwork network({"a", "b", "c"}, {{0, 1, 1.0}});
        FAIL("expected UnreachableCities");
    } catch (const UnreachableCities& e) {
        CHECK(std::string(e.what()).find("a and c") != std::string::npos);
        CHECK(e.pairs().size() == 2);
    }
    CHECK_NOTHROW(CityNetwork({"alone"}, {}));
}
