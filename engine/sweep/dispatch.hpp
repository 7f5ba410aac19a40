// Runs the work items of a sweep across this process's threads and, when launched under mpirun with
// more than one rank, across MPI ranks, each item exactly once, handed out dynamically (runs differ
// in length). Without MPI (or with one rank) it is a plain thread pool.
//
// Only the main thread calls MPI (MPI_THREAD_FUNNELED): on every rank it keeps the local worker
// threads fed from a small buffer; rank 0 owns the queue of pending items and answers the other
// ranks' requests between refills.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <vector>

namespace citysim::sweep {

// Initialises MPI when the build has it and the process was started by an MPI launcher; a no-op
// otherwise. One per process, in main(), before anything else uses MPI.
// "Started by a launcher" means OMPI_COMM_WORLD_SIZE (OpenMPI's mpirun), PMIX_RANK (PMIx launchers,
// srun --mpi=pmix) or PMI_RANK (MPICH's hydra) is set; a plain `citysim run` never touches MPI.
// Throws std::runtime_error if MPI cannot give MPI_THREAD_FUNNELED. Finalises MPI on destruction
// (only if it initialised it), so every rank must get there: return from main, don't exit().
class MpiSession {
public:
    MpiSession(int& argc, char**& argv);
    ~MpiSession();
    MpiSession(const MpiSession&) = delete;
    MpiSession& operator=(const MpiSession&) = delete;
};

int process_rank();    // 0 without MPI
int process_count();   // 1 without MPI
bool built_with_mpi();

struct DispatchOptions {
    int jobs = 1;  // items in flight on this process at once (worker threads); below 1 counts as 1
    // Called on rank 0's main thread after each completed item (of any rank), with the count of
    // completed items and the total; for progress bars.
    std::function<void(std::size_t done, std::size_t total)> progress;
};

// Calls work(item) for every item in `items` (the same list on every rank), on some thread of some
// rank. work may throw: the first exception stops the handing out of new items everywhere, lets
// items in flight finish, and is rethrown on every rank as std::runtime_error naming the item and
// the rank ("item 17 on rank 1: <what>"). Returns on every rank when all items are done.
// Under MPI it is collective: every rank calls it, in the same order relative to other collective
// calls. Rank 0's `items` are the ones handed out, in order. A non-standard exception reads
// "unknown exception"; a failure message from a rank other than 0 is cut to 1024 characters
// (it must fit one small MPI message). A throwing progress callback fails the dispatch the same way
// ("progress callback on rank 0: <what>").
void dispatch(const std::vector<std::size_t>& items, const DispatchOptions& options,
              const std::function<void(std::size_t item)>& work);

// Blocks until every rank reaches it (no-op without MPI).
void barrier();

}  // namespace citysim::sweep
