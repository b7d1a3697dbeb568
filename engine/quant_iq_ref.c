/* engine/quant_iq_ref.c — the scalar reference kernels of the i-quants (IQ2_XXS, IQ2_XS, IQ2_S,
 * IQ3_XXS, IQ3_S, IQ1_S, IQ1_M), the ternary types (TQ1_0, TQ2_0) and MXFP4: dequantization
 * (to_float) and the dot product against the activation type ggml uses (Q8_K; Q8_0 for MXFP4),
 * with ggml's integer sums and float steps in ggml's order, so the SIMD kernels (quant_x86_iq.h)
 * can be held to them bit for bit. Block layouts and grids are ggml's (quant.h,
 * quant_iq_grids.c). Pure; any thread. */
#include "quant_impl.h"

/* E2M1 values doubled (0, 0.5, 1, 1.5, 2, 3, 4, 6 and their negatives, times 2). */
const int8_t quant_kvalues_mxfp4[16] = {0, 1, 2, 3, 4, 6, 8, 12, 0, -1, -2, -3, -4, -6, -8, -12};

/* Byte j of grid entry e (8 values per uint64, 4 per uint32, little-endian as ggml reads them). */
static inline int grid8(const uint64_t *grid, int e, int j) { return (uint8_t)(grid[e] >> (8 * j)); }
static inline int grid8s(const uint64_t *grid, int e, int j) { return (int8_t)(grid[e] >> (8 * j)); }
static inline int grid4(const uint32_t *grid, int e, int j) { return (uint8_t)(grid[e] >> (8 * j)); }

static inline uint32_t rd32(const void *p) {
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

static inline uint16_t rd16(const void *p) {
    uint16_t v;
    memcpy(&v, p, 2);
    return v;
}

/* ================= MXFP4 ================= */

void quant_mxfp4_to_float(const void *vx, float *y, int64_t n) {
    const block_mxfp4 *x = vx;
    for (int64_t i = 0; i < n / QK_MXFP4; i++, y += QK_MXFP4) {
        const float d = quant_e8m0_half(x[i].e);
        for (int j = 0; j < QK_MXFP4 / 2; j++) {
            y[j] = (float)quant_kvalues_mxfp4[x[i].qs[j] & 0xF] * d;
            y[j + QK_MXFP4 / 2] = (float)quant_kvalues_mxfp4[x[i].qs[j] >> 4] * d;
        }
    }
}

void quant_mxfp4_vec_dot_ref(int n, float *s, const void *vx, const void *vy) {
    const block_mxfp4 *x = vx;
    const block_q8_0 *y = vy;
    float sumf = 0.0f;
    for (int i = 0; i < n / QK_MXFP4; i++) {
        const float d = QH2F(y[i].d) * quant_e8m0_half(x[i].e);
        int sumi1 = 0, sumi2 = 0;
        for (int j = 0; j < QK_MXFP4 / 2; j++) {
            sumi1 += y[i].qs[j] * quant_kvalues_mxfp4[x[i].qs[j] & 0xF];
            sumi2 += y[i].qs[j + QK_MXFP4 / 2] * quant_kvalues_mxfp4[x[i].qs[j] >> 4];
        }
        sumf += d * (float)(sumi1 + sumi2);
    }
    *s = sumf;
}

/* ================= ternary ================= */

/* Base-3 digit k of byte q of a TQ1_0 block (0, 1 or 2; the value is that minus 1). */
static inline int tq1_digit(uint8_t q, int k) {
    static const uint8_t pow3[5] = {1, 3, 9, 27, 81};
    const uint8_t t = (uint8_t)(q * pow3[k]);
    return (t * 3) >> 8;
}

/* Calls F(value index, digit) for the 256 values of TQ1_0 block b in ggml's order: 32 bytes
 * of qs times 5 digits (values 0..159), 16 bytes times 5 (160..239), 4 bytes of qh times 4. */
#define TQ1_FOR_EACH(b, F)                                                                  \
    do {                                                                                    \
        int v_ = 0;                                                                         \
        for (int k_ = 0; k_ < 5; k_++)                                                      \
            for (int m_ = 0; m_ < 32; m_++, v_++) F(v_, tq1_digit((b)->qs[m_], k_));        \
        for (int k_ = 0; k_ < 5; k_++)                                                      \
            for (int m_ = 0; m_ < 16; m_++, v_++) F(v_, tq1_digit((b)->qs[32 + m_], k_));   \
        for (int k_ = 0; k_ < 4; k_++)                                                      \
            for (int m_ = 0; m_ < 4; m_++, v_++) F(v_, tq1_digit((b)->qh[m_], k_));         \
    } while (0)

void quant_tq1_0_to_float(const void *vx, float *y, int64_t n) {
    const block_tq1_0 *x = vx;
    for (int64_t i = 0; i < n / QK_K; i++, y += QK_K) {
        const float d = QH2F(x[i].d);
#define TQ1_STORE(v, q) y[v] = (float)((q) - 1) * d
        TQ1_FOR_EACH(&x[i], TQ1_STORE);
#undef TQ1_STORE
    }
}

void quant_tq1_0_vec_dot_ref(int n, float *s, const void *vx, const void *vy) {
    const block_tq1_0 *x = vx;
    const block_q8_K *y = vy;
    float sumf = 0.0f;
    for (int i = 0; i < n / QK_K; i++) {
        int sum = 0;
        const int8_t *q8 = y[i].qs;
#define TQ1_DOT(v, q) sum += ((q) - 1) * q8[v]
        TQ1_FOR_EACH(&x[i], TQ1_DOT);
#undef TQ1_DOT
        sumf += (float)sum * (QH2F(x[i].d) * y[i].d);
    }
    *s = sumf;
}

/* Value v (0..255) of a TQ2_0 block, 0..3 (the value is that minus 1): byte v % 32 of the
 * v / 128 th 32 bytes, bits 2 * ((v / 32) % 4). */
static inline int tq2_q(const block_tq2_0 *b, int v) {
    return (b->qs[32 * (v / 128) + v % 32] >> (2 * ((v / 32) % 4))) & 3;
}

void quant_tq2_0_to_float(const void *vx, float *y, int64_t n) {
    const block_tq2_0 *x = vx;
    for (int64_t i = 0; i < n / QK_K; i++, y += QK_K) {
        const float d = QH2F(x[i].d);
        for (int v = 0; v < QK_K; v++) y[v] = (float)(tq2_q(&x[i], v) - 1) * d;
    }
}

void quant_tq2_0_vec_dot_ref(int n, float *s, const void *vx, const void *vy) {
    const block_tq2_0 *x = vx;
    const block_q8_K *y = vy;
    float sumf = 0.0f;
    for (int i = 0; i < n / QK_K; i++) {
        int32_t sumi = 0;
        for (int v = 0; v < QK_K; v++) sumi += y[i].qs[v] * (tq2_q(&x[i], v) - 1);
        sumf += (float)sumi * (y[i].d * QH2F(x[i].d));
    }
    *s = sumf;
}

/* ================= IQ2 ================= */

/* +1 or -1: bit j of the sign byte s */
static inline int sgn(uint8_t s, int j) { return (s >> j) & 1 ? -1 : 1; }

/* IQ2_XXS, per 32 values: two words; the first holds 4 grid indices (bytes), the second 4
 * 7-bit sign indices and (top 4 bits) the scale. */
void quant_iq2_xxs_to_float(const void *vx, float *y, int64_t n) {
    const block_iq2_xxs *x = vx;
    for (int64_t i = 0; i < n / QK_K; i++) {
        const float d = QH2F(x[i].d);
        for (int ib = 0; ib < QK_K / 32; ib++) {
            const uint32_t a0 = rd32(x[i].qs + 4 * ib), a1 = rd32(x[i].qs + 4 * ib + 2);
            const float db = d * (0.5f + (float)(a1 >> 28)) * 0.25f;
            for (int l = 0; l < 4; l++, y += 8) {
                const int e = (a0 >> (8 * l)) & 0xFF;
                const uint8_t signs = quant_ksigns_iq2xs[(a1 >> (7 * l)) & 127];
                for (int j = 0; j < 8; j++)
                    y[j] = db * (float)grid8(quant_iq2xxs_grid, e, j) * (float)sgn(signs, j);
            }
        }
    }
}

void quant_iq2_xxs_vec_dot_ref(int n, float *s, const void *vx, const void *vy) {
    const block_iq2_xxs *x = vx;
    const block_q8_K *y = vy;
    float sumf = 0.0f;
    for (int i = 0; i < n / QK_K; i++) {
        const float d = QH2F(x[i].d) * y[i].d;
        const int8_t *q8 = y[i].qs;
        int32_t bsum = 0;
        for (int ib = 0; ib < QK_K / 32; ib++) {
            const uint32_t a0 = rd32(x[i].qs + 4 * ib), a1 = rd32(x[i].qs + 4 * ib + 2);
            const int32_t ls = 2 * (int32_t)(a1 >> 28) + 1;
            int32_t sumi = 0;
            for (int l = 0; l < 4; l++, q8 += 8) {
                const int e = (a0 >> (8 * l)) & 0xFF;
                const uint8_t signs = quant_ksigns_iq2xs[(a1 >> (7 * l)) & 127];
                for (int j = 0; j < 8; j++)
                    sumi += grid8(quant_iq2xxs_grid, e, j) * q8[j] * sgn(signs, j);
            }
            bsum += sumi * ls;
        }
        sumf += d * (float)bsum;
    }
    *s = 0.125f * sumf;
}

/* IQ2_XS: per 8 values a 16-bit word, 9 bits of grid index and a 7-bit sign index; a 4-bit
 * scale per 16 values. */
void quant_iq2_xs_to_float(const void *vx, float *y, int64_t n) {
    const block_iq2_xs *x = vx;
    for (int64_t i = 0; i < n / QK_K; i++) {
        const float d = QH2F(x[i].d);
        for (int ib = 0; ib < QK_K / 32; ib++) {
            const float db[2] = {d * (0.5f + (float)(x[i].scales[ib] & 0xf)) * 0.25f,
                                 d * (0.5f + (float)(x[i].scales[ib] >> 4)) * 0.25f};
            for (int l = 0; l < 4; l++, y += 8) {
                const uint16_t q = x[i].qs[4 * ib + l];
                const uint8_t signs = quant_ksigns_iq2xs[q >> 9];
                for (int j = 0; j < 8; j++)
                    y[j] = db[l / 2] * (float)grid8(quant_iq2xs_grid, q & 511, j) * (float)sgn(signs, j);
            }
        }
    }
}

void quant_iq2_xs_vec_dot_ref(int n, float *s, const void *vx, const void *vy) {
    const block_iq2_xs *x = vx;
    const block_q8_K *y = vy;
    float sumf = 0.0f;
    for (int i = 0; i < n / QK_K; i++) {
        const float d = QH2F(x[i].d) * y[i].d;
        const int8_t *q8 = y[i].qs;
        int32_t bsum = 0;
        for (int ib = 0; ib < QK_K / 32; ib++) {
            for (int h = 0; h < 2; h++) {
                const int32_t ls = 2 * ((x[i].scales[ib] >> (4 * h)) & 0xf) + 1;
                int32_t sumi = 0;
                for (int l = 2 * h; l < 2 * h + 2; l++, q8 += 8) {
                    const uint16_t q = x[i].qs[4 * ib + l];
                    const uint8_t signs = quant_ksigns_iq2xs[q >> 9];
                    for (int j = 0; j < 8; j++)
                        sumi += grid8(quant_iq2xs_grid, q & 511, j) * q8[j] * sgn(signs, j);
                }
                bsum += sumi * ls;
            }
        }
        sumf += d * (float)bsum;
    }
    *s = 0.125f * sumf;
}

/* IQ2_S: per 8 values an index byte plus 2 bits of qh (10 bits) and a byte of explicit signs;
 * a 4-bit scale per 16 values. */
static inline int iq2_s_index(const block_iq2_s *b, int ib, int l) {
    return b->qs[4 * ib + l] | ((b->qh[ib] << (8 - 2 * l)) & 0x300);
}

void quant_iq2_s_to_float(const void *vx, float *y, int64_t n) {
    const block_iq2_s *x = vx;
    for (int64_t i = 0; i < n / QK_K; i++) {
        const float d = QH2F(x[i].d);
        const uint8_t *signs = x[i].qs + QK_K / 8;
        for (int ib = 0; ib < QK_K / 32; ib++) {
            const float db[2] = {d * (0.5f + (float)(x[i].scales[ib] & 0xf)) * 0.25f,
                                 d * (0.5f + (float)(x[i].scales[ib] >> 4)) * 0.25f};
            for (int l = 0; l < 4; l++, y += 8) {
                const int e = iq2_s_index(&x[i], ib, l);
                for (int j = 0; j < 8; j++)
                    y[j] = db[l / 2] * (float)grid8(quant_iq2s_grid, e, j) *
                           (float)sgn(signs[4 * ib + l], j);
            }
        }
    }
}

void quant_iq2_s_vec_dot_ref(int n, float *s, const void *vx, const void *vy) {
    const block_iq2_s *x = vx;
    const block_q8_K *y = vy;
    float sumf = 0.0f;
    for (int i = 0; i < n / QK_K; i++) {
        const float d = QH2F(x[i].d) * y[i].d;
        const int8_t *q8 = y[i].qs;
        const uint8_t *signs = x[i].qs + QK_K / 8;
        int bsum = 0;
        for (int ib = 0; ib < QK_K / 32; ib++) {
            const int ls1 = 1 + 2 * (x[i].scales[ib] & 0xf), ls2 = 1 + 2 * (x[i].scales[ib] >> 4);
            int sumi[2] = {0, 0};
            for (int l = 0; l < 4; l++, q8 += 8) {
                const int e = iq2_s_index(&x[i], ib, l);
                for (int j = 0; j < 8; j++)
                    sumi[l / 2] += q8[j] * grid8(quant_iq2s_grid, e, j) * sgn(signs[4 * ib + l], j);
            }
            bsum += ls1 * sumi[0] + ls2 * sumi[1];
        }
        sumf += d * (float)bsum;
    }
    *s = 0.125f * sumf;
}

/* ================= IQ3 ================= */

/* IQ3_XXS: 64 index bytes (4 values each), then per 32 values a word of 4 7-bit sign indices
 * and (top 4 bits) the scale. */
void quant_iq3_xxs_to_float(const void *vx, float *y, int64_t n) {
    const block_iq3_xxs *x = vx;
    for (int64_t i = 0; i < n / QK_K; i++) {
        const float d = QH2F(x[i].d);
        const uint8_t *qs = x[i].qs;
        for (int ib = 0; ib < QK_K / 32; ib++, qs += 8) {
            const uint32_t a = rd32(x[i].qs + QK_K / 4 + 4 * ib);
            const float db = d * (0.5f + (float)(a >> 28)) * 0.5f;
            for (int l = 0; l < 4; l++, y += 8) {
                const uint8_t signs = quant_ksigns_iq2xs[(a >> (7 * l)) & 127];
                for (int j = 0; j < 4; j++) {
                    y[j] = db * (float)grid4(quant_iq3xxs_grid, qs[2 * l], j) * (float)sgn(signs, j);
                    y[j + 4] = db * (float)grid4(quant_iq3xxs_grid, qs[2 * l + 1], j) *
                               (float)sgn(signs, j + 4);
                }
            }
        }
    }
}

void quant_iq3_xxs_vec_dot_ref(int n, float *s, const void *vx, const void *vy) {
    const block_iq3_xxs *x = vx;
    const block_q8_K *y = vy;
    float sumf = 0.0f;
    for (int i = 0; i < n / QK_K; i++) {
        const float d = QH2F(x[i].d) * y[i].d;
        const uint8_t *qs = x[i].qs;
        const int8_t *q8 = y[i].qs;
        int32_t bsum = 0;
        for (int ib = 0; ib < QK_K / 32; ib++, qs += 8) {
            const uint32_t a = rd32(x[i].qs + QK_K / 4 + 4 * ib);
            const int32_t ls = 2 * (int32_t)(a >> 28) + 1;
            int32_t sumi = 0;
            for (int l = 0; l < 4; l++, q8 += 8) {
                const uint8_t signs = quant_ksigns_iq2xs[(a >> (7 * l)) & 127];
                for (int j = 0; j < 4; j++) {
                    sumi += grid4(quant_iq3xxs_grid, qs[2 * l], j) * q8[j] * sgn(signs, j);
                    sumi += grid4(quant_iq3xxs_grid, qs[2 * l + 1], j) * q8[j + 4] * sgn(signs, j + 4);
                }
            }
            bsum += sumi * ls;
        }
        sumf += d * (float)bsum;
    }
    *s = 0.25f * sumf;
}

/* IQ3_S: per 4 values an index byte plus one bit of qh (9 bits); explicit signs; a 4-bit scale
 * per 32 values. Index of group g (0..63). */
static inline int iq3_s_index(const block_iq3_s *b, int g) {
    return b->qs[g] | (((b->qh[g / 8] >> (g % 8)) & 1) << 8);
}

void quant_iq3_s_to_float(const void *vx, float *y, int64_t n) {
    const block_iq3_s *x = vx;
    for (int64_t i = 0; i < n / QK_K; i++) {
        const float d = QH2F(x[i].d);
        for (int ib = 0; ib < QK_K / 32; ib++) {
            const float db = d * (float)(1 + 2 * ((x[i].scales[ib / 2] >> (4 * (ib % 2))) & 0xf));
            for (int l = 0; l < 4; l++, y += 8) {
                const int g = 8 * ib + 2 * l;
                const uint8_t signs = x[i].signs[4 * ib + l];
                for (int j = 0; j < 4; j++) {
                    y[j] = db * (float)grid4(quant_iq3s_grid, iq3_s_index(&x[i], g), j) *
                           (float)sgn(signs, j);
                    y[j + 4] = db * (float)grid4(quant_iq3s_grid, iq3_s_index(&x[i], g + 1), j) *
                               (float)sgn(signs, j + 4);
                }
            }
        }
    }
}

void quant_iq3_s_vec_dot_ref(int n, float *s, const void *vx, const void *vy) {
    const block_iq3_s *x = vx;
    const block_q8_K *y = vy;
    float sumf = 0.0f;
    for (int i = 0; i < n / QK_K; i++) {
        const float d = QH2F(x[i].d) * y[i].d;
        const int8_t *q8 = y[i].qs;
        int32_t bsum = 0;
        for (int ib = 0; ib < QK_K / 32; ib++) {
            const int32_t ls = 2 * ((x[i].scales[ib / 2] >> (4 * (ib % 2))) & 0xf) + 1;
            int32_t sumi = 0;
            for (int l = 0; l < 4; l++, q8 += 8) {
                const int g = 8 * ib + 2 * l;
                const uint8_t signs = x[i].signs[4 * ib + l];
                for (int j = 0; j < 4; j++) {
                    sumi += grid4(quant_iq3s_grid, iq3_s_index(&x[i], g), j) * q8[j] * sgn(signs, j);
                    sumi += grid4(quant_iq3s_grid, iq3_s_index(&x[i], g + 1), j) * q8[j + 4] *
                            sgn(signs, j + 4);
                }
            }
            bsum += sumi * ls;
        }
        sumf += d * (float)bsum;
    }
    *s = sumf;
}

/* ================= IQ1 ================= */

/* IQ1_S: per 8 values an index byte plus 3 bits of the 32 values' qh word (11 bits, grid
 * values -1, 0, 1); the word's bits 12-14 are the scale, bit 15 the sign of the +-1/8 shift. */
void quant_iq1_s_to_float(const void *vx, float *y, int64_t n) {
    const block_iq1_s *x = vx;
    for (int64_t i = 0; i < n / QK_K; i++) {
        const float d = QH2F(x[i].d);
        for (int ib = 0; ib < QK_K / 32; ib++) {
            const uint16_t qh = x[i].qh[ib];
            const float dl = d * (float)(2 * ((qh >> 12) & 7) + 1);
            const float delta = qh & 0x8000 ? -IQ1S_DELTA : IQ1S_DELTA;
            for (int l = 0; l < 4; l++, y += 8) {
                const int e = x[i].qs[4 * ib + l] | (((qh >> (3 * l)) & 7) << 8);
                for (int j = 0; j < 8; j++)
                    y[j] = dl * ((float)grid8s(quant_iq1s_grid, e, j) + delta);
            }
        }
    }
}

void quant_iq1_s_vec_dot_ref(int n, float *s, const void *vx, const void *vy) {
    const block_iq1_s *x = vx;
    const block_q8_K *y = vy;
    float sumf = 0.0f;
    for (int i = 0; i < n / QK_K; i++) {
        const int8_t *q8 = y[i].qs;
        int sumi = 0, sumi1 = 0;
        for (int ib = 0; ib < QK_K / 32; ib++) {
            const uint16_t qh = x[i].qh[ib];
            const int ls = 2 * ((qh >> 12) & 7) + 1;
            const int delta = qh & 0x8000 ? -1 : 1;
            int lsum = 0;
            for (int l = 0; l < 4; l++, q8 += 8) {
                const int e = x[i].qs[4 * ib + l] | (((qh >> (3 * l)) & 7) << 8);
                for (int j = 0; j < 8; j++) lsum += q8[j] * grid8s(quant_iq1s_grid, e, j);
            }
            sumi += ls * lsum;
            sumi1 += ls * delta * (y[i].bsums[2 * ib] + y[i].bsums[2 * ib + 1]);
        }
        sumf += QH2F(x[i].d) * y[i].d * ((float)sumi + IQ1S_DELTA * (float)sumi1);
    }
    *s = sumf;
}

/* IQ1_M: per 8 values an index byte plus 3 bits of a qh nibble (whose bit 3 is the sign of
 * that group's +-1/8 shift); 3-bit scales per 16 values, 6 bits per 32 in the 4 scale words,
 * whose top nibbles are the half d (quant_iq1_m_d). */
static inline int iq1_m_index(const uint8_t *qs, const uint8_t *qh, int l) {
    return qs[l] | ((qh[l / 2] << (8 - 4 * (l % 2))) & 0x700);
}

void quant_iq1_m_to_float(const void *vx, float *y, int64_t n) {
    const block_iq1_m *x = vx;
    for (int64_t i = 0; i < n / QK_K; i++) {
        const float d = QH2F(quant_iq1_m_d(&x[i]));
        const uint8_t *qs = x[i].qs, *qh = x[i].qh;
        for (int ib = 0; ib < QK_K / 32; ib++, qs += 4, qh += 2) {
            const uint16_t sc = rd16(x[i].scales + 2 * (ib / 2));
            const float dl[2] = {d * (float)(2 * ((sc >> (6 * (ib % 2))) & 7) + 1),
                                 d * (float)(2 * ((sc >> (6 * (ib % 2) + 3)) & 7) + 1)};
            for (int l = 0; l < 4; l++, y += 8) {
                const float delta = (qh[l / 2] >> (4 * (l % 2))) & 0x08 ? -IQ1M_DELTA : IQ1M_DELTA;
                const int e = iq1_m_index(qs, qh, l);
                for (int j = 0; j < 8; j++)
                    y[j] = dl[l / 2] * ((float)grid8s(quant_iq1s_grid, e, j) + delta);
            }
        }
    }
}

void quant_iq1_m_vec_dot_ref(int n, float *s, const void *vx, const void *vy) {
    const block_iq1_m *x = vx;
    const block_q8_K *y = vy;
    float sumf = 0.0f;
    for (int i = 0; i < n / QK_K; i++) {
        const int8_t *q8 = y[i].qs;
        const uint8_t *qs = x[i].qs, *qh = x[i].qh;
        int sumi1 = 0, sumi2 = 0;
        for (int ib = 0; ib < QK_K / 32; ib++, qs += 4, qh += 2) {
            int sum1[2] = {0, 0}, sum2[2] = {0, 0};
            for (int l = 0; l < 4; l++, q8 += 8) {
                const int delta = (qh[l / 2] >> (4 * (l % 2))) & 0x08 ? -1 : 1;
                const int e = iq1_m_index(qs, qh, l);
                int lsum1 = 0, lsum2 = 0;
                for (int j = 0; j < 8; j++) {
                    lsum1 += q8[j] * grid8s(quant_iq1s_grid, e, j);
                    lsum2 += q8[j];
                }
                sum1[l / 2] += lsum1;
                sum2[l / 2] += lsum2 * delta;
            }
            const uint16_t sc = rd16(x[i].scales + 2 * (ib / 2));
            const int ls1 = 2 * ((sc >> (6 * (ib % 2))) & 7) + 1;
            const int ls2 = 2 * ((sc >> (6 * (ib % 2) + 3)) & 7) + 1;
            sumi1 += sum1[0] * ls1 + sum1[1] * ls2;
            sumi2 += sum2[0] * ls1 + sum2[1] * ls2;
        }
        sumf += QH2F(quant_iq1_m_d(&x[i])) * y[i].d * ((float)sumi1 + IQ1M_DELTA * (float)sumi2);
    }
    *s = sumf;
}
