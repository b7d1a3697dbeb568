/* tests/tools/kmatvec.c — the per-token matrix x vector work of a TinyLlama-1.1B-shaped model
 * (22 layers, n_embd 2048, 4 KV heads of 64, n_ff 5632, vocab 32000) run on the quant kernels
 * alone with N threads (rows split evenly, a barrier after each matrix as a forward pass has):
 * what the kernels alone reach and their share of the memory bandwidth (without the forward
 * pass's read-ahead prefetch, so natter's generation can run faster than this).
 * Weights are random blocks in memory (not a file). Usage: kmatvec [-t N] [-r REPS] [-m] [TYPE...]
 * (-m: through quant_mat_dot with one column, as the forward pass calls it, instead of vec_dot)
 * with TYPE among Q4_0, Q8_0, Q4_K_M (Q4_K, with Q6_K output and half the attn_v/ffn_down). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "quant.h"

struct mat {
    uint32_t type;
    int rows, cols;
    char *w;
    size_t row_bytes;
    char *xq; /* the quantized input vector */
    float *out;
};

struct job {
    struct mat *mats;
    int n_mats, reps, ith, nth, use_mat_dot;
    pthread_barrier_t *bar;
};

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void *worker(void *ud) {
    struct job *j = ud;
    for (int rep = 0; rep < j->reps; rep++) {
        for (int m = 0; m < j->n_mats; m++) {
            const struct mat *a = &j->mats[m];
            const struct quant_traits *tr = quant_traits_get(a->type);
            const int r0 = (int)((long long)a->rows * j->ith / j->nth);
            const int r1 = (int)((long long)a->rows * (j->ith + 1) / j->nth);
            if (j->use_mat_dot) /* as the forward pass: blocks of rows, one column */
                for (int r = r0; r < r1; r += 64)
                    quant_mat_dot(a->type, a->cols, &a->out[r], (size_t)a->rows,
                                  a->w + (size_t)r * a->row_bytes, a->row_bytes, a->xq, 0,
                                  r1 - r < 64 ? r1 - r : 64, 1);
            else
                for (int r = r0; r < r1; r++)
                    tr->vec_dot(a->cols, &a->out[r], a->w + (size_t)r * a->row_bytes, a->xq);
            pthread_barrier_wait(j->bar);
        }
    }
    return NULL;
}

static uint64_t rng = 0x2545F4914F6CDD1Dull;
static float rndf(void) {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (float)(rng >> 40) / (float)(1 << 24) * 2.0f - 1.0f;
}

static void mat_init(struct mat *a, uint32_t type, int rows, int cols) {
    const struct quant_traits *tr = quant_traits_get(type);
    const struct quant_traits *vt = quant_traits_get(tr->vec_dot_type);
    a->type = type, a->rows = rows, a->cols = cols;
    a->row_bytes = quant_row_size(type, cols);
    a->w = malloc(a->row_bytes * (size_t)rows);
    a->out = malloc(sizeof(float) * (size_t)rows);
    a->xq = malloc(quant_row_size(tr->vec_dot_type, cols));
    float *f = malloc(sizeof(float) * (size_t)cols);
    for (int r = 0; r < 16 && r < rows; r++) {
        for (int i = 0; i < cols; i++) f[i] = rndf();
        tr->from_float(f, a->w + (size_t)r * a->row_bytes, cols);
    }
    for (int r = 16; r < rows; r++)
        memcpy(a->w + (size_t)r * a->row_bytes, a->w + (size_t)(r % 16) * a->row_bytes, a->row_bytes);
    for (int i = 0; i < cols; i++) f[i] = rndf();
    vt->from_float(f, a->xq, cols);
    free(f);
}

int main(int argc, char **argv) {
    int nth = 2, reps = 10, use_mat_dot = 0;
    const char *types[8];
    int n_types = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-t") == 0 && i + 1 < argc) nth = atoi(argv[++i]);
        else if (strcmp(argv[i], "-r") == 0 && i + 1 < argc) reps = atoi(argv[++i]);
        else if (strcmp(argv[i], "-m") == 0) use_mat_dot = 1;
        else if (n_types < 8) types[n_types++] = argv[i];
    }
    if (nth < 1 || reps < 1) return 2;
    if (n_types == 0) types[0] = "Q4_0", types[1] = "Q4_K_M", types[2] = "Q8_0", n_types = 3;
    const int n_layer = 22, n_embd = 2048, n_kv = 256, n_ff = 5632, n_vocab = 32000;
    printf("kernels: %s; %d threads; TinyLlama-1.1B shape, matrix x vector only (%s)\n",
           quant_simd_name(), nth, use_mat_dot ? "quant_mat_dot, 1 column" : "vec_dot per row");
    for (int k = 0; k < n_types; k++) {
        uint32_t base, big = GGML_TYPE_Q6_K;
        if (strcmp(types[k], "Q4_0") == 0) base = GGML_TYPE_Q4_0;
        else if (strcmp(types[k], "Q8_0") == 0) base = big = GGML_TYPE_Q8_0;
        else if (strcmp(types[k], "Q4_K_M") == 0) base = GGML_TYPE_Q4_K;
        else {
            fprintf(stderr, "kmatvec: unknown type %s\n", types[k]);
            return 2;
        }
        const int n_mats = n_layer * 7 + 1;
        struct mat *mats = calloc((size_t)n_mats, sizeof *mats);
        int m = 0;
        for (int l = 0; l < n_layer; l++) {
            const uint32_t more = (base == GGML_TYPE_Q4_K && l % 2 == 0) ? GGML_TYPE_Q6_K : base;
            mat_init(&mats[m++], base, n_embd, n_embd);   /* attn_q */
            mat_init(&mats[m++], base, n_kv, n_embd);     /* attn_k */
            mat_init(&mats[m++], more, n_kv, n_embd);     /* attn_v */
            mat_init(&mats[m++], base, n_embd, n_embd);   /* attn_output */
            mat_init(&mats[m++], base, n_ff, n_embd);     /* ffn_gate */
            mat_init(&mats[m++], base, n_ff, n_embd);     /* ffn_up */
            mat_init(&mats[m++], more, n_embd, n_ff);     /* ffn_down */
        }
        mat_init(&mats[m++], big, n_vocab, n_embd);       /* output */
        double bytes = 0;
        for (int i = 0; i < n_mats; i++) bytes += (double)mats[i].row_bytes * mats[i].rows;
        pthread_barrier_t bar;
        pthread_barrier_init(&bar, NULL, (unsigned)nth);
        struct job *jobs = calloc((size_t)nth, sizeof *jobs);
        pthread_t *tids = calloc((size_t)nth, sizeof *tids);
        double best = 1e30;
        for (int round = 0; round < 3; round++) {
            const double t0 = now_s();
            for (int t = 0; t < nth; t++) {
                jobs[t] = (struct job){mats, n_mats, reps, t, nth, use_mat_dot, &bar};
                if (t > 0) pthread_create(&tids[t], NULL, worker, &jobs[t]);
            }
            worker(&jobs[0]);
            for (int t = 1; t < nth; t++) pthread_join(tids[t], NULL);
            const double dt = (now_s() - t0) / reps;
            if (dt < best) best = dt;
        }
        printf("%-7s %7.0f MiB  %6.2f ms/token  %6.1f tokens/s  %5.1f GB/s\n", types[k],
               bytes / 1048576.0, best * 1e3, 1.0 / best, bytes / best / 1e9);
        fflush(stdout);
        pthread_barrier_destroy(&bar);
        for (int i = 0; i < n_mats; i++) free(mats[i].w), free(mats[i].out), free(mats[i].xq);
        free(mats), free(jobs), free(tids);
    }
    return 0;
}
