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
 * (vec_dot, and quant_mat_dot's decoded path: a super-block of a row decoded once into a
 * struct quant_iqd, then 4x4 integer tiles over all the columns; either ISA) equals
 * quant_iq_ref.c bit for bit. u <= 126 and |y| <= 127: a maddubs pair sum is at most 32004, no
 * saturation. MXFP4 (blocks of 32 against Q8_0) is done as IQ4_NL (vec_dot, 4x4 tiles): float
 * accumulators per lane, within float rounding of the reference; its repacked kernels
 * (MXFP4x16) are in quant_x86.c. */

/* ---------------- helpers ---------------- */

KATTR inline int32_t KSUF(hsum_i32)(__m256i v) {
    __m128i t = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    t = _mm_add_epi32(t, _mm_shuffle_epi32(t, 0x4E));
    t = _mm_add_epi32(t, _mm_shuffle_epi32(t, 0xB1));
    return _mm_cvtsi128_si32(t);
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

/* ---------------- the super-block types: per-block preparation, per-chunk decoding ----------------
 * A super-block's sign bits, scales and IQ1 shifts are worked out for its 8 chunks of 32
 * values at once (vector code), then each chunk's grid entries are fetched and signed. */

struct KSUF(iqsb) {
    uint32_t sgn[8];   /* chunk k's sign bits (bit j: value 32k + j negative) */
    uint32_t sc[8];    /* chunk k's scales, values 0..15 | values 16..31 << 16 */
    uint32_t off[8];   /* IQ1: per group of 8 values of chunk k, a byte: 2 when the shift is -1/8 */
    const uint8_t *sp; /* the sign bits, 4 bytes per chunk: sgn or the block's own */
};

/* The 7-bit values of the bytes of b with their even parity bit as bit 7 (ggml's ksigns). */
KATTR inline __m256i KSUF(iq_even_signs)(__m256i b) {
    __m256i p = _mm256_xor_si256(b, _mm256_srli_epi16(b, 4));
    p = _mm256_xor_si256(p, _mm256_srli_epi16(p, 2));
    p = _mm256_xor_si256(p, _mm256_srli_epi16(p, 1)); /* bit 0 of each byte: its parity */
    return _mm256_or_si256(b, _mm256_slli_epi16(_mm256_and_si256(p, _mm256_set1_epi8(1)), 7));
}

/* Four 7-bit fields (bits 0..27 of each i32 lane) spread to the lane's 4 bytes. */
KATTR inline __m256i KSUF(iq_spread7)(__m256i a) {
    const __m256i m = _mm256_set1_epi32(0x7F);
    __m256i b = _mm256_and_si256(a, m);
    b = _mm256_or_si256(b, _mm256_and_si256(_mm256_slli_epi32(a, 1), _mm256_slli_epi32(m, 8)));
    b = _mm256_or_si256(b, _mm256_and_si256(_mm256_slli_epi32(a, 2), _mm256_slli_epi32(m, 16)));
    return _mm256_or_si256(b, _mm256_and_si256(_mm256_slli_epi32(a, 3), _mm256_slli_epi32(m, 24)));
}

/* i32 lanes (2 * lo + 1) | (2 * hi + 1) << 16 */
KATTR inline __m256i KSUF(iq_pair)(__m256i lo, __m256i hi) {
    const __m256i one = _mm256_set1_epi32(1);
    return _mm256_or_si256(_mm256_add_epi32(_mm256_add_epi32(lo, lo), one),
                           _mm256_slli_epi32(_mm256_add_epi32(_mm256_add_epi32(hi, hi), one), 16));
}

/* IQ2_XXS / IQ3_XXS: 8 words of 4 sign indices and (top 4 bits) the chunk's scale. */
KATTR inline void KSUF(iq_xxs_prep)(__m256i a, struct KSUF(iqsb) *p) {
    _mm256_storeu_si256((__m256i *)p->sgn, KSUF(iq_even_signs)(KSUF(iq_spread7)(a)));
    const __m256i ls = _mm256_srli_epi32(a, 28);
    _mm256_storeu_si256((__m256i *)p->sc, KSUF(iq_pair)(ls, ls));
    p->sp = (const uint8_t *)p->sgn;
}

/* The 16 scales of IQ2_XS / IQ2_S: a nibble per 16 values. */
KATTR inline void KSUF(iq_nib_scales)(const uint8_t *scales, struct KSUF(iqsb) *p) {
    const __m256i v = _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)scales));
    _mm256_storeu_si256((__m256i *)p->sc, KSUF(iq_pair)(_mm256_and_si256(v, _mm256_set1_epi32(15)),
                                                        _mm256_srli_epi32(v, 4)));
}

KATTR inline void KSUF(iq2_xxs_prep)(const block_iq2_xxs *b, struct KSUF(iqsb) *p) {
    /* the odd words: 4 sign indices and the scale; the even ones hold the grid indices */
    const __m256 q0 = _mm256_castsi256_ps(_mm256_loadu_si256((const __m256i *)b->qs));
    const __m256 q1 = _mm256_castsi256_ps(_mm256_loadu_si256((const __m256i *)(b->qs + 16)));
    KSUF(iq_xxs_prep)(_mm256_permute4x64_epi64(_mm256_castps_si256(_mm256_shuffle_ps(q0, q1, 0xDD)),
                                               0xD8), p);
}

KATTR inline void KSUF(iq3_xxs_prep)(const block_iq3_xxs *b, struct KSUF(iqsb) *p) {
    KSUF(iq_xxs_prep)(_mm256_loadu_si256((const __m256i *)(b->qs + QK_K / 4)), p);
}

KATTR inline void KSUF(iq2_xs_prep)(const block_iq2_xs *b, struct KSUF(iqsb) *p) {
    const __m256i v0 = _mm256_srli_epi16(_mm256_loadu_si256((const __m256i *)b->qs), 9);
    const __m256i v1 = _mm256_srli_epi16(_mm256_loadu_si256((const __m256i *)(b->qs + 16)), 9);
    const __m256i s = _mm256_permute4x64_epi64(_mm256_packus_epi16(v0, v1), 0xD8);
    _mm256_storeu_si256((__m256i *)p->sgn, KSUF(iq_even_signs)(s));
    p->sp = (const uint8_t *)p->sgn;
    KSUF(iq_nib_scales)(b->scales, p);
}

KATTR inline void KSUF(iq2_s_prep)(const block_iq2_s *b, struct KSUF(iqsb) *p) {
    p->sp = b->qs + QK_K / 8;
    KSUF(iq_nib_scales)(b->scales, p);
}

KATTR inline void KSUF(iq3_s_prep)(const block_iq3_s *b, struct KSUF(iqsb) *p) {
    p->sp = b->signs;
    const __m256i v = _mm256_permutevar8x32_epi32(
        _mm256_cvtepu8_epi32(_mm_cvtsi32_si128((int)KSUF(ld32)(b->scales))),
        _mm256_setr_epi32(0, 0, 1, 1, 2, 2, 3, 3));
    const __m256i ls = _mm256_and_si256(_mm256_srlv_epi32(v, _mm256_setr_epi32(0, 4, 0, 4, 0, 4, 0, 4)),
                                        _mm256_set1_epi32(15));
    _mm256_storeu_si256((__m256i *)p->sc, KSUF(iq_pair)(ls, ls));
}

KATTR inline void KSUF(iq1_s_prep)(const block_iq1_s *b, struct KSUF(iqsb) *p) {
    const __m256i v = _mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)b->qh));
    const __m256i ls = _mm256_and_si256(_mm256_srli_epi32(v, 12), _mm256_set1_epi32(7));
    _mm256_storeu_si256((__m256i *)p->sc, KSUF(iq_pair)(ls, ls));
    _mm256_storeu_si256((__m256i *)p->off,
                        _mm256_mullo_epi32(_mm256_srli_epi32(v, 15), _mm256_set1_epi32(0x02020202)));
}

KATTR inline void KSUF(iq1_m_prep)(const block_iq1_m *b, struct KSUF(iqsb) *p) {
    const __m256i w = _mm256_permutevar8x32_epi32(
        _mm256_cvtepu16_epi32(_mm_loadl_epi64((const __m128i *)b->scales)),
        _mm256_setr_epi32(0, 0, 1, 1, 2, 2, 3, 3));
    const __m256i v = _mm256_srlv_epi32(w, _mm256_setr_epi32(0, 6, 0, 6, 0, 6, 0, 6));
    const __m256i m7 = _mm256_set1_epi32(7);
    _mm256_storeu_si256((__m256i *)p->sc, KSUF(iq_pair)(_mm256_and_si256(v, m7),
                                                        _mm256_and_si256(_mm256_srli_epi32(v, 3), m7)));
    /* the shifts: bit 3 of qh[j] for group 2 (j % 2) of chunk j / 2, bit 7 for the next */
    const __m128i h = _mm_loadu_si128((const __m128i *)b->qh), one = _mm_set1_epi8(1);
    const __m128i f0 = _mm_and_si128(_mm_srli_epi16(h, 3), one), f1 = _mm_and_si128(_mm_srli_epi16(h, 7), one);
    const __m128i lo = _mm_unpacklo_epi8(f0, f1), hi = _mm_unpackhi_epi8(f0, f1);
    _mm_storeu_si128((__m128i *)p->off, _mm_add_epi8(lo, lo));
    _mm_storeu_si128((__m128i *)(p->off + 4), _mm_add_epi8(hi, hi));
}

/* Grid entries of chunk k: four 8-byte entries (IQ1, IQ2) or eight 4-byte ones (IQ3) by index,
 * with a gather, but for AVX2's 8-byte entries: there 4 scalar loads measured faster (54 vs 63
 * cycles a super-block on this Xeon; gathers are slower still on Zen 2/3 or under the GDS
 * microcode), while for the 4-byte ones 8 loads lost (IQ3_S 85 vs 64). */
#define KIQ_G4(G, IDX) _mm256_i32gather_epi32((const int *)(G), (IDX), 4)
#ifdef KAVX512
#define KIQ_G8(G, i0, i1, i2, i3, IDX) _mm256_i32gather_epi64((const long long *)(G), (IDX), 8)
#else
#define KIQ_G8(G, i0, i1, i2, i3, IDX) KSUF(grid_4x8)((G), (i0), (i1), (i2), (i3))
#endif

KATTR inline __m256i KSUF(iq2_xxs_grid)(const block_iq2_xxs *b, const struct KSUF(iqsb) *p, int k) {
    const uint8_t *a = (const uint8_t *)(b->qs + 4 * k);
    (void)p;
    return KIQ_G8(quant_iq2xxs_grid, a[0], a[1], a[2], a[3],
                  _mm_cvtepu8_epi32(_mm_cvtsi32_si128((int)KSUF(ld32)(a))));
}

KATTR inline __m256i KSUF(iq2_xs_grid)(const block_iq2_xs *b, const struct KSUF(iqsb) *p, int k) {
    const uint16_t *q = b->qs + 4 * k;
    (void)p;
    return KIQ_G8(quant_iq2xs_grid, q[0] & 511, q[1] & 511, q[2] & 511, q[3] & 511,
                  _mm_and_si128(_mm_cvtepu16_epi32(_mm_loadl_epi64((const __m128i *)q)),
                                _mm_set1_epi32(511)));
}

KATTR inline __m256i KSUF(iq2_s_grid)(const block_iq2_s *b, const struct KSUF(iqsb) *p, int k) {
    const uint8_t *q = b->qs + 4 * k;
    const int h = b->qh[k];
    (void)p;
    return KIQ_G8(quant_iq2s_grid, q[0] | ((h << 8) & 0x300), q[1] | ((h << 6) & 0x300),
                  q[2] | ((h << 4) & 0x300), q[3] | ((h << 2) & 0x300),
                  _mm_or_si128(_mm_cvtepu8_epi32(_mm_cvtsi32_si128((int)KSUF(ld32)(q))),
                               _mm_and_si128(_mm_sllv_epi32(_mm_set1_epi32(h), _mm_setr_epi32(8, 6, 4, 2)),
                                             _mm_set1_epi32(0x300))));
}

KATTR inline __m256i KSUF(iq3_xxs_grid)(const block_iq3_xxs *b, const struct KSUF(iqsb) *p, int k) {
    const uint8_t *q = b->qs + 8 * k;
    (void)p;
    return KIQ_G4(quant_iq3xxs_grid, _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)q)));
}

KATTR inline __m256i KSUF(iq3_s_grid)(const block_iq3_s *b, const struct KSUF(iqsb) *p, int k) {
    const uint8_t *q = b->qs + 8 * k;
    (void)p;
    const __m256i h = _mm256_and_si256(_mm256_srlv_epi32(_mm256_set1_epi32(b->qh[k] << 8),
                                                         _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7)),
                                       _mm256_set1_epi32(0x100));
    return KIQ_G4(quant_iq3s_grid, _mm256_or_si256(
        _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)q)), h));
}

KATTR inline __m256i KSUF(iq1_s_grid)(const block_iq1_s *b, const struct KSUF(iqsb) *p, int k) {
    const uint8_t *q = b->qs + 4 * k;
    const int h = b->qh[k];
    (void)p;
    return KIQ_G8(quant_iq1s_grid, q[0] | ((h << 8) & 0x700), q[1] | ((h << 5) & 0x700),
                  q[2] | ((h << 2) & 0x700), q[3] | ((h >> 1) & 0x700),
                  _mm_or_si128(_mm_cvtepu8_epi32(_mm_cvtsi32_si128((int)KSUF(ld32)(q))),
                               _mm_and_si128(_mm_srlv_epi32(_mm_set1_epi32(h << 8), _mm_setr_epi32(0, 3, 6, 9)),
                                             _mm_set1_epi32(0x700))));
}

KATTR inline __m256i KSUF(iq1_m_grid)(const block_iq1_m *b, const struct KSUF(iqsb) *p, int k) {
    const uint8_t *q = b->qs + 4 * k, *qh = b->qh + 2 * k;
    const int h = qh[0] | (qh[1] << 8);
    (void)p;
    return KIQ_G8(quant_iq1s_grid, q[0] | ((h << 8) & 0x700), q[1] | ((h << 4) & 0x700),
                  q[2] | (h & 0x700), q[3] | ((h >> 4) & 0x700),
                  _mm_or_si128(_mm_cvtepu8_epi32(_mm_cvtsi32_si128((int)KSUF(ld32)(q))),
                               _mm_and_si128(_mm_srlv_epi32(_mm_set1_epi32(h << 8), _mm_setr_epi32(0, 4, 8, 12)),
                                             _mm_set1_epi32(0x700))));
}

/* u of chunk k: grid bytes g (<= 63) signed by the chunk's sign bits, plus 64 */
KATTR inline __m256i KSUF(iq_sign64)(__m256i g, const uint8_t *sp) {
    const __m256i c64 = _mm256_set1_epi8(64);
#ifdef KAVX512
    return _mm256_mask_sub_epi8(_mm256_add_epi8(c64, g), _cvtu32_mask32(KSUF(ld32)(sp)), c64, g);
#else
    const __m256i m = KSUF(bits32)(KSUF(ld32)(sp));
    return _mm256_add_epi8(_mm256_sub_epi8(_mm256_xor_si256(g, m), m), c64);
#endif
}

#define KIQ_SIGNED_U(NAME, XT)                                                              \
    KATTR inline __m256i KSUF(NAME##_u)(const XT *b, const struct KSUF(iqsb) *p, int k) {   \
        return KSUF(iq_sign64)(KSUF(NAME##_grid)(b, p, k), p->sp + 4 * k);                  \
    }
KIQ_SIGNED_U(iq2_xxs, block_iq2_xxs)
KIQ_SIGNED_U(iq2_xs, block_iq2_xs)
KIQ_SIGNED_U(iq2_s, block_iq2_s)
KIQ_SIGNED_U(iq3_xxs, block_iq3_xxs)
KIQ_SIGNED_U(iq3_s, block_iq3_s)

/* IQ1: u = 8 * grid + 16 + the shift (+1, or -1: 2 less), grid bytes -1, 0, 1 */
#define KIQ1_U(NAME, XT, EXPAND)                                                            \
    KATTR inline __m256i KSUF(NAME##_u)(const XT *b, const struct KSUF(iqsb) *p, int k) {   \
        const __m256i g = KSUF(NAME##_grid)(b, p, k);                                       \
        const __m256i tbl = _mm256_setr_epi8(17, 25, 0, 9, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, \
                                             17, 25, 0, 9, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0); \
        const __m256i u = _mm256_shuffle_epi8(tbl, _mm256_and_si256(g, _mm256_set1_epi8(3))); \
        const __m256i off = _mm256_set1_epi32((int)p->off[k]);                               \
        return _mm256_sub_epi8(u, EXPAND);                                                  \
    }
KIQ1_U(iq1_s, block_iq1_s, off)
/* IQ1_M: byte l of off[k] for values 8l .. 8l + 7 */
KIQ1_U(iq1_m, block_iq1_m,
       _mm256_shuffle_epi8(off, _mm256_setr_epi64x(0, 0x0101010101010101LL, 0x0202020202020202LL,
                                                   0x0303030303030303LL)))

/* The i16 scales of chunk k for the 16 i16 pair sums of maddubs: lo in lanes 0..7, hi in 8..15. */
KATTR inline __m256i KSUF(iq_scv)(uint32_t sc, int per32) {
    const __m256i v = _mm256_set1_epi32((int)sc);
    if (per32) return v; /* lo == hi */
    return _mm256_shuffle_epi8(v, _mm256_setr_epi8(0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1,
                                                   2, 3, 2, 3, 2, 3, 2, 3, 2, 3, 2, 3, 2, 3, 2, 3));
}

/* ---------------- vec_dot ---------------- */

/* NAME: the type; OFF: the unsigned offset of u; PER32: one scale per 32 values;
 * XD: the block's half scale (an expression of x[i]); SB: the float of a super-block's S;
 * F: the final factor. */
#define KIQ_VEC_DOT(NAME, XT, OFF, PER32, XD, SB, F)                                       \
    KATTR void KSUF(NAME##_vec_dot)(int n, float *s, const void *vx, const void *vy) {      \
        const XT *x = vx;                                                                   \
        const block_q8_K *y = vy;                                                           \
        float sumf = 0.0f;                                                                  \
        for (int i = 0; i < n / QK_K; i++) {                                                \
            struct KSUF(iqsb) p;                                                            \
            KSUF(NAME##_prep)(&x[i], &p);                                                   \
            /* the offset: OFF * sum_j scale_j * bsums_j, taken off first */                \
            __m256i acc0 = _mm256_mullo_epi32(_mm256_madd_epi16(                             \
                _mm256_loadu_si256((const __m256i *)p.sc),                                  \
                _mm256_loadu_si256((const __m256i *)y[i].bsums)), _mm256_set1_epi32(-(OFF))); \
            __m256i acc1 = _mm256_setzero_si256();                                          \
            _Pragma("GCC unroll 8")                                                         \
            for (int k = 0; k < 8; k += 2) {                                                \
                acc0 = KIQ_ACC(acc0, _mm256_maddubs_epi16(KSUF(NAME##_u)(&x[i], &p, k),     \
                    _mm256_loadu_si256((const __m256i *)(y[i].qs + 32 * k))),               \
                    KSUF(iq_scv)(p.sc[k], PER32));                                          \
                acc1 = KIQ_ACC(acc1, _mm256_maddubs_epi16(KSUF(NAME##_u)(&x[i], &p, k + 1), \
                    _mm256_loadu_si256((const __m256i *)(y[i].qs + 32 * k + 32))),          \
                    KSUF(iq_scv)(p.sc[k + 1], PER32));                                      \
            }                                                                               \
            const int32_t S = KSUF(hsum_i32)(_mm256_add_epi32(acc0, acc1));                 \
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

/* ---------------- decoded super-blocks (quant_mat_dot's batched path) ---------------- */

#define KIQ_DEC(NAME, XT, XD)                                                               \
    KATTR void KSUF(NAME##_iqd)(const void *row, int i, struct quant_iqd *o) {              \
        const XT *b = (const XT *)row + i;                                                  \
        struct KSUF(iqsb) p;                                                                \
        KSUF(NAME##_prep)(b, &p);                                                           \
        _Pragma("GCC unroll 8")                                                             \
        for (int k = 0; k < 8; k++)                                                         \
            _mm256_store_si256((__m256i *)(o->u + 32 * k), KSUF(NAME##_u)(b, &p, k));       \
        memcpy(o->sc, p.sc, sizeof o->sc);                                                  \
        o->d = QH2F(XD);                                                                    \
    }
KIQ_DEC(iq2_xxs, block_iq2_xxs, b->d)
KIQ_DEC(iq2_xs, block_iq2_xs, b->d)
KIQ_DEC(iq2_s, block_iq2_s, b->d)
KIQ_DEC(iq3_xxs, block_iq3_xxs, b->d)
KIQ_DEC(iq3_s, block_iq3_s, b->d)
KIQ_DEC(iq1_s, block_iq1_s, b->d)
KIQ_DEC(iq1_m, block_iq1_m, quant_iq1_m_d(b))

#define KTQ_DEC(NAME, XT)                                                                   \
    KATTR void KSUF(NAME##_iqd)(const void *row, int i, struct quant_iqd *o) {              \
        const XT *b = (const XT *)row + i;                                                  \
        __m256i u[8];                                                                       \
        KSUF(NAME##_u8)(b, u);                                                              \
        for (int k = 0; k < 8; k++) _mm256_store_si256((__m256i *)(o->u + 32 * k), u[k]);  \
        for (int j = 0; j < 16; j++) o->sc[j] = 1;                                          \
        o->d = QH2F(b->d);                                                                  \
    }
KTQ_DEC(tq1_0, block_tq1_0)
KTQ_DEC(tq2_0, block_tq2_0)

/* The 4 sums of the 8 i32 lanes of a, b, c, d. */
KATTR inline __m128i KSUF(hsum4_i32)(__m256i a, __m256i b, __m256i c, __m256i d) {
    const __m256i t = _mm256_hadd_epi32(_mm256_hadd_epi32(a, b), _mm256_hadd_epi32(c, d));
    return _mm_add_epi32(_mm256_castsi256_si128(t), _mm256_extracti128_si256(t, 1));
}

/* MR x MC (<= 4 x 4) of decoded rows and columns for super-block i: the integer sums with the
 * offset taken off first (from the rows' scales and the columns' bsums), then per entry the
 * reference's (d_x * d_y) * (g * S) added to s. */
KATTR inline __attribute__((always_inline)) void KSUF(iqd_tile_n)(
    const struct quant_iqd *w, const uint8_t *y, size_t by, int i, float *s, size_t bs,
    int off, float g, const int MR, const int MC) {
    __m256i acc[4][4], scl[4];
    const __m256i sh = _mm256_setr_epi8(0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1,
                                        2, 3, 2, 3, 2, 3, 2, 3, 2, 3, 2, 3, 2, 3, 2, 3);
    KUNROLL for (int r = 0; r < MR; r++) scl[r] = _mm256_loadu_si256((const __m256i *)w[r].sc);
    KUNROLL for (int c = 0; c < MC; c++) {
        const block_q8_K *yb = (const block_q8_K *)(y + (size_t)c * by) + i;
        const __m256i bsum = _mm256_loadu_si256((const __m256i *)yb->bsums);
        KUNROLL for (int r = 0; r < MR; r++)
            acc[r][c] = _mm256_mullo_epi32(_mm256_madd_epi16(scl[r], bsum), _mm256_set1_epi32(-off));
    }
    _Pragma("GCC unroll 8")
    for (int k = 0; k < 8; k++) {
        __m256i u[4], sc[4];
        KUNROLL for (int r = 0; r < MR; r++) {
            u[r] = _mm256_load_si256((const __m256i *)(w[r].u + 32 * k));
            int32_t pair;
            memcpy(&pair, w[r].sc + 2 * k, 4);
            sc[r] = _mm256_shuffle_epi8(_mm256_set1_epi32(pair), sh);
        }
        KUNROLL for (int c = 0; c < MC; c++) {
            const block_q8_K *yb = (const block_q8_K *)(y + (size_t)c * by) + i;
            const __m256i yv = _mm256_loadu_si256((const __m256i *)(yb->qs + 32 * k));
            KUNROLL for (int r = 0; r < MR; r++)
                acc[r][c] = KIQ_ACC(acc[r][c], _mm256_maddubs_epi16(u[r], yv), sc[r]);
        }
    }
    if (MR == 4) {
        const __m128 xd = _mm_setr_ps(w[0].d, w[1].d, w[2].d, w[3].d);
        KUNROLL for (int c = 0; c < MC; c++) {
            const block_q8_K *yb = (const block_q8_K *)(y + (size_t)c * by) + i;
            __m128 f = _mm_cvtepi32_ps(KSUF(hsum4_i32)(acc[0][c], acc[1][c], acc[2][c], acc[3][c]));
            if (g != 1.0f) f = _mm_mul_ps(f, _mm_set1_ps(g));
            const __m128 p = _mm_mul_ps(_mm_mul_ps(xd, _mm_set1_ps(yb->d)), f);
            _mm_storeu_ps(s + (size_t)c * bs, _mm_add_ps(_mm_loadu_ps(s + (size_t)c * bs), p));
        }
    } else {
        KUNROLL for (int c = 0; c < MC; c++) {
            const block_q8_K *yb = (const block_q8_K *)(y + (size_t)c * by) + i;
            KUNROLL for (int r = 0; r < MR; r++) {
                float f = (float)KSUF(hsum_i32)(acc[r][c]);
                if (g != 1.0f) f *= g;
                s[(size_t)c * bs + (size_t)r] += (w[r].d * yb->d) * f;
            }
        }
    }
}

KATTR void KSUF(iqd_gemm)(const struct quant_iqd *w, int nr, const void *vy, size_t by, int i,
                          float *s, size_t bs, int nc, int off, float g) {
    const uint8_t *y = vy;
    for (int c = 0; c < nc; c += 4) {
        const int mc = nc - c < 4 ? nc - c : 4;
        for (int r = 0; r < nr; r += KTILE_MAX_NR) {
            const int mr = nr - r < KTILE_MAX_NR ? nr - r : KTILE_MAX_NR;
            float *so = s + (size_t)c * bs + (size_t)r;
            const uint8_t *yc = y + (size_t)c * by;
            switch ((mr - 1) * 4 + (mc - 1)) {
#define KIQD_CASE(MRV, MCV) \
            case ((MRV) - 1) * 4 + (MCV) - 1: \
                KSUF(iqd_tile_n)(w + r, yc, by, i, so, bs, off, g, MRV, MCV); break;
            KIQD_CASE(1, 1) KIQD_CASE(1, 2) KIQD_CASE(1, 3) KIQD_CASE(1, 4)
            KIQD_CASE(2, 1) KIQD_CASE(2, 2) KIQD_CASE(2, 3) KIQD_CASE(2, 4)
#if KTILE_MAX_NR == 4
            KIQD_CASE(3, 1) KIQD_CASE(3, 2) KIQD_CASE(3, 3) KIQD_CASE(3, 4)
            KIQD_CASE(4, 1) KIQD_CASE(4, 2) KIQD_CASE(4, 3) KIQD_CASE(4, 4)
#endif
#undef KIQD_CASE
            default: break;
            }
        }
    }
}

#endif /* KTILES */

#undef KIQ_ACC
#undef KIQ_G8
#undef KIQ_G4
#undef KMXFP4_TBL
#undef KMXFP4_K
