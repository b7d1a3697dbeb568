/* engine/quant_x86_iq.h — the x86 kernels of the i-quants (IQ2_XXS, IQ2_XS, IQ2_S, IQ3_XXS,
 * IQ3_S, IQ1_S, IQ1_M), the ternary types (TQ1_0, TQ2_0) and MXFP4, included at the end of
 * quant_x86_kern.h, so compiled once per instruction set with its KSUF / KATTR / DPB (KAVX512:
 * AVX-512 VL/BW mask registers, and vpdpwssd, may be used). Pure; any thread. Not a standalone
 * header.
 *
 * The super-block types against Q8_K decode 32 values at a time into unsigned bytes
 * u = w + OFF, w the value's integer (the signed grid value for IQ2/IQ3, 8 * grid + the +-1
 * shift for IQ1 — their values times 8 —, the digit minus 1 for TQ), and sum
 *     S = sum over 32-value chunks of madd(maddubs(u, y), the chunk's scales)
 *         - OFF * sum_j scale_j * bsums_j       (j: the 16 groups of 16 values)
 * in 32-bit integers: exactly ggml's integer sum (IQ1: 8 * sumi + sumi1). The float steps are
 * the scalar reference's, in its order, one super-block after the other, so every kernel here
 * (vec_dot and tiles, either ISA) equals quant_iq_ref.c bit for bit. u <= 126 and |y| <= 127:
 * a maddubs pair sum is at most 32004, no saturation. MXFP4 (blocks of 32 against Q8_0) is
 * done as IQ4_NL: float accumulators per lane, within float rounding of the reference. */

/* ---------------- helpers ---------------- */

KATTR inline int32_t KSUF(hsum_i32)(__m256i v) {
    __m128i t = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    t = _mm_add_epi32(t, _mm_shuffle_epi32(t, 0x4E));
    t = _mm_add_epi32(t, _mm_shuffle_epi32(t, 0xB1));
    return _mm_cvtsi128_si32(t);
}

/* acc += the i16 pair products p16 times the i16 scales sc, widened to i32 lanes */
#ifdef KAVX512
#define KIQ_ACC(acc, p16, sc) _mm256_dpwssd_epi32((acc), (p16), (sc))
#else
#define KIQ_ACC(acc, p16, sc) _mm256_add_epi32((acc), _mm256_madd_epi16((p16), (sc)))
#endif

/* 64 + g[j] where bit j of s is clear, 64 - g[j] where it is set (g: 32 bytes <= 63). */
KATTR inline __m256i KSUF(iq_sign64)(__m256i g, uint32_t s) {
    const __m256i c64 = _mm256_set1_epi8(64);
#ifdef KAVX512
    return _mm256_mask_sub_epi8(_mm256_add_epi8(c64, g), (__mmask32)s, c64, g);
#else
    const __m256i m = KSUF(bits32)(s);
    return _mm256_add_epi8(_mm256_sub_epi8(_mm256_xor_si256(g, m), m), c64);
#endif
}

/* The 32 sign bits of four 7-bit sign indices (bits 0..27 of a): each index plus its even
 * parity bit (ggml's ksigns_iq2xs). */
KATTR inline uint32_t KSUF(iq_ksigns4)(uint32_t a) {
    const uint8_t *ks = quant_ksigns_iq2xs;
    return (uint32_t)ks[a & 127] | (uint32_t)ks[(a >> 7) & 127] << 8 |
           (uint32_t)ks[(a >> 14) & 127] << 16 | (uint32_t)ks[(a >> 21) & 127] << 24;
}

KATTR inline uint32_t KSUF(ld32)(const void *p) {
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

/* Four 8-byte grid entries (32 values) */
KATTR inline __m256i KSUF(grid_4x8)(const uint64_t *g, int a, int b, int c, int d) {
    return _mm256_set_epi64x((long long)g[d], (long long)g[c], (long long)g[b], (long long)g[a]);
}

/* Eight 4-byte grid entries (32 values), the indices in 8 i32 lanes */
KATTR inline __m256i KSUF(grid_8x4)(const uint32_t *g, __m256i idx) {
    return _mm256_i32gather_epi32((const int *)g, idx, 4);
}

/* IQ1's 8 * grid + 16 + 1 for the grid bytes -1, 0, 1 (index: the byte & 3) */
#define KIQ1_TBL _mm256_setr_epi8(17, 25, 0, 9, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, \
                                  17, 25, 0, 9, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)

/* ---------------- per-type decoding of 32-value chunk k (0..7) ----------------
 * Each returns u and sets *lo / *hi to the scales of the chunk's two 16-value halves. */

KATTR inline __m256i KSUF(iq2_xxs_u)(const block_iq2_xxs *b, int k, int *lo, int *hi) {
    const uint32_t a0 = KSUF(ld32)(b->qs + 4 * k), a1 = KSUF(ld32)(b->qs + 4 * k + 2);
    const __m256i g = KSUF(grid_4x8)(quant_iq2xxs_grid, a0 & 255, (a0 >> 8) & 255,
                                     (a0 >> 16) & 255, a0 >> 24);
    *lo = *hi = 2 * (int)(a1 >> 28) + 1;
    return KSUF(iq_sign64)(g, KSUF(iq_ksigns4)(a1));
}

KATTR inline __m256i KSUF(iq2_xs_u)(const block_iq2_xs *b, int k, int *lo, int *hi) {
    const uint16_t *q = b->qs + 4 * k;
    const __m256i g = KSUF(grid_4x8)(quant_iq2xs_grid, q[0] & 511, q[1] & 511, q[2] & 511,
                                     q[3] & 511);
    const uint8_t *ks = quant_ksigns_iq2xs;
    const uint32_t s = (uint32_t)ks[q[0] >> 9] | (uint32_t)ks[q[1] >> 9] << 8 |
                       (uint32_t)ks[q[2] >> 9] << 16 | (uint32_t)ks[q[3] >> 9] << 24;
    *lo = 2 * (b->scales[k] & 15) + 1;
    *hi = 2 * (b->scales[k] >> 4) + 1;
    return KSUF(iq_sign64)(g, s);
}

KATTR inline __m256i KSUF(iq2_s_u)(const block_iq2_s *b, int k, int *lo, int *hi) {
    const uint8_t *q = b->qs + 4 * k;
    const int h = b->qh[k];
    const __m256i g = KSUF(grid_4x8)(quant_iq2s_grid, q[0] | ((h << 8) & 0x300),
                                     q[1] | ((h << 6) & 0x300), q[2] | ((h << 4) & 0x300),
                                     q[3] | ((h << 2) & 0x300));
    *lo = 2 * (b->scales[k] & 15) + 1;
    *hi = 2 * (b->scales[k] >> 4) + 1;
    return KSUF(iq_sign64)(g, KSUF(ld32)(b->qs + QK_K / 8 + 4 * k));
}

KATTR inline __m256i KSUF(iq3_xxs_u)(const block_iq3_xxs *b, int k, int *lo, int *hi) {
    const uint32_t a = KSUF(ld32)(b->qs + QK_K / 4 + 4 * k);
    const __m256i idx = _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(b->qs + 8 * k)));
    *lo = *hi = 2 * (int)(a >> 28) + 1;
    return KSUF(iq_sign64)(KSUF(grid_8x4)(quant_iq3xxs_grid, idx), KSUF(iq_ksigns4)(a));
}

KATTR inline __m256i KSUF(iq3_s_u)(const block_iq3_s *b, int k, int *lo, int *hi) {
    const __m256i lo8 = _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(b->qs + 8 * k)));
    /* bit j of qh[k]: bit 8 of index j */
    const __m256i h = _mm256_and_si256(_mm256_srlv_epi32(_mm256_set1_epi32(b->qh[k] << 8),
                                                         _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7)),
                                       _mm256_set1_epi32(0x100));
    *lo = *hi = 2 * ((b->scales[k / 2] >> (4 * (k % 2))) & 15) + 1;
    return KSUF(iq_sign64)(KSUF(grid_8x4)(quant_iq3s_grid, _mm256_or_si256(lo8, h)),
                           KSUF(ld32)(b->signs + 4 * k));
}

KATTR inline __m256i KSUF(iq1_s_u)(const block_iq1_s *b, int k, int *lo, int *hi) {
    const uint8_t *q = b->qs + 4 * k;
    const int h = b->qh[k];
    const __m256i g = KSUF(grid_4x8)(quant_iq1s_grid, q[0] | ((h << 8) & 0x700),
                                     q[1] | ((h << 5) & 0x700), q[2] | ((h << 2) & 0x700),
                                     q[3] | ((h >> 1) & 0x700));
    *lo = *hi = 2 * ((h >> 12) & 7) + 1;
    const __m256i u = _mm256_shuffle_epi8(KIQ1_TBL, _mm256_and_si256(g, _mm256_set1_epi8(3)));
    return _mm256_sub_epi8(u, _mm256_set1_epi8((char)((h >> 14) & 2))); /* shift -1: 2 less */
}

KATTR inline __m256i KSUF(iq1_m_u)(const block_iq1_m *b, int k, int *lo, int *hi) {
    const uint8_t *q = b->qs + 4 * k, *qh = b->qh + 2 * k;
    const __m256i g = KSUF(grid_4x8)(quant_iq1s_grid, q[0] | ((qh[0] << 8) & 0x700),
                                     q[1] | ((qh[0] << 4) & 0x700), q[2] | ((qh[1] << 8) & 0x700),
                                     q[3] | ((qh[1] << 4) & 0x700));
    uint16_t sc;
    memcpy(&sc, b->scales + 2 * (k / 2), 2);
    *lo = 2 * ((sc >> (6 * (k % 2))) & 7) + 1;
    *hi = 2 * ((sc >> (6 * (k % 2) + 3)) & 7) + 1;
    /* the shift's sign per group of 8: bits 3, 7 of qh[0], qh[1] -> 0xFF bytes */
    const __m256i m = _mm256_setr_epi64x(0x0008000800080008LL, 0x0080008000800080LL,
                                         0x0800080008000800LL, (long long)0x8000800080008000ULL);
    const __m256i t = _mm256_set1_epi16((short)(qh[0] | (qh[1] << 8)));
    const __m256i neg = _mm256_cmpeq_epi16(_mm256_and_si256(t, m), m);
    const __m256i u = _mm256_shuffle_epi8(KIQ1_TBL, _mm256_and_si256(g, _mm256_set1_epi8(3)));
    return _mm256_sub_epi8(u, _mm256_and_si256(neg, _mm256_set1_epi8(2)));
}

/* ---------------- vec_dot ---------------- */

/* NAME: the type; OFF: the unsigned offset of u; PER32: one scale per 32 values (lo == hi);
 * XD: the block's half scale (an expression of x[i]); SB: the float of a super-block's S;
 * F: the final factor. */
#define KIQ_VEC_DOT(NAME, XT, OFF, PER32, XD, SB, F)                                       \
    KATTR void KSUF(NAME##_vec_dot)(int n, float *s, const void *vx, const void *vy) {      \
        const XT *x = vx;                                                                   \
        const block_q8_K *y = vy;                                                           \
        float sumf = 0.0f;                                                                  \
        for (int i = 0; i < n / QK_K; i++) {                                                \
            __m256i acc = _mm256_setzero_si256();                                           \
            int32_t corr = 0;                                                               \
            _Pragma("GCC unroll 8")                                                         \
            for (int k = 0; k < 8; k++) {                                                   \
                int lo, hi;                                                                 \
                const __m256i u = KSUF(NAME##_u)(&x[i], k, &lo, &hi);                       \
                const __m256i yv = _mm256_loadu_si256((const __m256i *)(y[i].qs + 32 * k)); \
                const __m256i sc = PER32 ? _mm256_set1_epi16((short)lo) : KSUF(scale2)(lo, hi); \
                acc = KIQ_ACC(acc, _mm256_maddubs_epi16(u, yv), sc);                        \
                corr += lo * y[i].bsums[2 * k] + hi * y[i].bsums[2 * k + 1];                \
            }                                                                               \
            const int32_t S = KSUF(hsum_i32)(acc) - (OFF) * corr;                           \
            sumf += (QH2F(XD) * y[i].d) * (SB);                                             \
        }                                                                                   \
        *s = (F) * sumf;                                                                    \
    }

KIQ_VEC_DOT(iq2_xxs, block_iq2_xxs, 64, 1, x[i].d, (float)S, 0.125f)
KIQ_VEC_DOT(iq2_xs, block_iq2_xs, 64, 0, x[i].d, (float)S, 0.125f)
KIQ_VEC_DOT(iq2_s, block_iq2_s, 64, 0, x[i].d, (float)S, 0.125f)
KIQ_VEC_DOT(iq3_xxs, block_iq3_xxs, 64, 1, x[i].d, (float)S, 0.25f)
KIQ_VEC_DOT(iq3_s, block_iq3_s, 64, 1, x[i].d, (float)S, 1.0f)
KIQ_VEC_DOT(iq1_s, block_iq1_s, 16, 1, x[i].d, (float)S * 0.125f, 1.0f)
KIQ_VEC_DOT(iq1_m, block_iq1_m, 16, 0, quant_iq1_m_d(&x[i]), (float)S * 0.125f, 1.0f)

/* ---------------- ternary ---------------- */

/* The 8 chunks of a TQ2_0 block, u = the 2-bit value (w + 1). */
KATTR inline void KSUF(tq2_0_u8)(const block_tq2_0 *b, __m256i u[8]) {
    const __m256i m3 = _mm256_set1_epi8(3);
    for (int h = 0; h < 2; h++) {
        const __m256i q = _mm256_loadu_si256((const __m256i *)(b->qs + 32 * h));
        u[4 * h] = _mm256_and_si256(q, m3);
        u[4 * h + 1] = _mm256_and_si256(_mm256_srli_epi16(q, 2), m3);
        u[4 * h + 2] = _mm256_and_si256(_mm256_srli_epi16(q, 4), m3);
        u[4 * h + 3] = _mm256_and_si256(_mm256_srli_epi16(q, 6), m3);
    }
}

/* Base-3 digits of the bytes t (t = q * 3^k mod 256): (t * 3) >> 8 = (t > 85) + (t > 170). */
KATTR inline __m256i KSUF(tq1_digit)(__m256i t) {
    const __m256i one = _mm256_set1_epi8(1);
    return _mm256_add_epi8(_mm256_min_epu8(_mm256_subs_epu8(t, _mm256_set1_epi8(85)), one),
                           _mm256_min_epu8(_mm256_subs_epu8(t, _mm256_set1_epi8((char)170)), one));
}

/* t * 3 mod 256 per byte */
KATTR inline __m256i KSUF(tq1_x3)(__m256i t) {
    return _mm256_add_epi8(t, _mm256_add_epi8(t, t));
}

/* The 8 chunks of a TQ1_0 block, u = the digit (w + 1), in ggml's value order. */
KATTR inline void KSUF(tq1_0_u8)(const block_tq1_0 *b, __m256i u[8]) {
    __m256i t = _mm256_loadu_si256((const __m256i *)b->qs); /* values 0..159: 32 bytes x 5 */
    for (int k = 0; k < 5; k++, t = KSUF(tq1_x3)(t)) u[k] = KSUF(tq1_digit)(t);
    /* values 160..239: 16 bytes x 5 digits; 240..255: 4 bytes of qh x 4 digits */
    const __m256i a0 = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)(b->qs + 32)));
    const __m256i a1 = KSUF(tq1_x3)(a0), a2 = KSUF(tq1_x3)(a1), a3 = KSUF(tq1_x3)(a2);
    const __m256i a4 = KSUF(tq1_x3)(a3);
    const __m128i h0 = _mm_set1_epi32((int)KSUF(ld32)(b->qh));
    const __m128i h1 = _mm_add_epi8(h0, _mm_add_epi8(h0, h0));
    const __m128i h2 = _mm_add_epi8(h1, _mm_add_epi8(h1, h1));
    const __m128i h3 = _mm_add_epi8(h2, _mm_add_epi8(h2, h2));
    const __m128i hq = _mm_blend_epi32(_mm_blend_epi32(h0, h1, 0x2), _mm_blend_epi32(h2, h3, 0x8), 0xC);
    u[5] = KSUF(tq1_digit)(_mm256_blend_epi32(a0, a1, 0xF0));
    u[6] = KSUF(tq1_digit)(_mm256_blend_epi32(a2, a3, 0xF0));
    u[7] = KSUF(tq1_digit)(_mm256_inserti128_si256(a4, hq, 1));
}

/* S = sum u * y - sum y, exact. */
#define KTQ_VEC_DOT(NAME, XT)                                                               \
    KATTR void KSUF(NAME##_vec_dot)(int n, float *s, const void *vx, const void *vy) {      \
        const XT *x = vx;                                                                   \
        const block_q8_K *y = vy;                                                           \
        const __m256i ones = _mm256_set1_epi16(1);                                          \
        float sumf = 0.0f;                                                                  \
        for (int i = 0; i < n / QK_K; i++) {                                                \
            __m256i u[8];                                                                   \
            KSUF(NAME##_u8)(&x[i], u);                                                      \
            __m256i acc = _mm256_sub_epi32(_mm256_setzero_si256(), _mm256_madd_epi16(      \
                _mm256_loadu_si256((const __m256i *)y[i].bsums), ones));                    \
            _Pragma("GCC unroll 8")                                                         \
            for (int k = 0; k < 8; k++)                                                     \
                acc = DPB(acc, u[k], _mm256_loadu_si256((const __m256i *)(y[i].qs + 32 * k))); \
            sumf += (float)KSUF(hsum_i32)(acc) * (QH2F(x[i].d) * y[i].d);                   \
        }                                                                                   \
        *s = sumf;                                                                          \
    }

KTQ_VEC_DOT(tq1_0, block_tq1_0)
KTQ_VEC_DOT(tq2_0, block_tq2_0)

/* ---------------- MXFP4 against Q8_0 ---------------- */

#ifdef KTILE_WIDE_U8 /* the values + 128 (unsigned), for vpdpbusd */
#define KMXFP4_TBL _mm256_xor_si256(_mm256_broadcastsi128_si256(_mm_loadu_si128( \
    (const __m128i *)quant_kvalues_mxfp4)), _mm256_set1_epi8((char)0x80))
#define KMXFP4_K 128
#else
#define KMXFP4_TBL _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)quant_kvalues_mxfp4))
#define KMXFP4_K (-1)
#endif

KBLK32(mxfp4, block_mxfp4,
       xv = _mm256_shuffle_epi8(_mm256_broadcastsi128_si256(
           _mm_loadu_si128((const __m128i *)quant_kvalues_mxfp4)), KSUF(nib32)(xb->qs)), -1)

KATTR void KSUF(mxfp4_vec_dot)(int n, float *s, const void *vx, const void *vy) {
    const block_mxfp4 *x = vx;
    const block_q8_0 *y = vy;
    const int nb = n / QK_MXFP4;
    __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    int i = 0;
#define KMX_STEP(A, I) \
    A = _mm256_fmadd_ps(_mm256_set1_ps(quant_e8m0_half(x[I].e) * KSUF(h2f)(y[I].d)), \
                        _mm256_cvtepi32_ps(KSUF(mxfp4_blk)(x + (I), y + (I))), A)
    for (; i + 4 <= nb; i += 4) {
        KMX_STEP(a0, i);
        KMX_STEP(a1, i + 1);
        KMX_STEP(a2, i + 2);
        KMX_STEP(a3, i + 3);
    }
    for (; i < nb; i++) KMX_STEP(a0, i);
#undef KMX_STEP
    *s = KSUF(hsum8)(_mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)));
}

/* ---------------- tiles (rows x activation columns, up to 4 x 4) ---------------- */
#ifdef KTILES

KTILE32_D(mxfp4, block_mxfp4, xu[r] = _mm256_shuffle_epi8(KMXFP4_TBL, KSUF(nib32)(xb->qs)),
          KMXFP4_K, quant_e8m0_half(xb->e))

/* The super-block types: per (row, column) the integer sums of a super-block in a vector,
 * the offset taken off with the rows' 16 scales against the column's bsums, then the
 * reference's float steps: each entry equals vec_dot's, whatever NR and NC. */
#define KIQ_TILE(NAME, XT, OFF, PER32, XD, SB, F)                                          \
    KATTR inline __attribute__((always_inline)) void KSUF(NAME##_tile_n)(                   \
        int n, float *s, size_t bs, const char *x, size_t bx, const char *y, size_t by,     \
        const int NR, const int NC) {                                                       \
        float sumf[4][4];                                                                   \
        KUNROLL for (int r = 0; r < NR; r++) KUNROLL for (int c = 0; c < NC; c++)           \
            sumf[r][c] = 0.0f;                                                              \
        for (int i = 0; i < n / QK_K; i++) {                                                \
            __m256i acc[4][4];                                                              \
            int16_t ls[4][16];                                                              \
            KUNROLL for (int r = 0; r < NR; r++) KUNROLL for (int c = 0; c < NC; c++)       \
                acc[r][c] = _mm256_setzero_si256();                                         \
            for (int k = 0; k < 8; k++) {                                                   \
                __m256i u[4], sc[4];                                                        \
                KUNROLL for (int r = 0; r < NR; r++) {                                      \
                    const XT *xb = (const XT *)(x + (size_t)r * bx) + i;                    \
                    int lo, hi;                                                             \
                    u[r] = KSUF(NAME##_u)(xb, k, &lo, &hi);                                 \
                    sc[r] = PER32 ? _mm256_set1_epi16((short)lo) : KSUF(scale2)(lo, hi);    \
                    ls[r][2 * k] = (int16_t)lo;                                             \
                    ls[r][2 * k + 1] = (int16_t)hi;                                         \
                }                                                                           \
                KUNROLL for (int c = 0; c < NC; c++) {                                      \
                    const block_q8_K *yb = (const block_q8_K *)(y + (size_t)c * by) + i;    \
                    const __m256i yv = _mm256_loadu_si256((const __m256i *)(yb->qs + 32 * k)); \
                    KUNROLL for (int r = 0; r < NR; r++)                                    \
                        acc[r][c] = KIQ_ACC(acc[r][c], _mm256_maddubs_epi16(u[r], yv), sc[r]); \
                }                                                                           \
            }                                                                               \
            KUNROLL for (int r = 0; r < NR; r++) {                                          \
                const XT *xb = (const XT *)(x + (size_t)r * bx) + i;                        \
                const __m256i lsv = _mm256_loadu_si256((const __m256i *)ls[r]);             \
                const float xd = QH2F(XD);                                                  \
                KUNROLL for (int c = 0; c < NC; c++) {                                      \
                    const block_q8_K *yb = (const block_q8_K *)(y + (size_t)c * by) + i;    \
                    const __m256i corr = _mm256_madd_epi16(                                 \
                        lsv, _mm256_loadu_si256((const __m256i *)yb->bsums));               \
                    const int32_t S = KSUF(hsum_i32)(_mm256_sub_epi32(                      \
                        acc[r][c], _mm256_mullo_epi32(corr, _mm256_set1_epi32(OFF))));      \
                    sumf[r][c] += (xd * yb->d) * (SB);                                      \
                }                                                                           \
            }                                                                               \
        }                                                                                   \
        KUNROLL for (int c = 0; c < NC; c++) KUNROLL for (int r = 0; r < NR; r++)           \
            s[(size_t)c * bs + (size_t)r] = (F) * sumf[r][c];                               \
    }                                                                                       \
    KTILE_DISPATCH(NAME)

KIQ_TILE(iq2_xxs, block_iq2_xxs, 64, 1, xb->d, (float)S, 0.125f)
KIQ_TILE(iq2_xs, block_iq2_xs, 64, 0, xb->d, (float)S, 0.125f)
KIQ_TILE(iq2_s, block_iq2_s, 64, 0, xb->d, (float)S, 0.125f)
KIQ_TILE(iq3_xxs, block_iq3_xxs, 64, 1, xb->d, (float)S, 0.25f)
KIQ_TILE(iq3_s, block_iq3_s, 64, 1, xb->d, (float)S, 1.0f)
KIQ_TILE(iq1_s, block_iq1_s, 16, 1, xb->d, (float)S * 0.125f, 1.0f)
KIQ_TILE(iq1_m, block_iq1_m, 16, 0, quant_iq1_m_d(xb), (float)S * 0.125f, 1.0f)

/* Ternary: no scales; S = sum u * y - sum y per (row, column). */
#define KTQ_TILE(NAME, XT)                                                                  \
    KATTR inline __attribute__((always_inline)) void KSUF(NAME##_tile_n)(                   \
        int n, float *s, size_t bs, const char *x, size_t bx, const char *y, size_t by,     \
        const int NR, const int NC) {                                                       \
        float sumf[4][4];                                                                   \
        const __m256i ones = _mm256_set1_epi16(1);                                          \
        KUNROLL for (int r = 0; r < NR; r++) KUNROLL for (int c = 0; c < NC; c++)           \
            sumf[r][c] = 0.0f;                                                              \
        for (int i = 0; i < n / QK_K; i++) {                                                \
            __m256i acc[4][4], u[4][8];                                                     \
            KUNROLL for (int r = 0; r < NR; r++)                                            \
                KSUF(NAME##_u8)((const XT *)(x + (size_t)r * bx) + i, u[r]);                \
            KUNROLL for (int c = 0; c < NC; c++) {                                          \
                const block_q8_K *yb = (const block_q8_K *)(y + (size_t)c * by) + i;        \
                const __m256i ys = _mm256_madd_epi16(                                       \
                    _mm256_loadu_si256((const __m256i *)yb->bsums), ones);                  \
                KUNROLL for (int r = 0; r < NR; r++)                                        \
                    acc[r][c] = _mm256_sub_epi32(_mm256_setzero_si256(), ys);               \
                for (int k = 0; k < 8; k++) {                                               \
                    const __m256i yv = _mm256_loadu_si256((const __m256i *)(yb->qs + 32 * k)); \
                    KUNROLL for (int r = 0; r < NR; r++)                                    \
                        acc[r][c] = DPB(acc[r][c], u[r][k], yv);                            \
                }                                                                           \
            }                                                                               \
            KUNROLL for (int r = 0; r < NR; r++) {                                          \
                const float xd = QH2F(((const XT *)(x + (size_t)r * bx) + i)->d);           \
                KUNROLL for (int c = 0; c < NC; c++) {                                      \
                    const block_q8_K *yb = (const block_q8_K *)(y + (size_t)c * by) + i;    \
                    sumf[r][c] += (float)KSUF(hsum_i32)(acc[r][c]) * (xd * yb->d);          \
                }                                                                           \
            }                                                                               \
        }                                                                                   \
        KUNROLL for (int c = 0; c < NC; c++) KUNROLL for (int r = 0; r < NR; r++)           \
            s[(size_t)c * bs + (size_t)r] = sumf[r][c];                                     \
    }                                                                                       \
    KTILE_DISPATCH(NAME)

KTQ_TILE(tq1_0, block_tq1_0)
KTQ_TILE(tq2_0, block_tq2_0)

#endif /* KTILES */

#undef KIQ_ACC
#undef KMXFP4_TBL
#undef KMXFP4_K
