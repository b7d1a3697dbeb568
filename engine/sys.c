/* engine/sys.c — facts about the machine and the process: physical cores (/proc/cpuinfo or
 * /sys topology), resident memory (/proc/self/status) and the SIMD kernels in use. Any thread. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine.h"
#include "quant.h"

/* Counts distinct (physical id, core id) pairs in /proc/cpuinfo; 0 if it cannot tell. */
static int cpu_cores_from_cpuinfo(void) {
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f)
        return 0;
    enum { MAX_CORES = 1024 };
    static long seen[MAX_CORES];
    int n_seen = 0;
    long phys = 0, core = -1;
    char line[512];
    for (;;) {
        char *r = fgets(line, sizeof line, f);
        if (!r || line[0] == '\n') {      /* end of one processor's block */
            if (core >= 0) {
                long id = phys * 65536 + core;
                int dup = 0;
                for (int i = 0; i < n_seen; i++)
                    dup |= seen[i] == id;
                if (!dup && n_seen < MAX_CORES)
                    seen[n_seen++] = id;
            }
            phys = 0;
            core = -1;
            if (!r)
                break;
            continue;
        }
        const char *colon = strchr(line, ':');
        if (!colon)
            continue;
        if (!strncmp(line, "physical id", 11))
            phys = strtol(colon + 1, NULL, 10);
        else if (!strncmp(line, "core id", 7))
            core = strtol(colon + 1, NULL, 10);
    }
    fclose(f);
    return n_seen;
}

int eng_cpu_physical_cores(void) {
    int n = cpu_cores_from_cpuinfo();
    long online = sysconf(_SC_NPROCESSORS_ONLN);
    if (n <= 0 || (online > 0 && n > online))
        n = online > 0 ? (int)online : 1;
    return n;
}

/* A "Vm...:  N kB" line of /proc/self/status in bytes; 0 when unavailable. */
static uint64_t proc_status_kb(const char *key) {
    FILE *f = fopen("/proc/self/status", "r");
    if (!f)
        return 0;
    char line[256];
    uint64_t v = 0;
    size_t kl = strlen(key);
    while (fgets(line, sizeof line, f)) {
        if (!strncmp(line, key, kl) && line[kl] == ':') {
            v = strtoull(line + kl + 1, NULL, 10) * 1024;
            break;
        }
    }
    fclose(f);
    return v;
}

uint64_t eng_rss_bytes(void) { return proc_status_kb("VmRSS"); }
uint64_t eng_rss_peak_bytes(void) { return proc_status_kb("VmHWM"); }
const char *eng_simd_name(void) { return quant_simd_name(); }
