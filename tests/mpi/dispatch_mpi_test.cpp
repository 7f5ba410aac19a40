// Distributed dispatch across MPI ranks and threads; run as `mpiexec -np 2 dispatch_mpi_test`
// (any rank count >= 2 works). Every rank records which items it ran, rank 0 gathers the records
// and checks them; the exit status is 0 on every rank when all checks pass.
#include "engine/sweep/dispatch.hpp"

#include <mpi.h>

#include <chrono>
#include <cstdint>
#include <iostream>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

using namespace citysim::sweep;

namespace {

int failed_checks = 0;

void check(bool condition, const std::string& what) {
    if (condition) return;
    ++failed_checks;
    std::cerr << "rank " << process_rank() << ": FAILED: " << what << std::endl;
}

std::vector<std::size_t> numbered_items(std::size_t count) {
    std::vector<std::size_t> items(count);
    for (std::size_t index = 0; index < count; ++index) items[index] = index;
    return items;
}

// The items this rank ran, from any of its threads.
struct RunLog {
    std::mutex mutex;
    std::vector<std::uint64_t> items;
    void add(std::size_t item) {
        std::lock_guard lock(mutex);
        items.push_back(item);
    }
};

// On rank 0: how many items each rank ran, indexed by rank, and how often each item ran overall.
struct Gathered {
    std::vector<int> items_per_rank;
    std::vector<int> runs_per_item;
};

Gathered gather_runs(const std::vector<std::uint64_t>& ran_here, std::size_t item_count) {
    const int rank = process_rank();
    const int rank_count = process_count();
    const int local_count = static_cast<int>(ran_here.size());
    Gathered gathered;
    gathered.items_per_rank.assign(static_cast<std::size_t>(rank_count), 0);
    MPI_Gather(&local_count, 1, MPI_INT, gathered.items_per_rank.data(), 1, MPI_INT, 0, MPI_COMM_WORLD);
    std::vector<int> offsets(static_cast<std::size_t>(rank_count), 0);
    int total = 0;
    for (int other = 0; other < rank_count; ++other) {
        offsets[static_cast<std::size_t>(other)] = total;
        total += gathered.items_per_rank[static_cast<std::size_t>(other)];
    }
    std::vector<std::uint64_t> all(rank == 0 ? static_cast<std::size_t>(total) : 0);
    MPI_Gatherv(ran_here.data(), local_count, MPI_UINT64_T, all.data(), gathered.items_per_rank.data(),
                offsets.data(), MPI_UINT64_T, 0, MPI_COMM_WORLD);
    gathered.runs_per_item.assign(item_count, 0);
    bool in_range = true;
    for (std::uint64_t item : all) {
        if (item < item_count) {
            ++gathered.runs_per_item[static_cast<std::size_t>(item)];
        } else {
            in_range = false;
        }
    }
    if (rank == 0) check(in_range, "every item run is one of the items given");
    return gathered;
}

void every_item_once_and_every_rank_busy() {
    const std::size_t item_count = 200;
    RunLog log;
    std::size_t last_done = 0;
    bool progress_total_right = true;
    bool progress_off_rank_0 = false;
    DispatchOptions options;
    options.jobs = 2;
    options.progress = [&](std::size_t done, std::size_t total) {
        last_done = done;
        progress_total_right = progress_total_right && total == item_count;
        progress_off_rank_0 = progress_off_rank_0 || process_rank() != 0;
    };
    dispatch(numbered_items(item_count), options, [&](std::size_t item) {
        // 1-4 ms, different per item, so that dynamic hand-out matters.
        std::this_thread::sleep_for(std::chrono::milliseconds(1 + static_cast<long>(item % 4)));
        log.add(item);
    });
    check(!progress_off_rank_0, "progress is reported on rank 0 only");
    const Gathered gathered = gather_runs(log.items, item_count);
    if (process_rank() != 0) return;
    check(last_done == item_count, "progress reaches the total (" + std::to_string(last_done) + ")");
    check(progress_total_right, "progress reports the right total");
    int wrong = 0;
    for (int runs : gathered.runs_per_item) wrong += runs == 1 ? 0 : 1;
    check(wrong == 0, std::to_string(wrong) + " items did not run exactly once");
    std::cout << "items per rank:";
    for (std::size_t rank = 0; rank < gathered.items_per_rank.size(); ++rank) {
        std::cout << ' ' << gathered.items_per_rank[rank];
        check(gathered.items_per_rank[rank] > 0, "rank " + std::to_string(rank) + " got work");
    }
    std::cout << std::endl;
}

// The first failing item on `failing_rank` (any item from 100 on that rank throws) must be
// rethrown with the same message on every rank, naming that item and rank.
void a_failure_reaches_every_rank(int failing_rank) {
    const std::size_t item_count = 200;
    RunLog log;
    RunLog thrown;
    std::optional<std::string> message;
    DispatchOptions options;
    options.jobs = 2;
    try {
        dispatch(numbered_items(item_count), options, [&](std::size_t item) {
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
            log.add(item);
            if (process_rank() == failing_rank && item >= 100) {
                thrown.add(item);
                throw std::runtime_error("boom");
            }
        });
    } catch (const std::runtime_error& error) {
        message = error.what();
    }
    const std::string scenario = "failure on rank " + std::to_string(failing_rank) + ": ";
    check(message.has_value(), scenario + "dispatch throws on every rank");

    // Every rank throws what rank 0 throws.
    std::string rank_0_message = message.value_or("");
    int length = static_cast<int>(rank_0_message.size());
    MPI_Bcast(&length, 1, MPI_INT, 0, MPI_COMM_WORLD);
    rank_0_message.resize(static_cast<std::size_t>(length));
    MPI_Bcast(rank_0_message.data(), length, MPI_CHAR, 0, MPI_COMM_WORLD);
    check(message.value_or("") == rank_0_message,
          scenario + "the same message everywhere: \"" + message.value_or("") + "\" vs \"" + rank_0_message + "\"");
    if (process_rank() == failing_rank) {
        bool names_an_item_that_threw = false;
        for (std::uint64_t item : thrown.items) {
            const std::string expected = "item " + std::to_string(item) + " on rank " + std::to_string(failing_rank) + ": boom";
            names_an_item_that_threw = names_an_item_that_threw || message.value_or("") == expected;
        }
        check(names_an_item_that_threw, scenario + "the message names an item that threw here: " + message.value_or(""));
    }
    if (process_rank() == 0) std::cout << scenario << "seen everywhere as \"" << rank_0_message << '"' << std::endl;

    const Gathered gathered = gather_runs(log.items, item_count);
    if (process_rank() != 0) return;
    int ran_twice = 0;
    int ran = 0;
    for (int runs : gathered.runs_per_item) {
        ran_twice += runs > 1 ? 1 : 0;
        ran += runs > 0 ? 1 : 0;
    }
    check(ran_twice == 0, scenario + "no item runs twice");
    // Items are handed out in order, so most of those after the first failure never start.
    check(ran < static_cast<int>(item_count), scenario + "handing out stops (" + std::to_string(ran) + " ran)");
}

void empty_and_tiny_lists() {
    bool work_called = false;
    dispatch({}, DispatchOptions{}, [&](std::size_t) { work_called = true; });
    check(!work_called, "an empty list runs nothing");

    RunLog log;
    DispatchOptions options;
    options.jobs = 4;
    dispatch({7}, options, [&](std::size_t item) { log.add(item); });
    const Gathered gathered = gather_runs(log.items, 8);
    if (process_rank() == 0) {
        check(gathered.runs_per_item[7] == 1, "a single item runs once across all ranks");
    }
}

}  // namespace

int main(int argc, char** argv) {
    MpiSession session(argc, argv);
    if (process_count() < 2) {
        std::cerr << "dispatch_mpi_test: run it under mpiexec with at least 2 ranks (got "
                  << process_count() << "; built with MPI: " << built_with_mpi() << ")" << std::endl;
        return 1;
    }
    every_item_once_and_every_rank_busy();
    a_failure_reaches_every_rank(0);
    a_failure_reaches_every_rank(process_count() - 1);
    empty_and_tiny_lists();
    barrier();

    int failed_anywhere = 0;
    MPI_Allreduce(&failed_checks, &failed_anywhere, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
    if (process_rank() == 0) {
        std::cout << (failed_anywhere == 0 ? "all checks passed" : std::to_string(failed_anywhere) + " checks failed")
                  << " on " << process_count() << " ranks" << std::endl;
    }
    return failed_anywhere == 0 ? 0 : 1;
}
