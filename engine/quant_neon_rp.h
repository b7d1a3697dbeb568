/* engine/quant_neon_rp.h — the NEON kernels of the repacked layouts (quant_repack.c): Q4_0x16,
 * Q8_0x16 and MXFP4x16 against Q8_0S columns, Q4_Kx16 and Q6_Kx16 against Q8_K. Included by
 * quant_neon.c once per level with NSUF(name) (suffix), NATTR (static + target attribute) and
 * either NMMLA 0 with NLANE(acc, w, y, l) (acc's lane i += the dot of w's bytes 4i..4i+3 with
 * y's bytes 4l..4l+3: sdot by element, or widening multiplies; every layout) or NMMLA 1 (i8mm:
 * smmla on 2 rows x 2 columns x 8 values; the first three). A group's 16 rows are done as 4
 * quarters of 4 rows (a 128-bit vector holds 4 rows' 32-bit lanes), each quarter over every
 * block for up to 8 columns (4 for the K-quants). Integer sums exact, the float steps the
 * scalar references' in the same order, so every kernel equals its reference bit for bit.
 * Pure; any thread. Not a standalone header. */

/* The 8 signed weight vectors of block b, quarter h: w[j] holds values 4j..4j+3 of rows
 * 4h..4h+3 (type 0: Q4_0 nibbles - 8, 1: Q8_0 bytes - 128, 2: MXFP4 nibbles through kv). */
NATTR inline __attribute__((always_inline)) void NSUF(rp_decode)(const int type, const uint8_t *q,
                                                                 int h, int8x16_t kv,
                                                                 int8x16_t w[8]) {
    const uint8x16_t m4 = vdupq_n_u8(0x0F);
    if (type == 1) {
        for (int m = 0; m < 8; m++)
            w[m] = vreinterpretq_s8_u8(veorq_u8(vld1q_u8(q + 64 * m + 16 * h), vdupq_n_u8(0x80)));
        return;
    }
    for (int m = 0; m < 4; m++) {
        const uint8x16_t v = vld1q_u8(q + 64 * m + 16 * h);
        const uint8x16_t lo = vandq_u8(v, m4), hi = vshrq_n_u8(v, 4);
        if (type == 0) {
            w[m] = vsubq_s8(vreinterpretq_s8_u8(lo), vdupq_n_s8(8));
            w[m + 4] = vsubq_s8(vreinterpretq_s8_u8(hi), vdupq_n_s8(8));
        } else {
            w[m] = vqtbl1q_s8(kv, lo);
            w[m + 4] = vqtbl1q_s8(kv, hi);
        }
    }
}

/* The 4 rows' scales of block b, quarter h, as floats (the references' QH2F / e8m0 half). */
NATTR inline __attribute__((always_inline)) float32x4_t NSUF(rp_scales)(const int type,
                                                                        const uint8_t *g, int b,
                                                                        int h) {
    if (type == 2) {
        const uint8_t *e = g + (size_t)b * QUANT_RP_ROWS + 4 * h;
        const float d[4] = {quant_e8m0_half(e[0]), quant_e8m0_half(e[1]), quant_e8m0_half(e[2]),
                            quant_e8m0_half(e[3])};
        return vld1q_f32(d);
    }
    uint16_t hv[4];
    memcpy(hv, g + ((size_t)b * QUANT_RP_ROWS + 4 * (size_t)h) * 2, sizeof hv);
    return vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(hv)));
}

/* One group x NC <= 8 columns of Q8_0S at y (column c at y + c * by) into s[c * bs + r]. */
NATTR inline __attribute__((always_inline)) void NSUF(rp32_gemm_n)(
    const int type, int nb, float *s, size_t bs, const uint8_t *g, const uint8_t *y, size_t by,
    const int NC) {
    const size_t qb = type == 1 ? 512 : 256;
    const uint8_t *qs = g + (size_t)nb * QUANT_RP_ROWS * (type == 2 ? 1 : 2);
    const int8x16_t kv = vld1q_s8(quant_kvalues_mxfp4);
    for (int h = 0; h < 4; h++) {
        float32x4_t acc[8];
        for (int c = 0; c < NC; c++) acc[c] = vdupq_n_f32(0);
        for (int b = 0; b < nb; b++) {
            int8x16_t w[8];
            NSUF(rp_decode)(type, qs + (size_t)b * qb, h, kv, w);
            const float32x4_t dx = NSUF(rp_scales)(type, g, b, h);
            int32x4_t ia[8];
#if NMMLA
            int8x16_t a01[4], a23[4]; /* rows 0-1 and 2-3 of the quarter, values 8o..8o+7 */
            for (int o = 0; o < 4; o++) {
                const int32x4_t p = vreinterpretq_s32_s8(w[2 * o]);
                const int32x4_t q = vreinterpretq_s32_s8(w[2 * o + 1]);
                a01[o] = vreinterpretq_s8_s32(vzip1q_s32(p, q));
                a23[o] = vreinterpretq_s8_s32(vzip2q_s32(p, q));
            }
            for (int c = 0; c < NC; c += 2) {
                const int c1 = c + 1 < NC ? c + 1 : c;
                const int8_t *ya = ((const block_q8_0s *)(y + (size_t)c * by) + b)->qs;
                const int8_t *yb = ((const block_q8_0s *)(y + (size_t)c1 * by) + b)->qs;
                int32x4_t m01 = vdupq_n_s32(0), m23 = vdupq_n_s32(0);
                for (int k = 0; k < 2; k++) {
                    const int64x2_t u = vreinterpretq_s64_s8(vld1q_s8(ya + 16 * k));
                    const int64x2_t v = vreinterpretq_s64_s8(vld1q_s8(yb + 16 * k));
                    const int8x16_t b0 = vreinterpretq_s8_s64(vzip1q_s64(u, v));
                    const int8x16_t b1 = vreinterpretq_s8_s64(vzip2q_s64(u, v));
                    m01 = vmmlaq_s32(vmmlaq_s32(m01, a01[2 * k], b0), a01[2 * k + 1], b1);
                    m23 = vmmlaq_s32(vmmlaq_s32(m23, a23[2 * k], b0), a23[2 * k + 1], b1);
                }
                ia[c] = vuzp1q_s32(m01, m23);
                if (c1 != c) ia[c1] = vuzp2q_s32(m01, m23);
            }
#else
            for (int c = 0; c < NC; c++) {
                const int8_t *yq = ((const block_q8_0s *)(y + (size_t)c * by) + b)->qs;
                const int8x16_t y0 = vld1q_s8(yq), y1 = vld1q_s8(yq + 16);
                int32x4_t t = vdupq_n_s32(0);
                t = NLANE(t, w[0], y0, 0);
                t = NLANE(t, w[1], y0, 1);
                t = NLANE(t, w[2], y0, 2);
                t = NLANE(t, w[3], y0, 3);
                t = NLANE(t, w[4], y1, 0);
                t = NLANE(t, w[5], y1, 1);
                t = NLANE(t, w[6], y1, 2);
                t = NLANE(t, w[7], y1, 3);
                ia[c] = t;
            }
#endif
            for (int c = 0; c < NC; c++) {
                const float dy = ((const block_q8_0s *)(y + (size_t)c * by) + b)->d;
                acc[c] = vfmaq_f32(acc[c], vmulq_n_f32(dx, dy), vcvtq_f32_s32(ia[c]));
            }
        }
        for (int c = 0; c < NC; c++) vst1q_f32(s + (size_t)c * bs + 4 * h, acc[c]);
    }
}

/* nc columns, 8 at a time, the remainder with its own constant count. */
#define NRP_COLS(F, type, nb)                                                                \
    for (int c = 0; c < nc; c += 8) {                                                        \
        float *sc = s + (size_t)c * bs;                                                      \
        const uint8_t *yc = (const uint8_t *)vy + (size_t)c * by;                            \
        switch (nc - c < 8 ? nc - c : 8) {                                                   \
        case 1: F(type, nb, sc, bs, vg, yc, by, 1); break;                                   \
        case 2: F(type, nb, sc, bs, vg, yc, by, 2); break;                                   \
        case 3: F(type, nb, sc, bs, vg, yc, by, 3); break;                                   \
        case 4: F(type, nb, sc, bs, vg, yc, by, 4); break;                                   \
        case 5: F(type, nb, sc, bs, vg, yc, by, 5); break;                                   \
        case 6: F(type, nb, sc, bs, vg, yc, by, 6); break;                                   \
        case 7: F(type, nb, sc, bs, vg, yc, by, 7); break;                                   \
        default: F(type, nb, sc, bs, vg, yc, by, 8); break;                                  \
        }                                                                                    \
    }

NATTR void NSUF(q4_0x16_gemm)(int n, float *s, size_t bs, const void *vg, const void *vy,
                              size_t by, int nc) {
    NRP_COLS(NSUF(rp32_gemm_n), 0, n / QK4_0)
}

NATTR void NSUF(q8_0x16_gemm)(int n, float *s, size_t bs, const void *vg, const void *vy,
                              size_t by, int nc) {
    NRP_COLS(NSUF(rp32_gemm_n), 1, n / QK8_0)
}

NATTR void NSUF(mxfp4x16_gemm)(int n, float *s, size_t bs, const void *vg, const void *vy,
                               size_t by, int nc) {
    NRP_COLS(NSUF(rp32_gemm_n), 2, n / QK_MXFP4)
}

#if !NMMLA
/* Q4_Kx16 x NC <= 4 Q8_K columns, quarter by quarter: per sub-block j the 8 nibble vectors of
 * its 4 rows (pair j / 2's bytes, low or high), the lane dots times the sub-block's scales
 * into isum, the mins times the activations' bsums into imin; the references' float steps per
 * superblock. */
NATTR inline __attribute__((always_inline)) void NSUF(q4_Kx16_gemm_n)(
    int nsb, float *s, size_t bs, const uint8_t *vg, const uint8_t *y, size_t by, const int NC) {
    const uint8x16_t m4 = vdupq_n_u8(0x0F);
    for (int h = 0; h < 4; h++) {
        float32x4_t acc[4], accm[4];
        for (int c = 0; c < NC; c++) acc[c] = accm[c] = vdupq_n_f32(0);
        for (int i = 0; i < nsb; i++) {
            const uint8_t *g = vg + (size_t)i * Q4KX16_SB;
            int32x4_t isum[4], imin[4];
            for (int c = 0; c < NC; c++) isum[c] = imin[c] = vdupq_n_s32(0);
            for (int p = 0; p < 4; p++) {
                uint8x16_t raw[8];
                for (int m = 0; m < 8; m++) raw[m] = vld1q_u8(g + Q4KX16_QS + 512 * p + 64 * m + 16 * h);
                /* the mins of the 4 rows, (even, odd) sub-block per row: a 32-bit lane each */
                const uint32x4_t mn = vreinterpretq_u32_u16(
                    vmovl_u8(vld1_u8(g + Q4KX16_MN + 32 * p + 8 * h)));
                const int32x4_t mn_e = vreinterpretq_s32_u32(vandq_u32(mn, vdupq_n_u32(0xFFFF)));
                const int32x4_t mn_o = vreinterpretq_s32_u32(vshrq_n_u32(mn, 16));
                for (int odd = 0; odd < 2; odd++) {
                    const int j = 2 * p + odd;
                    int8x16_t w[8];
                    for (int m = 0; m < 8; m++)
                        w[m] = vreinterpretq_s8_u8(odd ? vshrq_n_u8(raw[m], 4) : vandq_u8(raw[m], m4));
                    uint8_t scb[8] = {0};
                    memcpy(scb, g + Q4KX16_SC + 16 * j + 4 * h, 4);
                    const int32x4_t sc = vreinterpretq_s32_u32(vmovl_u16(vget_low_u16(vmovl_u8(vld1_u8(scb)))));
                    for (int c = 0; c < NC; c++) {
                        const block_q8_K *yb = (const block_q8_K *)(y + (size_t)c * by) + i;
                        const int8x16_t y0 = vld1q_s8(yb->qs + 32 * j), y1 = vld1q_s8(yb->qs + 32 * j + 16);
                        int32x4_t t = vdupq_n_s32(0);
                        t = NLANE(t, w[0], y0, 0);
                        t = NLANE(t, w[1], y0, 1);
                        t = NLANE(t, w[2], y0, 2);
                        t = NLANE(t, w[3], y0, 3);
                        t = NLANE(t, w[4], y1, 0);
                        t = NLANE(t, w[5], y1, 1);
                        t = NLANE(t, w[6], y1, 2);
                        t = NLANE(t, w[7], y1, 3);
                        isum[c] = vmlaq_s32(isum[c], t, sc);
                        imin[c] = vmlaq_n_s32(imin[c], odd ? mn_o : mn_e,
                                              yb->bsums[2 * j] + yb->bsums[2 * j + 1]);
                    }
                }
            }
            uint16_t dh[4], mh[4];
            memcpy(dh, g + 8 * h, sizeof dh);
            memcpy(mh, g + Q4KX16_DMIN + 8 * h, sizeof mh);
            const float32x4_t dx = vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(dh)));
            const float32x4_t mx = vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(mh)));
            for (int c = 0; c < NC; c++) {
                const float dy = ((const block_q8_K *)(y + (size_t)c * by) + i)->d;
                acc[c] = vfmaq_f32(acc[c], vmulq_n_f32(dx, dy), vcvtq_f32_s32(isum[c]));
                accm[c] = vfmaq_f32(accm[c], vmulq_n_f32(mx, dy), vcvtq_f32_s32(imin[c]));
            }
        }
        for (int c = 0; c < NC; c++) vst1q_f32(s + (size_t)c * bs + 4 * h, vsubq_f32(acc[c], accm[c]));
    }
}


/* Q6_Kx16 x NC <= 4 Q8_K columns, quarter by quarter: per 32 values (k) of a half the 8
 * vectors of 6-bit quants - 32 of the 4 rows (ql's nibble, qh's 2 bits), the lane dots of
 * each 16-value group times its signed scale into isum; the reference's float step per
 * superblock. */
NATTR inline __attribute__((always_inline)) void NSUF(q6_Kx16_gemm_n)(
    int nsb, float *s, size_t bs, const uint8_t *vg, const uint8_t *y, size_t by, const int NC) {
    const uint8x16_t m4 = vdupq_n_u8(0x0F), m3 = vdupq_n_u8(3);
    for (int qr = 0; qr < 4; qr++) {
        float32x4_t acc[4];
        for (int c = 0; c < NC; c++) acc[c] = vdupq_n_f32(0);
        for (int i = 0; i < nsb; i++) {
            const uint8_t *g = vg + (size_t)i * Q6KX16_SB;
            int32x4_t isum[4];
            for (int c = 0; c < NC; c++) isum[c] = vdupq_n_s32(0);
            for (int h = 0; h < 2; h++)
                for (int k = 0; k < 4; k++) {
                    const int8x16_t sh = vdupq_n_s8((int8_t)(-2 * k));
                    int8x16_t w[8];
                    for (int j = 0; j < 8; j++) {
                        const uint8x16_t lo =
                            vld1q_u8(g + Q6KX16_QL + 1024 * h + 64 * (j + 8 * (k & 1)) + 16 * qr);
                        const uint8x16_t hi = vld1q_u8(g + Q6KX16_QH + 512 * h + 64 * j + 16 * qr);
                        const uint8x16_t u = vorrq_u8(k >= 2 ? vshrq_n_u8(lo, 4) : vandq_u8(lo, m4),
                                                      vshlq_n_u8(vandq_u8(vshlq_u8(hi, sh), m3), 4));
                        w[j] = vsubq_s8(vreinterpretq_s8_u8(u), vdupq_n_s8(32));
                    }
                    int8_t scb[8] = {0};
                    memcpy(scb, g + Q6KX16_SC + 16 * (8 * h + 2 * k) + 4 * qr, 4);
                    memcpy(scb + 4, g + Q6KX16_SC + 16 * (8 * h + 2 * k + 1) + 4 * qr, 4);
                    const int16x8_t sc16 = vmovl_s8(vld1_s8(scb));
                    const int32x4_t sc0 = vmovl_s16(vget_low_s16(sc16));
                    const int32x4_t sc1 = vmovl_s16(vget_high_s16(sc16));
                    for (int c = 0; c < NC; c++) {
                        const int8_t *yq = ((const block_q8_K *)(y + (size_t)c * by) + i)->qs +
                                           128 * h + 32 * k;
                        const int8x16_t y0 = vld1q_s8(yq), y1 = vld1q_s8(yq + 16);
                        int32x4_t t0 = vdupq_n_s32(0), t1 = vdupq_n_s32(0);
                        t0 = NLANE(t0, w[0], y0, 0);
                        t0 = NLANE(t0, w[1], y0, 1);
                        t0 = NLANE(t0, w[2], y0, 2);
                        t0 = NLANE(t0, w[3], y0, 3);
                        t1 = NLANE(t1, w[4], y1, 0);
                        t1 = NLANE(t1, w[5], y1, 1);
                        t1 = NLANE(t1, w[6], y1, 2);
                        t1 = NLANE(t1, w[7], y1, 3);
                        isum[c] = vmlaq_s32(vmlaq_s32(isum[c], t0, sc0), t1, sc1);
                    }
                }
            uint16_t dh[4];
            memcpy(dh, g + 8 * qr, sizeof dh);
            const float32x4_t dx = vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(dh)));
            for (int c = 0; c < NC; c++) {
                const float dy = ((const block_q8_K *)(y + (size_t)c * by) + i)->d;
                acc[c] = vfmaq_f32(acc[c], vmulq_n_f32(dx, dy), vcvtq_f32_s32(isum[c]));
            }
        }
        for (int c = 0; c < NC; c++) vst1q_f32(s + (size_t)c * bs + 4 * qr, acc[c]);
    }
}
#endif

/* nc columns, 4 at a time, the remainder with its own constant count. */
#define NRP_COLS4(F, nb)                                                                     \
    for (int c = 0; c < nc; c += 4) {                                                        \
        float *sc = s + (size_t)c * bs;                                                      \
        const uint8_t *yc = (const uint8_t *)vy + (size_t)c * by;                            \
        switch (nc - c < 4 ? nc - c : 4) {                                                   \
        case 1: F(nb, sc, bs, vg, yc, by, 1); break;                                         \
        case 2: F(nb, sc, bs, vg, yc, by, 2); break;                                         \
        case 3: F(nb, sc, bs, vg, yc, by, 3); break;                                         \
        default: F(nb, sc, bs, vg, yc, by, 4); break;                                        \
        }                                                                                    \
    }

#if !NMMLA
NATTR void NSUF(q4_Kx16_gemm)(int n, float *s, size_t bs, const void *vg, const void *vy,
                              size_t by, int nc) {
    NRP_COLS4(NSUF(q4_Kx16_gemm_n), n / QK_K)
}

NATTR void NSUF(q6_Kx16_gemm)(int n, float *s, size_t bs, const void *vg, const void *vy,
                              size_t by, int nc) {
    NRP_COLS4(NSUF(q6_Kx16_gemm_n), n / QK_K)
}
#endif

#undef NRP_COLS
#undef NRP_COLS4
