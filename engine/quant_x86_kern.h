/* engine/quant_x86_kern.h — the body of the x86 SIMD kernels, included by quant_x86.c once per
 * instruction set with KSUF(name) (suffix), KATTR (static + target attribute) and DPB(acc, u, s)
 * (acc += dot of 4 unsigned x signed bytes per i32 lane: maddubs+madd on AVX2, vpdpbusd with
 * VNNI). 256-bit vectors throughout (AVX2 has 16 registers, AVX-512VL 32: the tiles use them).
 * Pure; any thread. Not a standalone header. */

/* ---------------- helpers ---------------- */

KATTR inline float KSUF(hsum8)(__m256 v) {
    __m128 r = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    r = _mm_add_ps(r, _mm_movehl_ps(r, r));
    r = _mm_add_ss(r, _mm_movehdup_ps(r));
    return _mm_cvtss_f32(r);
}

KATTR inline float KSUF(h2f)(uint16_t h) {
    return _cvtsh_ss(h);
}

/* The 32 nibbles of 16 bytes: low nibbles in bytes 0..15, high nibbles in 16..31. */
KATTR inline __m256i KSUF(nib32)(const uint8_t *qs) {
    const __m128i b = _mm_loadu_si128((const __m128i *)qs);
    const __m256i v = _mm256_set_m128i(_mm_srli_epi16(b, 4), b);
    return _mm256_and_si256(v, _mm256_set1_epi8(0x0F));
}

/* Byte j = 0xFF when bit j of x is set. */
KATTR inline __m256i KSUF(bits32)(uint32_t x) {
    const __m256i shuf = _mm256_setr_epi64x(0x0000000000000000, 0x0101010101010101,
                                            0x0202020202020202, 0x0303030303030303);
    const __m256i bm = _mm256_set1_epi64x((int64_t)0x8040201008040201ull);
    const __m256i v = _mm256_shuffle_epi8(_mm256_set1_epi32((int32_t)x), shuf);
    return _mm256_cmpeq_epi8(_mm256_and_si256(v, bm), bm);
}

/* Signed x signed bytes (|x|, |y| <= 127, or x = -128): 8 i32 lane sums. */
KATTR inline __m256i KSUF(dot_ss)(__m256i x, __m256i y) {
    return DPB(_mm256_setzero_si256(), _mm256_sign_epi8(x, x), _mm256_sign_epi8(y, x));
}

/* Signed x signed bytes -> 16 i16 pair sums (|x| <= 127 or x = -128, |y| <= 127). */
KATTR inline __m256i KSUF(dot_ss16)(__m256i x, __m256i y) {
    return _mm256_maddubs_epi16(_mm256_sign_epi8(x, x), _mm256_sign_epi8(y, x));
}

/* acc += the i16 pair products p16 times the i16 scales sc, widened to i32 lanes */
#ifdef KAVX512
#define KIQ_ACC(acc, p16, sc) _mm256_dpwssd_epi32((acc), (p16), (sc))
#else
#define KIQ_ACC(acc, p16, sc) _mm256_add_epi32((acc), _mm256_madd_epi16((p16), (sc)))
#endif

/* ---------------- blocks of 32 against Q8_0 ---------------- */

/* The integer dot of one x block (decoded to unsigned bytes minus K, or signed bytes when
 * K < 0) with one Q8_0 block, as 8 i32 lanes; NAME##_blk. */
#define KBLK32(NAME, XT, DECODE, K)                                                         \
    KATTR inline __m256i KSUF(NAME##_blk)(const XT *xb, const block_q8_0 *yb) {             \
        __m256i xv;                                                                         \
        DECODE;                                                                             \
        const __m256i yv = _mm256_loadu_si256((const __m256i *)yb->qs);                     \
        if ((K) < 0) return KSUF(dot_ss)(xv, yv);                                           \
        __m256i p = DPB(_mm256_setzero_si256(), xv, yv);                                    \
        if ((K) > 0)                                                                        \
            p = _mm256_sub_epi32(p, DPB(_mm256_setzero_si256(), _mm256_set1_epi8(K), yv));  \
        return p;                                                                           \
    }

/* vec_dot over blocks of 32 against Q8_0: four accumulators (blocks i % 4). */
#define KVEC_DOT32(NAME, XT)                                                                \
    KATTR void KSUF(NAME##_vec_dot)(int n, float *s, const void *vx, const void *vy) {      \
        const XT *x = vx;                                                                   \
        const block_q8_0 *y = vy;                                                           \
        const int nb = n / 32;                                                              \
        __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;                         \
        int i = 0;                                                                          \
        _Pragma("GCC unroll 1")                                                             \
        for (; i + 4 <= nb; i += 4) {                                                       \
            a0 = KSUF(fma_blk)(KSUF(NAME##_blk)(x + i, y + i), x[i].d, y[i].d, a0);         \
            a1 = KSUF(fma_blk)(KSUF(NAME##_blk)(x + i + 1, y + i + 1), x[i + 1].d,          \
                               y[i + 1].d, a1);                                             \
            a2 = KSUF(fma_blk)(KSUF(NAME##_blk)(x + i + 2, y + i + 2), x[i + 2].d,          \
                               y[i + 2].d, a2);                                             \
            a3 = KSUF(fma_blk)(KSUF(NAME##_blk)(x + i + 3, y + i + 3), x[i + 3].d,          \
                               y[i + 3].d, a3);                                             \
        }                                                                                   \
        for (; i < nb; i++)                                                                 \
            a0 = KSUF(fma_blk)(KSUF(NAME##_blk)(x + i, y + i), x[i].d, y[i].d, a0);         \
        *s = KSUF(hsum8)(_mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)));      \
    }

/* acc + float(p) * dx * dy */
KATTR inline __m256 KSUF(fma_blk)(__m256i p, uint16_t dx, uint16_t dy, __m256 acc) {
    return _mm256_fmadd_ps(_mm256_set1_ps(KSUF(h2f)(dx) * KSUF(h2f)(dy)), _mm256_cvtepi32_ps(p), acc);
}

KBLK32(q4_0, block_q4_0, xv = KSUF(nib32)(xb->qs), 8)
KBLK32(q8_0, block_q8_0, xv = _mm256_loadu_si256((const __m256i *)xb->qs), -1)
KBLK32(q5_0, block_q5_0,
       uint32_t qh; memcpy(&qh, xb->qh, 4);
       xv = _mm256_or_si256(KSUF(nib32)(xb->qs),
                            _mm256_and_si256(KSUF(bits32)(qh), _mm256_set1_epi8(0x10))), 16)
KBLK32(iq4_nl, block_iq4_nl,
       xv = _mm256_shuffle_epi8(
           _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)quant_kvalues_iq4nl)),
           KSUF(nib32)(xb->qs)), -1)
KVEC_DOT32(q4_0, block_q4_0)
KVEC_DOT32(q8_0, block_q8_0)
KVEC_DOT32(q5_0, block_q5_0)
KVEC_DOT32(iq4_nl, block_iq4_nl)

/* Against Q8_1: unsigned x, plus m * s per block; one accumulator, as ggml (so that results
 * match llama.cpp's bit for bit). */
#define KVEC_DOT32_1(NAME, XT, DECODE)                                                      \
    KATTR inline __m256 KSUF(NAME##_step)(const XT *xb, const block_q8_1 *yb, __m256 acc) { \
        __m256i xv;                                                                         \
        DECODE;                                                                             \
        const __m256i yv = _mm256_loadu_si256((const __m256i *)yb->qs);                     \
        const __m256i p = DPB(_mm256_setzero_si256(), xv, yv);                              \
        return KSUF(fma_blk)(p, xb->d, yb->d, acc);                                         \
    }                                                                                       \
    KATTR void KSUF(NAME)(int n, float *s, const void *vx, const void *vy) {                \
        const XT *x = vx;                                                                   \
        const block_q8_1 *y = vy;                                                           \
        const int nb = n / 32;                                                              \
        __m256 acc = _mm256_setzero_ps();                                                   \
        float summs = 0.0f;                                                                 \
        for (int i = 0; i < nb; i++) {                                                      \
            summs += KSUF(h2f)(x[i].m) * KSUF(h2f)(y[i].s);                                 \
            acc = KSUF(NAME##_step)(x + i, y + i, acc);                                     \
        }                                                                                   \
        *s = KSUF(hsum8)(acc) + summs;                                                      \
    }

KVEC_DOT32_1(q4_1_vec_dot, block_q4_1, xv = KSUF(nib32)(xb->qs))
KVEC_DOT32_1(q5_1_vec_dot, block_q5_1,
             uint32_t qh; memcpy(&qh, xb->qh, 4);
             xv = _mm256_or_si256(KSUF(nib32)(xb->qs),
                                  _mm256_and_si256(KSUF(bits32)(qh), _mm256_set1_epi8(0x10))))

/* ---------------- K-quants against Q8_K ---------------- */

/* 16 i16 lanes: the low 8 get a, the high 8 get b (the two 16-value halves of 32 bytes). */
KATTR inline __m256i KSUF(scale2)(int a, int b) {
    return _mm256_set_m128i(_mm_set1_epi16((short)b), _mm_set1_epi16((short)a));
}

/* Q4_K / Q5_K scales: 8 scales (i16 lanes 0..7) and 8 mins (lanes 8..15). */
KATTR inline __m256i KSUF(k4_scales16)(const uint8_t *q) {
    const uint32_t kmask1 = 0x3f3f3f3f, kmask2 = 0x0f0f0f0f, kmask3 = 0x03030303;
    uint32_t u[4];
    memcpy(u, q, 12);
    u[3] = ((u[2] >> 4) & kmask2) | (((u[1] >> 6) & kmask3) << 4);
    const uint32_t aux = u[1] & kmask1;
    u[1] = (u[2] & kmask2) | (((u[0] >> 6) & kmask3) << 4);
    u[2] = aux;
    u[0] &= kmask1;
    return _mm256_cvtepu8_epi16(_mm_set_epi32((int)u[3], (int)u[2], (int)u[1], (int)u[0]));
}

/* The 8 sums of 32 activations of a Q8_K block (bsums[2j] + bsums[2j+1]) as i16 lanes 0..7:
 * what the mins of Q4_K / Q5_K sub-blocks multiply (every Q4_K kernel, tiles and repacked). */
KATTR inline __m128i KSUF(q8k_sums32)(const int16_t *bsums) {
    return _mm_hadd_epi16(_mm_loadu_si128((const __m128i *)bsums),
                          _mm_loadu_si128((const __m128i *)(bsums + 8)));
}

/* sum_j mins[j] * (bsums[2j] + bsums[2j+1]) as 4 i32 lanes (mins as i16 lanes 0..7). */
KATTR inline __m128i KSUF(k4_mins)(const int16_t *bsums, __m128i mins) {
    return _mm_madd_epi16(mins, KSUF(q8k_sums32)(bsums));
}

/* i16 scale k (0..7) of a 128-bit vector of 8 scales, broadcast to 16 lanes. */
KATTR inline __m256i KSUF(k4_bcast)(__m256i sc2, int k) {
    const __m256i idx = _mm256_set1_epi16((short)(0x0100 + 0x0202 * k));
    return _mm256_shuffle_epi8(sc2, idx);
}

/* MINS_SCALAR: ggml keeps Q4_K's mins in a 4-lane float accumulator, Q5_K's in a scalar sum
 * of whole-block integer sums; either way the result matches ggml's bit for bit. */
#define KQK_BODY(HIGH_BITS, MINS_SCALAR)                                                    \
    const int nb = n / QK_K;                                                                \
    const __m256i m4 = _mm256_set1_epi8(0x0F);                                              \
    __m256 acc = _mm256_setzero_ps();                                                       \
    __m128 accm = _mm_setzero_ps();                                                         \
    float summs = 0.0f;                                                                     \
    for (int i = 0; i < nb; i++) {                                                          \
        const float d = y[i].d * KSUF(h2f)(x[i].d), dmin = y[i].d * KSUF(h2f)(x[i].dmin);   \
        const __m256i ms = KSUF(k4_scales16)(x[i].scales);                                  \
        const __m128i prod = KSUF(k4_mins)(y[i].bsums, _mm256_extracti128_si256(ms, 1));    \
        if (MINS_SCALAR) {                                                                  \
            __m128i t = _mm_add_epi32(prod, _mm_unpackhi_epi64(prod, prod));                \
            t = _mm_add_epi32(t, _mm_shuffle_epi32(t, 0xB1));                               \
            summs += -dmin * (float)_mm_cvtsi128_si32(t);                                   \
        } else {                                                                            \
            accm = _mm_fmadd_ps(_mm_set1_ps(dmin), _mm_cvtepi32_ps(prod), accm);            \
        }                                                                                   \
        const __m256i sc2 = _mm256_broadcastsi128_si256(_mm256_castsi256_si128(ms));        \
        const uint8_t *q4 = x[i].qs;                                                        \
        const int8_t *q8 = y[i].qs;                                                         \
        __m256i sumi = _mm256_setzero_si256();                                              \
        for (int j = 0; j < 4; j++) {                                                       \
            const __m256i q = _mm256_loadu_si256((const __m256i *)(q4 + 32 * j));           \
            __m256i lo = _mm256_and_si256(q, m4);                                           \
            __m256i hi = _mm256_and_si256(_mm256_srli_epi16(q, 4), m4);                     \
            HIGH_BITS;                                                                      \
            const __m256i y0 = _mm256_loadu_si256((const __m256i *)(q8 + 64 * j));          \
            const __m256i y1 = _mm256_loadu_si256((const __m256i *)(q8 + 64 * j + 32));     \
            const __m256i p0 = _mm256_madd_epi16(_mm256_maddubs_epi16(lo, y0),              \
                                                 KSUF(k4_bcast)(sc2, 2 * j));               \
            const __m256i p1 = _mm256_madd_epi16(_mm256_maddubs_epi16(hi, y1),              \
                                                 KSUF(k4_bcast)(sc2, 2 * j + 1));           \
            sumi = _mm256_add_epi32(sumi, _mm256_add_epi32(p0, p1));                        \
        }                                                                                   \
        acc = _mm256_fmadd_ps(_mm256_set1_ps(d), _mm256_cvtepi32_ps(sumi), acc);            \
    }                                                                                       \
    __m128 m = _mm_add_ps(accm, _mm_movehl_ps(accm, accm));                                 \
    m = _mm_add_ss(m, _mm_movehdup_ps(m));                                                  \
    *s = MINS_SCALAR ? KSUF(hsum8)(acc) + summs : KSUF(hsum8)(acc) - _mm_cvtss_f32(m);

KATTR void KSUF(q4_K_vec_dot)(int n, float *s, const void *vx, const void *vy) {
    const block_q4_K *x = vx;
    const block_q8_K *y = vy;
    KQK_BODY((void)0, 0)
}

KATTR void KSUF(q5_K_vec_dot)(int n, float *s, const void *vx, const void *vy) {
    const block_q5_K *x = vx;
    const block_q8_K *y = vy;
    const __m256i b16 = _mm256_set1_epi8(0x10);
    /* bit 2j of qh -> 0x10 for the low nibbles, bit 2j+1 for the high ones */
    KQK_BODY(const __m256i qh = _mm256_loadu_si256((const __m256i *)x[i].qh);
             lo = _mm256_or_si256(lo, _mm256_and_si256(
                      _mm256_slli_epi16(_mm256_srli_epi16(qh, 2 * j), 4), b16));
             hi = _mm256_or_si256(hi, _mm256_and_si256(
                      _mm256_slli_epi16(_mm256_srli_epi16(qh, 2 * j + 1), 4), b16)), 1)
}

/* The four 32-value groups of one 128-value half of a Q6_K block, unsigned 0..63. */
KATTR inline void KSUF(q6_K_half)(const uint8_t *ql, const uint8_t *qh, __m256i q[4]) {
    const __m256i m4 = _mm256_set1_epi8(0x0F), m30 = _mm256_set1_epi8(0x30);
    const __m256i l0 = _mm256_loadu_si256((const __m256i *)ql);
    const __m256i l1 = _mm256_loadu_si256((const __m256i *)(ql + 32));
    const __m256i h = _mm256_loadu_si256((const __m256i *)qh);
    q[0] = _mm256_or_si256(_mm256_and_si256(l0, m4), _mm256_and_si256(_mm256_slli_epi16(h, 4), m30));
    q[1] = _mm256_or_si256(_mm256_and_si256(l1, m4), _mm256_and_si256(_mm256_slli_epi16(h, 2), m30));
    q[2] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l0, 4), m4), _mm256_and_si256(h, m30));
    q[3] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l1, 4), m4),
                           _mm256_and_si256(_mm256_srli_epi16(h, 2), m30));
}

/* Q6_K x Q8_K integer sum of one block, in ggml's 8 lanes (scales applied; the -32 offset
 * taken off each pair of products, as ggml does, so every lane holds what ggml's holds). */
KATTR inline __m256i KSUF(q6_K_block)(const block_q6_K *x, const block_q8_K *y) {
    const __m256i m32s = _mm256_set1_epi8(32);
    __m256i sumi = _mm256_setzero_si256();
    for (int h = 0; h < 2; h++) {
        __m256i q[4];
        KSUF(q6_K_half)(x->ql + 64 * h, x->qh + 32 * h, q);
        for (int g = 0; g < 4; g++) {
            const int sb = 8 * h + 2 * g;
            const __m256i yv = _mm256_loadu_si256((const __m256i *)(y->qs + 128 * h + 32 * g));
            const __m256i p16 = _mm256_sub_epi16(_mm256_maddubs_epi16(q[g], yv),
                                                 _mm256_maddubs_epi16(m32s, yv));
            const __m256i p = _mm256_madd_epi16(p16, KSUF(scale2)(x->scales[sb], x->scales[sb + 1]));
            sumi = _mm256_add_epi32(sumi, p);
        }
    }
    return sumi;
}

KATTR void KSUF(q6_K_vec_dot)(int n, float *s, const void *vx, const void *vy) {
    const block_q6_K *x = vx;
    const block_q8_K *y = vy;
    const int nb = n / QK_K;
    __m256 acc = _mm256_setzero_ps();
    for (int i = 0; i < nb; i++) {
        const __m256i sumi = KSUF(q6_K_block)(&x[i], &y[i]);
        const float d = y[i].d * KSUF(h2f)(x[i].d);
        acc = _mm256_fmadd_ps(_mm256_set1_ps(d), _mm256_cvtepi32_ps(sumi), acc);
    }
    *s = KSUF(hsum8)(acc);
}

KATTR void KSUF(q2_K_vec_dot)(int n, float *s, const void *vx, const void *vy) {
    const block_q2_K *x = vx;
    const block_q8_K *y = vy;
    const int nb = n / QK_K;
    const __m256i m3 = _mm256_set1_epi8(3);
    __m256 acc = _mm256_setzero_ps();
    for (int i = 0; i < nb; i++) {
        const float d = y[i].d * KSUF(h2f)(x[i].d), dmin = -y[i].d * KSUF(h2f)(x[i].dmin);
        const __m128i sc8 = _mm_loadu_si128((const __m128i *)x[i].scales);
        const __m256i mins = _mm256_cvtepu8_epi16(_mm_and_si128(_mm_srli_epi16(sc8, 4), _mm_set1_epi8(0x0F)));
        const __m256i summ = _mm256_madd_epi16(_mm256_loadu_si256((const __m256i *)y[i].bsums), mins);
        __m256i sumi = _mm256_setzero_si256();
        for (int h = 0; h < 2; h++) {
            const __m256i q = _mm256_loadu_si256((const __m256i *)(x[i].qs + 32 * h));
            for (int g = 0; g < 4; g++) {
                const int sb = 8 * h + 2 * g;
                const __m256i qv = _mm256_and_si256(_mm256_srli_epi16(q, 2 * g), m3);
                const __m256i yv = _mm256_loadu_si256((const __m256i *)(y[i].qs + 128 * h + 32 * g));
                const __m256i p = _mm256_madd_epi16(_mm256_maddubs_epi16(qv, yv),
                    KSUF(scale2)(x[i].scales[sb] & 0x0F, x[i].scales[sb + 1] & 0x0F));
                sumi = _mm256_add_epi32(sumi, p);
            }
        }
        /* ggml's order: the mins (negative) first, then the scales, into one accumulator */
        acc = _mm256_fmadd_ps(_mm256_set1_ps(dmin), _mm256_cvtepi32_ps(summ), acc);
        acc = _mm256_fmadd_ps(_mm256_set1_ps(d), _mm256_cvtepi32_ps(sumi), acc);
    }
    *s = KSUF(hsum8)(acc);
}

KATTR void KSUF(q3_K_vec_dot)(int n, float *s, const void *vx, const void *vy) {
    const block_q3_K *x = vx;
    const block_q8_K *y = vy;
    const int nb = n / QK_K;
    const __m256i m3 = _mm256_set1_epi8(3), one = _mm256_set1_epi8(1), four = _mm256_set1_epi8(4);
    __m256 acc = _mm256_setzero_ps();
    for (int i = 0; i < nb; i++) {
        int8_t sc[16];
        quant_q3_K_scales(x[i].scales, sc);
        const float d = y[i].d * KSUF(h2f)(x[i].d);
        const __m256i hm = _mm256_loadu_si256((const __m256i *)x[i].hmask);
        __m256i sumi = _mm256_setzero_si256();
        for (int h = 0; h < 2; h++) {
            const __m256i q = _mm256_loadu_si256((const __m256i *)(x[i].qs + 32 * h));
            for (int g = 0; g < 4; g++) {
                const int sb = 8 * h + 2 * g, bit = 4 * h + g;
                const __m256i q2 = _mm256_and_si256(_mm256_srli_epi16(q, 2 * g), m3);
                const __m256i hb = _mm256_and_si256(_mm256_srli_epi16(hm, bit), one);
                /* value = q2 - 4 when the high bit is clear */
                const __m256i qv = _mm256_sub_epi8(q2, _mm256_andnot_si256(
                    _mm256_cmpeq_epi8(hb, one), four));
                const __m256i yv = _mm256_loadu_si256((const __m256i *)(y[i].qs + 128 * h + 32 * g));
                const __m256i p = _mm256_madd_epi16(KSUF(dot_ss16)(qv, yv),
                                                    KSUF(scale2)(sc[sb], sc[sb + 1]));
                sumi = _mm256_add_epi32(sumi, p);
            }
        }
        acc = _mm256_fmadd_ps(_mm256_set1_ps(d), _mm256_cvtepi32_ps(sumi), acc);
    }
    *s = KSUF(hsum8)(acc);
}

KATTR void KSUF(iq4_xs_vec_dot)(int n, float *s, const void *vx, const void *vy) {
    const block_iq4_xs *x = vx;
    const block_q8_K *y = vy;
    const int nb = n / QK_K;
    const __m256i kv =
        _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)quant_kvalues_iq4nl));
    __m256 acc = _mm256_setzero_ps();
    for (int i = 0; i < nb; i++) {
        const float d = y[i].d * KSUF(h2f)(x[i].d);
        __m256i sumi = _mm256_setzero_si256();
        for (int ib = 0; ib < 8; ib += 2) {
            const int ls0 = quant_iq4_xs_scale(&x[i], ib), ls1 = quant_iq4_xs_scale(&x[i], ib + 1);
            const __m256i x0 = _mm256_shuffle_epi8(kv, KSUF(nib32)(x[i].qs + 16 * ib));
            const __m256i x1 = _mm256_shuffle_epi8(kv, KSUF(nib32)(x[i].qs + 16 * ib + 16));
            const __m256i y0 = _mm256_loadu_si256((const __m256i *)(y[i].qs + 32 * ib));
            const __m256i y1 = _mm256_loadu_si256((const __m256i *)(y[i].qs + 32 * ib + 32));
            const __m256i p0 = _mm256_madd_epi16(KSUF(dot_ss16)(x0, y0), _mm256_set1_epi16((short)ls0));
            const __m256i p1 = _mm256_madd_epi16(KSUF(dot_ss16)(x1, y1), _mm256_set1_epi16((short)ls1));
            sumi = _mm256_add_epi32(sumi, _mm256_add_epi32(p0, p1));
        }
        acc = _mm256_fmadd_ps(_mm256_set1_ps(d), _mm256_cvtepi32_ps(sumi), acc);
    }
    *s = KSUF(hsum8)(acc);
}

/* ---------------- float types ---------------- */

KATTR void KSUF(f32_vec_dot)(int n, float *s, const void *vx, const void *vy) {
    const float *x = vx, *y = vy;
    __m256 acc[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(),
                     _mm256_setzero_ps()};
    int i = 0;
    for (; i + 32 <= n; i += 32)
        for (int k = 0; k < 4; k++)
            acc[k] = _mm256_fmadd_ps(_mm256_loadu_ps(x + i + 8 * k), _mm256_loadu_ps(y + i + 8 * k), acc[k]);
    for (; i + 8 <= n; i += 8)
        acc[0] = _mm256_fmadd_ps(_mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i), acc[0]);
    float sum = KSUF(hsum8)(_mm256_add_ps(_mm256_add_ps(acc[0], acc[1]), _mm256_add_ps(acc[2], acc[3])));
    for (; i < n; i++) sum += x[i] * y[i];
    *s = sum;
}

#define KLOAD_F16(p) _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(p)))
#define KLOAD_BF16(p) _mm256_castsi256_ps(_mm256_slli_epi32( \
    _mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)(p))), 16))

#define KVEC_DOT_H(NAME, LOAD, CVT)                                                         \
    KATTR void KSUF(NAME)(int n, float *s, const void *vx, const void *vy) {                \
        const uint16_t *x = vx, *y = vy;                                                    \
        __m256 acc[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(),     \
                         _mm256_setzero_ps()};                                              \
        int i = 0;                                                                          \
        for (; i + 32 <= n; i += 32)                                                        \
            for (int k = 0; k < 4; k++)                                                     \
                acc[k] = _mm256_fmadd_ps(LOAD(x + i + 8 * k), LOAD(y + i + 8 * k), acc[k]); \
        for (; i + 8 <= n; i += 8) acc[0] = _mm256_fmadd_ps(LOAD(x + i), LOAD(y + i), acc[0]); \
        float sum = KSUF(hsum8)(_mm256_add_ps(_mm256_add_ps(acc[0], acc[1]),                \
                                              _mm256_add_ps(acc[2], acc[3])));              \
        for (; i < n; i++) sum += CVT(x[i]) * CVT(y[i]);                                    \
        *s = sum;                                                                           \
    }

KVEC_DOT_H(f16_vec_dot, KLOAD_F16, quant_f16_to_f32)
KVEC_DOT_H(bf16_vec_dot, KLOAD_BF16, quant_bf16_to_f32)

KATTR float KSUF(f16_dot_f32)(int n, const uint16_t *x, const float *y) {
    __m256 acc[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(),
                     _mm256_setzero_ps()};
    int i = 0;
    for (; i + 32 <= n; i += 32)
        for (int k = 0; k < 4; k++)
            acc[k] = _mm256_fmadd_ps(KLOAD_F16(x + i + 8 * k), _mm256_loadu_ps(y + i + 8 * k), acc[k]);
    for (; i + 8 <= n; i += 8) acc[0] = _mm256_fmadd_ps(KLOAD_F16(x + i), _mm256_loadu_ps(y + i), acc[0]);
    float sum = KSUF(hsum8)(_mm256_add_ps(_mm256_add_ps(acc[0], acc[1]), _mm256_add_ps(acc[2], acc[3])));
    for (; i < n; i++) sum += quant_f16_to_f32(x[i]) * y[i];
    return sum;
}

KATTR void KSUF(f16_axpy)(int n, float a, const uint16_t *x, float *y) {
    const __m256 va = _mm256_set1_ps(a);
    int i = 0;
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(y + i, _mm256_fmadd_ps(va, KLOAD_F16(x + i), _mm256_loadu_ps(y + i)));
    for (; i < n; i++) y[i] = fmaf(a, quant_f16_to_f32(x[i]), y[i]);
}

KATTR void KSUF(f16_to_f32)(const uint16_t *x, float *y, int64_t n) {
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, KLOAD_F16(x + i));
    for (; i < n; i++) y[i] = quant_f16_to_f32(x[i]);
}

KATTR void KSUF(f32_to_f16)(const float *x, uint16_t *y, int64_t n) {
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm_storeu_si128((__m128i *)(y + i),
                         _mm256_cvtps_ph(_mm256_loadu_ps(x + i), _MM_FROUND_TO_NEAREST_INT));
    for (; i < n; i++) y[i] = quant_f32_to_f16(x[i]);
}

/* ---------------- activation quantizers (bit-identical to the scalar ones) ---------------- */

KATTR inline __m256 KSUF(absmax4)(const float *x, __m256 v[4]) {
    const __m256 sign = _mm256_set1_ps(-0.0f);
    __m256 mx = _mm256_setzero_ps();
    for (int k = 0; k < 4; k++) {
        v[k] = _mm256_loadu_ps(x + 8 * k);
        mx = _mm256_max_ps(mx, _mm256_andnot_ps(sign, v[k]));
    }
    __m128 m = _mm_max_ps(_mm256_castps256_ps128(mx), _mm256_extractf128_ps(mx, 1));
    m = _mm_max_ps(m, _mm_movehl_ps(m, m));
    m = _mm_max_ss(m, _mm_movehdup_ps(m));
    return _mm256_set1_ps(_mm_cvtss_f32(m));
}

/* 32 floats * id rounded to even and packed to bytes in order. */
KATTR inline __m256i KSUF(pack32)(const __m256 v[4], __m256 id) {
    __m256i i0 = _mm256_cvtps_epi32(_mm256_mul_ps(v[0], id));
    __m256i i1 = _mm256_cvtps_epi32(_mm256_mul_ps(v[1], id));
    __m256i i2 = _mm256_cvtps_epi32(_mm256_mul_ps(v[2], id));
    __m256i i3 = _mm256_cvtps_epi32(_mm256_mul_ps(v[3], id));
    i0 = _mm256_packs_epi32(i0, i1);
    i2 = _mm256_packs_epi32(i2, i3);
    i0 = _mm256_packs_epi16(i0, i2);
    return _mm256_permutevar8x32_epi32(i0, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
}

/* One Q8_0/Q8_1 block: stores the half scale d, returns the 32 quants (also stored). */
KATTR inline __m256i KSUF(q8_block)(const float *x, ggml_half *dh, int8_t *qs, float *d) {
    __m256 v[4];
    const float amax = _mm256_cvtss_f32(KSUF(absmax4)(x, v));
    *d = amax / 127.f;
    const float id = amax != 0.0f ? 127.f / amax : 0.0f;
    *dh = quant_f32_to_f16(*d);
    const __m256i q = KSUF(pack32)(v, _mm256_set1_ps(id));
    _mm256_storeu_si256((__m256i *)qs, q);
    return q;
}

KATTR void KSUF(q8_0_from_float)(const float *x, void *vy, int64_t n) {
    block_q8_0 *y = vy;
    float d;
    for (int64_t i = 0; i < n / 32; i++, x += 32) KSUF(q8_block)(x, &y[i].d, y[i].qs, &d);
}

/* The sum of 32 signed bytes. */
KATTR inline int KSUF(sum32)(__m256i q) {
    const __m256i s16 = _mm256_maddubs_epi16(_mm256_set1_epi8(1), q);
    const __m256i s32 = _mm256_madd_epi16(s16, _mm256_set1_epi16(1));
    __m128i t = _mm_add_epi32(_mm256_castsi256_si128(s32), _mm256_extracti128_si256(s32, 1));
    t = _mm_add_epi32(t, _mm_shuffle_epi32(t, 0x4E));
    t = _mm_add_epi32(t, _mm_shuffle_epi32(t, 0xB1));
    return _mm_cvtsi128_si32(t);
}

KATTR void KSUF(q8_1_from_float)(const float *x, void *vy, int64_t n) {
    block_q8_1 *y = vy;
    for (int64_t i = 0; i < n / 32; i++, x += 32) {
        float d;
        const __m256i q = KSUF(q8_block)(x, &y[i].d, y[i].qs, &d);
        y[i].s = quant_f32_to_f16(d * (float)KSUF(sum32)(q));
    }
}

KATTR void KSUF(q8_0s_from_float)(const float *x, void *vy, int64_t n) {
    block_q8_0s *y = vy;
    for (int64_t i = 0; i < n / 32; i++, x += 32) {
        float d;
        ggml_half dh;
        y[i].s = KSUF(sum32)(KSUF(q8_block)(x, &dh, y[i].qs, &d));
        y[i].d = quant_f16_to_f32(dh);
    }
}

/* Q8_K: the first value of largest magnitude maps to -127 (as the scalar quantizer). */
KATTR void KSUF(q8_K_from_float)(const float *x, void *vy, int64_t n) {
    block_q8_K *y = vy;
    const __m256 sign = _mm256_set1_ps(-0.0f);
    for (int64_t i = 0; i < n / QK_K; i++, x += QK_K) {
        __m256 mx = _mm256_setzero_ps();
        for (int k = 0; k < QK_K; k += 8)
            mx = _mm256_max_ps(mx, _mm256_andnot_ps(sign, _mm256_loadu_ps(x + k)));
        __m128 m = _mm_max_ps(_mm256_castps256_ps128(mx), _mm256_extractf128_ps(mx, 1));
        m = _mm_max_ps(m, _mm_movehl_ps(m, m));
        m = _mm_max_ss(m, _mm_movehdup_ps(m));
        const float amax = _mm_cvtss_f32(m);
        if (amax == 0.0f) {
            memset(&y[i], 0, sizeof y[i]);
            continue;
        }
        float max = amax;
        const __m256 va = _mm256_set1_ps(amax);
        for (int k = 0; k < QK_K; k += 8) {
            const int hit = _mm256_movemask_ps(
                _mm256_cmp_ps(_mm256_andnot_ps(sign, _mm256_loadu_ps(x + k)), va, _CMP_EQ_OQ));
            if (hit) {
                max = x[k + __builtin_ctz((unsigned)hit)];
                break;
            }
        }
        const float iscale = -127.f / max;
        const __m256 vs = _mm256_set1_ps(iscale);
        const __m256i lim = _mm256_set1_epi32(127);
        for (int k = 0; k < QK_K; k += 32) {
            __m256i q[4];
            for (int j = 0; j < 4; j++)
                q[j] = _mm256_min_epi32(lim, _mm256_cvtps_epi32(
                                                 _mm256_mul_ps(vs, _mm256_loadu_ps(x + k + 8 * j))));
            const __m256i p = _mm256_packs_epi16(_mm256_packs_epi32(q[0], q[1]),
                                                 _mm256_packs_epi32(q[2], q[3]));
            const __m256i b = _mm256_permutevar8x32_epi32(p, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
            _mm256_storeu_si256((__m256i *)(y[i].qs + k), b);
            /* sums of the two 16-value halves */
            const __m256i s16 = _mm256_madd_epi16(_mm256_maddubs_epi16(_mm256_set1_epi8(1), b),
                                                  _mm256_set1_epi16(1)); /* 8 sums of 4 */
            const __m128i s4 = _mm_hadd_epi32(_mm256_castsi256_si128(s16),
                                              _mm256_extracti128_si256(s16, 1)); /* 4 sums of 8 */
            const __m128i s2 = _mm_hadd_epi32(s4, s4);                           /* 2 sums of 16 */
            y[i].bsums[k / 16] = (int16_t)_mm_cvtsi128_si32(s2);
            y[i].bsums[k / 16 + 1] = (int16_t)_mm_extract_epi32(s2, 1);
        }
        y[i].d = 1.0f / iscale;
    }
}

/* ---------------- tile kernels (rows x activation columns, up to 4 x 4) ----------------
 * Compiled with KTILES; KTILE_MAX_NR rows at a time (4 with AVX-512VL's 32 registers: 16
 * accumulators plus the decoded weights of 4 rows; 2 with AVX2's 16).
 * Each (r, c) entry is computed the same way whatever nr and nc are, so results do not depend
 * on how rows are split or grouped. */
#ifdef KTILES

#define KUNROLL _Pragma("GCC unroll 4")

/* Blocks of 32 against Q8_0, weights decoded to unsigned bytes u = w + K:
 * dot = dpbusd(u, y) - K * sum(y), the K * sum(y) part computed once per column; K < 0: signed
 * weights (the sign trick per pair, for maddubs, whose u x s pair sums must fit in 16 bits). */
#define KTILE32(NAME, XT, DECODE_U, K) KTILE32_D(NAME, XT, DECODE_U, K, KSUF(h2f)(xb->d))
/* XD: the float scale of block xb */
#define KTILE32_D(NAME, XT, DECODE_U, K, XD)                                                \
    KATTR inline __attribute__((always_inline)) void KSUF(NAME##_tile_n)(                   \
        int n, float *s, size_t bs, const char *x, size_t bx, const char *y, size_t by,     \
        const int NR, const int NC) {                                                       \
        __m256 acc[4][4];                                                                   \
        KUNROLL for (int r = 0; r < NR; r++) KUNROLL for (int c = 0; c < NC; c++)           \
            acc[r][c] = _mm256_setzero_ps();                                                \
        const __m256i kk = _mm256_set1_epi8((char)(K));                                     \
        for (int i = 0; i < n / 32; i++) {                                                  \
            __m256i xu[4];                                                                  \
            __m256 dx[4];                                                                   \
            KUNROLL for (int r = 0; r < NR; r++) {                                          \
                const XT *xb = (const XT *)(x + (size_t)r * bx) + i;                        \
                DECODE_U;                                                                   \
                dx[r] = _mm256_set1_ps(XD);                                                 \
            }                                                                               \
            KUNROLL for (int c = 0; c < NC; c++) {                                          \
                const block_q8_0 *yb = (const block_q8_0 *)(y + (size_t)c * by) + i;        \
                const __m256i yv = _mm256_loadu_si256((const __m256i *)yb->qs);             \
                const __m256i off = _mm256_sub_epi32(_mm256_setzero_si256(),                \
                                                     DPB(_mm256_setzero_si256(), kk, yv));  \
                const __m256 dy = _mm256_set1_ps(KSUF(h2f)(yb->d));                         \
                KUNROLL for (int r = 0; r < NR; r++) {                                      \
                    const __m256i p = (K) < 0 ? KSUF(dot_ss)(xu[r], yv) : DPB(off, xu[r], yv); \
                    acc[r][c] = _mm256_fmadd_ps(_mm256_mul_ps(dx[r], dy),                   \
                                                _mm256_cvtepi32_ps(p), acc[r][c]);          \
                }                                                                           \
            }                                                                               \
        }                                                                                   \
        KUNROLL for (int c = 0; c < NC; c++) KUNROLL for (int r = 0; r < NR; r++)           \
            s[(size_t)c * bs + (size_t)r] = KSUF(hsum8)(acc[r][c]);                         \
    }                                                                                       \
    KTILE_DISPATCH(NAME)

#define KTILE_DISPATCH(NAME)                                                                \
    KATTR void KSUF(NAME##_tile)(int n, float *s, size_t bs, const void *x, size_t bx,      \
                                 const void *y, size_t by, int nr, int nc) {                \
        const char *xc = x, *yc = y;                                                        \
        if (KTILE_MAX_NR < 4 && nr > KTILE_MAX_NR) { /* 16 registers: two rows at a time */ \
            KSUF(NAME##_tile)(n, s, bs, x, bx, y, by, KTILE_MAX_NR, nc);                    \
            KSUF(NAME##_tile)(n, s + KTILE_MAX_NR, bs, xc + KTILE_MAX_NR * bx, bx, y, by,   \
                              nr - KTILE_MAX_NR, nc);                                       \
            return;                                                                         \
        }                                                                                   \
        QUANT_TILE_SWITCH(KSUF(NAME##_tile_n))                                              \
    }

KTILE32(q5_0, block_q5_0,
        uint32_t qh; memcpy(&qh, xb->qh, 4);
        xu[r] = _mm256_or_si256(KSUF(nib32)(xb->qs),
                                _mm256_and_si256(KSUF(bits32)(qh), _mm256_set1_epi8(0x10))), 16)
#ifdef KTILE_WIDE_U8 /* vpdpbusd: unsigned bytes up to 255; Q4_0 / Q8_0 are 512-bit (quant_x86.c) */
KTILE32(iq4_nl, block_iq4_nl,
        xu[r] = _mm256_shuffle_epi8(_mm256_xor_si256(_mm256_broadcastsi128_si256(
                    _mm_loadu_si128((const __m128i *)quant_kvalues_iq4nl)), _mm256_set1_epi8((char)0x80)),
                    KSUF(nib32)(xb->qs)), 128)
#else
KTILE32(q4_0, block_q4_0, xu[r] = KSUF(nib32)(xb->qs), 8)
KTILE32(q8_0, block_q8_0, xu[r] = _mm256_loadu_si256((const __m256i *)xb->qs), -1)
KTILE32(iq4_nl, block_iq4_nl,
        xu[r] = _mm256_shuffle_epi8(_mm256_broadcastsi128_si256(
                    _mm_loadu_si128((const __m128i *)quant_kvalues_iq4nl)), KSUF(nib32)(xb->qs)), -1)
#endif

#ifndef KTILE_WIDE_U8 /* with VNNI: the 512-bit Q4_K tile (quant_x86.c) */
/* Q4_K: per super-block, integer sums per (r, c) in registers; the mins folded in first. */
KATTR inline __attribute__((always_inline)) void KSUF(q4_K_tile_n)(
    int n, float *s, size_t bs, const char *x, size_t bx, const char *y, size_t by,
    const int NR, const int NC) {
    __m256 acc[4][4];
    __m128 accm[4][4]; /* the mins, apart (as ggml) */
    KUNROLL for (int r = 0; r < NR; r++) KUNROLL for (int c = 0; c < NC; c++) {
        acc[r][c] = _mm256_setzero_ps();
        accm[r][c] = _mm_setzero_ps();
    }
    const __m256i m4 = _mm256_set1_epi8(0x0F);
    for (int i = 0; i < n / QK_K; i++) {
        float d[4], yd[4];
        __m256i sumi[4][4], sc2[4];
        __m128i pairs[4];
        KUNROLL for (int c = 0; c < NC; c++) {
            const block_q8_K *yb = (const block_q8_K *)(y + (size_t)c * by) + i;
            yd[c] = yb->d;
            pairs[c] = KSUF(q8k_sums32)(yb->bsums);
        }
        KUNROLL for (int r = 0; r < NR; r++) {
            const block_q4_K *xb = (const block_q4_K *)(x + (size_t)r * bx) + i;
            const __m256i ms = KSUF(k4_scales16)(xb->scales);
            const __m128i mins = _mm256_extracti128_si256(ms, 1);
            sc2[r] = _mm256_broadcastsi128_si256(_mm256_castsi256_si128(ms));
            d[r] = KSUF(h2f)(xb->d);
            const float dmin = KSUF(h2f)(xb->dmin);
            KUNROLL for (int c = 0; c < NC; c++) {
                const __m128 mm = _mm_cvtepi32_ps(_mm_madd_epi16(mins, pairs[c]));
                accm[r][c] = _mm_fmadd_ps(_mm_set1_ps(dmin * yd[c]), mm, accm[r][c]);
                sumi[r][c] = _mm256_setzero_si256();
            }
        }
        for (int j = 0; j < 4; j++) {
            __m256i lo[4], hi[4];
            KUNROLL for (int r = 0; r < NR; r++) {
                const block_q4_K *xb = (const block_q4_K *)(x + (size_t)r * bx) + i;
                const __m256i q = _mm256_loadu_si256((const __m256i *)(xb->qs + 32 * j));
                lo[r] = _mm256_and_si256(q, m4);
                hi[r] = _mm256_and_si256(_mm256_srli_epi16(q, 4), m4);
            }
            KUNROLL for (int c = 0; c < NC; c++) {
                const block_q8_K *yb = (const block_q8_K *)(y + (size_t)c * by) + i;
                const __m256i y0 = _mm256_loadu_si256((const __m256i *)(yb->qs + 64 * j));
                const __m256i y1 = _mm256_loadu_si256((const __m256i *)(yb->qs + 64 * j + 32));
                KUNROLL for (int r = 0; r < NR; r++) {
                    const __m256i p0 = _mm256_madd_epi16(_mm256_maddubs_epi16(lo[r], y0),
                                                         KSUF(k4_bcast)(sc2[r], 2 * j));
                    const __m256i p1 = _mm256_madd_epi16(_mm256_maddubs_epi16(hi[r], y1),
                                                         KSUF(k4_bcast)(sc2[r], 2 * j + 1));
                    sumi[r][c] = _mm256_add_epi32(sumi[r][c], _mm256_add_epi32(p0, p1));
                }
            }
        }
        KUNROLL for (int c = 0; c < NC; c++) KUNROLL for (int r = 0; r < NR; r++)
            acc[r][c] = _mm256_fmadd_ps(_mm256_set1_ps(d[r] * yd[c]),
                                        _mm256_cvtepi32_ps(sumi[r][c]), acc[r][c]);
    }
    KUNROLL for (int c = 0; c < NC; c++) KUNROLL for (int r = 0; r < NR; r++) {
        __m128 m = _mm_add_ps(accm[r][c], _mm_movehl_ps(accm[r][c], accm[r][c]));
        m = _mm_add_ss(m, _mm_movehdup_ps(m));
        s[(size_t)c * bs + (size_t)r] = KSUF(hsum8)(acc[r][c]) - _mm_cvtss_f32(m);
    }
}
KTILE_DISPATCH(q4_K)
#endif

#ifndef KTILE_WIDE_U8 /* with VNNI: the 512-bit Q6_K tile (quant_x86.c) */
/* Q6_K: the same scheme, one 32-value group of every row at a time. */
KATTR inline __attribute__((always_inline)) void KSUF(q6_K_tile_n)(
    int n, float *s, size_t bs, const char *x, size_t bx, const char *y, size_t by,
    const int NR, const int NC) {
    __m256 acc[4][4];
    KUNROLL for (int r = 0; r < NR; r++) KUNROLL for (int c = 0; c < NC; c++)
        acc[r][c] = _mm256_setzero_ps();
    const __m256i m4 = _mm256_set1_epi8(0x0F), m30 = _mm256_set1_epi8(0x30);
    for (int i = 0; i < n / QK_K; i++) {
        __m256i sumi[4][4];
        float d[4];
        KUNROLL for (int r = 0; r < NR; r++) {
            const block_q6_K *xb = (const block_q6_K *)(x + (size_t)r * bx) + i;
            d[r] = KSUF(h2f)(xb->d);
            KUNROLL for (int c = 0; c < NC; c++) sumi[r][c] = _mm256_setzero_si256();
        }
        for (int h = 0; h < 2; h++) {
            for (int g = 0; g < 4; g++) {
                __m256i q[4], scv[4];
                KUNROLL for (int r = 0; r < NR; r++) {
                    const block_q6_K *xb = (const block_q6_K *)(x + (size_t)r * bx) + i;
                    const __m256i l = _mm256_loadu_si256((const __m256i *)(xb->ql + 64 * h + 32 * (g & 1)));
                    const __m256i hb = _mm256_loadu_si256((const __m256i *)(xb->qh + 32 * h));
                    const __m256i lq = g < 2 ? _mm256_and_si256(l, m4)
                                             : _mm256_and_si256(_mm256_srli_epi16(l, 4), m4);
                    __m256i hq;
                    if (g == 0) hq = _mm256_slli_epi16(hb, 4);
                    else if (g == 1) hq = _mm256_slli_epi16(hb, 2);
                    else if (g == 2) hq = hb;
                    else hq = _mm256_srli_epi16(hb, 2);
                    q[r] = _mm256_or_si256(lq, _mm256_and_si256(hq, m30));
                    const int sb = 8 * h + 2 * g;
                    scv[r] = KSUF(scale2)(xb->scales[sb], xb->scales[sb + 1]);
                }
                KUNROLL for (int c = 0; c < NC; c++) {
                    const block_q8_K *yb = (const block_q8_K *)(y + (size_t)c * by) + i;
                    const __m256i yv = _mm256_loadu_si256((const __m256i *)(yb->qs + 128 * h + 32 * g));
                    const __m256i q8s = _mm256_maddubs_epi16(_mm256_set1_epi8(32), yv);
                    KUNROLL for (int r = 0; r < NR; r++)
                        sumi[r][c] = _mm256_add_epi32(sumi[r][c], _mm256_madd_epi16(
                            _mm256_sub_epi16(_mm256_maddubs_epi16(q[r], yv), q8s), scv[r]));
                }
            }
        }
        KUNROLL for (int c = 0; c < NC; c++) {
            const block_q8_K *yb = (const block_q8_K *)(y + (size_t)c * by) + i;
            KUNROLL for (int r = 0; r < NR; r++)
                acc[r][c] = _mm256_fmadd_ps(_mm256_set1_ps(d[r] * yb->d),
                                            _mm256_cvtepi32_ps(sumi[r][c]), acc[r][c]);
        }
    }
    KUNROLL for (int c = 0; c < NC; c++) KUNROLL for (int r = 0; r < NR; r++)
        s[(size_t)c * bs + (size_t)r] = KSUF(hsum8)(acc[r][c]);
}
KTILE_DISPATCH(q6_K)
#endif

#ifndef KTILE_WIDE_U8 /* with AVX-512 VNNI: the 512-bit IQ4_XS tile (quant_x86.c) */
/* IQ4_XS: per super-block the 8 i32 lanes of iq4_xs_vec_dot for each (r, c) (the sign trick,
 * the sub-block's scale on the i16 pair sums), then its one float step; a sub-block of each
 * row decoded once for the NC columns. */
KATTR inline __attribute__((always_inline)) void KSUF(iq4_xs_tile_n)(
    int n, float *s, size_t bs, const char *x, size_t bx, const char *y, size_t by,
    const int NR, const int NC) {
    __m256 acc[4][4];
    KUNROLL for (int r = 0; r < NR; r++) KUNROLL for (int c = 0; c < NC; c++)
        acc[r][c] = _mm256_setzero_ps();
    const __m256i kv =
        _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)quant_kvalues_iq4nl));
    for (int i = 0; i < n / QK_K; i++) {
        __m256i sumi[4][4];
        float d[4];
        KUNROLL for (int r = 0; r < NR; r++) {
            d[r] = KSUF(h2f)(((const block_iq4_xs *)(x + (size_t)r * bx) + i)->d);
            KUNROLL for (int c = 0; c < NC; c++) sumi[r][c] = _mm256_setzero_si256();
        }
        for (int ib = 0; ib < QK_K / 32; ib++) {
            __m256i xv[4], sc[4];
            KUNROLL for (int r = 0; r < NR; r++) {
                const block_iq4_xs *xb = (const block_iq4_xs *)(x + (size_t)r * bx) + i;
                xv[r] = _mm256_shuffle_epi8(kv, KSUF(nib32)(xb->qs + 16 * ib));
                sc[r] = _mm256_set1_epi16((short)quant_iq4_xs_scale(xb, ib));
            }
            KUNROLL for (int c = 0; c < NC; c++) {
                const block_q8_K *yb = (const block_q8_K *)(y + (size_t)c * by) + i;
                const __m256i yv = _mm256_loadu_si256((const __m256i *)(yb->qs + 32 * ib));
                KUNROLL for (int r = 0; r < NR; r++)
                    sumi[r][c] = KIQ_ACC(sumi[r][c], KSUF(dot_ss16)(xv[r], yv), sc[r]);
            }
        }
        KUNROLL for (int c = 0; c < NC; c++) {
            const float yd = ((const block_q8_K *)(y + (size_t)c * by) + i)->d;
            KUNROLL for (int r = 0; r < NR; r++)
                acc[r][c] = _mm256_fmadd_ps(_mm256_set1_ps(yd * d[r]),
                                            _mm256_cvtepi32_ps(sumi[r][c]), acc[r][c]);
        }
    }
    KUNROLL for (int c = 0; c < NC; c++) KUNROLL for (int r = 0; r < NR; r++)
        s[(size_t)c * bs + (size_t)r] = KSUF(hsum8)(acc[r][c]);
}
KTILE_DISPATCH(iq4_xs)
#endif

#endif /* KTILES */

#include "quant_x86_iq.h"
