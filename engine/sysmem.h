/* engine/sysmem.h — how much memory this process can still use (internal to the engine): the
 * kernel's MemAvailable plus free swap, capped by the cgroup's memory limit (v2 memory.max or v1
 * memory.limit_in_bytes, minus what the cgroup already uses). Used to refuse a model or a context
 * that cannot fit with a message giving the size needed, rather than being OOM-killed. And the
 * allocation of memory streamed through once per token (repacked weights, the KV cache). Any
 * thread. */
#ifndef NATTER_SYSMEM_H
#define NATTER_SYSMEM_H

#include <stddef.h>
#include <stdint.h>

#define SYSMEM_UNKNOWN UINT64_MAX

struct sysmem_info {
    uint64_t mem_available;  /* /proc/meminfo MemAvailable (bytes), SYSMEM_UNKNOWN if absent */
    uint64_t swap_free;      /* SwapFree (bytes), 0 if absent */
    uint64_t cgroup_limit;   /* the tightest limit over the cgroup and its parents, or UNKNOWN */
    uint64_t cgroup_usage;   /* usage of the cgroup holding that limit (0 if unknown) */
    uint64_t available;      /* what is left: min(mem_available + swap_free, limit - usage) */
};

/* Reads the figures for this process. Returns 0, or -1 if nothing could be read (then
 * available == SYSMEM_UNKNOWN and checks pass). */
int sysmem_query(struct sysmem_info *out);
/* The same with other roots (tests): proc_root holds "meminfo" and "self/cgroup" (as /proc);
 * cgroup_root is where cgroupfs is mounted (as /sys/fs/cgroup). */
int sysmem_query_at(const char *proc_root, const char *cgroup_root, struct sysmem_info *out);

/* "1.5 GiB", "812 MiB", "64 KiB", "12 B" into buf. Returns buf. */
const char *sysmem_format(uint64_t bytes, char *buf, size_t cap);

/* 0 if need bytes fit in avail (SYSMEM_UNKNOWN always fits); else -1 and a one-line message in
 * err: "WHAT needs 2.1 GiB of memory but only 1.3 GiB is available". */
int sysmem_check_fits(uint64_t need, uint64_t avail, const char *what, char *err, size_t err_len);
/* sysmem_check_fits against sysmem_query()'s figure. */
int sysmem_check(uint64_t need, const char *what, char *err, size_t err_len);

/* n bytes (n > 0) for data read from memory once per token, to be released with free(): 2 MiB
 * aligned and, where the system has them, in transparent huge pages (madvise MADV_HUGEPAGE;
 * Linux's default "madvise" mode gives anonymous memory 4 KiB pages otherwise, and a 600 MiB
 * stream through 4 KiB pages misses the TLB every 4 KiB). NULL when out of memory. */
void *sysmem_alloc_stream(size_t n);

#endif
