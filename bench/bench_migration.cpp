// Migration decisions per second per core at 10, 50 and 300 cities.
//
// A decision is what a reconsidering agent does in a step: draw its random words (Philox), weigh
// staying against the precomputed move weights with its own attachment, and pick a destination.
// Usage: bench_migration [decisions per size, default 20000000]
#include "bench/machine.hpp"
#include "engine/parallel.hpp"
#include "engine/rng.hpp"
#include "models/migration.hpp"
#include "models/streams.hpp"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>

using namespace citysim;

namespace {

models::CityState synthetic_state(std::size_t cities, std::size_t fields) {
    models::CityState state;
    for (std::size_t c = 0; c < cities; ++c) state.city_names.push_back("city" + std::to_string(c));
    for (std::size_t f = 0; f < fields; ++f) state.field_names.push_back("field" + std::to_string(f));
    const engine::StreamKey key{1, 0, 0};
    state.wage.resize(cities * fields);
    state.rent.resize(cities);
    state.travel_hours.resize(cities * cities);
    for (std::size_t k = 0; k < state.wage.size(); ++k)
        state.wage[k] = 150000 * (1 + 0.5 * engine::uniform_open(engine::random_words(key, k, 100)[0]));
    for (std::size_t c = 0; c < cities; ++c)
        state.rent[c] = 40 + 50 * engine::uniform_open(engine::random_words(key, c, 101)[0]);
    for (std::size_t a = 0; a < cities; ++a)
        for (std::size_t b = 0; b < cities; ++b)
            state.travel_hours[a * cities + b] = a == b ? 0.0 : 0.5 + 0.05 * std::abs(double(a) - double(b));
    return state;
}

double decisions_per_second(std::size_t cities, std::size_t decisions, int threads) {
    const std::size_t fields = 4;
    const auto state = synthetic_state(cities, fields);
    models::MigrationParams params;
    models::MigrationChoice choice(params, std::vector<double>(cities, 0.0), std::vector<double>(fields, 0.0), cities, fields);
    choice.prepare(state);
    engine::ThreadLimit limit(threads);
    const engine::StreamKey key{2025, 0, 1};
    const auto start = std::chrono::steady_clock::now();
    const auto moved = engine::reduce_blocks<std::int64_t>(decisions, 1, [&](std::size_t begin, std::size_t end,
                                                                             std::span<std::int64_t> out) {
        for (std::size_t i = begin; i < end; ++i) {
            const auto w = engine::random_words(key, i, models::streams::migration_choice);
            const auto origin = static_cast<models::CityIndex>(i % cities);
            const auto field = static_cast<models::FieldIndex>((i / cities) % fields);
            const float years = static_cast<float>(i % 16);
            out[0] += choice.choose(origin, field, years, w[1], w[2]) != origin;
        }
    });
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (moved[0] < 0) std::puts("impossible");  // keeps the loop's result alive
    return static_cast<double>(decisions) / seconds;
}

}  // namespace

int main(int argc, char** argv) {
    const std::size_t decisions = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 20000000;
    std::printf("machine: %s\n", bench::machine_line().c_str());
    std::printf("migration decisions, %zu per measurement (best of 3)\n", decisions);
    std::printf("%8s %10s %22s\n", "cities", "threads", "decisions/s");
    for (std::size_t cities : {10, 50, 300})
        for (int threads : {1, 2}) {
            double best = 0;
            for (int repeat = 0; repeat < 3; ++repeat) best = std::max(best, decisions_per_second(cities, decisions, threads));
            std::printf("%8zu %10d %22.0f  (%.1f M/s per core)\n", cities, threads, best, best / 1e6 / threads);
        }
    return 0;
}
