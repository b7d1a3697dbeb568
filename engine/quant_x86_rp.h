/* engine/quant_x86_rp.h — the 256-bit kernels of the repacked layouts (quant_repack.c), for
 * CPUs with 16 ymm registers: included by quant_x86.c once per instruction set with KSUF(name)
 * (suffix), KATTR (static + target attribute) and KRP_VNNI (1: the VEX vpdpbusd of AVX-VNNI,
 * 0: AVX2's vpmaddubsw + vpmaddwd). A group's 16 rows are two 256-bit halves (rows 0-7 in the
 * low 32 bytes of each 64-byte vector, rows 8-15 in the high 32), done one after the other per
 * block with their own accumulators; at most 4 columns at a time. Integer sums exact, float
 * steps those of the scalar references in the same order, so every kernel equals its reference
 * bit for bit. Needs quant_x86_kern.h's helpers of the same suffix, Z_RP_COLS4, Z_RP_PREFETCH
 * and KUNROLL8. Pure; any thread. Not a standalone header. */

/* The 4 activation bytes at p in every 32-bit lane. */
KATTR inline __m256i KSUF(rp_bcast32)(const int8_t *p) {
    int32_t v;
    memcpy(&v, p, 4);
    return _mm256_set1_epi32(v);
}

/* bias + the dot products of the unsigned weight bytes w[0..n) (each <= umax) with the
 * activation bytes yq[4m .. 4m + 3] broadcast to every lane, per 32-bit lane. AVX-VNNI: one
 * vpdpbusd per vector. AVX2: vpmaddubsw pair sums (<= 2 * umax * 127 each) added in 16 bits as
 * long as they cannot overflow, then widened by one vpmaddwd. */
KATTR inline __attribute__((always_inline)) __m256i KSUF(rp_dot)(
    __m256i bias, const __m256i *w, const int8_t *yq, const int n, const int umax) {
#if KRP_VNNI
    (void)umax;
    KUNROLL8 for (int m = 0; m < n; m++)
        bias = _mm256_dpbusd_avx_epi32(bias, w[m], KSUF(rp_bcast32)(yq + 4 * m));
    return bias;
#else
    const int grp = umax <= 128 ? 32767 / (2 * umax * 127) : 1; /* (u > 128: not for AVX2) */
    KUNROLL8 for (int m0 = 0; m0 < n; m0 += grp) {
        __m256i t = _mm256_maddubs_epi16(w[m0], KSUF(rp_bcast32)(yq + 4 * m0));
        const int end = m0 + grp < n ? m0 + grp : n;
        KUNROLL8 for (int m = m0 + 1; m < end; m++)
            t = _mm256_add_epi16(t, _mm256_maddubs_epi16(w[m], KSUF(rp_bcast32)(yq + 4 * m)));
        bias = _mm256_add_epi32(bias, _mm256_madd_epi16(t, _mm256_set1_epi16(1)));
    }
    return bias;
#endif
}

/* Runs HALF(..., b, h, a, NC) for every block (or superblock) b of nb and row half h (0: rows
 * 0-7, 1: rows 8-15), HALF adding column c's products to a[c] (and, K2, what is subtracted from
 * them to a[4 + c]), then stores the 16 rows of the NC columns. With one column (generation:
 * the weights come from memory) both halves of a block in turn, so each cache line is read
 * once; with more, one half over all the blocks, then the other, so that only one half's
 * accumulators are live and the columns' sums fit the 16 registers. */
#define RP_HALVES(NC, nb, K2, HALF, ...)                                                    \
    do {                                                                                    \
        __m256 rp_a_[2][8];                                                                 \
        for (int c_ = 0; c_ < 8; c_++) rp_a_[0][c_] = rp_a_[1][c_] = _mm256_setzero_ps();   \
        if ((NC) == 1) {                                                                    \
            for (int b_ = 0; b_ < (nb); b_++) {                                             \
                HALF(__VA_ARGS__, b_, 0, rp_a_[0], 1);                                      \
                HALF(__VA_ARGS__, b_, 1, rp_a_[1], 1);                                      \
            }                                                                               \
        } else {                                                                            \
            for (int b_ = 0; b_ < (nb); b_++) HALF(__VA_ARGS__, b_, 0, rp_a_[0], NC);       \
            for (int b_ = 0; b_ < (nb); b_++) HALF(__VA_ARGS__, b_, 1, rp_a_[1], NC);       \
        }                                                                                   \
        for (int h_ = 0; h_ < 2; h_++)                                                      \
            for (int c_ = 0; c_ < (NC); c_++)                                               \
                _mm256_storeu_ps(s + (size_t)c_ * bs + 8 * h_,                              \
                                 (K2) ? _mm256_sub_ps(rp_a_[h_][c_], rp_a_[h_][4 + c_])     \
                                      : rp_a_[h_][c_]);                                     \
    } while (0)

/* Keeps the sum v a chain: without it GCC reassociates the unrolled additions into trees that
 * compute every product first, and spills them (the 16 registers). */
#define RP_KEEP(v) __asm__("" : "+x"(v))

/* One step of a lane sum t: + the dot products of the unsigned weight bytes w with the
 * activation bytes yq[0..3] broadcast to every lane. AVX-VNNI: vpdpbusd, 32-bit sums. AVX2:
 * vpmaddubsw pair sums added in 16 bits: the caller bounds the steps so that they cannot
 * overflow (steps * 2 * umax * 127 <= 32767). */
KATTR inline __m256i KSUF(rp_step)(__m256i t, __m256i w, const int8_t *yq) {
#if KRP_VNNI
    t = _mm256_dpbusd_avx_epi32(t, w, KSUF(rp_bcast32)(yq));
#else
    t = _mm256_add_epi16(t, _mm256_maddubs_epi16(w, KSUF(rp_bcast32)(yq)));
#endif
    RP_KEEP(t);
    return t;
}

/* A lane sum's start and its 32-bit value plus bias (VNNI sums from the bias itself). */
KATTR inline __m256i KSUF(rp_start)(__m256i bias) {
#if KRP_VNNI
    return bias;
#else
    (void)bias;
    return _mm256_setzero_si256();
#endif
}

KATTR inline __m256i KSUF(rp_end)(__m256i t, __m256i bias) {
#if KRP_VNNI
    (void)bias;
    return t;
#else
    return _mm256_add_epi32(bias, _mm256_madd_epi16(t, _mm256_set1_epi16(1)));
#endif
}

/* The 8 scale bytes at p (row r's in lane r; SGN: signed) as rp_scaled wants them: 32-bit
 * lanes for VNNI, for AVX2 the scale in both 16-bit halves of its lane, so that one vpmaddwd
 * widens and scales the pair sums. */
KATTR inline __m256i KSUF(rp_scales)(const uint8_t *p, const int SGN) {
    const __m128i b = _mm_loadl_epi64((const __m128i *)p);
#if KRP_VNNI
    return SGN ? _mm256_cvtepi8_epi32(b) : _mm256_cvtepu8_epi32(b);
#else
    const __m128i bb = _mm_unpacklo_epi8(b, b);
    return SGN ? _mm256_cvtepi8_epi16(bb) : _mm256_cvtepu8_epi16(bb);
#endif
}

/* The 32-bit lane sums of t (from rp_start with a zero bias) times the rows' scales sc. */
KATTR inline __m256i KSUF(rp_scaled)(__m256i t, __m256i sc) {
#if KRP_VNNI
    return _mm256_mullo_epi32(t, sc);
#else
    return _mm256_madd_epi16(t, sc);
#endif
}

/* Block b's half h of Q4_0x16 / Q8_0x16 x NC <= 4 Q8_0S columns (RP_HALVES): per weight
 * vector the NC columns' steps (rp_step), so only a vector or two of weights is live. Q4_0
 * (Q8 = 0): the nibbles u <= 15 (8 steps of 16-bit sums at most 30480), the -8 offset from the
 * block sum. Q8_0 (Q8 = 1) with AVX-VNNI: u = q + 128, the -128 offset from the block sum; with
 * AVX2, u would saturate vpmaddubsw, so the signed quant w = u ^ 0x80 goes in as
 * maddubs(|w|, sign(y, w)) (pair sums <= 2 * 128 * 127), widened at every step. */
KATTR inline __attribute__((always_inline)) void KSUF(rp32_half)(
    const int Q8, int nb, const uint8_t *g, const uint8_t *y, size_t by, int b, int h,
    __m256 *acc, const int NC) {
    const int QB = Q8 ? 512 : 256;
    const uint8_t *q = g + (size_t)nb * QUANT_RP_ROWS * 2 + (size_t)b * QB + 32 * h;
    const __m256i m4 = _mm256_set1_epi8(0x0F);
    const block_q8_0s *yb[4];
    __m256i t[4], bias[4];
    KUNROLL8 for (int c = 0; c < NC; c++) {
        yb[c] = (const block_q8_0s *)(y + (size_t)c * by) + b;
        bias[c] = _mm256_set1_epi32((Q8 ? -128 : -8) * yb[c]->s);
        t[c] = KSUF(rp_start)(bias[c]);
    }
    KUNROLL8 for (int m = 0; m < QB / 64; m++) {
        const __m256i v = _mm256_loadu_si256((const __m256i *)(q + 64 * m));
        if (NC == 1 && h == 0) /* generation: the weights stream from memory once */
            _mm_prefetch((const char *)(q + 64 * m + Z_RP_PREFETCH), _MM_HINT_T0);
        if (!Q8) { /* nibbles: values 4m.. low, 16 + 4m.. high */
            const __m256i lo = _mm256_and_si256(v, m4);
            const __m256i hi = _mm256_and_si256(_mm256_srli_epi16(v, 4), m4);
            KUNROLL8 for (int c = 0; c < NC; c++)
                t[c] = KSUF(rp_step)(KSUF(rp_step)(t[c], lo, yb[c]->qs + 4 * m), hi,
                                     yb[c]->qs + 16 + 4 * m);
        } else if (KRP_VNNI) {
            KUNROLL8 for (int c = 0; c < NC; c++) t[c] = KSUF(rp_step)(t[c], v, yb[c]->qs + 4 * m);
        } else {
            const __m256i w = _mm256_xor_si256(v, _mm256_set1_epi8((char)0x80));
            const __m256i wa = _mm256_abs_epi8(w);
            KUNROLL8 for (int c = 0; c < NC; c++) {
                t[c] = _mm256_add_epi32(t[c], _mm256_madd_epi16(_mm256_maddubs_epi16(
                           wa, _mm256_sign_epi8(KSUF(rp_bcast32)(yb[c]->qs + 4 * m), w)),
                           _mm256_set1_epi16(1)));
                RP_KEEP(t[c]);
            }
        }
    }
    const __m256 dx = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(g + (size_t)b * 32 + 16 * h)));
    KUNROLL8 for (int c = 0; c < NC; c++) {
        const __m256i ia = Q8 && !KRP_VNNI ? t[c] : KSUF(rp_end)(t[c], bias[c]);
        acc[c] = _mm256_fmadd_ps(_mm256_mul_ps(dx, _mm256_set1_ps(yb[c]->d)),
                                 _mm256_cvtepi32_ps(ia), acc[c]);
    }
}

KATTR inline __attribute__((always_inline)) void KSUF(rp32_gemm_n)(
    const int Q8, int nb, float *s, size_t bs, const uint8_t *g, const uint8_t *y, size_t by,
    const int NC) {
    RP_HALVES(NC, nb, 0, KSUF(rp32_half), Q8, nb, g, y, by);
}

KATTR void KSUF(q4_0x16_gemm)(int n, float *s, size_t bs, const void *vg, const void *vy,
                              size_t by, int nc) {
    Z_RP_COLS4(KSUF(rp32_gemm_n), 0, n / QK4_0)
}

KATTR void KSUF(q8_0x16_gemm)(int n, float *s, size_t bs, const void *vg, const void *vy,
                              size_t by, int nc) {
    Z_RP_COLS4(KSUF(rp32_gemm_n), 1, n / QK8_0)
}

/* 2^(e - 128) for the 8 E8M0 scale bytes at e. */
KATTR inline __m256 KSUF(rp_e8m0_half8)(const uint8_t *e) {
    const __m256i v = _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)e));
    const __m256i normal = _mm256_slli_epi32(_mm256_sub_epi32(v, _mm256_set1_epi32(1)), 23);
    const __m256i sub = _mm256_sllv_epi32(_mm256_set1_epi32(0x00200000), v);
    const __m256i small = _mm256_cmpgt_epi32(_mm256_set1_epi32(2), v);
    return _mm256_castsi256_ps(_mm256_blendv_epi8(normal, sub, small));
}

/* MXFP4x16 x NC <= 4 Q8_0S columns, each half of the rows in turn: u = the value + 12 (0..24,
 * vpshufb of the nibble), the offset from the block sum. */
KATTR inline __attribute__((always_inline)) void KSUF(mxfp4x16_gemm_n)(
    int nb, float *s, size_t bs, const uint8_t *g, const uint8_t *y, size_t by, const int NC) {
    const uint8_t *qs = g + (size_t)nb * QUANT_RP_ROWS;
    const __m256i m4 = _mm256_set1_epi8(0x0F);
    const __m256i tbl = _mm256_broadcastsi128_si256(_mm_add_epi8(
        _mm_loadu_si128((const __m128i *)quant_kvalues_mxfp4), _mm_set1_epi8(12)));
    __m256 acc[4][2];
    KUNROLL8 for (int c = 0; c < NC; c++) acc[c][0] = acc[c][1] = _mm256_setzero_ps();
    for (int b = 0; b < nb; b++) {
        const uint8_t *q = qs + (size_t)b * 256;
        for (int h = 0; h < 2; h++) {
            const __m256 dx = KSUF(rp_e8m0_half8)(g + (size_t)b * QUANT_RP_ROWS + 8 * h);
            __m256i w[8];
            KUNROLL8 for (int m = 0; m < 4; m++) {
                const __m256i v = _mm256_loadu_si256((const __m256i *)(q + 64 * m + 32 * h));
                if (NC == 1 && h == 0) /* generation: the weights stream from memory once */
                    _mm_prefetch((const char *)(q + 64 * m + Z_RP_PREFETCH), _MM_HINT_T0);
                w[m] = _mm256_shuffle_epi8(tbl, _mm256_and_si256(v, m4));
                w[m + 4] = _mm256_shuffle_epi8(tbl, _mm256_and_si256(_mm256_srli_epi16(v, 4), m4));
            }
            KUNROLL8 for (int c = 0; c < NC; c++) {
                const block_q8_0s *yb = (const block_q8_0s *)(y + (size_t)c * by) + b;
                const __m256i ia = KSUF(rp_dot)(_mm256_set1_epi32(-12 * yb->s), w, yb->qs, 8, 24);
                acc[c][h] = _mm256_fmadd_ps(_mm256_mul_ps(dx, _mm256_set1_ps(yb->d)),
                                            _mm256_cvtepi32_ps(ia), acc[c][h]);
            }
        }
    }
    KUNROLL8 for (int c = 0; c < NC; c++) {
        _mm256_storeu_ps(s + (size_t)c * bs, acc[c][0]);
        _mm256_storeu_ps(s + (size_t)c * bs + 8, acc[c][1]);
    }
}

KATTR void KSUF(mxfp4x16_gemm)(int n, float *s, size_t bs, const void *vg, const void *vy,
                               size_t by, int nc) {
    Z_RP_COLS4(KSUF(mxfp4x16_gemm_n), n / QK_MXFP4)
}

/* Superblock i's half h of Q4_Kx16 x NC <= 4 Q8_K columns (RP_HALVES): per sub-block, per
 * decoded weight vector (u <= 15) the NC columns' steps (8 of them: 16-bit sums <= 30480),
 * then the rows' scales (rp_scaled: AVX2's vpmaddwd widens and scales at once); the mins
 * against the column's 32-value sums in 4 vpmaddwd, subtracted through acc[4 + c]. */
KATTR inline __attribute__((always_inline)) void KSUF(q4_Kx16_half)(
    const uint8_t *g0, const uint8_t *y, size_t by, int i, int h, __m256 *acc, const int NC) {
    const uint8_t *g = g0 + (size_t)i * Q4KX16_SB;
    const __m256i m4 = _mm256_set1_epi8(0x0F);
    const block_q8_K *yb[4];
    __m256i isum[4];
    KUNROLL8 for (int c = 0; c < NC; c++) {
        yb[c] = (const block_q8_K *)(y + (size_t)c * by) + i;
        isum[c] = _mm256_setzero_si256();
    }
    for (int j = 0; j < 8; j++) {
        const uint8_t *q = g + Q4KX16_QS + 512 * (j / 2) + 32 * h;
        __m256i t[4];
        KUNROLL8 for (int c = 0; c < NC; c++) t[c] = _mm256_setzero_si256();
        KUNROLL8 for (int m = 0; m < 8; m++) {
            __m256i v = _mm256_loadu_si256((const __m256i *)(q + 64 * m));
            if (NC == 1 && h == 0 && !(j & 1))
                _mm_prefetch((const char *)(q + 64 * m + Z_RP_PREFETCH), _MM_HINT_T0);
            if (j & 1) v = _mm256_srli_epi16(v, 4);
            const __m256i w = _mm256_and_si256(v, m4);
            KUNROLL8 for (int c = 0; c < NC; c++)
                t[c] = KSUF(rp_step)(t[c], w, yb[c]->qs + 32 * j + 4 * m);
        }
        const __m256i sc = KSUF(rp_scales)(g + Q4KX16_SC + 16 * j + 8 * h, 0);
        KUNROLL8 for (int c = 0; c < NC; c++)
            isum[c] = _mm256_add_epi32(isum[c], KSUF(rp_scaled)(t[c], sc));
    }
    const __m256 d = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(g + 16 * h)));
    const __m256 dmin = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(g + Q4KX16_DMIN + 16 * h)));
    KUNROLL8 for (int c = 0; c < NC; c++) {
        /* the 8 sums of 32 values (sub-blocks 0..7) as 16-bit pairs (2k, 2k + 1) */
        const __m256i pairs = _mm256_castsi128_si256(KSUF(q8k_sums32)(yb[c]->bsums));
        __m256i imin = _mm256_setzero_si256();
        KUNROLL8 for (int k = 0; k < 4; k++) {
            const __m256i mn = _mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *)(g + Q4KX16_MN + 32 * k + 16 * h)));
            const __m256i pk = _mm256_permutevar8x32_epi32(pairs, _mm256_set1_epi32(k));
            imin = _mm256_add_epi32(imin, _mm256_madd_epi16(mn, pk));
        }
        const __m256 yd = _mm256_set1_ps(yb[c]->d);
        acc[c] = _mm256_fmadd_ps(_mm256_mul_ps(d, yd), _mm256_cvtepi32_ps(isum[c]), acc[c]);
        acc[4 + c] = _mm256_fmadd_ps(_mm256_mul_ps(dmin, yd), _mm256_cvtepi32_ps(imin), acc[4 + c]);
    }
}

KATTR inline __attribute__((always_inline)) void KSUF(q4_Kx16_gemm_n)(
    int nsb, float *s, size_t bs, const uint8_t *g, const uint8_t *y, size_t by, const int NC) {
    RP_HALVES(NC, nsb, 1, KSUF(q4_Kx16_half), g, y, by);
}

KATTR void KSUF(q4_Kx16_gemm)(int n, float *s, size_t bs, const void *vg, const void *vy,
                              size_t by, int nc) {
    Z_RP_COLS4(KSUF(q4_Kx16_gemm_n), n / QK_K)
}

/* Superblock i's half hr of Q6_Kx16 x NC <= 4 Q8_K columns (RP_HALVES): per 16-value group
 * the 4 decoded 6-bit weight vectors (u <= 63) are shared by the columns, whose sums are the
 * signed products (u - 32) * y times the rows' scales, summed over the superblock. VNNI: each
 * group's sum starts at -32 * (the column's sum of the group), then vpmulld. AVX2: 2 steps of
 * 16-bit sums (<= 32004) at a time, widened and scaled by rp_scaled; the -32 offset of two
 * groups in one vpmaddwd of the column's two group sums with the rows' scales times -32. */
KATTR inline __attribute__((always_inline)) void KSUF(q6_Kx16_half)(
    const uint8_t *g0, const uint8_t *y, size_t by, int i, int hr, __m256 *acc, const int NC) {
    const uint8_t *g = g0 + (size_t)i * Q6KX16_SB;
    const __m256i m4 = _mm256_set1_epi8(0x0F), m30 = _mm256_set1_epi8(0x30);
    const block_q8_K *yb[4];
    __m256i isum[4];
    KUNROLL8 for (int c = 0; c < NC; c++) {
        yb[c] = (const block_q8_K *)(y + (size_t)c * by) + i;
        isum[c] = _mm256_setzero_si256();
    }
    for (int h = 0; h < 2; h++) {
        const uint8_t *ql = g + Q6KX16_QL + 1024 * h + 32 * hr;
        const uint8_t *qh = g + Q6KX16_QH + 512 * h + 32 * hr;
        if (NC == 1 && hr == 0) { /* generation: the weights stream from memory once */
            KUNROLL8 for (int m = 0; m < 16; m++)
                _mm_prefetch((const char *)(ql + 64 * m + Z_RP_PREFETCH), _MM_HINT_T0);
            KUNROLL8 for (int m = 0; m < 8; m++)
                _mm_prefetch((const char *)(qh + 64 * m + Z_RP_PREFETCH), _MM_HINT_T0);
        }
        for (int k = 0; k < 4; k++) {
            const int k16 = 8 * h + 2 * k; /* the first of the two 16-value groups */
            const uint8_t *sc = g + Q6KX16_SC + 16 * k16 + 8 * hr;
#if !KRP_VNNI
            const __m256i off = _mm256_mullo_epi16(_mm256_cvtepi8_epi16(_mm_unpacklo_epi8(
                _mm_loadl_epi64((const __m128i *)sc), _mm_loadl_epi64((const __m128i *)(sc + 16)))),
                _mm256_set1_epi16(-32));
            KUNROLL8 for (int c = 0; c < NC; c++)
                isum[c] = _mm256_add_epi32(isum[c], _mm256_madd_epi16(
                    _mm256_set1_epi32((int32_t)((uint32_t)(uint16_t)yb[c]->bsums[k16] |
                                                (uint32_t)(uint16_t)yb[c]->bsums[k16 + 1] << 16)), off));
#endif
            KUNROLL8 for (int e = 0; e < 2; e++) { /* group k16 + e: vectors 4e .. 4e + 3 */
                __m256i w[4];
                KUNROLL8 for (int j = 0; j < 4; j++) {
                    __m256i lo = _mm256_loadu_si256((const __m256i *)(ql + 64 * (4 * e + j + 8 * (k & 1))));
                    __m256i hi = _mm256_loadu_si256((const __m256i *)(qh + 64 * (4 * e + j)));
                    lo = k >= 2 ? _mm256_srli_epi16(lo, 4) : lo;
                    hi = k == 0 ? _mm256_slli_epi16(hi, 4)
                       : k == 1 ? _mm256_slli_epi16(hi, 2)
                       : k == 2 ? hi : _mm256_srli_epi16(hi, 2);
                    w[j] = _mm256_or_si256(_mm256_and_si256(lo, m4), _mm256_and_si256(hi, m30));
                }
                const __m256i scv = KSUF(rp_scales)(sc + 16 * e, 1);
                KUNROLL8 for (int c = 0; c < NC; c++) {
                    const int8_t *yq = yb[c]->qs + 128 * h + 32 * k + 16 * e;
#if KRP_VNNI
                    __m256i t = KSUF(rp_start)(_mm256_set1_epi32(-32 * yb[c]->bsums[k16 + e]));
                    KUNROLL8 for (int j = 0; j < 4; j++) t = KSUF(rp_step)(t, w[j], yq + 4 * j);
                    isum[c] = _mm256_add_epi32(isum[c], KSUF(rp_scaled)(t, scv));
#else
                    KUNROLL8 for (int j = 0; j < 4; j += 2) {
                        const __m256i t = KSUF(rp_step)(KSUF(rp_step)(_mm256_setzero_si256(),
                                                                      w[j], yq + 4 * j),
                                                        w[j + 1], yq + 4 * j + 4);
                        isum[c] = _mm256_add_epi32(isum[c], KSUF(rp_scaled)(t, scv));
                    }
#endif
                }
            }
        }
    }
    const __m256 d = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(g + 16 * hr)));
    KUNROLL8 for (int c = 0; c < NC; c++)
        acc[c] = _mm256_fmadd_ps(_mm256_mul_ps(d, _mm256_set1_ps(yb[c]->d)),
                                 _mm256_cvtepi32_ps(isum[c]), acc[c]);
}

KATTR inline __attribute__((always_inline)) void KSUF(q6_Kx16_gemm_n)(
    int nsb, float *s, size_t bs, const uint8_t *g, const uint8_t *y, size_t by, const int NC) {
    RP_HALVES(NC, nsb, 0, KSUF(q6_Kx16_half), g, y, by);
}

KATTR void KSUF(q6_Kx16_gemm)(int n, float *s, size_t bs, const void *vg, const void *vy,
                              size_t by, int nc) {
    Z_RP_COLS4(KSUF(q6_Kx16_gemm_n), n / QK_K)
}
