#include "engine/scheduler.hpp"

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

TEST_CASE("scheduler: step units", "[scheduler]") {
    CHECK(years_per_step("month") == Approx(1.0 / 12));
    CHECK(years_per_step("quarter") == 0.25);
    CHECK(years_per_step("year") == 1.0);
    CHECK_THROWS_AS(years_per_step("week"), std::invalid_argument);
}
