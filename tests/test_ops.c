/* tests/test_ops.c — engine/ops.c: exp, SiLU, softmax and the attention products against
 * double-precision references, and the AVX-512 and AVX2 versions bit-identical to the scalar
 * ones (quant_force_scalar switches both; NATTER_SIMD=avx2 in a child for the AVX2 ones; on
 * aarch64 the NEON score and mix products, make test-arm). */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "ops.h"
#include "quant.h"

static uint32_t ops_rng = 12345;
static float ops_rand(void) {   /* uniform in [-1, 1) */
    ops_rng = ops_rng * 1664525u + 1013904223u;
    return (float)((ops_rng >> 8) & 0xffffff) / 8388608.0f - 1.0f;
}

TEST(ops_expf_close_to_libm) {
    for (float x = -80.0f; x < 80.0f; x += 0.0137f) {
        double want = exp((double)x), got = ops_expf(x);
        CHECK_MSG(fabs(got - want) <= 3e-7 * want, "exp(%g) = %.9g, want %.9g", x, got, want);
    }
    CHECK(ops_expf(-INFINITY) == 0.0f);
    CHECK(ops_expf(-200.0f) == 0.0f);
    CHECK(isinf(ops_expf(200.0f)));
    CHECK(isnan(ops_expf(NAN)));
}

/* Runs every op on the same inputs, returns the outputs concatenated (caller frees). */
static float *ops_run_all(int hd, int n_pos, int f16, size_t *n_out) {
    size_t stride = (size_t)hd + 16;
    size_t n_kv = (size_t)n_pos * stride;
    uint16_t *kh = malloc(n_kv * 2), *vh = malloc(n_kv * 2);
    float *kf = malloc(n_kv * 4), *vf = malloc(n_kv * 4);
    ops_rng = 777;
    for (size_t i = 0; i < n_kv; i++) {
        kf[i] = ops_rand();
        vf[i] = ops_rand();
        kh[i] = quant_f32_to_f16(kf[i]);
        vh[i] = quant_f32_to_f16(vf[i]);
    }
    float q[256], x[203], g[203], acc[16 * 256];
    for (int i = 0; i < hd; i++)
        q[i] = quant_f16_to_f32(quant_f32_to_f16(ops_rand() * 3));
    for (int i = 0; i < 203; i++) {
        x[i] = ops_rand() * 8;
        g[i] = ops_rand();
    }
    /* exponents past a normal float's (the vector exp's slow lanes), within and past 192 */
    x[3] = -90.0f, x[9] = 89.5f, x[17] = 150.0f, x[40] = -200.0f, x[100] = 87.9f;
    *n_out = (size_t)n_pos + (size_t)hd + 2 * 203;
    float *out = malloc(*n_out * sizeof *out);
    float *s = out, *o = out + n_pos, *y = o + hd;
    ops_attn_scores(f16 ? (void *)kh : (void *)kf, stride, f16, n_pos, q, hd, 0.125f, s);
    ops_softmax(n_pos, s, f16);
    ops_attn_mix(f16 ? (void *)vh : (void *)vf, stride, f16, n_pos, s, hd, acc, o);
    ops_silu_mul(203, x, g, y);
    ops_silu(203, x, y + 203);
    free(kh);
    free(vh);
    free(kf);
    free(vf);
    return out;
}

/* 0 if every op's SIMD result equals the scalar one's bits, else 1 with what differs in msg. */
static int ops_simd_check(char *msg, size_t len) {
    const int hds[] = {8, 32, 48, 64, 96, 128, 256};
    const int ns[] = {1, 15, 16, 17, 100, 300};
    for (int f16 = 0; f16 < 2; f16++)
        for (size_t a = 0; a < sizeof hds / sizeof hds[0]; a++)
            for (size_t b = 0; b < sizeof ns / sizeof ns[0]; b++) {
                size_t n1, n2;
                int prev = quant_force_scalar(0);
                float *fast = ops_run_all(hds[a], ns[b], f16, &n1);
                quant_force_scalar(1);
                float *ref = ops_run_all(hds[a], ns[b], f16, &n2);
                quant_force_scalar(prev);
                int same = n1 == n2 && !memcmp(fast, ref, n1 * sizeof *fast);
                free(fast);
                free(ref);
                if (!same) {
                    snprintf(msg, len, "hd %d, n %d, f16 %d: SIMD (%s) and scalar differ", hds[a],
                             ns[b], f16, quant_simd_name());
                    return 1;
                }
            }
    return 0;
}

TEST(ops_simd_matches_scalar) {
    char msg[128];
    CHECK_MSG(!ops_simd_check(msg, sizeof msg), "%s", msg);
}

/* The same with the kernels capped at AVX2 (the ops' AVX2 paths), in a fresh process. */
TEST(ops_simd_avx2_matches_scalar) {
    int fd[2];
    CHECK(pipe(fd) == 0);
    const pid_t pid = fork();
    if (pid == 0) {
        char msg[128] = "";
        setenv("NATTER_SIMD", "avx2", 1);
        const int bad = ops_simd_check(msg, sizeof msg);
        ssize_t w = write(fd[1], msg, strlen(msg));
        _exit(bad || w < 0);
    }
    close(fd[1]);
    char msg[128] = "";
    const ssize_t r = read(fd[0], msg, sizeof msg - 1);
    close(fd[0]);
    msg[r > 0 ? r : 0] = 0;
    int st = 0;
    CHECK(pid > 0 && waitpid(pid, &st, 0) == pid);
    CHECK_MSG(WIFEXITED(st) && WEXITSTATUS(st) == 0, "NATTER_SIMD=avx2: %s", msg);
}

/* The mix in parts (as the engine runs it, several heads per block of V rows; parts that start
 * off a multiple of 16 are ops_attn_mix_lanes with lane0 != 0) gives exactly the whole mix,
 * SIMD and scalar, whatever the split points. */
TEST(ops_attn_mix_in_parts) {
    const int hds[] = {64, 96};
    const int n = 300, cuts[] = {0, 1, 37, 48, 256, 299, 300};
    for (size_t a = 0; a < sizeof hds / sizeof hds[0]; a++)
        for (int f16 = 0; f16 < 2; f16++)
            for (int scalar = 0; scalar < 2; scalar++) {
                const int hd = hds[a];
                const size_t stride = (size_t)hd + 16;
                uint16_t *vh = malloc((size_t)n * stride * 2);
                float *vf = malloc((size_t)n * stride * 4), p[300];
                float *acc = malloc(16 * (size_t)hd * 4), whole[96], parts[96];
                for (size_t i = 0; i < (size_t)n * stride; i++) {
                    vf[i] = ops_rand();
                    vh[i] = quant_f32_to_f16(vf[i]);
                }
                for (int j = 0; j < n; j++) p[j] = ops_rand() * 0.01f;
                const void *v = f16 ? (const void *)vh : (const void *)vf;
                int prev = quant_force_scalar(scalar);
                ops_attn_mix(v, stride, f16, n, p, hd, acc, whole);
                memset(acc, 0, 16 * (size_t)hd * 4);
                for (size_t c = 0; c + 1 < sizeof cuts / sizeof cuts[0]; c++)
                    ops_attn_mix_acc(v, stride, f16, cuts[c], cuts[c + 1], p, hd, acc);
                ops_attn_mix_reduce(acc, hd, parts);
                quant_force_scalar(prev);
                const int same = !memcmp(whole, parts, (size_t)hd * sizeof *whole);
                free(vh), free(vf), free(acc);
                CHECK_MSG(same, "hd %d f16 %d scalar %d: the mix in parts differs", hd, f16, scalar);
            }
}

/* The heads of a KV group together (ops_attn_scores_n, ops_attn_mix_lanes_n: each row read once
 * for all of them) give each head exactly its own call's bits over the rows as floats
 * (ops_kv_dequant's), for every count of heads, row count (the kernels' row groups and the tail),
 * head size, lane start and cache type (F32, F16, and Q8_0 / Q4_0 where the CPU reads them in
 * place). */
TEST(ops_attn_heads_together_as_alone) {
    const int hds[] = {16, 48, 64, 96, 128, 256}, ns[] = {1, 3, 4, 5, 17, 130};
    const uint32_t types[] = {GGML_TYPE_F32, GGML_TYPE_F16, GGML_TYPE_Q8_0, GGML_TYPE_Q4_0};
    enum { NQ = OPS_ATTN_NQ, MAXN = 130, MAXHD = 256 };
    for (size_t a = 0; a < sizeof hds / sizeof hds[0]; a++)
        for (size_t b = 0; b < sizeof ns / sizeof ns[0]; b++)
            for (size_t ty = 0; ty < sizeof types / sizeof types[0]; ty++)
                for (int nq = 1; nq <= NQ; nq++) {
                    const int hd = hds[a], n = ns[b], lane0 = (int)(a + b) % 16;
                    const uint32_t t = types[ty];
                    if (!ops_attn_reads_in_place(t, hd))
                        continue;
                    const struct quant_traits *tr = quant_traits_get(t);
                    const size_t row_b = (size_t)hd / tr->blck_size * tr->type_size;
                    char *rows = malloc((size_t)n * row_b);
                    float *kf = malloc((size_t)n * hd * 4), x[MAXHD];
                    float *q[NQ], *s1[NQ], *s2[NQ], *acc1[NQ], *acc2[NQ];
                    for (int j = 0; j < n; j++) {
                        for (int i = 0; i < hd; i++)
                            x[i] = ops_rand();
                        if (t == GGML_TYPE_F32)
                            memcpy(rows + (size_t)j * row_b, x, row_b);
                        else
                            tr->from_float(x, rows + (size_t)j * row_b, hd);
                    }
                    if (t == GGML_TYPE_F32)
                        memcpy(kf, rows, (size_t)n * row_b);
                    else
                        ops_kv_dequant(rows, row_b, t, n, hd, kf);
                    const int f16 = t == GGML_TYPE_F16;
                    const void *one = f16 ? (const void *)rows : (const void *)kf;
                    for (int e = 0; e < nq; e++) {
                        q[e] = malloc(MAXHD * 4), s1[e] = malloc(MAXN * 4), s2[e] = malloc(MAXN * 4);
                        acc1[e] = malloc(16 * MAXHD * 4), acc2[e] = malloc(16 * MAXHD * 4);
                        for (int i = 0; i < hd; i++)
                            q[e][i] = quant_f16_to_f32(quant_f32_to_f16(ops_rand() * 3));
                        for (int i = 0; i < 16 * hd; i++)
                            acc1[e][i] = acc2[e][i] = ops_rand();
                    }
                    for (int e = 0; e < nq; e++)
                        ops_attn_scores(one, (size_t)hd, f16, n, q[e], hd, 0.125f, s1[e]);
                    ops_attn_scores_n(rows, row_b, t, n, (const float *const *)q, nq, hd, 0.125f,
                                      s2);
                    int same = 1;
                    for (int e = 0; e < nq; e++) {
                        same &= !memcmp(s1[e], s2[e], (size_t)n * 4);
                        for (int j = 0; j < n; j++)   /* weights for the mix */
                            s1[e][j] = s2[e][j] = ops_rand() * 0.01f;
                    }
                    CHECK_MSG(same, "scores: hd %d, n %d, type %u, %d heads", hd, n, t, nq);
                    for (int e = 0; e < nq; e++)
                        ops_attn_mix_lanes(one, (size_t)hd, f16, n, s1[e], lane0, hd, acc1[e]);
                    ops_attn_mix_lanes_n(rows, row_b, t, n, (const float *const *)s2, nq, lane0,
                                         hd, acc2);
                    same = 1;
                    for (int e = 0; e < nq; e++)
                        same &= !memcmp(acc1[e], acc2[e], 16 * (size_t)hd * 4);
                    CHECK_MSG(same, "mix: hd %d, n %d, type %u, %d heads", hd, n, t, nq);
                    for (int e = 0; e < nq; e++)
                        free(q[e]), free(s1[e]), free(s2[e]), free(acc1[e]), free(acc2[e]);
                    free(rows), free(kf);
                }
}

TEST(ops_attention_matches_double) {
    int hd = 64, n = 37;
    size_t n_out;
    float *out = ops_run_all(hd, n, 0, &n_out);
    /* recompute in double from the same generator */
    size_t stride = (size_t)hd + 16;
    float *kf = malloc((size_t)n * stride * 4), *vf = malloc((size_t)n * stride * 4);
    ops_rng = 777;
    for (size_t i = 0; i < (size_t)n * stride; i++) {
        kf[i] = ops_rand();
        vf[i] = ops_rand();
    }
    float q[64];
    for (int i = 0; i < hd; i++)
        q[i] = quant_f16_to_f32(quant_f32_to_f16(ops_rand() * 3));
    double s[64], mx = -1e300, sum = 0;
    for (int j = 0; j < n; j++) {
        s[j] = 0;
        for (int d = 0; d < hd; d++)
            s[j] += (double)kf[(size_t)j * stride + d] * q[d];
        s[j] *= 0.125;
        if (s[j] > mx)
            mx = s[j];
    }
    for (int j = 0; j < n; j++)
        sum += (s[j] = exp(s[j] - mx));
    for (int j = 0; j < n; j++)
        CHECK_MSG(fabs(out[j] - s[j] / sum) < 1e-6, "p[%d] %g vs %g", j, out[j], s[j] / sum);
    for (int i = 0; i < hd; i++) {
        double o = 0;
        for (int j = 0; j < n; j++)
            o += s[j] / sum * vf[(size_t)j * stride + i];
        CHECK_MSG(fabs(out[n + i] - o) < 1e-5, "o[%d] %g vs %g", i, out[n + i], o);
    }
    free(kf);
    free(vf);
    free(out);
}

/* The recurrent layers' steps (DeltaNet's delta rule, Mamba2's scan, the causal convolution)
 * and SiLU: a few steps on the same random inputs, everything they write concatenated. */
static float *ops_run_recurrent(int d, int p, int n, int kw, int ch, size_t *n_out) {
    ops_rng = 4242;
    const int steps = 3;
    size_t gdn = (size_t)d * d + (size_t)steps * d, ssm = (size_t)p * n + (size_t)steps * p;
    size_t conv = (size_t)steps * ch, silu = (size_t)ch;
    *n_out = gdn + ssm + conv + silu;
    float *out = calloc(*n_out, sizeof *out);
    float *q = malloc((size_t)d * 4), *k = malloc((size_t)d * 4), *v = malloc((size_t)d * 4);
    float *S = out, *o = out + (size_t)d * d;
    for (size_t i = 0; i < (size_t)d * d; i++)
        S[i] = ops_rand() * 0.1f;
    for (int s = 0; s < steps; s++) {
        for (int i = 0; i < d; i++) {
            q[i] = ops_rand() * 0.2f;
            k[i] = ops_rand() * 0.2f;
            v[i] = ops_rand();
        }
        ops_gdn_step(d, S, q, k, v, 0.9f + 0.01f * s, 0.6f, 1.0f / sqrtf((float)d),
                     o + (size_t)s * d);
    }
    float *T = out + gdn, *y = T + (size_t)p * n;
    float *x = malloc((size_t)p * 4), *B = malloc((size_t)n * 4), *C = malloc((size_t)n * 4);
    for (size_t i = 0; i < (size_t)p * n; i++)
        T[i] = ops_rand() * 0.1f;
    for (int s = 0; s < steps; s++) {
        for (int i = 0; i < p; i++)
            x[i] = ops_rand();
        for (int i = 0; i < n; i++) {
            B[i] = ops_rand();
            C[i] = ops_rand();
        }
        ops_ssm_step(p, n, T, x, 0.3f, 0.8f, B, C, 0.5f, y + (size_t)s * p);
    }
    float *in = malloc((size_t)(kw - 1 + steps) * ch * 4), *wt = malloc((size_t)kw * ch * 4);
    for (size_t i = 0; i < (size_t)(kw - 1 + steps) * ch; i++)
        in[i] = ops_rand();
    for (size_t i = 0; i < (size_t)kw * ch; i++)
        wt[i] = ops_rand();
    ops_conv_causal(kw, ch, steps, in, wt, out + gdn + ssm, (size_t)ch);
    for (int i = 0; i < ch; i++)
        in[i] = ops_rand() * 8;
    ops_silu(ch, in, out + gdn + ssm + conv);
    free(q), free(k), free(v), free(x), free(B), free(C), free(in), free(wt);
    return out;
}

TEST(ops_recurrent_simd_matches_scalar) {
    const int ds[] = {8, 32, 48, 64, 100, 128, 130};
    const int pn[][2] = {{1, 16}, {64, 16}, {64, 128}, {3, 70}, {8, 200}};
    const int kc[][2] = {{4, 576}, {3, 17}, {1, 8}, {4, 8192}};
    for (size_t a = 0; a < sizeof ds / sizeof ds[0]; a++)
        for (size_t b = 0; b < sizeof pn / sizeof pn[0]; b++)
            for (size_t e = 0; e < sizeof kc / sizeof kc[0]; e++) {
                size_t n1, n2;
                int prev = quant_force_scalar(0);
                float *fast = ops_run_recurrent(ds[a], pn[b][0], pn[b][1], kc[e][0], kc[e][1],
                                                &n1);
                quant_force_scalar(1);
                float *ref = ops_run_recurrent(ds[a], pn[b][0], pn[b][1], kc[e][0], kc[e][1],
                                               &n2);
                quant_force_scalar(prev);
                int same = n1 == n2 && !memcmp(fast, ref, n1 * sizeof *fast);
                free(fast);
                free(ref);
                CHECK_MSG(same, "d %d, p x n %d x %d, conv %d x %d: SIMD and scalar differ",
                          ds[a], pn[b][0], pn[b][1], kc[e][0], kc[e][1]);
            }
}

/* The delta rule and the scan against double precision: S' = eg S + (beta (v - eg S k)) k^T,
 * o = S' q scale; S' = dA S + (x dt) B^T, y = S' C + D x. */
TEST(ops_recurrent_matches_double) {
    for (int scalar = 0; scalar < 2; scalar++) {
        const int d = 128, p = 64, n = 128;
        ops_rng = 99;
        float *S = malloc((size_t)d * d * 4), q[128], k[128], v[128], o[128];
        double *Sd = malloc((size_t)d * d * 8);
        for (int i = 0; i < d * d; i++)
            Sd[i] = S[i] = ops_rand() * 0.1f;
        for (int i = 0; i < d; i++) {
            q[i] = ops_rand() * 0.2f;
            k[i] = ops_rand() * 0.2f;
            v[i] = ops_rand();
        }
        int prev = quant_force_scalar(scalar);
        ops_gdn_step(d, S, q, k, v, 0.9f, 0.6f, 0.125f, o);
        for (int j = 0; j < d; j++) {
            double sk = 0, so = 0;
            for (int i = 0; i < d; i++)
                sk += 0.9 * Sd[j * d + i] * k[i];
            const double delta = (v[j] - sk) * 0.6;
            for (int i = 0; i < d; i++) {
                Sd[j * d + i] = 0.9 * Sd[j * d + i] + delta * k[i];
                so += Sd[j * d + i] * q[i];
            }
            CHECK_MSG(fabs(o[j] - so * 0.125) < 1e-5, "o[%d] %g vs %g", j, o[j], so * 0.125);
            for (int i = 0; i < d; i++)
                CHECK(fabs(S[j * d + i] - Sd[j * d + i]) < 1e-5);
        }
        float *T = malloc((size_t)p * n * 4), x[64], B[128], C[128], y[64];
        double *Td = malloc((size_t)p * n * 8);
        for (int i = 0; i < p * n; i++)
            Td[i] = T[i] = ops_rand() * 0.1f;
        for (int i = 0; i < p; i++)
            x[i] = ops_rand();
        for (int i = 0; i < n; i++) {
            B[i] = ops_rand();
            C[i] = ops_rand();
        }
        ops_ssm_step(p, n, T, x, 0.3f, 0.8f, B, C, 0.5f, y);
        quant_force_scalar(prev);
        for (int r = 0; r < p; r++) {
            double sum = 0;
            for (int i = 0; i < n; i++) {
                Td[r * n + i] = Td[r * n + i] * 0.8 + (double)B[i] * (x[r] * 0.3);
                sum += Td[r * n + i] * C[i];
            }
            sum += 0.5 * x[r];
            CHECK_MSG(fabs(y[r] - sum) < 1e-4, "y[%d] %g vs %g", r, y[r], sum);
        }
        free(S), free(Sd), free(T), free(Td);
    }
}

/* Routing: softmax top-k with renormalization, ties to the lower id, k = n_expert, sigmoid with
 * a selection bias that chooses but does not weigh, softmax over the chosen (gpt-oss), the
 * clamped sum, the weight scale. */
TEST(ops_moe_route_cases) {
    int sel[8];
    float w[8];
    /* softmax, k 2 of 4, renormalized: the two largest, their share of the pair */
    float p[4] = {1.0f, 3.0f, 2.0f, 0.0f};
    ops_moe_route(4, 2, p, NULL, 1, 1, 0.0f, sel, w);
    CHECK(sel[0] == 1 && sel[1] == 2);
    CHECK(fabsf(w[0] - 1.0f / (1.0f + expf(-1.0f))) < 1e-6f && fabsf(w[0] + w[1] - 1.0f) < 1e-6f);
    /* ties go to the lower id, in order */
    float t[5] = {0.5f, 2.0f, 2.0f, 2.0f, 1.0f};
    ops_moe_route(5, 3, t, NULL, 1, 0, 0.0f, sel, w);
    CHECK(sel[0] == 1 && sel[1] == 2 && sel[2] == 3);
    CHECK(w[0] == w[1] && w[1] == w[2]);
    /* k = n_expert: every expert once, best first, weights summing to 1 */
    float a[4] = {0.1f, -1.0f, 0.7f, 0.2f};
    ops_moe_route(4, 4, a, NULL, 1, 1, 0.0f, sel, w);
    CHECK(sel[0] == 2 && sel[1] == 3 && sel[2] == 0 && sel[3] == 1);
    CHECK(fabsf(w[0] + w[1] + w[2] + w[3] - 1.0f) < 1e-6f);
    /* without renormalization the weights are the full softmax's */
    float b[4] = {0.1f, -1.0f, 0.7f, 0.2f};
    ops_moe_route(4, 1, b, NULL, 1, 0, 0.0f, sel, w);
    double den = exp(0.1) + exp(-1.0) + exp(0.7) + exp(0.2);
    CHECK(sel[0] == 2 && fabs(w[0] - exp(0.7) / den) < 1e-6);
    /* sigmoid + selection bias: the bias picks expert 0, its weight is its own sigmoid */
    float g[3] = {0.0f, 1.0f, 0.5f}, bias[3] = {2.0f, 0.0f, 0.0f};
    ops_moe_route(3, 2, g, bias, 2, 0, 0.0f, sel, w);
    CHECK(sel[0] == 0 && sel[1] == 1);
    CHECK(fabsf(w[0] - 0.5f) < 1e-6f && fabsf(w[1] - 1.0f / (1.0f + expf(-1.0f))) < 1e-6f);
    /* gpt-oss: top-k of the raw logits, softmax over the chosen */
    float o[4] = {5.0f, 1.0f, 4.0f, -3.0f};
    ops_moe_route(4, 2, o, NULL, 3, 0, 0.0f, sel, w);
    CHECK(sel[0] == 0 && sel[1] == 2);
    CHECK(fabsf(w[0] - 1.0f / (1.0f + expf(-1.0f))) < 1e-6f);
    /* sigmoid weights near 0 renormalized by the clamped sum, then scaled */
    float z[2] = {-30.0f, -31.0f};
    ops_moe_route(2, 2, z, NULL, 2, 1, 2.5f, sel, w);
    CHECK(isfinite(w[0]) && isfinite(w[1]) && w[0] < 1e-6f);
    float y[2] = {0.0f, 0.0f};
    ops_moe_route(2, 2, y, NULL, 1, 1, 2.5f, sel, w);
    CHECK(fabsf(w[0] - 1.25f) < 1e-6f && fabsf(w[1] - 1.25f) < 1e-6f);
}

/* A quantized (or F16) KV cache's rows converted by ops_kv_dequant: the AVX-512 version and
 * the scalar one give the type's to_float bits, for rows with padding between them. */
TEST(ops_kv_dequant_simd_vs_scalar) {
    const uint32_t types[] = {GGML_TYPE_Q8_0, GGML_TYPE_Q4_0, GGML_TYPE_F16};
    const int hd = 128, n_rows = 5;
    for (int ti = 0; ti < 3; ti++) {
        const struct quant_traits *tr = quant_traits_get(types[ti]);
        const size_t row_b = quant_row_size(types[ti], 3 * hd);   /* a row of 3 heads */
        unsigned char *src = malloc(row_b * n_rows);
        float x[3 * 128], want[5 * 128], got[2][5 * 128];
        for (int r = 0; r < n_rows; r++) {
            for (int i = 0; i < 3 * hd; i++) x[i] = ops_rand() * (float)(r + 1);
            tr->from_float(x, src + r * row_b, 3 * hd);
            tr->to_float(src + r * row_b + quant_row_size(types[ti], hd), want + r * hd, hd);
        }
        for (int scalar = 0; scalar < 2; scalar++) {
            int prev = quant_force_scalar(scalar);
            ops_kv_dequant(src + quant_row_size(types[ti], hd), row_b, types[ti], n_rows, hd,
                           got[scalar]);
            quant_force_scalar(prev);
        }
        free(src);
        CHECK_MSG(!memcmp(got[0], want, sizeof want), "%s: SIMD dequantization differs",
                  tr->name);
        CHECK_MSG(!memcmp(got[1], want, sizeof want), "%s: scalar dequantization differs",
                  tr->name);
    }
}
