/* engine/quant_neon_kern.h — the NEON integer dot products (Q4_0, Q8_0, IQ4_NL, MXFP4 against Q8_0;
 * Q4_K, Q6_K, IQ4_XS against Q8_K) and the tiles of IQ4_NL, IQ4_XS and MXFP4, included by
 * quant_neon.c once per level with NSUF(name) (suffix), NATTR (static + target attribute) and
 * NDOT(acc, a, b) (acc += the 4-byte signed dots per i32 lane: sdot with dotprod, widening
 * multiplies without), NDOT4 (the same, lane i from bytes 4i..4i+3 exactly). Integer sums
 * exact, so every level equals the scalar reference's integer steps; float steps as noted.
 * Pure; any thread. */

NATTR void NSUF(q8_0_vec_dot)(int n, float *s, const void *vx, const void *vy) {
    const block_q8_0 *x = vx;
    const block_q8_0 *y = vy;
    float32x4_t acc = vdupq_n_f32(0);
    for (int i = 0; i < n / QK8_0; i++) {
        int32x4_t p = vdupq_n_s32(0);
        p = NDOT(p, vld1q_s8(x[i].qs), vld1q_s8(y[i].qs));
        p = NDOT(p, vld1q_s8(x[i].qs + 16), vld1q_s8(y[i].qs + 16));
        acc = vmlaq_n_f32(acc, vcvtq_f32_s32(p), QH2F(x[i].d) * QH2F(y[i].d));
    }
    *s = vaddvq_f32(acc);
}

NATTR void NSUF(q4_0_vec_dot)(int n, float *s, const void *vx, const void *vy) {
    const block_q4_0 *x = vx;
    const block_q8_0 *y = vy;
    const uint8x16_t m4 = vdupq_n_u8(0x0F);
    const int8x16_t s8 = vdupq_n_s8(8);
    float32x4_t acc = vdupq_n_f32(0);
    for (int i = 0; i < n / QK4_0; i++) {
        const uint8x16_t b = vld1q_u8(x[i].qs);
        const int8x16_t lo = vsubq_s8(vreinterpretq_s8_u8(vandq_u8(b, m4)), s8);
        const int8x16_t hi = vsubq_s8(vreinterpretq_s8_u8(vshrq_n_u8(b, 4)), s8);
        int32x4_t p = vdupq_n_s32(0);
        p = NDOT(p, lo, vld1q_s8(y[i].qs));
        p = NDOT(p, hi, vld1q_s8(y[i].qs + 16));
        acc = vmlaq_n_f32(acc, vcvtq_f32_s32(p), QH2F(x[i].d) * QH2F(y[i].d));
    }
    *s = vaddvq_f32(acc);
}

NATTR void NSUF(q4_K_vec_dot)(int n, float *s, const void *vx, const void *vy) {
    const block_q4_K *x = vx;
    const block_q8_K *y = vy;
    const uint8x16_t m4 = vdupq_n_u8(0x0F);
    float sumf = 0.0f;
    for (int i = 0; i < n / QK_K; i++) {
        int isum = 0, summ = 0;
        for (int j = 0; j < 4; j++) {
            uint8_t sc0, m0, sc1, m1;
            quant_scale_min_k4(2 * j, x[i].scales, &sc0, &m0);
            quant_scale_min_k4(2 * j + 1, x[i].scales, &sc1, &m1);
            summ += m0 * (y[i].bsums[4 * j] + y[i].bsums[4 * j + 1]) +
                    m1 * (y[i].bsums[4 * j + 2] + y[i].bsums[4 * j + 3]);
            const uint8x16_t q0 = vld1q_u8(x[i].qs + 32 * j);
            const uint8x16_t q1 = vld1q_u8(x[i].qs + 32 * j + 16);
            const int8_t *q8 = y[i].qs + 64 * j;
            int32x4_t p0 = vdupq_n_s32(0), p1 = vdupq_n_s32(0);
            p0 = NDOT(p0, vreinterpretq_s8_u8(vandq_u8(q0, m4)), vld1q_s8(q8));
            p0 = NDOT(p0, vreinterpretq_s8_u8(vandq_u8(q1, m4)), vld1q_s8(q8 + 16));
            p1 = NDOT(p1, vreinterpretq_s8_u8(vshrq_n_u8(q0, 4)), vld1q_s8(q8 + 32));
            p1 = NDOT(p1, vreinterpretq_s8_u8(vshrq_n_u8(q1, 4)), vld1q_s8(q8 + 48));
            isum += sc0 * vaddvq_s32(p0) + sc1 * vaddvq_s32(p1);
        }
        sumf += y[i].d * QH2F(x[i].d) * (float)isum - y[i].d * QH2F(x[i].dmin) * (float)summ;
    }
    *s = sumf;
}

NATTR void NSUF(q6_K_vec_dot)(int n, float *s, const void *vx, const void *vy) {
    const block_q6_K *x = vx;
    const block_q8_K *y = vy;
    const uint8x16_t m4 = vdupq_n_u8(0x0F), m30 = vdupq_n_u8(0x30);
    const int8x16_t s32 = vdupq_n_s8(32);
    float sumf = 0.0f;
    for (int i = 0; i < n / QK_K; i++) {
        int isum = 0;
        for (int h = 0; h < 2; h++) {
            const uint8_t *ql = x[i].ql + 64 * h, *qh = x[i].qh + 32 * h;
            for (int k = 0; k < 2; k++) { /* the 16-byte halves of each 32-value group */
                const uint8x16_t l0 = vld1q_u8(ql + 16 * k), l1 = vld1q_u8(ql + 32 + 16 * k);
                const uint8x16_t hb = vld1q_u8(qh + 16 * k);
                uint8x16_t q[4];
                q[0] = vorrq_u8(vandq_u8(l0, m4), vandq_u8(vshlq_n_u8(hb, 4), m30));
                q[1] = vorrq_u8(vandq_u8(l1, m4), vandq_u8(vshlq_n_u8(hb, 2), m30));
                q[2] = vorrq_u8(vshrq_n_u8(l0, 4), vandq_u8(hb, m30));
                q[3] = vorrq_u8(vshrq_n_u8(l1, 4), vandq_u8(vshrq_n_u8(hb, 2), m30));
                for (int g = 0; g < 4; g++) {
                    const int8x16_t v = vsubq_s8(vreinterpretq_s8_u8(q[g]), s32);
                    const int8x16_t yv = vld1q_s8(y[i].qs + 128 * h + 32 * g + 16 * k);
                    const int32x4_t p = NDOT(vdupq_n_s32(0), v, yv);
                    isum += x[i].scales[8 * h + 2 * g + k] * vaddvq_s32(p);
                }
            }
        }
        sumf += QH2F(x[i].d) * y[i].d * (float)isum;
    }
    *s = sumf;
}


/* IQ4_NL against Q8_0 in the float order of x86's IQ4_NL tile (llama.cpp's AVX2 lanes and FMAs,
 * one accumulator), which agrees with the reference logits where the scalar's block-by-block
 * order misses 4 of syn-llama-IQ4_NL's 126 argmaxes: per block 8 i32 lanes of 4 products
 * (values 0..15, then 16..31; NDOT4), d = dx * dy, one FMA per lane; then neon_hsum8. */
NATTR void NSUF(iq4_nl_vec_dot)(int n, float *s, const void *vx, const void *vy) {
    const block_iq4_nl *x = vx;
    const block_q8_0 *y = vy;
    const int8x16_t kv = vld1q_s8(quant_kvalues_iq4nl);
    float32x4_t a0 = vdupq_n_f32(0), a1 = a0;
    for (int i = 0; i < n / QK4_NL; i++) {
        int8x16_t lo, hi;
        neon_tbl4(kv, x[i].qs, &lo, &hi);
        const float d = QH2F(x[i].d) * QH2F(y[i].d);
        const int32x4_t p0 = NDOT4(vdupq_n_s32(0), lo, vld1q_s8(y[i].qs));
        const int32x4_t p1 = NDOT4(vdupq_n_s32(0), hi, vld1q_s8(y[i].qs + 16));
        a0 = vfmaq_n_f32(a0, vcvtq_f32_s32(p0), d);
        a1 = vfmaq_n_f32(a1, vcvtq_f32_s32(p1), d);
    }
    *s = neon_hsum8(a0, a1);
}

/* IQ4_XS against Q8_K: the same table, 8 sub-blocks of 32 with 6-bit scales (bit-identical). */
NATTR void NSUF(iq4_xs_vec_dot)(int n, float *s, const void *vx, const void *vy) {
    const block_iq4_xs *x = vx;
    const block_q8_K *y = vy;
    const int8x16_t kv = vld1q_s8(quant_kvalues_iq4nl);
    float sumf = 0.0f;
    for (int i = 0; i < n / QK_K; i++) {
        int isum = 0;
        for (int ib = 0; ib < QK_K / 32; ib++) {
            int8x16_t lo, hi;
            neon_tbl4(kv, x[i].qs + 16 * ib, &lo, &hi);
            const int8_t *q8 = y[i].qs + 32 * ib;
            const int32x4_t p = NDOT(NDOT(vdupq_n_s32(0), lo, vld1q_s8(q8)), hi, vld1q_s8(q8 + 16));
            isum += quant_iq4_xs_scale(&x[i], ib) * vaddvq_s32(p);
        }
        sumf += QH2F(x[i].d) * y[i].d * (float)isum;
    }
    *s = sumf;
}

/* The tiles of MXFP4 (against Q8_0) and IQ4_XS (against Q8_K), rows x columns up to 4 x 4: a
 * 32-value sub-block of each row decoded once (tbl) for the NC columns; per block and (r, c)
 * the integer sum of the vec_dot (IQ4_XS: its scales on the lanes), one horizontal add, then
 * its float step (x's scale times y's, times the sum): the vec_dot's bits for every (r, c). */
#define NUNROLL _Pragma("GCC unroll 4")
NATTR inline __attribute__((always_inline)) void NSUF(tbl4_tile_n)(
    int n, float *s, size_t bs, const char *x, size_t bx, const char *y, size_t by,
    const int NR, const int NC, const int K) {
    const int8x16_t kv = vld1q_s8(ntbl4_values(K));
    const int nsub = ntbl4_block(K) / 32;
    float sumf[4][4];
    NUNROLL for (int r = 0; r < NR; r++) NUNROLL for (int c = 0; c < NC; c++) sumf[r][c] = 0.0f;
    for (int i = 0; i < n / ntbl4_block(K); i++) {
        int32x4_t isum[4][4];
        NUNROLL for (int r = 0; r < NR; r++) NUNROLL for (int c = 0; c < NC; c++)
            isum[r][c] = vdupq_n_s32(0);
        for (int ib = 0; ib < nsub; ib++) {
            int8x16_t lo[4], hi[4];
            int ls[4];
            NUNROLL for (int r = 0; r < NR; r++) {
                neon_tbl4(kv, ntbl4_qs(x + (size_t)r * bx, K, i, ib), &lo[r], &hi[r]);
                ls[r] = ntbl4_scale(x + (size_t)r * bx, K, i, ib);
            }
            NUNROLL for (int c = 0; c < NC; c++) {
                const int8_t *q8 = ntbl4_y_qs(y + (size_t)c * by, K, i) + 32 * ib;
                const int8x16_t y0 = vld1q_s8(q8), y1 = vld1q_s8(q8 + 16);
                NUNROLL for (int r = 0; r < NR; r++) {
                    const int32x4_t p = NDOT(NDOT(vdupq_n_s32(0), lo[r], y0), hi[r], y1);
                    isum[r][c] = K == GGML_TYPE_IQ4_XS ? vmlaq_n_s32(isum[r][c], p, ls[r])
                                                       : vaddq_s32(isum[r][c], p);
                }
            }
        }
        float dx[4];
        NUNROLL for (int r = 0; r < NR; r++) dx[r] = ntbl4_d(x + (size_t)r * bx, K, i);
        NUNROLL for (int c = 0; c < NC; c++) {
            const float dy = ntbl4_y_d(y + (size_t)c * by, K, i);
            NUNROLL for (int r = 0; r < NR; r++)
                sumf[r][c] += dx[r] * dy * (float)vaddvq_s32(isum[r][c]);
        }
    }
    NUNROLL for (int c = 0; c < NC; c++) NUNROLL for (int r = 0; r < NR; r++)
        s[(size_t)c * bs + (size_t)r] = sumf[r][c];
}

/* NAME##_tile: type K's tile entry (QUANT_TILE_SWITCH over NAME##_tile_n, nr, nc up to 4). */
#define NTBL4_TILE(NAME, K)                                                                 \
    NATTR inline __attribute__((always_inline)) void NSUF(NAME##_tile_n)(                   \
        int n, float *s, size_t bs, const char *x, size_t bx, const char *y, size_t by,     \
        const int NR, const int NC) {                                                       \
        NSUF(tbl4_tile_n)(n, s, bs, x, bx, y, by, NR, NC, K);                               \
    }                                                                                       \
    NATTR void NSUF(NAME##_tile)(int n, float *s, size_t bs, const void *x, size_t bx,      \
                                 const void *y, size_t by, int nr, int nc) {                \
        const char *xc = x, *yc = y;                                                        \
        QUANT_TILE_SWITCH(NSUF(NAME##_tile_n))                                              \
    }
NTBL4_TILE(iq4_xs, GGML_TYPE_IQ4_XS)
NTBL4_TILE(mxfp4, GGML_TYPE_MXFP4)
#undef NTBL4_TILE

/* IQ4_NL's tile: per (r, c) iq4_nl_vec_dot's two lane accumulators (16 registers for 2 rows x
 * 4 columns: the entry takes 4 rows as 2 + 2), the rows decoded once for the columns. */
NATTR inline __attribute__((always_inline)) void NSUF(iq4_nl_tile_n)(
    int n, float *s, size_t bs, const char *x, size_t bx, const char *y, size_t by,
    const int NR, const int NC) {
    const int8x16_t kv = vld1q_s8(quant_kvalues_iq4nl);
    float32x4_t a0[4][4], a1[4][4];
    NUNROLL for (int r = 0; r < NR; r++) NUNROLL for (int c = 0; c < NC; c++)
        a0[r][c] = a1[r][c] = vdupq_n_f32(0);
    for (int i = 0; i < n / QK4_NL; i++) {
        int8x16_t lo[4], hi[4];
        float dx[4];
        NUNROLL for (int r = 0; r < NR; r++) {
            const block_iq4_nl *xb = (const block_iq4_nl *)(x + (size_t)r * bx) + i;
            neon_tbl4(kv, xb->qs, &lo[r], &hi[r]);
            dx[r] = QH2F(xb->d);
        }
        NUNROLL for (int c = 0; c < NC; c++) {
            const block_q8_0 *yb = (const block_q8_0 *)(y + (size_t)c * by) + i;
            const int8x16_t y0 = vld1q_s8(yb->qs), y1 = vld1q_s8(yb->qs + 16);
            const float dy = QH2F(yb->d);
            NUNROLL for (int r = 0; r < NR; r++) {
                const float d = dx[r] * dy;
                const int32x4_t p0 = NDOT4(vdupq_n_s32(0), lo[r], y0);
                const int32x4_t p1 = NDOT4(vdupq_n_s32(0), hi[r], y1);
                a0[r][c] = vfmaq_n_f32(a0[r][c], vcvtq_f32_s32(p0), d);
                a1[r][c] = vfmaq_n_f32(a1[r][c], vcvtq_f32_s32(p1), d);
            }
        }
    }
    NUNROLL for (int c = 0; c < NC; c++) NUNROLL for (int r = 0; r < NR; r++)
        s[(size_t)c * bs + (size_t)r] = neon_hsum8(a0[r][c], a1[r][c]);
}

NATTR void NSUF(iq4_nl_tile)(int n, float *s, size_t bs, const void *x, size_t bx, const void *y,
                             size_t by, int nr, int nc) {
    const char *xc = x, *yc = y;
    if (nr > 2) {
        NSUF(iq4_nl_tile)(n, s, bs, x, bx, y, by, 2, nc);
        NSUF(iq4_nl_tile)(n, s + 2, bs, xc + 2 * bx, bx, y, by, nr - 2, nc);
        return;
    }
    QUANT_TILE_SWITCH(NSUF(iq4_nl_tile_n))
}
#undef NUNROLL

/* MXFP4 against Q8_0: the doubled E2M1 values through tbl, the block's scale dy * 2^(e - 128)
 * and the float steps as the reference (bit-identical). */
NATTR void NSUF(mxfp4_vec_dot)(int n, float *s, const void *vx, const void *vy) {
    const block_mxfp4 *x = vx;
    const block_q8_0 *y = vy;
    const int8x16_t kv = vld1q_s8(quant_kvalues_mxfp4);
    float sumf = 0.0f;
    for (int i = 0; i < n / QK_MXFP4; i++) {
        const float d = QH2F(y[i].d) * quant_e8m0_half(x[i].e);
        int8x16_t lo, hi;
        neon_tbl4(kv, x[i].qs, &lo, &hi);
        const int32x4_t p = NDOT(NDOT(vdupq_n_s32(0), lo, vld1q_s8(y[i].qs)), hi,
                                 vld1q_s8(y[i].qs + 16));
        sumf += d * (float)vaddvq_s32(p);
    }
    *s = sumf;
}
