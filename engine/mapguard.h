/* engine/mapguard.h — survives a model file that shrinks while it is mapped (internal to the
 * engine). Reading a page of a MAP_SHARED/MAP_PRIVATE file mapping past the file's new end
 * raises SIGBUS; a SIGBUS handler (sigaction, SA_SIGINFO) looks up si_addr among the mapped
 * ranges registered here and, when the address is inside one, maps anonymous zero pages over
 * that whole range (mmap MAP_FIXED), sets the range's "broken" flag and returns, so the faulting
 * read completes with zeros on whichever thread it happened (the generation thread or a pool
 * worker: no thread unwinds, no barrier is left waiting). The forward pass then finishes on
 * zeros and eng_decode, which reads the flag once per call, fails with ENG_E_CHANGED. No cost
 * per token beyond that one atomic load. A SIGBUS anywhere else goes to the handler that was
 * installed before (the TUI's terminal-restoring crash handler, or the default action).
 *
 * Threads: add/remove from any thread (a mutex); the handler runs on the faulting thread and
 * uses only atomics and the mmap system call. Errors: add returns -1 when every slot is taken
 * (the range is then unguarded; a fault kills the process as before). */
#ifndef NATTER_MAPGUARD_H
#define NATTER_MAPGUARD_H

#include <stdatomic.h>
#include <stddef.h>

#define MAPGUARD_SLOTS 32 /* mapped model files at once */

/* Guards [base, base + len) (base page-aligned, as mmap returns it); *broken is set to 1 when
 * a fault there was absorbed. Installs the SIGBUS handler the first time (and again if someone
 * replaced it since). 0, or -1 when no slot is free. */
int mapguard_range_add(const void *base, size_t len, atomic_int *broken);
/* Stops guarding the range that starts at base (before munmap). */
void mapguard_range_remove(const void *base);
/* Unblocks SIGBUS, SIGSEGV, SIGFPE and SIGILL in the calling thread. A fault while its signal
 * is blocked kills the process without running any handler, so every engine thread that reads
 * the weights (generation, pool workers, repacking, whoever loads) calls this first. */
void mapguard_thread_unblock(void);

#endif
