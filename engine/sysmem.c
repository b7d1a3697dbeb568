/* engine/sysmem.c — available memory for this process (/proc/meminfo, cgroup v1 and v2 limits)
 * and the "needs X, only Y available" check the model loader and context constructor make before
 * committing memory; memory in huge pages for what is streamed once per token. Stateless: reads
 * the files on each call; any thread. */
#define _DEFAULT_SOURCE /* madvise and MADV_HUGEPAGE (Linux; posix_madvise has no such advice) */
#include "sysmem.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

/* Reads the first line of path as an unsigned decimal ("max" counts as unknown). */
static uint64_t sysmem_read_u64(const char *path) {
    FILE *f = fopen(path, "r");
    if (!f)
        return SYSMEM_UNKNOWN;
    char line[64];
    uint64_t v = SYSMEM_UNKNOWN;
    if (fgets(line, sizeof line, f) && line[0] >= '0' && line[0] <= '9') {
        char *end;
        unsigned long long x = strtoull(line, &end, 10);
        v = (uint64_t)x;
    }
    fclose(f);
    return v;
}

/* MemAvailable and SwapFree (kB in the file) from a meminfo file. */
static int sysmem_read_meminfo(const char *path, uint64_t *avail, uint64_t *swap) {
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    char line[256];
    int found = 0;
    while (fgets(line, sizeof line, f)) {
        unsigned long long kb;
        if (sscanf(line, "MemAvailable: %llu kB", &kb) == 1) {
            *avail = kb > UINT64_MAX / 1024 ? SYSMEM_UNKNOWN : (uint64_t)kb * 1024;
            found = 1;
        } else if (sscanf(line, "SwapFree: %llu kB", &kb) == 1) {
            *swap = kb > UINT64_MAX / 1024 ? 0 : (uint64_t)kb * 1024;
        }
    }
    fclose(f);
    return found ? 0 : -1;
}

/* Room the cgroup limit recorded in out leaves (UNKNOWN when there is none). */
static uint64_t sysmem_cgroup_left(const struct sysmem_info *mi) {
    if (mi->cgroup_limit == SYSMEM_UNKNOWN)
        return SYSMEM_UNKNOWN;
    return mi->cgroup_usage < mi->cgroup_limit ? mi->cgroup_limit - mi->cgroup_usage : 0;
}

/* Walks from the cgroup dir up to the mount root, keeping the limit that leaves least room. A
 * limit at or above 2^62 is "no limit" (v1 writes PAGE_COUNTER_MAX, about 2^63). */
static void sysmem_walk_cgroup(const char *root, const char *cg_path, const char *limit_file,
                               const char *usage_file, struct sysmem_info *out) {
    char dir[512], path[640];
    snprintf(dir, sizeof dir, "%s", cg_path);
    for (;;) {
        snprintf(path, sizeof path, "%s%s/%s", root, dir, limit_file);
        uint64_t lim = sysmem_read_u64(path);
        if (lim != SYSMEM_UNKNOWN && lim < (UINT64_C(1) << 62)) {
            snprintf(path, sizeof path, "%s%s/%s", root, dir, usage_file);
            uint64_t use = sysmem_read_u64(path);
            if (use == SYSMEM_UNKNOWN)
                use = 0;
            uint64_t left = use < lim ? lim - use : 0;
            if (left < sysmem_cgroup_left(out)) {
                out->cgroup_limit = lim;
                out->cgroup_usage = use;
            }
        }
        char *slash = strrchr(dir, '/');
        if (!slash || dir[0] == 0)
            break;
        *slash = 0; /* "/a/b" -> "/a" -> "" (the mount root itself, visited once) */
    }
}

/* Finds this process's cgroup in proc_root/self/cgroup and its memory limit: v2 ("0::/path",
 * ROOT/path/memory.max) and v1 ("N:...memory...:/path", ROOT/memory/path/memory.limit_in_bytes).
 * In a container the listed path may not exist below the mount: the walk then reaches the
 * mount root, which is the container's own cgroup. */
static void sysmem_read_cgroup(const char *proc_root, const char *cg_root,
                               struct sysmem_info *out) {
    char path[512], line[600];
    snprintf(path, sizeof path, "%s/self/cgroup", proc_root);
    FILE *f = fopen(path, "r");
    if (!f)
        return;
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = 0;
        char *c1 = strchr(line, ':');
        char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
        if (!c2)
            continue;
        *c2 = 0;
        const char *ctrls = c1 + 1, *cg = c2 + 1;
        if (strcmp(cg, "/") == 0)
            cg = "";
        char root[512];
        if (strncmp(line, "0:", 2) == 0 && ctrls[0] == 0) {
            sysmem_walk_cgroup(cg_root, cg, "memory.max", "memory.current", out);
        } else {
            /* v1: the controller list is comma-separated; look for "memory" as a whole item. */
            char list[128];
            snprintf(list, sizeof list, ",%s,", ctrls);
            if (!strstr(list, ",memory,"))
                continue;
            snprintf(root, sizeof root, "%s/memory", cg_root);
            sysmem_walk_cgroup(root, cg, "memory.limit_in_bytes", "memory.usage_in_bytes", out);
        }
    }
    fclose(f);
}

int sysmem_query_at(const char *proc_root, const char *cgroup_root, struct sysmem_info *out) {
    char path[512];
    out->mem_available = SYSMEM_UNKNOWN;
    out->swap_free = 0;
    out->cgroup_limit = SYSMEM_UNKNOWN;
    out->cgroup_usage = 0;
    snprintf(path, sizeof path, "%s/meminfo", proc_root);
    int have_mem = sysmem_read_meminfo(path, &out->mem_available, &out->swap_free) == 0;
    sysmem_read_cgroup(proc_root, cgroup_root, out);

    uint64_t avail = SYSMEM_UNKNOWN;
    if (have_mem && out->mem_available != SYSMEM_UNKNOWN)
        avail = out->mem_available > SYSMEM_UNKNOWN - out->swap_free - 1
              ? SYSMEM_UNKNOWN - 1 : out->mem_available + out->swap_free;
    if (sysmem_cgroup_left(out) < avail)
        avail = sysmem_cgroup_left(out);
    out->available = avail;
    return avail == SYSMEM_UNKNOWN ? -1 : 0;
}

int sysmem_query(struct sysmem_info *out) {
    return sysmem_query_at("/proc", "/sys/fs/cgroup", out);
}

const char *sysmem_format(uint64_t bytes, char *buf, size_t cap) {
    static const char *const unit[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
    int u = 0;
    double v = (double)bytes;
    while (v >= 1024.0 && u < 6) {
        v /= 1024.0;
        u++;
    }
    if (u == 0)
        snprintf(buf, cap, "%" PRIu64 " B", bytes);
    else if (v < 10.0)
        snprintf(buf, cap, "%.1f %s", v, unit[u]);
    else
        snprintf(buf, cap, "%.0f %s", v, unit[u]);
    return buf;
}

int sysmem_check_fits(uint64_t need, uint64_t avail, const char *what, char *err,
                      size_t err_len) {
    if (avail == SYSMEM_UNKNOWN || need <= avail)
        return 0;
    char a[32], b[32];
    snprintf(err, err_len, "%s needs %s of memory but only %s is available", what,
             sysmem_format(need, a, sizeof a), sysmem_format(avail, b, sizeof b));
    return -1;
}

int sysmem_check(uint64_t need, const char *what, char *err, size_t err_len) {
    struct sysmem_info mi;
    sysmem_query(&mi);
    return sysmem_check_fits(need, mi.available, what, err, err_len);
}

void *sysmem_alloc_stream(size_t n) {
    const size_t huge = (size_t)2 << 20;
    if (n == 0 || n > SIZE_MAX - huge)
        return NULL;
    const size_t bytes = (n + huge - 1) & ~(huge - 1);   /* aligned_alloc: a multiple */
    void *p = aligned_alloc(huge, bytes);
#ifdef MADV_HUGEPAGE
    if (p)   /* advice only: a kernel without THP keeps 4 KiB pages, and the data is the same */
        (void)madvise(p, bytes, MADV_HUGEPAGE);
#endif
    return p;
}
