/* engine/quant_neon_rp.h — the NEON kernels of the repacked layouts (quant_repack.c): Q4_0x16,
 * Q8_0x16 and MXFP4x16 against Q8_0S columns, Q4_Kx16 and Q6_Kx16 against Q8_K. Included by
 * quant_neon.c once per level with NSUF(name) (suffix), NATTR (static + target attribute) and
 * either NMMLA 0 with NLANE(acc, w, y, l) (acc's lane i += the dot of w's bytes 4i..4i+3 with
 * y's bytes 4l..4l+3: sdot by element, or widening multiplies) or NMMLA 1 (i8mm: smmla on 2
 * rows x 2 columns x 8 values). A group's 16 rows are done as 4 quarters of 4 rows (a 128-bit
 * vector holds 4 rows' 32-bit lanes), each quarter over every block for up to 8 columns (4 for
 * Q4_K, and Q6_K without smmla) in one loop (rp_gemm_n): a block's integer sums (rp32_block,
 * q4_Kx16_block, q6_Kx16_block: 32 values at a time through rp_dot32, times the K-quants'
 * sub-block scales), then the references' float steps in their order, so every kernel equals
 * its reference bit for bit. Pure; any thread. Not a standalone header. */

#ifndef QUANT_NEON_RP_TYPES
#define QUANT_NEON_RP_TYPES
enum { NRP_Q4_0, NRP_Q8_0, NRP_MXFP4, NRP_Q4_K, NRP_Q6_K }; /* rp_gemm_n's layouts */
#endif

#define NRP_AI inline __attribute__((always_inline))
/* the loops over columns, vectors and sub-blocks, whole, so that arrays stay in registers */
#define NRP_UNROLL _Pragma("GCC unroll 8")
/* but the widening lane dots' columns one at a time (NLANE_ROLLED): 8 of them spill */
#if defined(NLANE_ROLLED)
#define NRP_UNROLL_LANE _Pragma("GCC unroll 1")
#else
#define NRP_UNROLL_LANE NRP_UNROLL
#endif
/* the dot layout's vectors for NC columns: NC, or NC rounded up to pairs for smmla */
#define NRP_NCD(NC) (NMMLA ? ((NC) + 1) & ~1 : (NC))

/* ---- 32 values of 4 rows against NC columns ---- */

/* rp_dot32's operand order from the 8 vectors w[m] (values 4m..4m+3 of the 4 rows, a lane
 * each): unchanged for the lane dots; for smmla w[o] holds rows 0-1 and w[4 + o] rows 2-3,
 * values 8o..8o+7 of each. A permutation of 4-byte lanes: bytewise steps (nibbles, offsets)
 * give the same before or after it. */
NATTR NRP_AI void NSUF(rp_pairs)(int8x16_t w[8]) {
#if NMMLA
    int8x16_t p[8];
    NRP_UNROLL
    for (int o = 0; o < 4; o++) {
        const int32x4_t a = vreinterpretq_s32_s8(w[2 * o]), b = vreinterpretq_s32_s8(w[2 * o + 1]);
        p[o] = vreinterpretq_s8_s32(vzip1q_s32(a, b));
        p[4 + o] = vreinterpretq_s8_s32(vzip2q_s32(a, b));
    }
    NRP_UNROLL
    for (int m = 0; m < 8; m++) w[m] = p[m];
#else
    (void)w;
#endif
}

/* The dots of the 4 rows' 32 values w (rp_pairs' order) with NC columns of 32 int8 (column c at
 * y + c * by) into acc in the dot layout: acc[c] = the dots, or with factors (rp_rowfac)
 * acc[c] += the dots x f0 (with f1 too: values 0..15 x f0 and 16..31 x f1, Q6_K's two scales).
 * The lane dots give acc[c] lane r = row r x column c; smmla gives for even c acc[c] = rows 0-1
 * and acc[c + 1] = rows 2-3 of columns c, c + 1 (lanes: row r col c, row r col c + 1, row r + 1
 * col c, row r + 1 col c + 1; an odd last column pairs with itself). */
NATTR NRP_AI void NSUF(rp_dot32)(const int8x16_t w[8], const int8_t *y, size_t by, const int NC,
                                 const int32x4_t *f0, const int32x4_t *f1, int32x4_t acc[8]) {
#if NMMLA
    NRP_UNROLL
    for (int c = 0; c < NC; c += 2) {
        const int8_t *ya = y + (size_t)c * by, *yb = y + (size_t)(c + 1 < NC ? c + 1 : c) * by;
        int32x4_t m[2][2]; /* [values 16k..16k+15 (all 32 at k = 1 without f1)][rows 0-1, 2-3] */
        NRP_UNROLL
        for (int k = 0; k < 2; k++) {
            const int64x2_t u = vreinterpretq_s64_s8(vld1q_s8(ya + 16 * k));
            const int64x2_t v = vreinterpretq_s64_s8(vld1q_s8(yb + 16 * k));
            const int8x16_t b0 = vreinterpretq_s8_s64(vzip1q_s64(u, v));
            const int8x16_t b1 = vreinterpretq_s8_s64(vzip2q_s64(u, v));
            NRP_UNROLL
            for (int q = 0; q < 2; q++) {
                const int32x4_t a = k && !f1 ? m[0][q] : vdupq_n_s32(0);
                m[k][q] = vmmlaq_s32(vmmlaq_s32(a, w[4 * q + 2 * k], b0), w[4 * q + 2 * k + 1], b1);
            }
        }
        NRP_UNROLL
        for (int q = 0; q < 2; q++) {
            const int32x4_t d = m[f1 ? 0 : 1][q];
            acc[c + q] = f0 ? vmlaq_s32(acc[c + q], d, f0[q]) : d;
            if (f1) acc[c + q] = vmlaq_s32(acc[c + q], m[1][q], f1[q]);
        }
    }
#else
    NRP_UNROLL_LANE
    for (int c = 0; c < NC; c++) {
        const int8_t *yq = y + (size_t)c * by;
        const int8x16_t y0 = vld1q_s8(yq), y1 = vld1q_s8(yq + 16);
        int32x4_t lo = vdupq_n_s32(0);
        lo = NLANE(lo, w[0], y0, 0);
        lo = NLANE(lo, w[1], y0, 1);
        lo = NLANE(lo, w[2], y0, 2);
        lo = NLANE(lo, w[3], y0, 3);
        int32x4_t hi = f1 ? vdupq_n_s32(0) : lo;
        hi = NLANE(hi, w[4], y1, 0);
        hi = NLANE(hi, w[5], y1, 1);
        hi = NLANE(hi, w[6], y1, 2);
        hi = NLANE(hi, w[7], y1, 3);
        const int32x4_t d = f1 ? lo : hi;
        acc[c] = f0 ? vmlaq_s32(acc[c], d, f0[c & 1]) : d;
        if (f1) acc[c] = vmlaq_s32(acc[c], hi, f1[c & 1]);
    }
#endif
}

/* A vector of the 4 rows' factors (lane r: row r) as the dot layout's: f[c & 1] goes with acc[c]. */
NATTR NRP_AI void NSUF(rp_rowfac)(int32x4_t v, int32x4_t f[2]) {
#if NMMLA
    f[0] = vzip1q_s32(v, v);
    f[1] = vzip2q_s32(v, v);
#else
    f[0] = f[1] = v;
#endif
}

/* acc in the dot layout as columns of rows: acc[c] lane r = row r x column c. */
NATTR NRP_AI void NSUF(rp_rows)(int32x4_t t[8], const int NC) {
#if NMMLA
    NRP_UNROLL
    for (int c = 0; c < NC; c += 2) {
        const int32x4_t a = t[c], b = t[c + 1];
        t[c] = vuzp1q_s32(a, b);
        t[c + 1] = vuzp2q_s32(a, b);
    }
#else
    (void)t, (void)NC;
#endif
}

/* 4 halves at p as floats; 4 bytes at p as 32-bit lanes, sign-extended or not. */
NATTR NRP_AI float32x4_t NSUF(rp_half4)(const uint8_t *p) {
    uint16_t h[4];
    memcpy(h, p, sizeof h);
    return vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(h)));
}

NATTR NRP_AI int32x4_t NSUF(rp_byte4)(const uint8_t *p, const int sgn) {
    uint32_t v;
    memcpy(&v, p, sizeof v);
    const uint8x8_t b = vreinterpret_u8_u32(vdup_n_u32(v));
    if (sgn) return vmovl_s16(vget_low_s16(vmovl_s8(vreinterpret_s8_u8(b))));
    return vreinterpretq_s32_u32(vmovl_u16(vget_low_u16(vmovl_u8(b))));
}

/* ---- one block of a quarter: its integer sums, per column (lane r: row r) ---- */

/* The 8 signed weight vectors of block b, quarter h: w[j] holds values 4j..4j+3 of rows
 * 4h..4h+3 (Q4_0 nibbles - 8, Q8_0 bytes - 128, MXFP4 nibbles through kv). */
NATTR NRP_AI void NSUF(rp_decode)(const int type, const uint8_t *q, int h, int8x16_t kv,
                                  int8x16_t w[8]) {
    const uint8x16_t m4 = vdupq_n_u8(0x0F);
    if (type == NRP_Q8_0) {
        NRP_UNROLL
        for (int m = 0; m < 8; m++)
            w[m] = vreinterpretq_s8_u8(veorq_u8(vld1q_u8(q + 64 * m + 16 * h), vdupq_n_u8(0x80)));
        return;
    }
    NRP_UNROLL
    for (int m = 0; m < 4; m++) {
        const uint8x16_t v = vld1q_u8(q + 64 * m + 16 * h);
        const uint8x16_t lo = vandq_u8(v, m4), hi = vshrq_n_u8(v, 4);
        if (type == NRP_Q4_0) {
            w[m] = vsubq_s8(vreinterpretq_s8_u8(lo), vdupq_n_s8(8));
            w[m + 4] = vsubq_s8(vreinterpretq_s8_u8(hi), vdupq_n_s8(8));
        } else {
            w[m] = vqtbl1q_s8(kv, lo);
            w[m + 4] = vqtbl1q_s8(kv, hi);
        }
    }
}

/* Q4_0x16, Q8_0x16, MXFP4x16 (nb blocks of 32 a row): block b's products. */
NATTR NRP_AI void NSUF(rp32_block)(const int type, int nb, const uint8_t *g, int b, int h,
                                   const uint8_t *y, size_t by, const int NC, int32x4_t ia[8]) {
    const size_t qb = type == NRP_Q8_0 ? 512 : 256;
    const uint8_t *qs = g + (size_t)nb * QUANT_RP_ROWS * (type == NRP_MXFP4 ? 1 : 2);
    int8x16_t w[8];
    NSUF(rp_decode)(type, qs + (size_t)b * qb, h, vld1q_s8(quant_kvalues_mxfp4), w);
    NSUF(rp_pairs)(w);
    NSUF(rp_dot32)(w, ((const block_q8_0s *)y + b)->qs, by, NC, NULL, NULL, ia);
    NSUF(rp_rows)(ia, NC);
}

/* Q4_Kx16 superblock g (the i-th): per sub-block j (pair j / 2's bytes, low or high nibbles)
 * the dots times its scales into ia, its mins times the bsums into im. */
NATTR NRP_AI void NSUF(q4_Kx16_block)(const uint8_t *g, int i, int h, const uint8_t *y, size_t by,
                                      const int NC, int32x4_t ia[8], int32x4_t im[8]) {
    const uint8x16_t m4 = vdupq_n_u8(0x0F);
    NRP_UNROLL
    for (int c = 0; c < NRP_NCD(NC); c++) ia[c] = vdupq_n_s32(0);
    NRP_UNROLL
    for (int c = 0; c < NC; c++) im[c] = vdupq_n_s32(0);
    for (int p = 0; p < 4; p++) {
        int8x16_t raw[8];
        NRP_UNROLL
        for (int m = 0; m < 8; m++)
            raw[m] = vld1q_s8((const int8_t *)g + Q4KX16_QS + 512 * p + 64 * m + 16 * h);
        NSUF(rp_pairs)(raw);
        /* the mins of the 4 rows, (even, odd) sub-block per row: a 32-bit lane each */
        const uint32x4_t mn = vreinterpretq_u32_u16(vmovl_u8(vld1_u8(g + Q4KX16_MN + 32 * p + 8 * h)));
        const int32x4_t mn_e = vreinterpretq_s32_u32(vandq_u32(mn, vdupq_n_u32(0xFFFF)));
        const int32x4_t mn_o = vreinterpretq_s32_u32(vshrq_n_u32(mn, 16));
        NRP_UNROLL
        for (int odd = 0; odd < 2; odd++) {
            const int j = 2 * p + odd;
            int8x16_t w[8];
            NRP_UNROLL
            for (int m = 0; m < 8; m++) {
                const uint8x16_t v = vreinterpretq_u8_s8(raw[m]);
                w[m] = vreinterpretq_s8_u8(odd ? vshrq_n_u8(v, 4) : vandq_u8(v, m4));
            }
            int32x4_t f[2];
            NSUF(rp_rowfac)(NSUF(rp_byte4)(g + Q4KX16_SC + 16 * j + 4 * h, 0), f);
            NSUF(rp_dot32)(w, ((const block_q8_K *)y + i)->qs + 32 * j, by, NC, f, NULL, ia);
            NRP_UNROLL
            for (int c = 0; c < NC; c++) {
                const block_q8_K *yb = (const block_q8_K *)(y + (size_t)c * by) + i;
                im[c] = vmlaq_n_s32(im[c], odd ? mn_o : mn_e, yb->bsums[2 * j] + yb->bsums[2 * j + 1]);
            }
        }
    }
    NSUF(rp_rows)(ia, NC);
}

/* Q6_Kx16's 8 weight vectors of values 32k..32k+31 of half hf, quarter h: the 6-bit quants
 * - 32 from ql's nibble (high for k >= 2: hnib) and qh's bits 2k, 2k + 1 (shifted by sh). */
NATTR NRP_AI void NSUF(q6_Kx16_decode)(const uint8_t *g, int hf, int k, int h, const int hnib,
                                       int8x16_t sh, int8x16_t w[8]) {
    const uint8x16_t m4 = vdupq_n_u8(0x0F), m30 = vdupq_n_u8(0x30);
    NRP_UNROLL
    for (int j = 0; j < 8; j++) {
        const uint8x16_t lo = vld1q_u8(g + Q6KX16_QL + 1024 * hf + 64 * (j + 8 * (k & 1)) + 16 * h);
        const uint8x16_t hi = vld1q_u8(g + Q6KX16_QH + 512 * hf + 64 * j + 16 * h);
        const uint8x16_t u = vorrq_u8(hnib ? vshrq_n_u8(lo, 4) : vandq_u8(lo, m4),
                                      vandq_u8(vshlq_u8(hi, sh), m30));
        w[j] = vsubq_s8(vreinterpretq_s8_u8(u), vdupq_n_s8(32));
    }
}

/* Q6_Kx16 superblock g (the i-th): per 32 values (k) of a half each 16 values' dots times
 * their signed scale into ia (a loop over k, whose loads the compiler would otherwise hoist
 * past the registers). */
NATTR NRP_AI void NSUF(q6_Kx16_block)(const uint8_t *g, int i, int h, const uint8_t *y, size_t by,
                                      const int NC, int32x4_t ia[8]) {
    NRP_UNROLL
    for (int c = 0; c < NRP_NCD(NC); c++) ia[c] = vdupq_n_s32(0);
    for (int hf = 0; hf < 2; hf++)
        for (int k = 0; k < 4; k++) {
            const int8x16_t sh = vdupq_n_s8((int8_t)(4 - 2 * k)); /* qh's bits 2k, 2k + 1 to 4, 5 */
            int8x16_t w[8];
            if (k >= 2)
                NSUF(q6_Kx16_decode)(g, hf, k, h, 1, sh, w);
            else
                NSUF(q6_Kx16_decode)(g, hf, k, h, 0, sh, w);
            NSUF(rp_pairs)(w);
            int32x4_t f0[2], f1[2];
            NSUF(rp_rowfac)(NSUF(rp_byte4)(g + Q6KX16_SC + 16 * (8 * hf + 2 * k) + 4 * h, 1), f0);
            NSUF(rp_rowfac)(NSUF(rp_byte4)(g + Q6KX16_SC + 16 * (8 * hf + 2 * k + 1) + 4 * h, 1), f1);
            NSUF(rp_dot32)(w, ((const block_q8_K *)y + i)->qs + 128 * hf + 32 * k, by, NC, f0, f1, ia);
        }
    NSUF(rp_rows)(ia, NC);
}

/* ---- the quarters' loop and the columns ---- */

/* One group x NC <= 8 columns at y (column c at y + c * by) into s[c * bs + r]: per quarter,
 * block after block, acc += (d x dy) * the block's sums (Q4_K: and accm with dmin and the mins,
 * subtracted at the end), as the references do for each row. */
NATTR NRP_AI void NSUF(rp_gemm_n)(const int type, int nb, float *s, size_t bs, const uint8_t *g,
                                  const uint8_t *y, size_t by, const int NC) {
    const int kq = type == NRP_Q4_K || type == NRP_Q6_K;
    const size_t sb = type == NRP_Q4_K ? Q4KX16_SB : Q6KX16_SB;
    for (int h = 0; h < 4; h++) {
        float32x4_t acc[8], accm[8];
        NRP_UNROLL
        for (int c = 0; c < NC; c++) acc[c] = accm[c] = vdupq_n_f32(0);
        for (int b = 0; b < nb; b++) {
            const uint8_t *gb = kq ? g + (size_t)b * sb : g;
            int32x4_t ia[8], im[8];
            float32x4_t dx, mx = vdupq_n_f32(0);
            if (type == NRP_Q4_K) {
                NSUF(q4_Kx16_block)(gb, b, h, y, by, NC, ia, im);
                dx = NSUF(rp_half4)(gb + 8 * h);
                mx = NSUF(rp_half4)(gb + Q4KX16_DMIN + 8 * h);
            } else if (type == NRP_Q6_K) {
                NSUF(q6_Kx16_block)(gb, b, h, y, by, NC, ia);
                dx = NSUF(rp_half4)(gb + 8 * h);
            } else {
                NSUF(rp32_block)(type, nb, g, b, h, y, by, NC, ia);
                if (type == NRP_MXFP4) {
                    const uint8_t *e = g + (size_t)b * QUANT_RP_ROWS + 4 * h;
                    const float d[4] = {quant_e8m0_half(e[0]), quant_e8m0_half(e[1]),
                                        quant_e8m0_half(e[2]), quant_e8m0_half(e[3])};
                    dx = vld1q_f32(d);
                } else {
                    dx = NSUF(rp_half4)(g + ((size_t)b * QUANT_RP_ROWS + 4 * (size_t)h) * 2);
                }
            }
            NRP_UNROLL
            for (int c = 0; c < NC; c++) {
                const float dy = kq ? ((const block_q8_K *)(y + (size_t)c * by) + b)->d
                                    : ((const block_q8_0s *)(y + (size_t)c * by) + b)->d;
                acc[c] = vfmaq_f32(acc[c], vmulq_n_f32(dx, dy), vcvtq_f32_s32(ia[c]));
                if (type == NRP_Q4_K)
                    accm[c] = vfmaq_f32(accm[c], vmulq_n_f32(mx, dy), vcvtq_f32_s32(im[c]));
            }
        }
        NRP_UNROLL
        for (int c = 0; c < NC; c++)
            vst1q_f32(s + (size_t)c * bs + 4 * h, type == NRP_Q4_K ? vsubq_f32(acc[c], accm[c]) : acc[c]);
    }
}

/* nc columns, W (8, or 4: Q4_K, Q6_K's lane dots) at a time, the remainder with its own
 * constant count. */
NATTR NRP_AI void NSUF(rp_gemm)(const int type, const int W, int nb, float *s, size_t bs,
                                const void *vg, const void *vy, size_t by, int nc) {
    for (int c = 0; c < nc; c += W) {
        float *sc = s + (size_t)c * bs;
        const uint8_t *g = vg, *yc = (const uint8_t *)vy + (size_t)c * by;
        switch (nc - c < W ? nc - c : W) {
        case 1: NSUF(rp_gemm_n)(type, nb, sc, bs, g, yc, by, 1); break;
        case 2: NSUF(rp_gemm_n)(type, nb, sc, bs, g, yc, by, 2); break;
        case 3: NSUF(rp_gemm_n)(type, nb, sc, bs, g, yc, by, 3); break;
        case 4: NSUF(rp_gemm_n)(type, nb, sc, bs, g, yc, by, 4); break;
        case 5: NSUF(rp_gemm_n)(type, nb, sc, bs, g, yc, by, 5); break;
        case 6: NSUF(rp_gemm_n)(type, nb, sc, bs, g, yc, by, 6); break;
        case 7: NSUF(rp_gemm_n)(type, nb, sc, bs, g, yc, by, 7); break;
        default: NSUF(rp_gemm_n)(type, nb, sc, bs, g, yc, by, 8); break;
        }
    }
}

/* The level's rp_gemm entries: q4_0x16_gemm, ..., q6_Kx16_gemm (quant_rp_gemm_fn). */
#define NRP_GEMM(name, type, W, qk)                                                          \
    NATTR void NSUF(name)(int n, float *s, size_t bs, const void *vg, const void *vy,        \
                          size_t by, int nc) {                                               \
        NSUF(rp_gemm)(type, W, n / (qk), s, bs, vg, vy, by, nc);                             \
    }
NRP_GEMM(q4_0x16_gemm, NRP_Q4_0, 8, QK4_0)
NRP_GEMM(q8_0x16_gemm, NRP_Q8_0, 8, QK8_0)
NRP_GEMM(mxfp4x16_gemm, NRP_MXFP4, 8, QK_MXFP4)
NRP_GEMM(q4_Kx16_gemm, NRP_Q4_K, 4, QK_K)
NRP_GEMM(q6_Kx16_gemm, NRP_Q6_K, NMMLA ? 8 : 4, QK_K) /* smmla's pair sums: 8 fit the registers */

#undef NRP_AI
#undef NRP_UNROLL
#undef NRP_UNROLL_LANE
#undef NRP_NCD
#undef NRP_GEMM
