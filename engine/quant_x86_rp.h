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

/* Q4_0x16 / Q8_0x16 x NC <= 4 Q8_0S columns. Q4_0 (Q8 = 0): the nibbles u <= 15, the -8 offset
 * from the block sum. Q8_0 (Q8 = 1) with AVX-VNNI: u = q + 128, the -128 offset from the block
 * sum; with AVX2, u would saturate vpmaddubsw, so the signed quant w = u ^ 0x80 goes in as
 * maddubs(|w|, sign(y, w)) (pair sums <= 2 * 128 * 127), widened at every step. */
KATTR inline __attribute__((always_inline)) void KSUF(rp32_gemm_n)(
    const int Q8, int nb, float *s, size_t bs, const uint8_t *g, const uint8_t *y, size_t by,
    const int NC) {
    const int QB = Q8 ? 512 : 256;
    const uint8_t *qs = g + (size_t)nb * QUANT_RP_ROWS * 2;
    const __m256i m4 = _mm256_set1_epi8(0x0F);
    __m256 acc[4][2];
    KUNROLL8 for (int c = 0; c < NC; c++) acc[c][0] = acc[c][1] = _mm256_setzero_ps();
    for (int b = 0; b < nb; b++) {
        const uint8_t *q = qs + (size_t)b * QB;
        for (int h = 0; h < 2; h++) {
            const __m256 dx = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(g + (size_t)b * 32 + 16 * h)));
            __m256i ia[4];
            if (!Q8 || KRP_VNNI) {
                __m256i w[8];
                KUNROLL8 for (int m = 0; m < QB / 64; m++) {
                    const __m256i v = _mm256_loadu_si256((const __m256i *)(q + 64 * m + 32 * h));
                    if (NC == 1 && h == 0) /* generation: the weights stream from memory once */
                        _mm_prefetch((const char *)(q + 64 * m + Z_RP_PREFETCH), _MM_HINT_T0);
                    if (!Q8) { /* nibbles: values 4m.. low, 16 + 4m.. high */
                        w[m] = _mm256_and_si256(v, m4);
                        w[m + 4] = _mm256_and_si256(_mm256_srli_epi16(v, 4), m4);
                    } else {
                        w[m] = v;
                    }
                }
                KUNROLL8 for (int c = 0; c < NC; c++) {
                    const block_q8_0s *yb = (const block_q8_0s *)(y + (size_t)c * by) + b;
                    ia[c] = KSUF(rp_dot)(_mm256_set1_epi32((Q8 ? -128 : -8) * yb->s), w, yb->qs,
                                         8, Q8 ? 255 : 15);
                }
            } else {
                const __m256i x80 = _mm256_set1_epi8((char)0x80), ones = _mm256_set1_epi16(1);
                KUNROLL8 for (int c = 0; c < NC; c++) ia[c] = _mm256_setzero_si256();
                for (int p = 0; p < 2; p++) { /* 4 vectors at a time: w and |w| in 8 registers */
                    __m256i w[4], wa[4];
                    KUNROLL8 for (int m = 0; m < 4; m++) {
                        const uint8_t *qm = q + 64 * (4 * p + m);
                        if (NC == 1 && h == 0)
                            _mm_prefetch((const char *)(qm + Z_RP_PREFETCH), _MM_HINT_T0);
                        w[m] = _mm256_xor_si256(_mm256_loadu_si256((const __m256i *)(qm + 32 * h)), x80);
                        wa[m] = _mm256_abs_epi8(w[m]);
                    }
                    KUNROLL8 for (int c = 0; c < NC; c++) {
                        const int8_t *yq = ((const block_q8_0s *)(y + (size_t)c * by) + b)->qs + 16 * p;
                        KUNROLL8 for (int m = 0; m < 4; m++)
                            ia[c] = _mm256_add_epi32(ia[c], _mm256_madd_epi16(_mm256_maddubs_epi16(
                                wa[m], _mm256_sign_epi8(KSUF(rp_bcast32)(yq + 4 * m), w[m])), ones));
                    }
                }
            }
            KUNROLL8 for (int c = 0; c < NC; c++) {
                const block_q8_0s *yb = (const block_q8_0s *)(y + (size_t)c * by) + b;
                acc[c][h] = _mm256_fmadd_ps(_mm256_mul_ps(dx, _mm256_set1_ps(yb->d)),
                                            _mm256_cvtepi32_ps(ia[c]), acc[c][h]);
            }
        }
    }
    KUNROLL8 for (int c = 0; c < NC; c++) {
        _mm256_storeu_ps(s + (size_t)c * bs, acc[c][0]);
        _mm256_storeu_ps(s + (size_t)c * bs + 8, acc[c][1]);
    }
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

/* Q4_Kx16 x NC <= 4 Q8_K columns, each half of the rows in turn per superblock: per sub-block
 * the 8 decoded weight vectors (u <= 15) are shared by the columns, vpmulld applies the row's
 * scale; the mins against the column's 32-value sums in 4 vpmaddwd. */
KATTR inline __attribute__((always_inline)) void KSUF(q4_Kx16_gemm_n)(
    int nsb, float *s, size_t bs, const uint8_t *g, const uint8_t *y, size_t by, const int NC) {
    const __m256i m4 = _mm256_set1_epi8(0x0F);
    __m256 acc[4][2], accm[4][2];
    KUNROLL8 for (int c = 0; c < NC; c++)
        acc[c][0] = acc[c][1] = accm[c][0] = accm[c][1] = _mm256_setzero_ps();
    for (int i = 0; i < nsb; i++, g += Q4KX16_SB) {
        for (int h = 0; h < 2; h++) {
            __m256i isum[4];
            KUNROLL8 for (int c = 0; c < NC; c++) isum[c] = _mm256_setzero_si256();
            for (int j = 0; j < 8; j++) {
                const __m256i sc = _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(g + Q4KX16_SC + 16 * j + 8 * h)));
                const uint8_t *q = g + Q4KX16_QS + 512 * (j / 2) + 32 * h;
                __m256i w[8];
                KUNROLL8 for (int m = 0; m < 8; m++) {
                    __m256i v = _mm256_loadu_si256((const __m256i *)(q + 64 * m));
                    if (NC == 1 && h == 0 && !(j & 1))
                        _mm_prefetch((const char *)(q + 64 * m + Z_RP_PREFETCH), _MM_HINT_T0);
                    if (j & 1) v = _mm256_srli_epi16(v, 4);
                    w[m] = _mm256_and_si256(v, m4);
                }
                KUNROLL8 for (int c = 0; c < NC; c++) {
                    const int8_t *yq = ((const block_q8_K *)(y + (size_t)c * by) + i)->qs + 32 * j;
                    const __m256i t = KSUF(rp_dot)(_mm256_setzero_si256(), w, yq, 8, 15);
                    isum[c] = _mm256_add_epi32(isum[c], _mm256_mullo_epi32(t, sc));
                }
            }
            const __m256 d = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(g + 16 * h)));
            const __m256 dmin = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(g + Q4KX16_DMIN + 16 * h)));
            KUNROLL8 for (int c = 0; c < NC; c++) {
                const block_q8_K *yb = (const block_q8_K *)(y + (size_t)c * by) + i;
                /* the 8 sums of 32 values (sub-blocks 0..7) as 16-bit pairs (2k, 2k + 1) */
                const __m256i pairs = _mm256_castsi128_si256(KSUF(q8k_sums32)(yb->bsums));
                __m256i imin = _mm256_setzero_si256();
                KUNROLL8 for (int k = 0; k < 4; k++) {
                    const __m256i mn = _mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *)(g + Q4KX16_MN + 32 * k + 16 * h)));
                    const __m256i pk = _mm256_permutevar8x32_epi32(pairs, _mm256_set1_epi32(k));
                    imin = _mm256_add_epi32(imin, _mm256_madd_epi16(mn, pk));
                }
                const __m256 yd = _mm256_set1_ps(yb->d);
                acc[c][h] = _mm256_fmadd_ps(_mm256_mul_ps(d, yd), _mm256_cvtepi32_ps(isum[c]), acc[c][h]);
                accm[c][h] = _mm256_fmadd_ps(_mm256_mul_ps(dmin, yd), _mm256_cvtepi32_ps(imin), accm[c][h]);
            }
        }
    }
    KUNROLL8 for (int c = 0; c < NC; c++) {
        _mm256_storeu_ps(s + (size_t)c * bs, _mm256_sub_ps(acc[c][0], accm[c][0]));
        _mm256_storeu_ps(s + (size_t)c * bs + 8, _mm256_sub_ps(acc[c][1], accm[c][1]));
    }
}

KATTR void KSUF(q4_Kx16_gemm)(int n, float *s, size_t bs, const void *vg, const void *vy,
                              size_t by, int nc) {
    Z_RP_COLS4(KSUF(q4_Kx16_gemm_n), n / QK_K)
}

/* Q6_Kx16 x NC <= 4 Q8_K columns, each half of the rows in turn per superblock: per 32 values
 * (k) the 8 decoded 6-bit weight vectors (u <= 63) are shared by the columns; each 16-value
 * group's sum starts at -32 * (the column's sum of the group), so it is the signed product,
 * then is multiplied by the rows' scales (vpmulld) and summed over the superblock. */
KATTR inline __attribute__((always_inline)) void KSUF(q6_Kx16_gemm_n)(
    int nsb, float *s, size_t bs, const uint8_t *g, const uint8_t *y, size_t by, const int NC) {
    const __m256i m4 = _mm256_set1_epi8(0x0F), m30 = _mm256_set1_epi8(0x30);
    __m256 acc[4][2];
    KUNROLL8 for (int c = 0; c < NC; c++) acc[c][0] = acc[c][1] = _mm256_setzero_ps();
    for (int i = 0; i < nsb; i++, g += Q6KX16_SB) {
        for (int hr = 0; hr < 2; hr++) { /* rows 8 hr .. 8 hr + 7 */
            __m256i isum[4];
            KUNROLL8 for (int c = 0; c < NC; c++) isum[c] = _mm256_setzero_si256();
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
                    const __m256i sc0 = _mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)(g + Q6KX16_SC + 16 * k16 + 8 * hr)));
                    const __m256i sc1 = _mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)(g + Q6KX16_SC + 16 * k16 + 16 + 8 * hr)));
                    __m256i w[8];
                    KUNROLL8 for (int j = 0; j < 8; j++) {
                        __m256i lo = _mm256_loadu_si256((const __m256i *)(ql + 64 * (j + 8 * (k & 1))));
                        __m256i hi = _mm256_loadu_si256((const __m256i *)(qh + 64 * j));
                        lo = k >= 2 ? _mm256_srli_epi16(lo, 4) : lo;
                        hi = k == 0 ? _mm256_slli_epi16(hi, 4)
                           : k == 1 ? _mm256_slli_epi16(hi, 2)
                           : k == 2 ? hi : _mm256_srli_epi16(hi, 2);
                        w[j] = _mm256_or_si256(_mm256_and_si256(lo, m4), _mm256_and_si256(hi, m30));
                    }
                    KUNROLL8 for (int c = 0; c < NC; c++) {
                        const block_q8_K *yb = (const block_q8_K *)(y + (size_t)c * by) + i;
                        const int8_t *yq = yb->qs + 128 * h + 32 * k;
                        const __m256i t0 = KSUF(rp_dot)(_mm256_set1_epi32(-32 * yb->bsums[k16]), w, yq, 4, 63);
                        const __m256i t1 = KSUF(rp_dot)(_mm256_set1_epi32(-32 * yb->bsums[k16 + 1]), w + 4, yq + 16, 4, 63);
                        isum[c] = _mm256_add_epi32(isum[c], _mm256_add_epi32(_mm256_mullo_epi32(t0, sc0),
                                                                             _mm256_mullo_epi32(t1, sc1)));
                    }
                }
            }
            const __m256 d = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(g + 16 * hr)));
            KUNROLL8 for (int c = 0; c < NC; c++) {
                const block_q8_K *yb = (const block_q8_K *)(y + (size_t)c * by) + i;
                acc[c][hr] = _mm256_fmadd_ps(_mm256_mul_ps(d, _mm256_set1_ps(yb->d)),
                                             _mm256_cvtepi32_ps(isum[c]), acc[c][hr]);
            }
        }
    }
    KUNROLL8 for (int c = 0; c < NC; c++) {
        _mm256_storeu_ps(s + (size_t)c * bs, acc[c][0]);
        _mm256_storeu_ps(s + (size_t)c * bs + 8, acc[c][1]);
    }
}

KATTR void KSUF(q6_Kx16_gemm)(int n, float *s, size_t bs, const void *vg, const void *vy,
                              size_t by, int nc) {
    Z_RP_COLS4(KSUF(q6_Kx16_gemm_n), n / QK_K)
}
