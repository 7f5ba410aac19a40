#include "engine/scheduler.hpp"

#include "engine/parallel.hpp"

#include <catch2/catch.hpp>

using namespace citysim::engine;

TEST_CASE("scheduler: phases run in registration order with the step's context", "[scheduler]") {
    Scheduler scheduler;
    std::vector<std::string> calls;
    scheduler.add_phase("first", [&](const StepContext& c) { calls.push_back("first@" + std::to_string(c.step)); });
    scheduler.add_phase("second", [&](const StepContext& c) { calls.push_back("second@" + std::to_string(c.streams.step)); });
    StepContext context;
    for (std::int64_t s = 1; s <= 2; ++s) {
        context.step = s;
        context.streams.step = static_cast<std::uint32_t>(s);
        scheduler.run_step(context);
    }
    CHECK(calls == std::vector<std::string>{"first@1", "second@1", "first@2", "second@2"});
    REQUIRE(scheduler.timings().size() == 2);
    CHECK(scheduler.timings()[0].calls == 2);
    const auto report = scheduler.profile_report();
    CHECK(report.find("first") != std::string::npos);
    CHECK(report.find("total") != std::string::npos);
    CHECK_THROWS_AS(scheduler.add_phase("first", [](const StepContext&) {}), std::logic_error);
}

TEST_CASE("scheduler: profiling tells the time between parallel loops from the time in them", "[scheduler]") {
    Scheduler scheduler;
    scheduler.enable_profiling();
    auto spin = [](double seconds) {
        const double start = thread_cpu_seconds();
        volatile double x = 0;
        while (thread_cpu_seconds() - start < seconds) x = x + 1;
    };
    // A phase that is serial for 20 ms and a phase that spends 60 ms in a loop of 8 blocks.
    scheduler.add_phase("serial", [&](const StepContext&) { spin(0.02); });
    scheduler.add_phase("loops", [&](const StepContext&) {
        for_each_block(8, [&](std::size_t, std::size_t, std::size_t) { spin(0.0075); }, 1);
    });
    {
        ThreadLimit one(1);
        scheduler.run_step(StepContext{});
    }
    const auto& t = scheduler.timings();
    CHECK(t[0].serial_seconds() >= 0.019);
    CHECK(t[0].loops.loops == 0);
    CHECK(t[1].loops.loops == 1);
    CHECK(t[1].loops.blocks == 8);
    CHECK(t[1].parallel_seconds(1) >= 0.059);
    CHECK(t[1].serial_seconds() < 0.005);
    const auto share = scheduler.serial_share(1);
    CHECK(share.share() == Approx(0.25).margin(0.05));
    // Amdahl: 80 ms of work, 20 of it serial: at most 1 / (0.25 + 0.75 / 16) = 3.37x on 16 threads.
    CHECK(share.amdahl_bound(16) == Approx(1.0 / (share.share() + (1 - share.share()) / 16)));
    CHECK(share.amdahl_bound(16) < 4.0);
    const auto report = scheduler.profile_report(1);
    CHECK(report.find("serial share of the step") != std::string::npos);
    CHECK(report.find("16 threads") != std::string::npos);
}

TEST_CASE("scheduler: step units", "[scheduler]") {
    CHECK(years_per_step("month") == Approx(1.0 / 12));
    CHECK(years_per_step("quarter") == 0.25);
    CHECK(years_per_step("year") == 1.0);
    CHECK_THROWS_AS(years_per_step("week"), std::invalid_argument);
}
