// How the C library's allocator hands memory back: tuned once at the start of every program
// (citysim, the benchmarks), so that what a benchmark measures is what a run does.
#pragma once

#include <malloc.h>

namespace citysim::engine {

// glibc returns freed memory at the top of a heap to the system as soon as more than 128 KiB are
// free there, and serves blocks above a threshold that starts at 128 KiB with mmap, unmapped again
// on free. A step that sets up and frees the same few megabytes every time (HDF5's deflate filter
// allocates and frees zlib's ~400 KB of state for every chunk it writes; a reduction's per-block
// partials, 2.3 MB a step at 300 cities) then pays page faults to get them back, and each trim or
// unmap flushes the TLB of every core the process runs on. Recording every step of
// teaching-two-cities over 2,400 steps took 2.6-3.5 s CPU with the defaults and 0.7 s with this.
// So the heap keeps up to 64 MiB of free memory, and blocks up to 32 MiB (glibc's own ceiling for
// the threshold it would otherwise raise by itself) come from the heap. Peak memory is unchanged
// (10 M agents: 567.5 MB against 567.8 MB).
inline void keep_freed_memory() {
    mallopt(M_MMAP_THRESHOLD, 32 << 20);
    mallopt(M_TRIM_THRESHOLD, 64 << 20);
}

}  // namespace citysim::engine
