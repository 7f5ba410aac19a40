#include "engine/sweep/dispatch.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

using namespace citysim::sweep;

namespace {

std::vector<std::size_t> numbered_items(std::size_t count) {
    std::vector<std::size_t> items(count);
    for (std::size_t index = 0; index < count; ++index) items[index] = index;
    return items;
}

// Runs differ in length in a sweep; mix instant items with ones that sleep up to ~0.3 ms.
void varied_pause(std::size_t item) {
    const auto microseconds = static_cast<long>((item * 7919) % 13) * 25;
    if (microseconds > 0) std::this_thread::sleep_for(std::chrono::microseconds(microseconds));
}

// Tracks how many items run at once, to check that `jobs` bounds it.
struct ConcurrencyMeter {
    std::atomic<int> running{0};
    std::atomic<int> most_running{0};
    void enter() {
        const int now = ++running;
        int seen = most_running.load();
        while (now > seen && !most_running.compare_exchange_weak(seen, now)) {
        }
    }
    void leave() { --running; }
};

}  // namespace

TEST_CASE("dispatch: every item runs exactly once at any job count", "[dispatch]") {
    const std::size_t item_count = 1000;
    // Items need not be 0..n-1: use spread-out values to check that values, not positions, reach work.
    std::vector<std::size_t> items(item_count);
    for (std::size_t index = 0; index < item_count; ++index) items[index] = index * 3 + 5;

    for (int jobs : {1, 2, 4}) {
        CAPTURE(jobs);
        auto runs = std::make_unique<std::atomic<int>[]>(item_count * 3 + 5);
        ConcurrencyMeter meter;
        DispatchOptions options;
        options.jobs = jobs;
        dispatch(items, options, [&](std::size_t item) {
            meter.enter();
            varied_pause(item);
            ++runs[item];
            meter.leave();
        });
        std::size_t wrong = 0;
        for (std::size_t item : items) {
            if (runs[item].load() != 1) ++wrong;
        }
        CHECK(wrong == 0);
        CHECK(meter.running.load() == 0);
        CHECK(meter.most_running.load() <= jobs);
        if (jobs > 1) CHECK(meter.most_running.load() > 1);
    }
}

TEST_CASE("dispatch: items start in the given order with one job", "[dispatch]") {
    const auto items = numbered_items(100);
    std::vector<std::size_t> order;
    DispatchOptions options;
    options.jobs = 1;
    dispatch(items, options, [&](std::size_t item) { order.push_back(item); });
    CHECK(order == items);
}

TEST_CASE("dispatch: progress counts up to the total on the calling thread", "[dispatch]") {
    const auto items = numbered_items(300);
    const auto caller = std::this_thread::get_id();
    std::vector<std::size_t> reported_done;
    bool totals_right = true;
    bool on_caller_thread = true;
    DispatchOptions options;
    options.jobs = 4;
    options.progress = [&](std::size_t done, std::size_t total) {
        reported_done.push_back(done);
        totals_right = totals_right && total == items.size();
        on_caller_thread = on_caller_thread && std::this_thread::get_id() == caller;
    };
    dispatch(items, options, varied_pause);
    REQUIRE(reported_done.size() == items.size());
    for (std::size_t index = 0; index < reported_done.size(); ++index) REQUIRE(reported_done[index] == index + 1);
    CHECK(totals_right);
    CHECK(on_caller_thread);
}

TEST_CASE("dispatch: a failing item is rethrown by name and stops the handing out", "[dispatch]") {
    const auto items = numbered_items(400);
    for (int jobs : {1, 2, 4}) {
        CAPTURE(jobs);
        auto runs = std::make_unique<std::atomic<int>[]>(items.size());
        std::atomic<int> started{0};
        std::atomic<int> finished{0};
        std::atomic<bool> thrown{false};
        std::atomic<int> started_after_throw{0};
        DispatchOptions options;
        options.jobs = jobs;
        std::size_t progress_calls = 0;
        options.progress = [&](std::size_t, std::size_t) { ++progress_calls; };
        REQUIRE_THROWS_MATCHES(dispatch(items, options,
                                        [&](std::size_t item) {
                                            if (thrown) ++started_after_throw;
                                            ++started;
                                            ++runs[item];
                                            std::this_thread::sleep_for(std::chrono::microseconds(200));
                                            ++finished;
                                            if (item == 17) {
                                                thrown = true;
                                                throw std::invalid_argument("population went negative");
                                            }
                                        }),
                               std::runtime_error,
                               Catch::Matchers::Message("item 17 on rank 0: population went negative"));
        // Items already running when 17 failed finished before dispatch returned; nothing ran twice.
        CHECK(started.load() == finished.load());
        int ran_twice = 0;
        for (std::size_t item = 0; item < items.size(); ++item) ran_twice += runs[item].load() > 1 ? 1 : 0;
        CHECK(ran_twice == 0);
        // Handing out stopped: after 17 threw, at most the items already buffered started. (Counted
        // from the throw, not over the whole run: on a loaded machine item 17's own pause can
        // last milliseconds, in which the other jobs rightly go on with later items.)
        CHECK(started_after_throw.load() <= 2 * jobs);
        // Items before 17 completed (one job runs them in order) and were reported.
        if (jobs == 1) CHECK(progress_calls == 17);
    }
}

TEST_CASE("dispatch: the first of several failures wins; non-standard exceptions are named", "[dispatch]") {
    DispatchOptions options;
    options.jobs = 1;
    REQUIRE_THROWS_MATCHES(dispatch(numbered_items(10), options,
                                    [](std::size_t item) {
                                        if (item == 3) throw 42;
                                        if (item >= 4) throw std::runtime_error("later");
                                    }),
                           std::runtime_error, Catch::Matchers::Message("item 3 on rank 0: unknown exception"));
}

TEST_CASE("dispatch: a throwing progress callback fails the dispatch instead of escaping", "[dispatch]") {
    DispatchOptions options;
    options.jobs = 2;
    options.progress = [](std::size_t done, std::size_t) {
        if (done == 5) throw std::runtime_error("terminal closed");
    };
    std::atomic<int> runs{0};
    REQUIRE_THROWS_MATCHES(dispatch(numbered_items(100), options, [&](std::size_t) { ++runs; }), std::runtime_error,
                           Catch::Matchers::Message("progress callback on rank 0: terminal closed"));
    CHECK(runs.load() < 100);
}

TEST_CASE("dispatch: an empty list returns at once without calling anything", "[dispatch]") {
    for (int jobs : {1, 4}) {
        DispatchOptions options;
        options.jobs = jobs;
        bool progress_called = false;
        options.progress = [&](std::size_t, std::size_t) { progress_called = true; };
        bool work_called = false;
        dispatch({}, options, [&](std::size_t) { work_called = true; });
        CHECK_FALSE(work_called);
        CHECK_FALSE(progress_called);
    }
}

TEST_CASE("dispatch: fewer items than jobs, and jobs below one count as one", "[dispatch]") {
    for (int jobs : {0, -3, 8}) {
        CAPTURE(jobs);
        std::atomic<int> runs{0};
        ConcurrencyMeter meter;
        DispatchOptions options;
        options.jobs = jobs;
        dispatch(numbered_items(3), options, [&](std::size_t) {
            meter.enter();
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
            ++runs;
            meter.leave();
        });
        CHECK(runs.load() == 3);
        if (jobs < 1) CHECK(meter.most_running.load() == 1);
    }
}

TEST_CASE("dispatch: without a launcher there is one process and no MPI", "[dispatch]") {
    // The test binary is not started by mpirun, so MpiSession must leave MPI alone.
    if (std::getenv("OMPI_COMM_WORLD_SIZE") || std::getenv("PMIX_RANK") || std::getenv("PMI_RANK")) {
        SUCCEED("run under an MPI launcher; nothing to check");
        return;
    }
    int argc = 1;
    char name[] = "citysim_tests";
    char* arguments[] = {name, nullptr};
    char** argv = arguments;
    {
        MpiSession session(argc, argv);
        CHECK(process_rank() == 0);
        CHECK(process_count() == 1);
        barrier();
    }
    CHECK(argc == 1);
#if CITYSIM_HAVE_MPI
    CHECK(built_with_mpi());
#else
    CHECK_FALSE(built_with_mpi());
#endif
}
