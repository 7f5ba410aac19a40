#include "engine/parallel.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>

using namespace citysim::engine;

namespace {
std::vector<double> sum_with_threads(int threads, const std::vector<double>& values) {
    ThreadLimit limit(threads);
    return reduce_blocks<double>(values.size(), 3, [&](std::size_t begin, std::size_t end, std::span<double> out) {
        for (std::size_t i = begin; i < end; ++i) out[i % 3] += values[i];
    });
}
}  // namespace

TEST_CASE("parallel: fixed-order reductions are bit-identical at any thread count", "[parallel]") {
    std::vector<double> values(200003);
    for (std::size_t i = 0; i < values.size(); ++i) values[i] = std::sin(static_cast<double>(i)) * 1e6 + 1e-7 * i;
    const auto one = sum_with_threads(1, values);
    for (int threads : {2, 3, 4, 8}) {
        const auto many = sum_with_threads(threads, values);
        CHECK(std::memcmp(one.data(), many.data(), one.size() * sizeof(double)) == 0);
    }
    double serial = 0;
    for (std::size_t i = 0; i < values.size(); i += 3) serial += values[i];
    CHECK(one[0] == Approx(serial).epsilon(1e-12));
}

TEST_CASE("parallel: every block is visited once", "[parallel]") {
    std::vector<int> visits(100000, 0);
    for_each_block(visits.size(), [&](std::size_t begin, std::size_t end, std::size_t) {
        for (std::size_t i = begin; i < end; ++i) ++visits[i];
    });
    for (int v : visits) REQUIRE(v == 1);
    CHECK(block_count(0) == 0);
    CHECK(block_count(agent_block_size + 1) == 2);
}
