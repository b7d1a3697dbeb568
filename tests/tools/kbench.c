/* tests/tools/kbench.c — kernel benchmark: for each tensor type, one thread, prints the speed of
 * the matrix x vector product (vec_dot over a weight matrix larger than the caches: GB/s of
 * weights, ns per 2048-value row) for the scalar and the SIMD kernels, the SIMD kernel on a matrix that
 * stays in L2 (its compute speed), and 64 activation columns through vec_dot and through the
 * batched quant_mat_dot (GMAC/s); for types with a repacked layout (quant.h), the same matrix
 * repacked: matrix x vector from memory (GB/s) and 64 columns (GMAC/s) through
 * quant_repack_mat_dot. Usage: kbench [TYPE...] [-m MiB]. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "quant_impl.h"

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static uint64_t rng = 88172645463325252ull;
static uint32_t rnd(void) {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng >> 32);
}

/* Byte offsets of the half-precision scale fields of a block (so random blocks hold finite,
 * small scales, not NaN or huge values). */
static void fix_scales(uint32_t t, uint8_t *blk) {
    int offs[2] = {-1, -1};
    switch (t) {
    case GGML_TYPE_Q4_0: case GGML_TYPE_Q5_0: case GGML_TYPE_Q8_0: case GGML_TYPE_IQ4_NL:
    case GGML_TYPE_IQ4_XS: offs[0] = 0; break;
    case GGML_TYPE_Q4_1: case GGML_TYPE_Q5_1: case GGML_TYPE_Q4_K: case GGML_TYPE_Q5_K:
        offs[0] = 0, offs[1] = 2; break;
    case GGML_TYPE_Q2_K: offs[0] = 80, offs[1] = 82; break;
    case GGML_TYPE_Q3_K: offs[0] = 108; break;
    case GGML_TYPE_Q6_K: offs[0] = 208; break;
    case GGML_TYPE_IQ2_XXS: case GGML_TYPE_IQ2_XS: case GGML_TYPE_IQ2_S: case GGML_TYPE_IQ3_XXS:
    case GGML_TYPE_IQ3_S: case GGML_TYPE_IQ1_S: offs[0] = 0; break;
    case GGML_TYPE_TQ1_0: offs[0] = 52; break;
    case GGML_TYPE_TQ2_0: offs[0] = 64; break;
    case GGML_TYPE_MXFP4: blk[0] = (uint8_t)(120 + rnd() % 8); return;
    case GGML_TYPE_IQ1_M: { /* the half d in the top nibbles of the 4 scale words */
        const uint16_t h = quant_f32_to_f16(0.001f * (float)(rnd() % 100 + 1));
        for (int k = 0; k < 4; k++)
            blk[48 + 2 * k + 1] = (uint8_t)((blk[48 + 2 * k + 1] & 0x0F) | (((h >> (4 * k)) & 0xF) << 4));
        return;
    }
    default: return;
    }
    for (int k = 0; k < 2; k++) {
        if (offs[k] < 0) continue;
        const uint16_t h = quant_f32_to_f16(0.001f * (float)(rnd() % 100 + 1));
        memcpy(blk + offs[k], &h, 2);
    }
}

static void fill_row(uint32_t t, void *row, int n, float *tmp) {
    const struct quant_traits *tr = quant_traits_get(t);
    if (tr->from_float) {
        for (int i = 0; i < n; i++) tmp[i] = (float)((int)(rnd() % 2001) - 1000) / 1000.f;
        tr->from_float(tmp, row, n);
        return;
    }
    const size_t rs = quant_row_size(t, n);
    uint8_t *p = row;
    for (size_t i = 0; i < rs; i++) p[i] = (uint8_t)rnd();
    for (size_t b = 0; b < rs; b += tr->type_size) fix_scales(t, p + b);
}

static volatile float sink;

int main(int argc, char **argv) {
    static const uint32_t all[] = {
        GGML_TYPE_F32, GGML_TYPE_F16, GGML_TYPE_BF16, GGML_TYPE_Q4_0, GGML_TYPE_Q4_1,
        GGML_TYPE_Q5_0, GGML_TYPE_Q5_1, GGML_TYPE_Q8_0, GGML_TYPE_Q2_K, GGML_TYPE_Q3_K,
        GGML_TYPE_Q4_K, GGML_TYPE_Q5_K, GGML_TYPE_Q6_K, GGML_TYPE_IQ4_NL, GGML_TYPE_IQ4_XS,
        GGML_TYPE_MXFP4, GGML_TYPE_TQ1_0, GGML_TYPE_TQ2_0, GGML_TYPE_IQ2_XXS, GGML_TYPE_IQ2_XS,
        GGML_TYPE_IQ2_S, GGML_TYPE_IQ3_XXS, GGML_TYPE_IQ3_S, GGML_TYPE_IQ1_S, GGML_TYPE_IQ1_M,
    };
    uint32_t types[32];
    int n_types = 0;
    double mib = 256;
    for (int a = 1; a < argc; a++) {
        if (strcmp(argv[a], "-m") == 0 && a + 1 < argc) {
            mib = atof(argv[++a]);
            continue;
        }
        for (size_t k = 0; k < sizeof all / sizeof all[0]; k++)
            if (strcmp(quant_traits_get(all[k])->name, argv[a]) == 0 && n_types < 32)
                types[n_types++] = all[k];
    }
    if (n_types == 0)
        for (size_t k = 0; k < sizeof all / sizeof all[0]; k++) types[n_types++] = all[k];

    const int n = 2048, n_cols = 64;
    float *tmp = malloc(sizeof(float) * n);
    printf("kernels: %s; one thread; n = %d; matrix %.0f MiB per type\n", quant_simd_name(), n, mib);
    printf("%-7s %10s %10s %10s %10s %8s %12s %12s %12s %10s %12s\n", "type", "scalar", "simd",
           "scalar", "simd", "speedup", "simd L2", "vec_dot x64", "mat_dot x64", "repacked",
           "repacked x64");
    printf("%-7s %10s %10s %10s %10s %8s %12s %12s %12s %10s %12s\n", "", "GB/s", "GB/s", "ns/row",
           "ns/row", "", "GB/s", "GMAC/s", "GMAC/s", "GB/s", "GMAC/s");
    for (int k = 0; k < n_types; k++) {
        const uint32_t t = types[k];
        const struct quant_traits *tr = quant_traits_get(t);
        const struct quant_traits *vt = quant_traits_get(tr->vec_dot_type);
        const size_t rs = quant_row_size(t, n), ys = quant_row_size(tr->vec_dot_type, n);
        const int rows = (int)(mib * 1048576.0 / (double)rs);
        char *w = malloc(rs * (size_t)rows), *y = malloc(ys * n_cols);
        float *out = malloc(sizeof(float) * (size_t)rows * n_cols);
        for (int r = 0; r < 64; r++) fill_row(t, w + (size_t)r * rs, n, tmp);
        for (int r = 64; r < rows; r++) memcpy(w + (size_t)r * rs, w + (size_t)(r % 64) * rs, rs);
        for (int c = 0; c < n_cols; c++) {
            for (int i = 0; i < n; i++) tmp[i] = (float)((int)(rnd() % 2001) - 1000) / 1000.f;
            vt->from_float(tmp, y + (size_t)c * ys, n);
        }
        double gbs[2], nsr[2];
        for (int simd = 0; simd < 2; simd++) {
            quant_force_scalar(!simd);
            const int reps = simd ? 5 : 1;
            double best = 1e30;
            for (int rep = 0; rep < reps; rep++) {
                const double t0 = now_s();
                float acc = 0;
                for (int r = 0; r < rows; r++) {
                    float s;
                    tr->vec_dot(n, &s, w + (size_t)r * rs, y);
                    acc += s;
                }
                const double dt = now_s() - t0;
                sink = acc;
                if (dt < best) best = dt;
            }
            gbs[simd] = (double)rs * rows / best / 1e9;
            nsr[simd] = best / rows * 1e9;
        }
        /* batched: a cache-resident slice of 256 rows, 64 columns */
        const int br = rows < 256 ? rows : 256;
        double bt = 1e30, vt_best = 1e30;
        for (int rep = 0; rep < 3; rep++) {
            double t0 = now_s();
            quant_mat_dot(t, n, out, (size_t)br, w, rs, y, ys, br, n_cols);
            double dt = now_s() - t0;
            if (dt < bt) bt = dt;
            t0 = now_s();
            for (int c = 0; c < n_cols; c++)
                for (int r = 0; r < br; r++)
                    tr->vec_dot(n, out + (size_t)c * br + r, w + (size_t)r * rs, y + (size_t)c * ys);
            dt = now_s() - t0;
            if (dt < vt_best) vt_best = dt;
        }
        /* cache-resident matrix x vector: the kernel's own speed */
        double l2 = 1e30;
        for (int rep = 0; rep < 20; rep++) {
            const double t0 = now_s();
            float acc = 0;
            for (int r = 0; r < br; r++) {
                float s;
                tr->vec_dot(n, &s, w + (size_t)r * rs, y);
                acc += s;
            }
            const double dt = now_s() - t0;
            sink = acc;
            if (dt < l2) l2 = dt;
        }
        const double macs = (double)br * n_cols * n;
        double rp_gbs = 0, rp_gmac = 0;
        const struct quant_repack *rp = quant_repack_get(t);
        if (rp && br % QUANT_RP_ROWS == 0) {
            const int ng = rows / QUANT_RP_ROWS;
            const size_t gb = rp->group_bytes(n), as = quant_row_size(rp->act_type, n);
            char *g = malloc(gb * (size_t)ng), *ya = malloc(as * n_cols);
            for (int k2 = 0; k2 < ng; k2++)
                rp->pack(w + (size_t)k2 * QUANT_RP_ROWS * rs, rs, g + (size_t)k2 * gb, n);
            for (int c = 0; c < n_cols; c++) {
                vt->to_float(y + (size_t)c * ys, tmp, n);
                quant_traits_get(rp->act_type)->from_float(tmp, ya + (size_t)c * as, n);
            }
            double best = 1e30, bbest = 1e30;
            for (int rep = 0; rep < 5; rep++) {
                double t0 = now_s();
                quant_repack_mat_dot(rp, n, out, (size_t)rows, g, gb, ng, ya, as, 1);
                double dt = now_s() - t0;
                if (dt < best) best = dt;
                t0 = now_s();
                quant_repack_mat_dot(rp, n, out, (size_t)br, g, gb, br / QUANT_RP_ROWS, ya, as,
                                     n_cols);
                dt = now_s() - t0;
                if (dt < bbest) bbest = dt;
            }
            rp_gbs = (double)gb * ng / best / 1e9;
            rp_gmac = macs / bbest / 1e9;
            free(g), free(ya);
        }
        printf("%-7s %10.2f %10.2f %10.0f %10.0f %7.1fx %12.2f %12.1f %12.1f", tr->name, gbs[0],
               gbs[1], nsr[0], nsr[1], gbs[1] / gbs[0], (double)rs * br / l2 / 1e9,
               macs / vt_best / 1e9, macs / bt / 1e9);
        if (rp_gbs > 0)
            printf(" %10.2f %12.1f\n", rp_gbs, rp_gmac);
        else
            printf(" %10s %12s\n", "-", "-");
        fflush(stdout);
        free(w), free(y), free(out);
    }
    free(tmp);
    return 0;
}
