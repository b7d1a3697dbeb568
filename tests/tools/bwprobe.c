/* tests/tools/bwprobe.c — measures the machine's memory read bandwidth, the bound on token
 * generation speed: T threads each sum their part of a buffer much larger than the caches,
 * best of R passes. Prints "read_bw_gbs X threads T size_mib S". Single purpose tool.
 *
 *   bwprobe [-t THREADS] [-s SIZE_MIB] [-r REPS]
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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

static void *bw_read(void *arg) {
    struct bw_job *j = arg;
    pthread_barrier_wait(j->start);
    /* eight independent sums: the compiler vectorizes, the loads are the bottleneck */
    uint64_t s[8] = {0};
    size_t n8 = j->n / 8 * 8;
    for (size_t i = 0; i < n8; i += 8)
        for (int k = 0; k < 8; k++) s[k] += j->p[i + k];
    for (size_t i = n8; i < j->n; i++) s[0] += j->p[i];
    j->sum = s[0] + s[1] + s[2] + s[3] + s[4] + s[5] + s[6] + s[7];
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
    size_t bytes = (size_t)size_mib << 20, n = bytes / sizeof(uint64_t);
    uint64_t *buf = NULL;
    if (posix_memalign((void **)&buf, 4096, bytes) != 0) {
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
    fprintf(stderr, "(checksum %llx)\n", (unsigned long long)check);
    free(buf);
    free(jobs);
    free(th);
    return 0;
}
