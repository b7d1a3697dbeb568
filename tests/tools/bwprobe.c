/* tests/tools/bwprobe.c — measures the machine's memory read bandwidth, the bound on token
 * generation speed: T threads each sum their part of a buffer much larger than the caches,
 * best of R passes, with the widest loads the CPU has (AVX-512, AVX2, else scalar), the buffer
 * in transparent huge pages where the system has them (as natter's repacked weights: 4 KiB
 * pages read ~10% slower here, and the probe is to give the machine's best). Prints "read_bw_gbs X threads T size_mib S". Single purpose tool.
 *
 *   bwprobe [-t THREADS] [-s SIZE_MIB] [-r REPS]
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sysmem.h"

struct bw_job {
    const uint64_t *p;
    size_t n;
    uint64_t sum;
    pthread_barrier_t *start;
};

static double bw_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Sums n 64-bit words with the widest loads the CPU has: the loads must outrun memory, or
 * the probe measures the core instead of the bandwidth. */
typedef uint64_t (*bw_sum_fn)(const uint64_t *p, size_t n);

static uint64_t bw_sum_scalar(const uint64_t *p, size_t n) {
    uint64_t s[8] = {0};
    size_t n8 = n / 8 * 8;
    for (size_t i = 0; i < n8; i += 8)
        for (int k = 0; k < 8; k++) s[k] += p[i + k];
    for (size_t i = n8; i < n; i++) s[0] += p[i];
    return s[0] + s[1] + s[2] + s[3] + s[4] + s[5] + s[6] + s[7];
}

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
__attribute__((target("avx2"))) static uint64_t bw_sum_avx2(const uint64_t *p, size_t n) {
    __m256i a = _mm256_setzero_si256(), b = a, c = a, d = a;
    size_t n16 = n / 16 * 16;
    for (size_t i = 0; i < n16; i += 16) {
        a = _mm256_add_epi64(a, _mm256_loadu_si256((const __m256i *)(p + i)));
        b = _mm256_add_epi64(b, _mm256_loadu_si256((const __m256i *)(p + i + 4)));
        c = _mm256_add_epi64(c, _mm256_loadu_si256((const __m256i *)(p + i + 8)));
        d = _mm256_add_epi64(d, _mm256_loadu_si256((const __m256i *)(p + i + 12)));
    }
    uint64_t t[4];
    _mm256_storeu_si256((__m256i *)t,
                        _mm256_add_epi64(_mm256_add_epi64(a, b), _mm256_add_epi64(c, d)));
    return t[0] + t[1] + t[2] + t[3] + bw_sum_scalar(p + n16, n - n16);
}

__attribute__((target("avx512f"))) static uint64_t bw_sum_avx512(const uint64_t *p, size_t n) {
    __m512i a = _mm512_setzero_si512(), b = a, c = a, d = a;
    size_t n32 = n / 32 * 32;
    for (size_t i = 0; i < n32; i += 32) {
        a = _mm512_add_epi64(a, _mm512_loadu_si512((const void *)(p + i)));
        b = _mm512_add_epi64(b, _mm512_loadu_si512((const void *)(p + i + 8)));
        c = _mm512_add_epi64(c, _mm512_loadu_si512((const void *)(p + i + 16)));
        d = _mm512_add_epi64(d, _mm512_loadu_si512((const void *)(p + i + 24)));
    }
    return (uint64_t)_mm512_reduce_add_epi64(_mm512_add_epi64(_mm512_add_epi64(a, b),
                                                              _mm512_add_epi64(c, d))) +
           bw_sum_scalar(p + n32, n - n32);
}
#endif

static bw_sum_fn bw_sum = bw_sum_scalar;
static const char *bw_kernel = "scalar";

static void bw_pick(void) {
#if defined(__x86_64__) && defined(__GNUC__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f")) {
        bw_sum = bw_sum_avx512;
        bw_kernel = "avx512";
    } else if (__builtin_cpu_supports("avx2")) {
        bw_sum = bw_sum_avx2;
        bw_kernel = "avx2";
    }
#endif
}

static void *bw_read(void *arg) {
    struct bw_job *j = arg;
    pthread_barrier_wait(j->start);
    j->sum = bw_sum(j->p, j->n);
    return NULL;
}

int main(int argc, char **argv) {
    int n_threads = 2, reps = 5;
    long size_mib = 1024;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "-t")) n_threads = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "-s")) size_mib = atol(argv[i + 1]);
        else if (!strcmp(argv[i], "-r")) reps = atoi(argv[i + 1]);
    }
    if (n_threads < 1 || n_threads > 256 || size_mib < 16 || reps < 1) {
        fprintf(stderr, "usage: bwprobe [-t THREADS] [-s SIZE_MIB (>= 16)] [-r REPS]\n");
        return 2;
    }
    bw_pick();
    size_t bytes = (size_t)size_mib << 20, n = bytes / sizeof(uint64_t);
    uint64_t *buf = sysmem_alloc_stream(bytes);   /* as natter's weights: huge pages */
    if (!buf) {
        fprintf(stderr, "bwprobe: cannot allocate %ld MiB\n", size_mib);
        return 1;
    }
    for (size_t i = 0; i < n; i++) buf[i] = i * 0x9e3779b97f4a7c15ull;
    struct bw_job *jobs = calloc((size_t)n_threads, sizeof *jobs);
    pthread_t *th = calloc((size_t)n_threads, sizeof *th);
    if (!jobs || !th) return 1;
    double best = 0;
    uint64_t check = 0;
    for (int r = 0; r < reps; r++) {
        pthread_barrier_t start;
        pthread_barrier_init(&start, NULL, (unsigned)n_threads + 1);
        for (int k = 0; k < n_threads; k++) {
            size_t a = n * (size_t)k / (size_t)n_threads, b = n * (size_t)(k + 1) / (size_t)n_threads;
            jobs[k] = (struct bw_job){buf + a, b - a, 0, &start};
            pthread_create(&th[k], NULL, bw_read, &jobs[k]);
        }
        double t0 = bw_now();
        pthread_barrier_wait(&start);
        for (int k = 0; k < n_threads; k++) {
            pthread_join(th[k], NULL);
            check += jobs[k].sum;
        }
        double gbs = (double)bytes / (bw_now() - t0) / 1e9;
        if (gbs > best) best = gbs;
        pthread_barrier_destroy(&start);
    }
    printf("read_bw_gbs %.2f threads %d size_mib %ld\n", best, n_threads, size_mib);
    fprintf(stderr, "(%s loads, checksum %llx)\n", bw_kernel, (unsigned long long)check);
    free(buf);
    free(jobs);
    free(th);
    return 0;
}
