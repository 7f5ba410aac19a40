#include "engine/sweep/dispatch.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdint>
#include <cstdlib>
#include <deque>
#include <exception>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <thread>
#include <utility>

#if CITYSIM_HAVE_MPI
// The C API only: OpenMPI's mpi.h otherwise drags in the deprecated C++ bindings, which need
// libmpi_cxx at link time (CMake also defines these for everything linking citysim_engine).
#ifndef OMPI_SKIP_MPICXX
#define OMPI_SKIP_MPICXX 1
#endif
#ifndef MPICH_SKIP_MPICXX
#define MPICH_SKIP_MPICXX 1
#endif
#include <mpi.h>
#endif

namespace citysim::sweep {

namespace {

std::string describe_failure(std::size_t item, int rank, const std::exception_ptr& error) {
    std::string what;
    try {
        std::rethrow_exception(error);
    } catch (const std::exception& exception) {
        what = exception.what();
    } catch (...) {
        what = "unknown exception";
    }
    return "item " + std::to_string(item) + " on rank " + std::to_string(rank) + ": " + what;
}

// What the main thread learns from the workers since it last asked, and how full the pool is, all
// read under one lock: "idle" here means nothing can complete later without new items.
struct PoolSnapshot {
    std::size_t completed = 0;           // items finished without an exception since the last snapshot
    double completed_seconds = 0.0;      // how long those items took, summed
    std::optional<std::string> failure;  // this process's first failure, reported once
    std::size_t occupied = 0;            // items running plus items waiting in the buffer
    bool idle() const { return occupied == 0; }
};

// The worker threads of one process and the buffer they take items from. Only the main thread
// adds items, so only it talks to other ranks (MPI_THREAD_FUNNELED).
class WorkerPool {
public:
    WorkerPool(int jobs, int rank, const std::function<void(std::size_t)>& work) : rank_(rank), work_(work) {
        workers_.reserve(static_cast<std::size_t>(jobs));
        try {
            for (int index = 0; index < jobs; ++index) workers_.emplace_back([this] { run_worker(); });
        } catch (...) {
            shut_down();
            throw;
        }
    }
    ~WorkerPool() { shut_down(); }
    WorkerPool(const WorkerPool&) = delete;
    WorkerPool& operator=(const WorkerPool&) = delete;

    // Ignored once the pool has stopped: items that arrive after a failure are not started.
    void add(std::size_t item) {
        {
            std::lock_guard lock(mutex_);
            if (stopped_) return;
            buffer_.push_back(item);
        }
        item_available_.notify_one();
    }

    // Drops the items not yet started; those running finish. Later add() calls are ignored.
    void stop() {
        std::lock_guard lock(mutex_);
        stopped_ = true;
        buffer_.clear();
    }

    PoolSnapshot take_snapshot() {
        std::lock_guard lock(mutex_);
        return take_snapshot_locked();
    }

    // Sleeps until a worker reports something, or at most `timeout` (polling for MPI messages).
    // Without a timeout it also returns when the pool is idle, so it cannot wait forever.
    void wait_for_news(std::optional<std::chrono::milliseconds> timeout) {
        std::unique_lock lock(mutex_);
        if (timeout) {
            news_.wait_for(lock, *timeout, [this] { return has_news_locked(); });
        } else {
            news_.wait(lock, [this] { return has_news_locked() || running_ + buffer_.size() == 0; });
        }
    }

private:
    bool has_news_locked() const { return completed_unreported_ > 0 || failure_unreported_.has_value(); }

    PoolSnapshot take_snapshot_locked() {
        PoolSnapshot snapshot;
        snapshot.completed = std::exchange(completed_unreported_, 0);
        snapshot.completed_seconds = std::exchange(completed_seconds_unreported_, 0.0);
        snapshot.failure = std::exchange(failure_unreported_, std::nullopt);
        snapshot.occupied = running_ + buffer_.size();
        return snapshot;
    }

    void run_worker() {
        std::unique_lock lock(mutex_);
        for (;;) {
            item_available_.wait(lock, [this] { return !buffer_.empty() || closed_; });
            if (buffer_.empty()) return;  // closed and drained
            const std::size_t item = buffer_.front();
            buffer_.pop_front();
            ++running_;
            lock.unlock();

            std::optional<std::string> failure;
            const auto start = std::chrono::steady_clock::now();
            try {
                work_(item);
            } catch (...) {
                failure = describe_failure(item, rank_, std::current_exception());
            }
            const std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;

            lock.lock();
            --running_;
            if (!failure) {
                ++completed_unreported_;
                completed_seconds_unreported_ += took.count();
            } else if (!failed_) {
                // Stop this process's other workers from starting anything new at once, without
                // waiting for the main thread to notice.
                failed_ = true;
                failure_unreported_ = std::move(failure);
                stopped_ = true;
                buffer_.clear();
            }
            news_.notify_one();
        }
    }

    void shut_down() {
        {
            std::lock_guard lock(mutex_);
            closed_ = true;
            stopped_ = true;
            buffer_.clear();
        }
        item_available_.notify_all();
        for (auto& worker : workers_) {
            if (worker.joinable()) worker.join();
        }
    }

    const int rank_;
    const std::function<void(std::size_t)>& work_;
    std::mutex mutex_;
    std::condition_variable item_available_;  // workers wait on it
    std::condition_variable news_;            // the main thread waits on it
    std::deque<std::size_t> buffer_;
    std::size_t running_ = 0;
    std::size_t completed_unreported_ = 0;
    double completed_seconds_unreported_ = 0.0;
    std::optional<std::string> failure_unreported_;
    bool failed_ = false;
    bool stopped_ = false;
    bool closed_ = false;
    std::vector<std::thread> workers_;
};

// Calls the progress callback once per completed item. A throwing callback becomes the sweep's
// failure rather than escaping, so that the other ranks are still told to stop.
class ProgressReporter {
public:
    ProgressReporter(const DispatchOptions& options, std::size_t total) : options_(options), total_(total) {}

    std::optional<std::string> report(std::size_t newly_completed) {
        for (std::size_t index = 0; index < newly_completed; ++index) {
            ++done_;
            if (!options_.progress) continue;
            try {
                options_.progress(done_, total_);
            } catch (const std::exception& exception) {
                return std::string("progress callback on rank 0: ") + exception.what();
            } catch (...) {
                return std::string("progress callback on rank 0: unknown exception");
            }
        }
        return std::nullopt;
    }

private:
    const DispatchOptions& options_;
    std::size_t total_;
    std::size_t done_ = 0;
};

// One process, threads only: the main thread keeps the buffer topped up to `jobs` items (it is
// woken by every completion, so a deeper buffer would gain nothing) and reports progress.
void dispatch_locally(const std::vector<std::size_t>& items, int jobs, const DispatchOptions& options,
                      const std::function<void(std::size_t)>& work) {
    WorkerPool pool(jobs, 0, work);
    ProgressReporter progress(options, items.size());
    std::optional<std::string> failure;
    std::size_t next_item = 0;
    for (;;) {
        PoolSnapshot snapshot = pool.take_snapshot();
        if (snapshot.failure && !failure) failure = std::move(snapshot.failure);
        if (auto progress_failure = progress.report(snapshot.completed); progress_failure && !failure) {
            failure = std::move(progress_failure);
            pool.stop();
        }
        std::size_t occupied = snapshot.occupied;
        if (!failure) {
            for (; occupied < static_cast<std::size_t>(jobs) && next_item < items.size(); ++occupied) {
                pool.add(items[next_item++]);
            }
        }
        if ((failure || next_item == items.size()) && occupied == 0) break;
        pool.wait_for_news(std::nullopt);
    }
    if (failure) throw std::runtime_error(*failure);
}

#if CITYSIM_HAVE_MPI

bool mpi_active() {
    int initialised = 0;
    int finalised = 0;
    MPI_Initialized(&initialised);
    MPI_Finalized(&finalised);
    return initialised != 0 && finalised == 0;
}

// Message tags. Ranks other than 0 ("helpers") send the first group to rank 0, rank 0 the second.
enum Tag : int {
    tag_request = 1,    // int: how many items the helper wants
    tag_completed = 2,  // uint64: how many items it finished since its last report
    tag_failure = 3,    // chars: its first failure, "item N on rank R: what"
    tag_finished = 4,   // empty: it is idle and will run nothing more; its last message
    tag_items = 11,     // uint64[]: the answer to a request; empty means "no more, ever"
    tag_abort = 12,     // empty: a failure happened somewhere; drop what has not started
    tag_done = 13,      // chars: everyone is finished; the first failure, empty if none. The last message.
};

// Every message that may cross another one on its way stays below OpenMPI's eager limit (4 KiB on
// shared memory), so MPI_Send returns without waiting for the matching receive and two ranks
// sending to each other cannot deadlock. (tag_done may be longer: its receiver is idle, polling.)
constexpr std::size_t max_batch = 256;                  // items in one answer (8 bytes each)
constexpr std::size_t max_failure_message_length = 1024;  // characters of a helper's failure report

constexpr std::chrono::milliseconds poll_interval{1};

// The sweep's own communicator, so its messages never match anyone else's receives.
class SweepCommunicator {
public:
    SweepCommunicator() { MPI_Comm_dup(MPI_COMM_WORLD, &communicator_); }
    ~SweepCommunicator() { MPI_Comm_free(&communicator_); }
    SweepCommunicator(const SweepCommunicator&) = delete;
    SweepCommunicator& operator=(const SweepCommunicator&) = delete;
    MPI_Comm get() const { return communicator_; }

private:
    MPI_Comm communicator_ = MPI_COMM_NULL;
};

void send_empty(int tag, int destination, MPI_Comm communicator) {
    MPI_Send(nullptr, 0, MPI_BYTE, destination, tag, communicator);
}

void send_text(const std::string& text, int tag, int destination, MPI_Comm communicator) {
    MPI_Send(text.data(), static_cast<int>(text.size()), MPI_CHAR, destination, tag, communicator);
}

std::string receive_text(const MPI_Status& status, MPI_Comm communicator) {
    int length = 0;
    MPI_Get_count(&status, MPI_CHAR, &length);
    std::string text(static_cast<std::size_t>(length), '\0');
    MPI_Recv(text.data(), length, MPI_CHAR, status.MPI_SOURCE, status.MPI_TAG, communicator, MPI_STATUS_IGNORE);
    return text;
}

std::vector<std::uint64_t> receive_numbers(const MPI_Status& status, MPI_Comm communicator) {
    int count = 0;
    MPI_Get_count(&status, MPI_UINT64_T, &count);
    std::vector<std::uint64_t> numbers(static_cast<std::size_t>(count));
    MPI_Recv(numbers.data(), count, MPI_UINT64_T, status.MPI_SOURCE, status.MPI_TAG, communicator,
             MPI_STATUS_IGNORE);
    return numbers;
}

void receive_empty(const MPI_Status& status, MPI_Comm communicator) {
    MPI_Recv(nullptr, 0, MPI_BYTE, status.MPI_SOURCE, status.MPI_TAG, communicator, MPI_STATUS_IGNORE);
}

// Rank 0: owns the queue, runs items on its own threads too, answers the helpers, and decides
// when the sweep is over.
void coordinate(const std::vector<std::size_t>& items, int jobs, const DispatchOptions& options,
                const std::function<void(std::size_t)>& work, MPI_Comm communicator, int rank_count) {
    WorkerPool pool(jobs, 0, work);
    ProgressReporter progress(options, items.size());
    std::optional<std::string> failure;
    std::size_t next_item = 0;
    int helpers_unfinished = rank_count - 1;

    auto fail = [&](std::string message) {
        if (failure) return;  // only the first failure counts
        failure = std::move(message);
        pool.stop();
        for (int helper = 1; helper < rank_count; ++helper) send_empty(tag_abort, helper, communicator);
    };

    for (;;) {
        // Messages first, then the local snapshot, so that "idle" below is current.
        for (;;) {
            int message_waiting = 0;
            MPI_Status status;
            MPI_Iprobe(MPI_ANY_SOURCE, MPI_ANY_TAG, communicator, &message_waiting, &status);
            if (!message_waiting) break;
            const int helper = status.MPI_SOURCE;
            switch (status.MPI_TAG) {
            case tag_request: {
                int wanted = 0;
                MPI_Recv(&wanted, 1, MPI_INT, helper, tag_request, communicator, MPI_STATUS_IGNORE);
                std::vector<std::uint64_t> batch;
                if (!failure) {
                    const std::size_t count =
                        std::min({static_cast<std::size_t>(std::max(wanted, 1)), max_batch, items.size() - next_item});
                    for (std::size_t index = 0; index < count; ++index) batch.push_back(items[next_item++]);
                }
                MPI_Send(batch.data(), static_cast<int>(batch.size()), MPI_UINT64_T, helper, tag_items, communicator);
                break;
            }
            case tag_completed: {
                std::uint64_t completed = 0;
                MPI_Recv(&completed, 1, MPI_UINT64_T, helper, tag_completed, communicator, MPI_STATUS_IGNORE);
                if (auto progress_failure = progress.report(completed)) fail(std::move(*progress_failure));
                break;
            }
            case tag_failure:
                fail(receive_text(status, communicator));
                break;
            case tag_finished:
                receive_empty(status, communicator);
                --helpers_unfinished;
                break;
            default:
                throw std::logic_error("dispatch: unexpected MPI message tag " + std::to_string(status.MPI_TAG));
            }
        }

        PoolSnapshot snapshot = pool.take_snapshot();
        if (snapshot.failure) fail(std::move(*snapshot.failure));
        if (auto progress_failure = progress.report(snapshot.completed)) fail(std::move(*progress_failure));
        std::size_t occupied = snapshot.occupied;
        if (!failure) {
            for (; occupied < static_cast<std::size_t>(jobs) && next_item < items.size(); ++occupied) {
                pool.add(items[next_item++]);
            }
        }
        if ((failure || next_item == items.size()) && occupied == 0 && helpers_unfinished == 0) break;
        pool.wait_for_news(poll_interval);
    }

    const std::string outcome = failure.value_or("");
    for (int helper = 1; helper < rank_count; ++helper) send_text(outcome, tag_done, helper, communicator);
    if (failure) throw std::runtime_error(*failure);
}

// How many items a helper keeps waiting in its buffer beyond one per worker: enough that its
// workers do not run dry during a round trip to rank 0 (jobs * round trip / item duration), at
// least one, at most `jobs`. Items that last seconds or more need just one; a deeper buffer would
// only hold back, at the end of the sweep, items that an idle rank could be running.
class PrefetchEstimate {
public:
    explicit PrefetchEstimate(int jobs) : jobs_(static_cast<std::size_t>(jobs)) {}

    void add_items(std::size_t count, double seconds) {
        item_count_ += count;
        item_seconds_ += seconds;
    }
    void add_round_trip(std::chrono::duration<double> round_trip) {
        // A moving average: rank 0 may answer more slowly while its own items keep it busy.
        round_trip_seconds_ = 0.8 * round_trip_seconds_ + 0.2 * round_trip.count();
    }
    std::size_t items() const {
        if (item_count_ == 0 || item_seconds_ <= 0.0) return 1;
        const double mean_item_seconds = item_seconds_ / static_cast<double>(item_count_);
        const double needed = std::ceil(static_cast<double>(jobs_) * round_trip_seconds_ / mean_item_seconds);
        return std::clamp(static_cast<std::size_t>(std::min(needed, static_cast<double>(jobs_))), std::size_t{1}, jobs_);
    }

private:
    std::size_t jobs_;
    std::size_t item_count_ = 0;
    double item_seconds_ = 0.0;
    double round_trip_seconds_ = 2 * std::chrono::duration<double>(poll_interval).count();
};

// Ranks other than 0: ask rank 0 for items while the buffer runs low, report completions and
// failures, and stop when told there is no more or that the sweep failed.
void help(int jobs, int rank, const std::function<void(std::size_t)>& work, MPI_Comm communicator) {
    WorkerPool pool(jobs, rank, work);
    PrefetchEstimate prefetch(jobs);
    bool request_outstanding = false;
    auto request_sent_at = std::chrono::steady_clock::now();
    bool told_no_more = false;
    bool aborted = false;
    bool failed_here = false;
    bool finished_sent = false;

    for (;;) {
        for (;;) {
            int message_waiting = 0;
            MPI_Status status;
            MPI_Iprobe(0, MPI_ANY_TAG, communicator, &message_waiting, &status);
            if (!message_waiting) break;
            switch (status.MPI_TAG) {
            case tag_items: {
                request_outstanding = false;
                prefetch.add_round_trip(std::chrono::steady_clock::now() - request_sent_at);
                const auto batch = receive_numbers(status, communicator);
                if (batch.empty()) told_no_more = true;
                for (const std::uint64_t item : batch) pool.add(static_cast<std::size_t>(item));
                break;
            }
            case tag_abort:
                receive_empty(status, communicator);
                aborted = true;
                pool.stop();
                break;
            case tag_done: {
                // Rank 0 sends this only after our tag_finished, so nothing of ours is pending.
                const std::string outcome = receive_text(status, communicator);
                if (!outcome.empty()) throw std::runtime_error(outcome);
                return;
            }
            default:
                throw std::logic_error("dispatch: unexpected MPI message tag " + std::to_string(status.MPI_TAG));
            }
        }

        PoolSnapshot snapshot = pool.take_snapshot();
        if (snapshot.completed > 0) {
            prefetch.add_items(snapshot.completed, snapshot.completed_seconds);
            const std::uint64_t completed = snapshot.completed;
            MPI_Send(&completed, 1, MPI_UINT64_T, 0, tag_completed, communicator);
        }
        if (snapshot.failure) {
            failed_here = true;
            send_text(snapshot.failure->substr(0, max_failure_message_length), tag_failure, 0, communicator);
        }

        const bool stopping = told_no_more || aborted || failed_here;
        const std::size_t target_occupancy = static_cast<std::size_t>(jobs) + prefetch.items();
        if (!stopping && !request_outstanding && snapshot.occupied < target_occupancy) {
            const std::size_t wanted =
                std::min({target_occupancy - snapshot.occupied, static_cast<std::size_t>(jobs), max_batch});
            const int wanted_count = static_cast<int>(wanted);
            MPI_Send(&wanted_count, 1, MPI_INT, 0, tag_request, communicator);
            request_outstanding = true;
            request_sent_at = std::chrono::steady_clock::now();
        }
        // The snapshot was idle, and nothing can be added without an outstanding request, so
        // every completion and failure of this rank has been sent before this.
        if (!finished_sent && stopping && !request_outstanding && snapshot.idle()) {
            send_empty(tag_finished, 0, communicator);
            finished_sent = true;
        }
        pool.wait_for_news(poll_interval);
    }
}

#endif  // CITYSIM_HAVE_MPI

#if CITYSIM_HAVE_MPI
bool session_initialised_mpi = false;
#endif

// OpenMPI's mpirun sets OMPI_COMM_WORLD_SIZE; PMIx-based launchers (mpirun, srun --mpi=pmix) set
// PMIX_RANK; MPICH's hydra and PMI-2 launchers set PMI_RANK.
[[maybe_unused]] bool launched_by_mpi_launcher() {
    for (const char* variable : {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK"}) {
        if (std::getenv(variable) != nullptr) return true;
    }
    return false;
}

}  // namespace

MpiSession::MpiSession([[maybe_unused]] int& argc, [[maybe_unused]] char**& argv) {
#if CITYSIM_HAVE_MPI
    int already_initialised = 0;
    MPI_Initialized(&already_initialised);
    // Outside a launcher MPI_Init would start a singleton (and, with OpenMPI, try to spawn a
    // daemon); a plain `citysim run` must never depend on that working.
    if (already_initialised || !launched_by_mpi_launcher()) return;
    int provided = 0;
    MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided);
    session_initialised_mpi = true;
    if (provided < MPI_THREAD_FUNNELED) {
        MPI_Finalize();
        session_initialised_mpi = false;
        throw std::runtime_error("the MPI library provides thread level " + std::to_string(provided) +
                                 "; distributing a sweep needs MPI_THREAD_FUNNELED");
    }
#endif
}

MpiSession::~MpiSession() {
#if CITYSIM_HAVE_MPI
    if (session_initialised_mpi && mpi_active()) MPI_Finalize();
    session_initialised_mpi = false;
#endif
}

int process_rank() {
#if CITYSIM_HAVE_MPI
    if (mpi_active()) {
        int rank = 0;
        MPI_Comm_rank(MPI_COMM_WORLD, &rank);
        return rank;
    }
#endif
    return 0;
}

int process_count() {
#if CITYSIM_HAVE_MPI
    if (mpi_active()) {
        int count = 1;
        MPI_Comm_size(MPI_COMM_WORLD, &count);
        return count;
    }
#endif
    return 1;
}

bool built_with_mpi() {
#if CITYSIM_HAVE_MPI
    return true;
#else
    return false;
#endif
}

void dispatch(const std::vector<std::size_t>& items, const DispatchOptions& options,
              const std::function<void(std::size_t item)>& work) {
    const int jobs = std::max(options.jobs, 1);
#if CITYSIM_HAVE_MPI
    if (const int rank_count = process_count(); rank_count > 1) {
        const SweepCommunicator communicator;
        if (process_rank() == 0) {
            coordinate(items, jobs, options, work, communicator.get(), rank_count);
        } else {
            help(jobs, process_rank(), work, communicator.get());
        }
        return;
    }
#endif
    dispatch_locally(items, jobs, options, work);
}

void barrier() {
#if CITYSIM_HAVE_MPI
    if (mpi_active()) MPI_Barrier(MPI_COMM_WORLD);
#endif
}

}  // namespace citysim::sweep
