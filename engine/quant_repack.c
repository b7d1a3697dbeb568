/* engine/quant_repack.c — weights repacked at load into groups of 16 rows (one row per 32-bit
 * vector lane), the scalar reference kernels on them, the Q8_0S activation layout those kernels
 * want, and the driver quant_repack_mat_dot(). The SIMD kernels are in quant_x86*.c and
 * quant_neon_rp.h. Layouts
 * (g: a group of rows 0..15 of n values; nb blocks per row):
 *
 *   Q4_0x16  d[nb][16] (halves), then qs[nb][4][16][4]: byte k of lane r of vector m of block
 *            b is byte 4m + k of row r's block b (its low nibble: value 4m + k, its high one:
 *            value 16 + 4m + k). Same size as the rows.
 *   Q8_0x16  d[nb][16], then qs[nb][8][16][4]: byte k of lane r of vector m of block b is
 *            quant 4m + k of row r's block b plus 128. Same size as the rows.
 *   MXFP4x16 e[nb][16] (the E8M0 scales, a byte each), then qs[nb][4][16][4] as Q4_0x16 (the
 *            nibbles index quant_kvalues_mxfp4). Same size as the rows.
 *   Q4_Kx16  per superblock (2368 bytes, 16 * 144 + 64): d[16], dmin[16] (halves), sc[8][16]
 *            (the 6-bit scale of sub-block j of row r), mn[4][16][2] (the mins of sub-blocks
 *            2k and 2k + 1 of row r), qs[4][8][16][4]: byte k of lane r of vector m of pair p
 *            is byte 32p + 4m + k of row r (low nibble: sub-block 2p, high: 2p + 1, value
 *            4m + k of the sub-block).
 *   Q6_Kx16  per superblock (3360 bytes, the rows' size): d[16], sc[16][16] (the signed scale
 *            of 16-value group k of row r), then per half h (128 values): ql[16][16][4] (byte
 *            e of lane r of vector j is byte 64h + 4j + e of row r's ql: low nibble value
 *            4j + e of the half, high nibble value 64 + 4j + e) and qh[8][16][4] (byte e of
 *            lane r of vector j is byte 32h + 4j + e of row r's qh: bits 2k, 2k + 1 are the
 *            high bits of value 32k + 4j + e of the half).
 *
 * Each row's products are exact integers per block (per superblock for Q4_K) and are summed
 * in float block after block with one fused multiply-add, so SIMD and scalar agree bit for bit.
 * Pure functions; any thread (the tables are set by quant.c's one-time init). */
#include <stdlib.h>

#include "quant_impl.h"

/* ---- Q8_0S: Q8_0 quants, the scale as a float, the sum of the quants ---- */

void quant_q8_0s_from_float(const float *x, void *vy, int64_t n) {
    block_q8_0s *y = vy;
    block_q8_0 b;
    for (int64_t i = 0; i < n / QK8_0; i++, x += QK8_0) {
        quant_q8_0_from_float(x, &b, QK8_0);
        y[i].d = QH2F(b.d);
        int s = 0;
        for (int j = 0; j < QK8_0; j++) s += b.qs[j];
        y[i].s = s;
        memcpy(y[i].qs, b.qs, sizeof b.qs);
    }
}

void quant_q8_0s_to_float(const void *vx, float *y, int64_t n) {
    const block_q8_0s *x = vx;
    for (int64_t i = 0; i < n / QK8_0; i++)
        for (int j = 0; j < QK8_0; j++) y[i * QK8_0 + j] = x[i].d * (float)x[i].qs[j];
}

/* ---- Q4_0x16 and Q8_0x16: blocks of 32 with one half scale ----
 * Both store d[nb][16], then the quants of block b as unsigned bytes in 32-bit lanes: Q4_0 its
 * 16 bytes of nibbles (4 vectors), Q8_0 its 32 bytes plus 128 (8 vectors). The dot product of a
 * block is sum(u * y) - K * sum(y) with K = 8 or 128: the activations' block sum (Q8_0S) pays
 * for the offset. */

static size_t q4_0x16_group_bytes(int n) {
    return (size_t)(n / QK4_0) * QUANT_RP_ROWS * sizeof(block_q4_0);
}

static size_t q8_0x16_group_bytes(int n) {
    return (size_t)(n / QK8_0) * QUANT_RP_ROWS * sizeof(block_q8_0);
}

/* The scales of 16 rows of blocks of size bsz (the half scale first in each block), and
 * a pointer to where the quants start. */
static uint8_t *rp32_pack_scales(const void *x, size_t bx, uint8_t *g, int nb, size_t bsz) {
    for (int r = 0; r < QUANT_RP_ROWS; r++)
        for (int b = 0; b < nb; b++)
            memcpy(g + ((size_t)b * QUANT_RP_ROWS + (size_t)r) * 2,
                   (const uint8_t *)x + (size_t)r * bx + (size_t)b * bsz, 2);
    return g + (size_t)nb * QUANT_RP_ROWS * sizeof(ggml_half);
}

static void q4_0x16_pack(const void *x, size_t bx, void *vg, int n) {
    const int nb = n / QK4_0;
    uint8_t *qs = rp32_pack_scales(x, bx, vg, nb, sizeof(block_q4_0));
    for (int r = 0; r < QUANT_RP_ROWS; r++) {
        const block_q4_0 *row = (const block_q4_0 *)((const uint8_t *)x + (size_t)r * bx);
        for (int b = 0; b < nb; b++)
            for (int m = 0; m < 4; m++)
                memcpy(qs + (size_t)b * 256 + (size_t)m * 64 + (size_t)r * 4, row[b].qs + 4 * m, 4);
    }
}

static void q8_0x16_pack(const void *x, size_t bx, void *vg, int n) {
    const int nb = n / QK8_0;
    uint8_t *qs = rp32_pack_scales(x, bx, vg, nb, sizeof(block_q8_0));
    for (int r = 0; r < QUANT_RP_ROWS; r++) {
        const block_q8_0 *row = (const block_q8_0 *)((const uint8_t *)x + (size_t)r * bx);
        for (int b = 0; b < nb; b++)
            for (int m = 0; m < 8; m++) {
                uint32_t v;
                memcpy(&v, row[b].qs + 4 * m, 4);
                v ^= 0x80808080u; /* + 128 in each byte */
                memcpy(qs + (size_t)b * 512 + (size_t)m * 64 + (size_t)r * 4, &v, 4);
            }
    }
}

/* Unsigned quant i (0..31) of row r in block b's bytes q. */
static int q4_0x16_u(const uint8_t *q, int r, int i) {
    const uint8_t v = q[(i % 16) / 4 * 64 + r * 4 + i % 4];
    return i < 16 ? v & 0xF : v >> 4;
}

static int q8_0x16_u(const uint8_t *q, int r, int i) { return q[i / 4 * 64 + r * 4 + i % 4]; }

static void rp32_gemm_ref(int n, float *s, size_t bs, const uint8_t *g, const uint8_t *vy,
                          size_t by, int nc, int K, size_t qbytes,
                          int (*u)(const uint8_t *, int, int)) {
    const int nb = n / QK8_0;
    const uint8_t *qs = g + (size_t)nb * QUANT_RP_ROWS * sizeof(ggml_half);
    for (int c = 0; c < nc; c++) {
        const block_q8_0s *y = (const block_q8_0s *)(vy + (size_t)c * by);
        for (int r = 0; r < QUANT_RP_ROWS; r++) {
            float acc = 0.0f;
            for (int b = 0; b < nb; b++) {
                int isum = -K * y[b].s;
                for (int i = 0; i < QK8_0; i++)
                    isum += u(qs + (size_t)b * qbytes, r, i) * y[b].qs[i];
                ggml_half dh;
                memcpy(&dh, g + ((size_t)b * QUANT_RP_ROWS + (size_t)r) * 2, 2);
                acc = fmaf(QH2F(dh) * y[b].d, (float)isum, acc);
            }
            s[(size_t)c * bs + (size_t)r] = acc;
        }
    }
}

void quant_q4_0x16_gemm_ref(int n, float *s, size_t bs, const void *g, const void *y, size_t by,
                            int nc) {
    rp32_gemm_ref(n, s, bs, g, y, by, nc, 8, 256, q4_0x16_u);
}

void quant_q8_0x16_gemm_ref(int n, float *s, size_t bs, const void *g, const void *y, size_t by,
                            int nc) {
    rp32_gemm_ref(n, s, bs, g, y, by, nc, 128, 512, q8_0x16_u);
}

/* ---- MXFP4x16: the nibbles as Q4_0x16, a byte of scale per row and block ---- */

static size_t mxfp4x16_group_bytes(int n) {
    return (size_t)(n / QK_MXFP4) * QUANT_RP_ROWS * sizeof(block_mxfp4);
}

static void mxfp4x16_pack(const void *x, size_t bx, void *vg, int n) {
    const int nb = n / QK_MXFP4;
    uint8_t *g = vg, *qs = g + (size_t)nb * QUANT_RP_ROWS;
    for (int r = 0; r < QUANT_RP_ROWS; r++) {
        const block_mxfp4 *row = (const block_mxfp4 *)((const uint8_t *)x + (size_t)r * bx);
        for (int b = 0; b < nb; b++) {
            g[(size_t)b * QUANT_RP_ROWS + (size_t)r] = row[b].e;
            for (int m = 0; m < 4; m++)
                memcpy(qs + (size_t)b * 256 + (size_t)m * 64 + (size_t)r * 4, row[b].qs + 4 * m, 4);
        }
    }
}

void quant_mxfp4x16_gemm_ref(int n, float *s, size_t bs, const void *vg, const void *vy,
                             size_t by, int nc) {
    const int nb = n / QK_MXFP4;
    const uint8_t *g = vg, *qs = g + (size_t)nb * QUANT_RP_ROWS;
    for (int c = 0; c < nc; c++) {
        const block_q8_0s *y = (const block_q8_0s *)((const uint8_t *)vy + (size_t)c * by);
        for (int r = 0; r < QUANT_RP_ROWS; r++) {
            float acc = 0.0f;
            for (int b = 0; b < nb; b++) {
                int isum = 0;
                for (int i = 0; i < QK_MXFP4; i++)
                    isum += quant_kvalues_mxfp4[q4_0x16_u(qs + (size_t)b * 256, r, i)] * y[b].qs[i];
                const float d = quant_e8m0_half(g[(size_t)b * QUANT_RP_ROWS + (size_t)r]);
                acc = fmaf(d * y[b].d, (float)isum, acc);
            }
            s[(size_t)c * bs + (size_t)r] = acc;
        }
    }
}

/* ---- Q4_Kx16 ---- */


static size_t q4_Kx16_group_bytes(int n) { return (size_t)(n / QK_K) * Q4KX16_SB; }

static void q4_Kx16_pack(const void *x, size_t bx, void *vg, int n) {
    for (int i = 0; i < n / QK_K; i++) {
        uint8_t *g = (uint8_t *)vg + (size_t)i * Q4KX16_SB;
        for (int r = 0; r < QUANT_RP_ROWS; r++) {
            const block_q4_K *b = (const block_q4_K *)((const uint8_t *)x + (size_t)r * bx) + i;
            memcpy(g + 2 * r, &b->d, 2);
            memcpy(g + Q4KX16_DMIN + 2 * r, &b->dmin, 2);
            for (int j = 0; j < 8; j++) {
                uint8_t sc, mn;
                quant_scale_min_k4(j, b->scales, &sc, &mn);
                g[Q4KX16_SC + 16 * j + r] = sc;
                g[Q4KX16_MN + 32 * (j / 2) + 2 * r + (j & 1)] = mn;
            }
            for (int p = 0; p < 4; p++)
                for (int m = 0; m < 8; m++)
                    memcpy(g + Q4KX16_QS + 512 * p + 64 * m + 4 * r, b->qs + 32 * p + 4 * m, 4);
        }
    }
}

void quant_q4_Kx16_gemm_ref(int n, float *s, size_t bs, const void *vg, const void *vy, size_t by,
                            int nc) {
    for (int c = 0; c < nc; c++) {
        const block_q8_K *y = (const block_q8_K *)((const uint8_t *)vy + (size_t)c * by);
        for (int r = 0; r < QUANT_RP_ROWS; r++) {
            float acc = 0.0f, accm = 0.0f;
            for (int i = 0; i < n / QK_K; i++) {
                const uint8_t *g = (const uint8_t *)vg + (size_t)i * Q4KX16_SB;
                int32_t isum = 0, imin = 0;
                for (int j = 0; j < 8; j++) {
                    int32_t t = 0;
                    for (int m = 0; m < 8; m++)
                        for (int k = 0; k < 4; k++) {
                            const uint8_t q = g[Q4KX16_QS + 512 * (j / 2) + 64 * m + 4 * r + k];
                            t += ((j & 1) ? q >> 4 : q & 0xF) * y[i].qs[32 * j + 4 * m + k];
                        }
                    isum += t * g[Q4KX16_SC + 16 * j + r];
                    imin += g[Q4KX16_MN + 32 * (j / 2) + 2 * r + (j & 1)] *
                            (y[i].bsums[2 * j] + y[i].bsums[2 * j + 1]);
                }
                ggml_half dh, mh;
                memcpy(&dh, g + 2 * r, 2);
                memcpy(&mh, g + Q4KX16_DMIN + 2 * r, 2);
                acc = fmaf(QH2F(dh) * y[i].d, (float)isum, acc);
                accm = fmaf(QH2F(mh) * y[i].d, (float)imin, accm);
            }
            s[(size_t)c * bs + (size_t)r] = acc - accm;
        }
    }
}

/* ---- Q6_Kx16 ---- */

static size_t q6_Kx16_group_bytes(int n) { return (size_t)(n / QK_K) * Q6KX16_SB; }

static void q6_Kx16_pack(const void *x, size_t bx, void *vg, int n) {
    for (int i = 0; i < n / QK_K; i++) {
        uint8_t *g = (uint8_t *)vg + (size_t)i * Q6KX16_SB;
        for (int r = 0; r < QUANT_RP_ROWS; r++) {
            const block_q6_K *b = (const block_q6_K *)((const uint8_t *)x + (size_t)r * bx) + i;
            memcpy(g + 2 * r, &b->d, 2);
            for (int k = 0; k < QK_K / 16; k++)
                g[Q6KX16_SC + 16 * k + r] = (uint8_t)b->scales[k];
            for (int h = 0; h < 2; h++) {
                for (int j = 0; j < 16; j++)
                    memcpy(g + Q6KX16_QL + 1024 * h + 64 * j + 4 * r, b->ql + 64 * h + 4 * j, 4);
                for (int j = 0; j < 8; j++)
                    memcpy(g + Q6KX16_QH + 512 * h + 64 * j + 4 * r, b->qh + 32 * h + 4 * j, 4);
            }
        }
    }
}

/* The 6-bit quant (0..63, 32 is zero) of value v (0..255) of row r in superblock g. */
static int q6_Kx16_u(const uint8_t *g, int r, int v) {
    const int h = v / 128, w = v % 128, k = w / 32, j = (w % 32) / 4, e = w % 4;
    const uint8_t lo = g[Q6KX16_QL + 1024 * h + 64 * (j + 8 * (k & 1)) + 4 * r + e];
    const uint8_t hi = g[Q6KX16_QH + 512 * h + 64 * j + 4 * r + e];
    return (k >= 2 ? lo >> 4 : lo & 0xF) | ((hi >> (2 * k)) & 3) << 4;
}

void quant_q6_Kx16_gemm_ref(int n, float *s, size_t bs, const void *vg, const void *vy, size_t by,
                            int nc) {
    for (int c = 0; c < nc; c++) {
        const block_q8_K *y = (const block_q8_K *)((const uint8_t *)vy + (size_t)c * by);
        for (int r = 0; r < QUANT_RP_ROWS; r++) {
            float acc = 0.0f;
            for (int i = 0; i < n / QK_K; i++) {
                const uint8_t *g = (const uint8_t *)vg + (size_t)i * Q6KX16_SB;
                int32_t isum = 0;
                for (int k = 0; k < QK_K / 16; k++) {
                    int32_t t = 0;
                    for (int v = 16 * k; v < 16 * k + 16; v++)
                        t += (q6_Kx16_u(g, r, v) - 32) * y[i].qs[v];
                    isum += t * (int8_t)g[Q6KX16_SC + 16 * k + r];
                }
                ggml_half dh;
                memcpy(&dh, g + 2 * r, 2);
                acc = fmaf(QH2F(dh) * y[i].d, (float)isum, acc);
            }
            s[(size_t)c * bs + (size_t)r] = acc;
        }
    }
}

/* ---- the table ---- */

static struct quant_repack quant_repacks[] = {
    {"Q4_0x16", GGML_TYPE_Q4_0, QUANT_TYPE_Q8_0S, q4_0x16_group_bytes, q4_0x16_pack,
     quant_q4_0x16_gemm_ref, quant_q4_0x16_gemm_ref},
    {"Q8_0x16", GGML_TYPE_Q8_0, QUANT_TYPE_Q8_0S, q8_0x16_group_bytes, q8_0x16_pack,
     quant_q8_0x16_gemm_ref, quant_q8_0x16_gemm_ref},
    {"MXFP4x16", GGML_TYPE_MXFP4, QUANT_TYPE_Q8_0S, mxfp4x16_group_bytes, mxfp4x16_pack,
     quant_mxfp4x16_gemm_ref, quant_mxfp4x16_gemm_ref},
    {"Q4_Kx16", GGML_TYPE_Q4_K, GGML_TYPE_Q8_K, q4_Kx16_group_bytes, q4_Kx16_pack,
     quant_q4_Kx16_gemm_ref, quant_q4_Kx16_gemm_ref},
    {"Q6_Kx16", GGML_TYPE_Q6_K, GGML_TYPE_Q8_K, q6_Kx16_group_bytes, q6_Kx16_pack,
     quant_q6_Kx16_gemm_ref, quant_q6_Kx16_gemm_ref},
};
#define N_REPACKS (sizeof quant_repacks / sizeof quant_repacks[0])

static int quant_repack_simd[N_REPACKS]; /* the CPU's best kernel set has a kernel for it */

void quant_repack_apply(const struct quant_kernels *k, const struct quant_kernels *best) {
    const char *env = getenv("NATTER_REPACK");
    const int off = env && !strcmp(env, "0");
    for (size_t i = 0; i < N_REPACKS; i++) {
        struct quant_repack *rp = &quant_repacks[i];
        rp->gemm = k && k->rp_gemm[rp->type] ? k->rp_gemm[rp->type] : rp->gemm_ref;
        quant_repack_simd[i] = !off && best && best->rp_gemm[rp->type];
    }
}

const struct quant_repack *quant_repack_find(uint32_t t) {
    if (!quant_traits_get(t)) /* the kernel choice is made once, there */
        return NULL;
    for (size_t i = 0; i < N_REPACKS; i++)
        if (quant_repacks[i].type == t)
            return &quant_repacks[i];
    return NULL;
}

const struct quant_repack *quant_repack_get(uint32_t t) {
    const struct quant_repack *rp = quant_repack_find(t);
    return rp && quant_repack_simd[rp - quant_repacks] ? rp : NULL;
}

/* Activation columns kept hot in L2 while the groups pass over them (as quant_mat_dot). */
#define RP_COL_BYTES (512 * 1024)

void quant_repack_mat_dot(const struct quant_repack *rp, int n, float *s, size_t bs,
                          const void *x, size_t gx, int ng, const void *y, size_t by, int nc) {
    int chunk = by > 0 ? (int)(RP_COL_BYTES / by) : nc;
    if (chunk < 8)
        chunk = 8;
    for (int c0 = 0; c0 < nc; c0 += chunk) {
        const int mc = nc - c0 < chunk ? nc - c0 : chunk;
        for (int k = 0; k < ng; k++)
            rp->gemm(n, s + (size_t)c0 * bs + (size_t)k * QUANT_RP_ROWS, bs,
                     (const uint8_t *)x + (size_t)k * gx, (const uint8_t *)y + (size_t)c0 * by, by,
                     mc);
    }
}
