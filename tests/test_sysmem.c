/* tests/test_sysmem.c — engine/sysmem.c on fake /proc and cgroup trees (v1 and v2, nested
 * limits, no limit, missing files), the size formatting and the "needs X" message. */
#include "harness.h"
#include "sysmem.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

static void sm_write(const char *dir, const char *rel, const char *text) {
    char path[1024], cmd[1100];
    snprintf(path, sizeof path, "%s/%s", dir, rel);
    snprintf(cmd, sizeof cmd, "mkdir -p \"$(dirname '%s')\"", path);
    if (system(cmd) != 0)
        return;
    FILE *f = fopen(path, "w");
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

static const char *sm_meminfo =
    "MemTotal:       24684096 kB\nMemFree:        1000 kB\nMemAvailable:    2097152 kB\n"
    "SwapTotal:       1048576 kB\nSwapFree:         524288 kB\n";

TEST(sysmem_meminfo_no_cgroup_limit) {
    const char *d = test_tmpdir();
    char proc[600], cg[600];
    snprintf(proc, sizeof proc, "%s/proc", d);
    snprintf(cg, sizeof cg, "%s/cg", d);
    sm_write(proc, "meminfo", sm_meminfo);
    sm_write(proc, "self/cgroup", "0::/user.slice/app\n");
    sm_write(cg, "user.slice/app/memory.max", "max\n");
    sm_write(cg, "user.slice/app/memory.current", "1000\n");
    struct sysmem_info mi;
    CHECK_EQ_INT(sysmem_query_at(proc, cg, &mi), 0);
    CHECK(mi.mem_available == UINT64_C(2097152) * 1024);
    CHECK(mi.swap_free == UINT64_C(524288) * 1024);
    CHECK(mi.cgroup_limit == SYSMEM_UNKNOWN);
    CHECK(mi.available == UINT64_C(2621440) * 1024);
}

TEST(sysmem_cgroup_v2_nested_limit) {
    const char *d = test_tmpdir();
    char proc[600], cg[600];
    snprintf(proc, sizeof proc, "%s/proc", d);
    snprintf(cg, sizeof cg, "%s/cg", d);
    sm_write(proc, "meminfo", sm_meminfo);
    sm_write(proc, "self/cgroup", "0::/a/b\n");
    sm_write(cg, "a/b/memory.max", "max\n");
    sm_write(cg, "a/b/memory.current", "100\n");
    /* The parent's 512 MiB limit with 100 MiB used leaves 412 MiB: tighter than meminfo. */
    sm_write(cg, "a/memory.max", "536870912\n");
    sm_write(cg, "a/memory.current", "104857600\n");
    struct sysmem_info mi;
    CHECK_EQ_INT(sysmem_query_at(proc, cg, &mi), 0);
    CHECK(mi.cgroup_limit == UINT64_C(536870912));
    CHECK(mi.available == UINT64_C(536870912) - UINT64_C(104857600));
}

TEST(sysmem_cgroup_v1_limit_and_container_path) {
    const char *d = test_tmpdir();
    char proc[600], cg[600];
    snprintf(proc, sizeof proc, "%s/proc", d);
    snprintf(cg, sizeof cg, "%s/cg", d);
    sm_write(proc, "meminfo", sm_meminfo);
    /* The listed path does not exist below the mount (a container): the mount root counts. */
    sm_write(proc, "self/cgroup", "5:cpu,cpuacct:/x\n4:memory:/not/here\n0::/\n");
    sm_write(cg, "memory/memory.limit_in_bytes", "268435456\n");
    sm_write(cg, "memory/memory.usage_in_bytes", "300000000\n"); /* over: nothing left */
    struct sysmem_info mi;
    CHECK_EQ_INT(sysmem_query_at(proc, cg, &mi), 0);
    CHECK(mi.available == 0);
    /* v1 "no limit" is PAGE_COUNTER_MAX rounded to pages. */
    sm_write(cg, "memory/memory.limit_in_bytes", "9223372036854771712\n");
    CHECK_EQ_INT(sysmem_query_at(proc, cg, &mi), 0);
    CHECK(mi.cgroup_limit == SYSMEM_UNKNOWN);
    CHECK(mi.available == UINT64_C(2621440) * 1024);
}

TEST(sysmem_nothing_readable_means_unknown) {
    const char *d = test_tmpdir();
    struct sysmem_info mi;
    CHECK_EQ_INT(sysmem_query_at(d, d, &mi), -1);
    CHECK(mi.available == SYSMEM_UNKNOWN);
    char err[128] = "";
    CHECK_EQ_INT(sysmem_check_fits(UINT64_MAX - 1, mi.available, "model", err, sizeof err), 0);
}

TEST(sysmem_format_and_message) {
    char b[32];
    CHECK_STR_EQ(sysmem_format(12, b, sizeof b), "12 B");
    CHECK_STR_EQ(sysmem_format(64 * 1024, b, sizeof b), "64 KiB");
    CHECK_STR_EQ(sysmem_format(UINT64_C(1536) * 1024 * 1024, b, sizeof b), "1.5 GiB");
    CHECK_STR_EQ(sysmem_format(UINT64_C(812) * 1024 * 1024, b, sizeof b), "812 MiB");
    char err[160] = "";
    CHECK_EQ_INT(sysmem_check_fits(100, 100, "model", err, sizeof err), 0);
    CHECK_EQ_INT(sysmem_check_fits(UINT64_C(3) << 30, UINT64_C(1) << 30, "model 'x.gguf'", err,
                                   sizeof err), -1);
    CHECK_STR_EQ(err, "model 'x.gguf' needs 3.0 GiB of memory but only 1.0 GiB is available");
}

TEST(sysmem_this_machine) {
    struct sysmem_info mi;
    if (sysmem_query(&mi) != 0)
        SKIP("no /proc/meminfo here");
    CHECK(mi.available > 0);
    char err[160];
    CHECK_EQ_INT(sysmem_check(4096, "a page", err, sizeof err), 0);
    CHECK_EQ_INT(sysmem_check(UINT64_C(1) << 62, "an exabyte", err, sizeof err), -1);
    CHECK(strstr(err, "an exabyte needs 4.0 EiB of memory but only ") == err);
}

TEST(sysmem_alloc_stream_aligned_and_bounded) {
    CHECK(sysmem_alloc_stream(0) == NULL);
    CHECK(sysmem_alloc_stream(SIZE_MAX) == NULL);
    CHECK(sysmem_alloc_stream(SIZE_MAX - 4096) == NULL);
    const size_t n = (size_t)5 << 20 | 123;   /* not a multiple of the 2 MiB unit */
    unsigned char *p = sysmem_alloc_stream(n);
    CHECK(p != NULL);
    CHECK(((uintptr_t)p & (((uintptr_t)2 << 20) - 1)) == 0);
    memset(p, 0xA5, n);   /* all of it is ours (ASan/valgrind check the bounds) */
    CHECK(p[0] == 0xA5 && p[n - 1] == 0xA5);
    free(p);
}
