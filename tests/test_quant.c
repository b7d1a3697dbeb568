/* tests/test_quant.c — tensor types: half/bfloat16 rounding, the traits table (every ggml type
 * id), dequantization of hand-made blocks, the i-quant grids, dot products against a
 * double-precision reference, quantizer round trips, every SIMD kernel against the scalar one
 * (bit for bit where the kernels promise it, extreme scales too), quant_mat_dot against
 * vec_dot, quant_force_scalar and the NATTER_SIMD caps. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "quant_impl.h"

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;

static uint32_t rng_u32(void) {
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)(rng_state >> 16);
}

/* Uniform in [-1, 1). */
static float rng_f(void) {
    return (float)(rng_u32() & 0xFFFFFF) / (float)0x800000 - 1.0f;
}

static const uint32_t types_all[] = {
    GGML_TYPE_F32, GGML_TYPE_F16, GGML_TYPE_BF16, GGML_TYPE_Q4_0, GGML_TYPE_Q4_1,
    GGML_TYPE_Q5_0, GGML_TYPE_Q5_1, GGML_TYPE_Q8_0, GGML_TYPE_Q2_K, GGML_TYPE_Q3_K,
    GGML_TYPE_Q4_K, GGML_TYPE_Q5_K, GGML_TYPE_Q6_K, GGML_TYPE_IQ4_NL, GGML_TYPE_IQ4_XS,
    GGML_TYPE_MXFP4, GGML_TYPE_TQ1_0, GGML_TYPE_TQ2_0, GGML_TYPE_IQ2_XXS, GGML_TYPE_IQ2_XS,
    GGML_TYPE_IQ2_S, GGML_TYPE_IQ3_XXS, GGML_TYPE_IQ3_S, GGML_TYPE_IQ1_S, GGML_TYPE_IQ1_M,
};
#define N_TYPES_ALL (sizeof types_all / sizeof types_all[0])

/* The types whose SIMD kernels (vec_dot and tiles) equal the scalar reference bit for bit:
 * exact integer sums per super-block, then the reference's float steps (quant_x86_iq.h). */
static int kernels_exact(uint32_t t) {
    switch (t) {
    case GGML_TYPE_TQ1_0: case GGML_TYPE_TQ2_0: case GGML_TYPE_IQ2_XXS: case GGML_TYPE_IQ2_XS:
    case GGML_TYPE_IQ2_S: case GGML_TYPE_IQ3_XXS: case GGML_TYPE_IQ3_S: case GGML_TYPE_IQ1_S:
    case GGML_TYPE_IQ1_M: return 1;
    default: return 0;
    }
}

/* Whether level lv's tiles of type t give, for each (row, column), the level's vec_dot bits:
 * the same integer lanes and float steps, so a token's logits do not depend on the batch. On
 * x86 the blocks of 32 are not among them (their vec_dot keeps four accumulators, their tiles
 * one); every NEON tile is (IQ4_NL's, IQ4_XS's, MXFP4's). */
static int tiles_as_vec_dot(int lv, uint32_t t) {
    return lv >= QUANT_NEON || t == GGML_TYPE_Q4_K || t == GGML_TYPE_Q6_K ||
           t == GGML_TYPE_IQ4_XS;
}

/* IQ1_M keeps its half scale in the top nibbles of its 4 scale words. */
static void iq1_m_set_d(block_iq1_m *b, uint16_t d) {
    for (int k = 0; k < 4; k++) {
        b->scales[2 * k + 1] = (uint8_t)((b->scales[2 * k + 1] & 0x0F) | (((d >> (4 * k)) & 0xF) << 4));
    }
}

static uint16_t rnd_half(float lo, float hi) {
    return quant_f32_to_f16(lo + (hi - lo) * (rng_f() + 1.0f) / 2.0f);
}

/* n values of type t filled with random bits and sane scales (x must hold the row). */
static void fill_random_row(uint32_t t, void *x, int n) {
    const struct quant_traits *tr = quant_traits_get(t);
    const int nb = n / tr->blck_size;
    if (t == GGML_TYPE_F32) {
        for (int i = 0; i < n; i++) ((float *)x)[i] = rng_f();
        return;
    }
    if (t == GGML_TYPE_F16 || t == GGML_TYPE_BF16) {
        for (int i = 0; i < n; i++)
            ((uint16_t *)x)[i] = t == GGML_TYPE_F16 ? quant_f32_to_f16(rng_f())
                                                    : quant_f32_to_bf16(rng_f());
        return;
    }
    uint8_t *p = x;
    for (size_t i = 0; i < (size_t)nb * tr->type_size; i++) p[i] = (uint8_t)rng_u32();
    for (int b = 0; b < nb; b++) {
        void *blk = p + (size_t)b * tr->type_size;
        switch (t) {
        case GGML_TYPE_Q4_0: ((block_q4_0 *)blk)->d = rnd_half(-0.1f, 0.1f); break;
        case GGML_TYPE_Q4_1: ((block_q4_1 *)blk)->d = rnd_half(0.f, 0.1f);
            ((block_q4_1 *)blk)->m = rnd_half(-0.8f, 0.f); break;
        case GGML_TYPE_Q5_0: ((block_q5_0 *)blk)->d = rnd_half(-0.05f, 0.05f); break;
        case GGML_TYPE_Q5_1: ((block_q5_1 *)blk)->d = rnd_half(0.f, 0.05f);
            ((block_q5_1 *)blk)->m = rnd_half(-0.8f, 0.f); break;
        case GGML_TYPE_Q8_0: ((block_q8_0 *)blk)->d = rnd_half(-0.01f, 0.01f); break;
        case GGML_TYPE_Q2_K: ((block_q2_K *)blk)->d = rnd_half(0.f, 0.03f);
            ((block_q2_K *)blk)->dmin = rnd_half(0.f, 0.03f); break;
        case GGML_TYPE_Q3_K: ((block_q3_K *)blk)->d = rnd_half(-0.01f, 0.01f); break;
        case GGML_TYPE_Q4_K: ((block_q4_K *)blk)->d = rnd_half(0.f, 0.003f);
            ((block_q4_K *)blk)->dmin = rnd_half(0.f, 0.01f); break;
        case GGML_TYPE_Q5_K: ((block_q5_K *)blk)->d = rnd_half(0.f, 0.002f);
            ((block_q5_K *)blk)->dmin = rnd_half(0.f, 0.01f); break;
        case GGML_TYPE_Q6_K: ((block_q6_K *)blk)->d = rnd_half(-0.0005f, 0.0005f); break;
        case GGML_TYPE_IQ4_NL: ((block_iq4_nl *)blk)->d = rnd_half(-0.01f, 0.01f); break;
        case GGML_TYPE_IQ4_XS: ((block_iq4_xs *)blk)->d = rnd_half(-0.001f, 0.001f); break;
        case GGML_TYPE_MXFP4: ((block_mxfp4 *)blk)->e = (uint8_t)(118 + rng_u32() % 8); break;
        case GGML_TYPE_TQ1_0: ((block_tq1_0 *)blk)->d = rnd_half(-0.05f, 0.05f); break;
        case GGML_TYPE_TQ2_0: ((block_tq2_0 *)blk)->d = rnd_half(-0.05f, 0.05f); break;
        case GGML_TYPE_IQ2_XXS: ((block_iq2_xxs *)blk)->d = rnd_half(-0.01f, 0.01f); break;
        case GGML_TYPE_IQ2_XS: ((block_iq2_xs *)blk)->d = rnd_half(-0.01f, 0.01f); break;
        case GGML_TYPE_IQ2_S: ((block_iq2_s *)blk)->d = rnd_half(-0.01f, 0.01f); break;
        case GGML_TYPE_IQ3_XXS: ((block_iq3_xxs *)blk)->d = rnd_half(-0.01f, 0.01f); break;
        case GGML_TYPE_IQ3_S: ((block_iq3_s *)blk)->d = rnd_half(-0.01f, 0.01f); break;
        case GGML_TYPE_IQ1_S: ((block_iq1_s *)blk)->d = rnd_half(-0.05f, 0.05f); break;
        case GGML_TYPE_IQ1_M: iq1_m_set_d(blk, rnd_half(-0.05f, 0.05f)); break;
        default: break;
        }
    }
}

/* ---------------- conversions ---------------- */

TEST(quant_f16_rounding) {
    CHECK_EQ_INT(quant_f32_to_f16(1.0f), 0x3C00);
    CHECK_EQ_INT(quant_f32_to_f16(-2.0f), 0xC000);
    CHECK_EQ_INT(quant_f32_to_f16(65504.f), 0x7BFF);
    CHECK_EQ_INT(quant_f32_to_f16(65519.f), 0x7BFF);
    CHECK_EQ_INT(quant_f32_to_f16(65520.f), 0x7C00);
    CHECK_EQ_INT(quant_f32_to_f16(INFINITY), 0x7C00);
    CHECK_EQ_INT(quant_f32_to_f16(-INFINITY), 0xFC00);
    CHECK_EQ_INT(quant_f32_to_f16(0x1p-24f), 0x0001);
    CHECK_EQ_INT(quant_f32_to_f16(0x1p-25f), 0x0000);        /* tie to even */
    CHECK_EQ_INT(quant_f32_to_f16(0x3p-25f), 0x0002);        /* tie to even */
    CHECK_EQ_INT(quant_f32_to_f16(1.0f + 0x1p-11f), 0x3C00); /* tie to even */
    CHECK_EQ_INT(quant_f32_to_f16(1.0f + 0x3p-11f), 0x3C02);
    CHECK_EQ_INT(quant_f32_to_f16(0x1.ffcp-15f), 0x0400);    /* rounds up into the normals */
    CHECK_EQ_INT(quant_f32_to_f16(-0.0f), 0x8000);
    CHECK((quant_f32_to_f16(NAN) & 0x7C00) == 0x7C00 && (quant_f32_to_f16(NAN) & 0x3FF) != 0);
    for (uint32_t h = 0; h < 0x10000; h++) {
        const float f = quant_f16_to_f32((uint16_t)h);
        if (isnan(f)) {
            CHECK((h & 0x7C00) == 0x7C00 && (h & 0x3FF));
            continue;
        }
        CHECK_EQ_INT(quant_f32_to_f16(f), h);
    }
    CHECK(quant_f16_to_f32(0x0001) == 0x1p-24f);
    CHECK(quant_f16_to_f32(0x3555) == 0x1.554p-2f);
}

#if defined(__x86_64__)
#include <immintrin.h>
__attribute__((target("f16c"))) static uint16_t hw_f32_to_f16(float f) {
    return (uint16_t)_cvtss_sh(f, 0);
}
#endif

TEST(quant_f16_matches_f16c) {
#if defined(__x86_64__)
    __builtin_cpu_init();
    if (!__builtin_cpu_supports("f16c")) SKIP("no F16C");
    for (int i = 0; i < 2000000; i++) {
        uint32_t bits = rng_u32() ^ (rng_u32() << 16);
        float f;
        memcpy(&f, &bits, sizeof f);
        if (isnan(f)) continue;
        CHECK_MSG(quant_f32_to_f16(f) == hw_f32_to_f16(f), "f=%a ours=%04x f16c=%04x", f,
                  quant_f32_to_f16(f), hw_f32_to_f16(f));
    }
#else
    SKIP("not x86-64");
#endif
}

TEST(quant_bf16_rounding) {
    CHECK_EQ_INT(quant_f32_to_bf16(1.0f), 0x3F80);
    CHECK_EQ_INT(quant_f32_to_bf16(1.0f + 0x1p-8f), 0x3F80); /* tie to even */
    CHECK_EQ_INT(quant_f32_to_bf16(1.0f + 0x3p-8f), 0x3F82);
    CHECK_EQ_INT(quant_f32_to_bf16(-3.0f), 0xC040);
    CHECK((quant_f32_to_bf16(NAN) & 0x7F80) == 0x7F80 && (quant_f32_to_bf16(NAN) & 0x7F));
    CHECK(quant_bf16_to_f32(0x3F80) == 1.0f);
    CHECK(quant_bf16_to_f32(0xC040) == -3.0f);
}

/* ---------------- table ---------------- */

TEST(quant_traits_table) {
    static const struct { uint32_t t; const char *name; int bs; size_t sz; } want[] = {
        {GGML_TYPE_F32, "F32", 1, 4}, {GGML_TYPE_F16, "F16", 1, 2}, {GGML_TYPE_BF16, "BF16", 1, 2},
        {GGML_TYPE_Q4_0, "Q4_0", 32, 18}, {GGML_TYPE_Q4_1, "Q4_1", 32, 20},
        {GGML_TYPE_Q5_0, "Q5_0", 32, 22}, {GGML_TYPE_Q5_1, "Q5_1", 32, 24},
        {GGML_TYPE_Q8_0, "Q8_0", 32, 34}, {GGML_TYPE_Q2_K, "Q2_K", 256, 84},
        {GGML_TYPE_Q3_K, "Q3_K", 256, 110}, {GGML_TYPE_Q4_K, "Q4_K", 256, 144},
        {GGML_TYPE_Q5_K, "Q5_K", 256, 176}, {GGML_TYPE_Q6_K, "Q6_K", 256, 210},
        {GGML_TYPE_IQ4_NL, "IQ4_NL", 32, 18}, {GGML_TYPE_IQ4_XS, "IQ4_XS", 256, 136},
        {GGML_TYPE_MXFP4, "MXFP4", 32, 17}, {GGML_TYPE_TQ1_0, "TQ1_0", 256, 54},
        {GGML_TYPE_TQ2_0, "TQ2_0", 256, 66}, {GGML_TYPE_IQ2_XXS, "IQ2_XXS", 256, 66},
        {GGML_TYPE_IQ2_XS, "IQ2_XS", 256, 74}, {GGML_TYPE_IQ2_S, "IQ2_S", 256, 82},
        {GGML_TYPE_IQ3_XXS, "IQ3_XXS", 256, 98}, {GGML_TYPE_IQ3_S, "IQ3_S", 256, 110},
        {GGML_TYPE_IQ1_S, "IQ1_S", 256, 50}, {GGML_TYPE_IQ1_M, "IQ1_M", 256, 56},
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        const struct quant_traits *tr = quant_traits_get(want[i].t);
        CHECK(tr != NULL);
        CHECK_STR_EQ(tr->name, want[i].name);
        CHECK_EQ_INT(tr->blck_size, want[i].bs);
        CHECK_EQ_INT(tr->type_size, want[i].sz);
        CHECK(tr->supported && tr->to_float && tr->vec_dot && tr->vec_dot_ref);
        const struct quant_traits *vt = quant_traits_get(tr->vec_dot_type);
        CHECK(vt && vt->from_float && vt->blck_size == tr->blck_size);
    }
    /* ids that ggml removed are not types */
    static const uint32_t removed[] = {4, 5, 31, 32, 33, 36, 37, 38};
    for (size_t i = 0; i < sizeof removed / sizeof removed[0]; i++)
        CHECK_MSG(quant_traits_get(removed[i]) == NULL, "id %u", removed[i]);
    CHECK(QUANT_TYPE_Q8_0S == GGML_TYPE_COUNT); /* natter's own, right after ggml's */
    CHECK(quant_traits_get(QUANT_TYPE_COUNT) == NULL);
    CHECK(!quant_traits_get(QUANT_TYPE_Q8_0S)->supported);
    CHECK(quant_traits_get(0xFFFFFFFFu) == NULL);
    /* every other id below GGML_TYPE_COUNT has a name, a block size and bytes (so a file's
     * tensor of any ggml type can be sized and refused by name); these are not computed with */
    static const struct { uint32_t t; const char *name; int bs; size_t sz; } known[] = {
        {GGML_TYPE_Q8_1, "Q8_1", 32, 36}, {GGML_TYPE_Q8_K, "Q8_K", 256, 292},
        {GGML_TYPE_I8, "I8", 1, 1}, {GGML_TYPE_I16, "I16", 1, 2}, {GGML_TYPE_I32, "I32", 1, 4},
        {GGML_TYPE_I64, "I64", 1, 8}, {GGML_TYPE_F64, "F64", 1, 8},
        {GGML_TYPE_NVFP4, "NVFP4", 64, 36}, {GGML_TYPE_Q1_0, "Q1_0", 128, 18},
        {GGML_TYPE_Q2_0, "Q2_0", 64, 18},
    };
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++) {
        const struct quant_traits *tr = quant_traits_get(known[i].t);
        CHECK(tr != NULL && !tr->supported);
        CHECK_STR_EQ(tr->name, known[i].name);
        CHECK_EQ_INT(tr->blck_size, known[i].bs);
        CHECK_EQ_INT(tr->type_size, known[i].sz);
    }
    int n_named = 0;
    for (uint32_t t = 0; t < GGML_TYPE_COUNT; t++) n_named += quant_traits_get(t) != NULL;
    CHECK_EQ_INT(n_named, GGML_TYPE_COUNT - 8);
    CHECK_EQ_INT(quant_row_size(GGML_TYPE_Q4_K, 4096), 16 * 144);
    CHECK_EQ_INT(quant_row_size(GGML_TYPE_Q4_K, 4000), 0);
    CHECK_EQ_INT(quant_row_size(GGML_TYPE_F16, 7), 14);
    CHECK_EQ_INT(quant_row_size(99, 32), 0);
}

/* ---------------- dequantization of hand-made blocks ---------------- */

TEST(quant_dequant_known_blocks_32) {
    float y[32];
    block_q4_0 a;
    memset(&a, 0, sizeof a);
    a.d = 0x3800; /* 0.5 */
    a.qs[0] = 0x1F;
    a.qs[15] = 0x80;
    quant_q4_0_to_float(&a, y, 32);
    CHECK(y[0] == 3.5f && y[16] == -3.5f && y[15] == -4.0f && y[31] == 0.0f && y[1] == -4.0f);

    block_q4_1 b;
    memset(&b, 0, sizeof b);
    b.d = 0x3800;
    b.m = 0xBC00; /* -1 */
    b.qs[3] = 0xF2;
    quant_q4_1_to_float(&b, y, 32);
    CHECK(y[3] == 0.0f && y[19] == 6.5f && y[0] == -1.0f);

    block_q5_0 c;
    memset(&c, 0, sizeof c);
    c.d = 0x4000; /* 2 */
    c.qs[2] = 0x31;
    c.qh[0] = 0x04;  /* bit 2: high bit of value 2 */
    c.qh[2] = 0x04;  /* bit 18: high bit of value 18 */
    quant_q5_0_to_float(&c, y, 32);
    CHECK(y[2] == 2.0f * (17 - 16) && y[18] == 2.0f * (19 - 16) && y[0] == -32.0f);

    block_q5_1 e;
    memset(&e, 0, sizeof e);
    e.d = 0x3C00;
    e.m = 0x3C00;
    e.qs[31 - 16] = 0xF0;
    e.qh[3] = 0x80; /* bit 31 */
    quant_q5_1_to_float(&e, y, 32);
    CHECK(y[31] == 32.0f && y[15] == 1.0f);

    block_q8_0 f;
    memset(&f, 0, sizeof f);
    f.d = 0x3400; /* 0.25 */
    f.qs[5] = -128;
    f.qs[31] = 127;
    quant_q8_0_to_float(&f, y, 32);
    CHECK(y[5] == -32.0f && y[31] == 31.75f && y[0] == 0.0f);

    block_iq4_nl g;
    memset(&g, 0, sizeof g);
    g.d = 0x3C00;
    g.qs[0] = 0xF8;
    quant_iq4_nl_to_float(&g, y, 32);
    CHECK(y[0] == 1.0f && y[16] == 113.0f && y[1] == -127.0f);
}

TEST(quant_dequant_known_blocks_K) {
    float y[256];
    block_q2_K a;
    memset(&a, 0, sizeof a);
    a.d = 0x3C00;
    a.dmin = 0x3800;
    a.scales[0] = 0x23;  /* values 0..15: scale 3, min 2 */
    a.scales[3] = 0x05;  /* values 48..63: scale 5 (shift 2, bytes 16..31) */
    a.qs[0] = 0x03;      /* value 0 = 3 */
    a.qs[17] = 0x0C;     /* value 49 = 3 (shift 2 of byte 17) */
    quant_q2_K_to_float(&a, y, 256);
    CHECK(y[0] == 3.0f * 3 - 1.0f && y[1] == -1.0f && y[49] == 15.0f && y[48] == 0.0f);

    block_q3_K b;
    memset(&b, 0, sizeof b);
    b.d = 0x3C00;
    /* scales: all 6-bit values 32 (zero) except scale 0 = 33 and scale 15 = 31. */
    int8_t sc6[16];
    for (int j = 0; j < 16; j++) sc6[j] = 32;
    sc6[0] = 33;
    sc6[15] = 31;
    for (int j = 0; j < 16; j++) {
        const int v = sc6[j];
        if (j < 8) b.scales[j] |= (uint8_t)(v & 0xF);
        else b.scales[j - 8] |= (uint8_t)((v & 0xF) << 4);
        b.scales[8 + j % 4] |= (uint8_t)(((v >> 4) & 3) << (2 * (j / 4)));
    }
    b.qs[0] = 0x02;        /* value 0: 2, hmask bit clear -> 2 - 4 = -2 */
    b.hmask[31] = 0x80;    /* value 255: hmask bit 7 of byte 31 set */
    b.qs[63] = 0xC0;       /* value 255: bits 6-7 of byte 63 -> 3 */
    quant_q3_K_to_float(&b, y, 256);
    CHECK(y[0] == -2.0f && y[1] == -4.0f && y[255] == -3.0f && y[16] == 0.0f);

    block_q4_K c;
    memset(&c, 0, sizeof c);
    c.d = 0x3C00;
    c.dmin = 0x3C00;
    c.scales[0] = 2;                    /* sub-block 0: scale 2 */
    c.scales[4] = 1;                    /* sub-block 0: min 1 */
    c.scales[8] = 0x53;                 /* sub-block 4: scale 3 | 16, min 5 */
    c.scales[0] |= 0x40;                /* high bits of scale 4 -> 3 + 16 = 19 */
    c.qs[0] = 0x97;                     /* value 0 = 7, value 32 = 9 */
    c.qs[64] = 0x02;                    /* value 128 = 2 */
    quant_q4_K_to_float(&c, y, 256);
    CHECK(y[0] == 2.0f * 7 - 1.0f && y[32] == 0.0f && y[128] == 19.0f * 2 - 5.0f);

    block_q5_K d5;
    memset(&d5, 0, sizeof d5);
    d5.d = 0x3C00;
    d5.dmin = 0;
    for (int j = 0; j < 4; j++) d5.scales[j] = 1;
    for (int j = 8; j < 12; j++) d5.scales[j] = 1;
    d5.qs[0] = 0x21;
    d5.qh[0] = 0x03;   /* values 0 and 32 get +16 */
    d5.qh[1] = 0x80;   /* value 225 (sub-block 7, byte 1) gets +16 */
    quant_q5_K_to_float(&d5, y, 256);
    CHECK(y[0] == 17.0f && y[32] == 18.0f && y[225] == 16.0f && y[1] == 0.0f);

    block_q6_K e;
    memset(&e, 0, sizeof e);
    e.d = 0x3C00;
    for (int j = 0; j < 16; j++) e.scales[j] = 1;
    e.scales[15] = -2;
    e.ql[0] = 0x21;      /* value 0 low 1, value 64 low 2 */
    e.qh[0] = 0x12;      /* value 0 high 2 -> 33 -> 1; value 64 high 1 -> 18 -> -14 */
    e.ql[127] = 0xF0;    /* value 255 low 15 */
    e.qh[63] = 0xC0;     /* value 255 high 3 -> 63 -> 31 */
    quant_q6_K_to_float(&e, y, 256);
    CHECK(y[0] == 1.0f && y[64] == -14.0f && y[255] == -62.0f && y[1] == -32.0f);

    block_iq4_xs f;
    memset(&f, 0, sizeof f);
    f.d = 0x3C00;
    f.scales_l[0] = 0x21;     /* sub-block 0 low 1, sub-block 1 low 2 */
    f.scales_h = 0x0002;      /* sub-block 0 high 2 -> 33 -> 1 */
    f.qs[0] = 0x0F;
    f.qs[16] = 0x08;          /* sub-block 1 value 0 -> level 1 */
    quant_iq4_xs_to_float(&f, y, 256);
    CHECK(y[0] == 113.0f && y[16] == -127.0f && y[32] == (2 - 32) * 1.0f);
}

/* The new types' hand-made blocks: values worked out by hand from ggml's layouts and the grid
 * entries as printed in ggml-common.h (iq2xxs_grid[1] = 0x080808080808082b, ...), not from the
 * tables; each block's dot product with activations of 1 (d = 1) must be the exact sum of its
 * values, for the reference and every SIMD kernel this CPU has (MXFP4's: within rounding). */
static void check_sum_dot(uint32_t t, const void *blk, const float *y, int n) {
    const struct quant_traits *tr = quant_traits_get(t);
    double sum = 0, sa = 0;
    for (int i = 0; i < n; i++) sum += y[i], sa += fabs(y[i]);
    block_q8_K ones[2];
    block_q8_0 ones0[8];
    void *yq = ones;
    if (tr->vec_dot_type == GGML_TYPE_Q8_0) {
        for (int b = 0; b < n / 32; b++) {
            ones0[b].d = 0x3C00;
            memset(ones0[b].qs, 1, 32);
        }
        yq = ones0;
    } else {
        for (int b = 0; b < n / 256; b++) {
            ones[b].d = 1.0f;
            memset(ones[b].qs, 1, 256);
            for (int j = 0; j < 16; j++) ones[b].bsums[j] = 16;
        }
    }
    float s;
    tr->vec_dot_ref(n, &s, blk, yq);
    CHECK_MSG(s == (float)sum, "%s ref dot %.9g vs sum %.9g", tr->name, s, sum);
    for (int lv = QUANT_AVX2; lv < QUANT_LEVEL_COUNT; lv++) {
        const struct quant_kernels *kern = quant_kernels_of((enum quant_level)lv);
        if (!kern || !kern->vec_dot[t]) continue;
        kern->vec_dot[t](n, &s, blk, yq);
        /* MXFP4's kernels sum per lane in float: within rounding of the values' magnitude */
        CHECK_MSG(kernels_exact(t) ? s == (float)sum : fabs(s - sum) <= 1e-6 * sa,
                  "%s %s dot %.9g vs sum %.9g", tr->name, quant_level_name(lv), s, sum);
    }
}

TEST(quant_dequant_known_blocks_iq) {
    float y[256];
    block_iq2_xxs a;
    memset(&a, 0, sizeof a);
    a.d = 0x3C00;
    /* values 0..31: grid 1 (43, 8 x7) for 0..7, grid 0 (8s) for 8..23, grid 255
     * (0x2b2b2b1908081908: 8, 25, 8, 8, 25, 43, 43, 43) for 24..31; sign index 1 for 0..7 (bits
     * 0 and 7: its parity bit); scale 3: 1 * (0.5 + 3) / 4 = 0.875; values 32..: scale 0 */
    const uint32_t a0 = 0xFF000001u, a1 = (3u << 28) | 1u;
    memcpy(a.qs, &a0, 4);
    memcpy(a.qs + 2, &a1, 4);
    quant_iq2_xxs_to_float(&a, y, 256);
    CHECK(y[0] == -37.625f && y[1] == 7.0f && y[7] == -7.0f && y[8] == 7.0f);
    CHECK(y[24] == 7.0f && y[25] == 21.875f && y[29] == 37.625f && y[32] == 1.0f && y[255] == 1.0f);
    check_sum_dot(GGML_TYPE_IQ2_XXS, &a, y, 256);

    block_iq2_xs b;
    memset(&b, 0, sizeof b);
    b.d = 0x3C00;
    b.qs[0] = 511 | (1 << 9);    /* grid 511: all 43; signs of values 0 and 7 */
    b.qs[2] = 256;               /* grid 256 = 0x190808080808192b: 43, 25, 8, 8, 8, 8, 8, 25 */
    b.scales[0] = 0x21;          /* values 0..15: (0.5 + 1) / 4, 16..31: (0.5 + 2) / 4 */
    quant_iq2_xs_to_float(&b, y, 256);
    CHECK(y[0] == -16.125f && y[1] == 16.125f && y[7] == -16.125f && y[8] == 3.0f);
    CHECK(y[16] == 26.875f && y[17] == 15.625f && y[18] == 5.0f && y[23] == 15.625f);
    check_sum_dot(GGML_TYPE_IQ2_XS, &b, y, 256);

    block_iq2_s c;
    memset(&c, 0, sizeof c);
    c.d = 0x3C00;
    c.qs[0] = 0xFF;
    c.qh[0] = 0x03 | 0x04;       /* group 0: index 0x3FF (all 43), group 1: 0x100 */
    c.qs[32] = 0x01;             /* sign of value 0 */
    c.qs[33] = 0x80;             /* sign of value 15 */
    /* grid 256 = 0x0819081919191919: 25, 25, 25, 25, 25, 8, 25, 8; scale 0: 1/8 */
    quant_iq2_s_to_float(&c, y, 256);
    CHECK(y[0] == -5.375f && y[1] == 5.375f && y[8] == 3.125f && y[13] == 1.0f && y[15] == -1.0f);
    CHECK(y[16] == 1.0f);
    check_sum_dot(GGML_TYPE_IQ2_S, &c, y, 256);

    block_iq3_xxs d3;
    memset(&d3, 0, sizeof d3);
    d3.d = 0x3C00;
    d3.qs[0] = 1;                /* grid 1 = 0x04040414: 20, 4, 4, 4 */
    d3.qs[1] = 255;              /* grid 255 = 0x3e341c04: 4, 28, 52, 62 */
    const uint32_t w3 = (2u << 28) | 1u; /* scale (0.5 + 2) / 2, signs of values 0 and 7 */
    memcpy(d3.qs + 64, &w3, 4);
    quant_iq3_xxs_to_float(&d3, y, 256);
    CHECK(y[0] == -25.0f && y[1] == 5.0f && y[4] == 5.0f && y[5] == 35.0f && y[6] == 65.0f &&
          y[7] == -77.5f && y[8] == 5.0f && y[32] == 1.0f);
    check_sum_dot(GGML_TYPE_IQ3_XXS, &d3, y, 256);

    block_iq3_s e;
    memset(&e, 0, sizeof e);
    e.d = 0x3C00;
    e.qs[0] = 0xFF;
    e.qh[0] = 0x01;              /* group 0: index 511 = 0x0f0f0101: 1, 1, 15, 15 */
    e.signs[0] = 0x04;           /* value 2 */
    e.scales[0] = 0x01;          /* values 0..31: 1 + 2 * 1 = 3; 32..63: 1 */
    quant_iq3_s_to_float(&e, y, 256);
    CHECK(y[0] == 3.0f && y[2] == -45.0f && y[3] == 45.0f && y[4] == 3.0f && y[32] == 1.0f);
    check_sum_dot(GGML_TYPE_IQ3_S, &e, y, 256);

    block_iq1_s f;
    memset(&f, 0, sizeof f);
    f.d = 0x3C00;
    f.qs[0] = 0xFF;
    f.qs[1] = 1;
    f.qh[0] = 0x8000 | (2 << 12) | 7; /* group 0: index 2047 (all +1), group 1: 1; scale 5,
                                         shift -1/8 */
    /* grid 1 = 0xffffffffffffff01: +1 then -1 x7; grid 0: all -1 */
    quant_iq1_s_to_float(&f, y, 256);
    CHECK(y[0] == 4.375f && y[7] == 4.375f && y[8] == 4.375f && y[9] == -5.625f && y[16] == -5.625f);
    CHECK(y[32] == -1.0f + 0.125f);  /* scale 1, shift +1/8, grid 0 */
    check_sum_dot(GGML_TYPE_IQ1_S, &f, y, 256);

    block_iq1_m g;
    memset(&g, 0, sizeof g);
    g.scales[0] = 0x11;          /* values 0..15: scale 2 * 1 + 1, 16..31: 2 * 2 + 1 */
    iq1_m_set_d(&g, 0x3C00);
    CHECK_EQ_INT(quant_iq1_m_d(&g), 0x3C00);
    CHECK(g.scales[5] == 0xC0 && g.scales[7] == 0x30);
    g.qs[0] = 0xFF;
    g.qs[1] = 1;
    g.qh[0] = 0x87;              /* group 0: index 0x7FF, shift +; group 1: index 1, shift - */
    quant_iq1_m_to_float(&g, y, 256);
    CHECK(y[0] == 3.375f && y[8] == 2.625f && y[9] == -3.375f && y[16] == -4.375f);
    check_sum_dot(GGML_TYPE_IQ1_M, &g, y, 256);

    block_tq1_0 t1;
    memset(&t1, 0, sizeof t1);
    t1.d = 0x3800;               /* 0.5 */
    /* digit k of byte q: ((uint8_t)(q * 3^k) * 3) >> 8; 255: all 2; 100: 1, 0, 1, 1, 1; 0: 0 */
    t1.qs[0] = 255;
    t1.qs[3] = 100;
    t1.qs[40] = 255;             /* second part: values 160 + 16k + 8 */
    t1.qh[1] = 255;              /* values 240 + 4k + 1 */
    quant_tq1_0_to_float(&t1, y, 256);
    CHECK(y[0] == 0.5f && y[32] == 0.5f && y[128] == 0.5f && y[1] == -0.5f);
    CHECK(y[3] == 0.0f && y[35] == -0.5f && y[67] == 0.0f && y[99] == 0.0f && y[131] == 0.0f);
    CHECK(y[168] == 0.5f && y[184] == 0.5f && y[232] == 0.5f && y[169] == -0.5f);
    CHECK(y[241] == 0.5f && y[245] == 0.5f && y[249] == 0.5f && y[253] == 0.5f && y[240] == -0.5f);
    check_sum_dot(GGML_TYPE_TQ1_0, &t1, y, 256);

    block_tq2_0 t2;
    memset(&t2, 0, sizeof t2);
    t2.d = 0x3800;
    t2.qs[0] = 0xE4;             /* values 0, 32, 64, 96: 2-bit 0, 1, 2, 3 */
    t2.qs[33] = 0x03;            /* value 129: 3; 161: 0 */
    quant_tq2_0_to_float(&t2, y, 256);
    CHECK(y[0] == -0.5f && y[32] == 0.0f && y[64] == 0.5f && y[96] == 1.0f);
    CHECK(y[129] == 1.0f && y[161] == -0.5f && y[1] == -0.5f);
    check_sum_dot(GGML_TYPE_TQ2_0, &t2, y, 256);

    block_mxfp4 m[2];
    memset(m, 0, sizeof m);
    m[0].e = 128;                /* 2^(128 - 128) times the doubled E2M1 values */
    m[0].qs[0] = 0x97;           /* value 0: level 7 -> 12 (6, doubled); value 16: 9 -> -1 */
    m[0].qs[15] = 0xF1;          /* value 15: 1, value 31: 15 -> -12 */
    m[1].e = 0;                  /* 2^-128: subnormal */
    m[1].qs[0] = 0x07;
    quant_mxfp4_to_float(m, y, 64);
    CHECK(y[0] == 12.0f && y[16] == -1.0f && y[15] == 1.0f && y[31] == -12.0f && y[1] == 0.0f);
    CHECK(y[32] == 12.0f * 0x1p-128f && y[32] > 0.0f);
    check_sum_dot(GGML_TYPE_MXFP4, m, y, 64);
    CHECK(quant_e8m0_half(1) == 0x1p-127f && quant_e8m0_half(2) == 0x1p-126f &&
          quant_e8m0_half(255) == 0x1p127f);
}

/* The grids, against facts that do not come from the tables: the sign table is each 7-bit
 * index plus its even parity bit; every grid entry is distinct and made of the grid's levels;
 * and each table's FNV-1a 64 hash equals that of gguf-py's independently encoded grid
 * (gguf-py/gguf/quants.py, grid_hex and grid_map; hashed over the value bytes in order). */
static uint64_t fnv1a(const uint8_t *p, size_t n, uint64_t h) {
    for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 0x100000001b3ull;
    return h;
}

static int grid_ok(const uint8_t *bytes, int n_ent, int w, const int *levels, int n_lv) {
    for (int e = 0; e < n_ent; e++) {
        for (int j = 0; j < w; j++) {
            int hit = 0;
            for (int l = 0; l < n_lv; l++) hit |= bytes[e * w + j] == (uint8_t)levels[l];
            if (!hit) return 0;
        }
        for (int f = 0; f < e; f++)
            if (memcmp(bytes + e * w, bytes + f * w, (size_t)w) == 0) return 0;
    }
    return 1;
}

TEST(quant_iq_grids) {
    for (int i = 0; i < 128; i++) {
        const int par = __builtin_popcount((unsigned)i) & 1;
        CHECK_EQ_INT(quant_ksigns_iq2xs[i], i | (par << 7));
    }
    static const int lv2[] = {0x08, 0x19, 0x2b}, lv3x[] = {4, 12, 20, 28, 36, 44, 52, 62};
    static const int lv3s[] = {1, 3, 5, 7, 9, 11, 13, 15}, lv1[] = {-1, 0, 1};
    static const struct {
        const char *name;
        const void *grid;
        int n, w;
        const int *lv;
        int n_lv;
        uint64_t fnv;
    } g[] = {
        {"iq2xxs", quant_iq2xxs_grid, 256, 8, lv2, 3, 0xbb4ee025b5ac6e8eull},
        {"iq2xs", quant_iq2xs_grid, 512, 8, lv2, 3, 0xc9b1ee61e79909bdull},
        {"iq2s", quant_iq2s_grid, 1024, 8, lv2, 3, 0x123edd38a3b62b90ull},
        {"iq3xxs", quant_iq3xxs_grid, 256, 4, lv3x, 8, 0xdfa5dc83d6a155d5ull},
        {"iq3s", quant_iq3s_grid, 512, 4, lv3s, 8, 0xfa37020c25b44829ull},
        {"iq1s", quant_iq1s_grid, 2048, 8, lv1, 3, 0x6703ed863501ae2eull},
    };
    for (size_t k = 0; k < sizeof g / sizeof g[0]; k++) {
        uint8_t *bytes = malloc((size_t)g[k].n * (size_t)g[k].w);
        for (int e = 0; e < g[k].n; e++)
            for (int j = 0; j < g[k].w; j++) {
                const uint64_t v = g[k].w == 8 ? ((const uint64_t *)g[k].grid)[e]
                                               : ((const uint32_t *)g[k].grid)[e];
                bytes[e * g[k].w + j] = (uint8_t)(v >> (8 * j));
            }
        CHECK_MSG(grid_ok(bytes, g[k].n, g[k].w, g[k].lv, g[k].n_lv), "%s grid", g[k].name);
        const uint64_t h = fnv1a(bytes, (size_t)g[k].n * (size_t)g[k].w, 0xcbf29ce484222325ull);
        CHECK_MSG(h == g[k].fnv, "%s grid hash %016llx", g[k].name, (unsigned long long)h);
        free(bytes);
    }
}

/* ---------------- dot products ---------------- */

static double dot_double(const float *a, const float *b, int n) {
    double s = 0;
    for (int i = 0; i < n; i++) s += (double)a[i] * (double)b[i];
    return s;
}

/* vec_dot (reference and best kernel) equals the double dot product of the dequantized inputs
 * up to float summation, and stays near the float dot product (activation quantization). */
TEST(quant_vec_dot_vs_float) {
    const int n = 1024;
    void *x = malloc((size_t)n * 8), *yq = malloc((size_t)n * 8);
    float *xf = malloc((size_t)n * 4), *yf = malloc((size_t)n * 4), *yd = malloc((size_t)n * 4);
    for (size_t k = 0; k < N_TYPES_ALL; k++) {
        const uint32_t t = types_all[k];
        const struct quant_traits *tr = quant_traits_get(t);
        const struct quant_traits *vt = quant_traits_get(tr->vec_dot_type);
        for (int rep = 0; rep < 20; rep++) {
            fill_random_row(t, x, n);
            tr->to_float(x, xf, n);
            for (int i = 0; i < n; i++) yf[i] = rng_f();
            vt->from_float(yf, yq, n);
            vt->to_float(yq, yd, n);
            double abs_sum = 0, absq = 0;
            for (int i = 0; i < n; i++) {
                abs_sum += fabs((double)xf[i] * yd[i]);
                absq += fabs((double)xf[i] * yf[i]);
            }
            const double exact = dot_double(xf, yd, n), truth = dot_double(xf, yf, n);
            if (tr->vec_dot_type == GGML_TYPE_Q8_1) { /* m * s uses s = d * sum(q) as a half */
                for (int b = 0; b < n / 32; b++) {
                    const block_q8_1 *yb = (const block_q8_1 *)yq + b;
                    abs_sum += 4.0 * fabs(quant_f16_to_f32(yb->s)) * 0x1p-11 / 2e-6;
                }
            }
            float s_ref, s_best;
            tr->vec_dot_ref(n, &s_ref, x, yq);
            tr->vec_dot(n, &s_best, x, yq);
            CHECK_MSG(fabs(s_ref - exact) <= 2e-6 * abs_sum + 1e-30, "%s ref %g vs %g", tr->name,
                      s_ref, exact);
            CHECK_MSG(fabs(s_best - exact) <= 2e-6 * abs_sum + 1e-30, "%s best %g vs %g",
                      tr->name, s_best, exact);
            /* activation quantization: 8 bits (F16/BF16/F32 much better) */
            const double lim = t == GGML_TYPE_BF16 ? 1e-2 : t == GGML_TYPE_F16 ? 1e-3
                             : t == GGML_TYPE_F32 ? 1e-6 : 1.5e-2;
            CHECK_MSG(fabs(s_best - truth) <= lim * absq, "%s %g vs float %g", tr->name, s_best,
                      truth);
        }
    }
    free(x), free(yq), free(xf), free(yf), free(yd);
}

/* ---------------- quantizers ---------------- */

static double nmse(const float *a, const float *b, int n) {
    double num = 0, den = 0;
    for (int i = 0; i < n; i++) {
        num += ((double)a[i] - b[i]) * ((double)a[i] - b[i]);
        den += (double)a[i] * a[i];
    }
    return den > 0 ? num / den : num;
}

TEST(quant_round_trip_error) {
    static const struct { uint32_t t; double lim; } cases[] = {
        {GGML_TYPE_F32, 0}, {GGML_TYPE_F16, 1e-7}, {GGML_TYPE_BF16, 1e-5},
        {GGML_TYPE_Q8_0, 5e-5}, {GGML_TYPE_Q8_1, 5e-5}, {GGML_TYPE_Q8_K, 5e-5},
        {GGML_TYPE_Q4_0, 1.2e-2}, {GGML_TYPE_Q4_K, 6e-3}, {GGML_TYPE_Q6_K, 4e-4},
    };
    const int n = 4096;
    float *x = malloc(n * 4), *y = malloc(n * 4);
    void *q = malloc((size_t)n * 8);
    for (int i = 0; i < n; i++) x[i] = rng_f() + 0.3f * rng_f() * rng_f() * rng_f();
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        const struct quant_traits *tr = quant_traits_get(cases[k].t);
        CHECK(tr->from_float != NULL);
        tr->from_float(x, q, n);
        tr->to_float(q, y, n);
        const double e = nmse(x, y, n);
        CHECK_MSG(e <= cases[k].lim, "%s nmse %g > %g", tr->name, e, cases[k].lim);
    }
    /* zeros quantize to zeros, without NaN */
    memset(x, 0, n * 4);
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        const struct quant_traits *tr = quant_traits_get(cases[k].t);
        tr->from_float(x, q, n);
        tr->to_float(q, y, n);
        for (int i = 0; i < n; i++) CHECK_MSG(y[i] == 0.0f, "%s zero -> %g", tr->name, y[i]);
    }
    free(x), free(y), free(q);
}

/* Q8_0 activations: ties to even, d = amax / 127 stored as half. */
TEST(quant_q8_0_activation_exact) {
    float x[32];
    for (int i = 0; i < 32; i++) x[i] = (float)(i - 16) * 0.5f;
    x[31] = 127.0f;
    block_q8_0 b;
    quant_q8_0_from_float(x, &b, 32);
    CHECK_EQ_INT(b.d, quant_f32_to_f16(1.0f));
    CHECK_EQ_INT(b.qs[0], -8);
    CHECK_EQ_INT(b.qs[1], -8); /* -7.5 -> -8 */
    CHECK_EQ_INT(b.qs[3], -6); /* -6.5 -> -6 */
    CHECK_EQ_INT(b.qs[31], 127);
    block_q8_K k;
    float xk[256];
    for (int i = 0; i < 256; i++) xk[i] = (float)(i % 7) - 3.0f;
    xk[100] = -127.0f;
    quant_q8_K_from_float(xk, &k, 256);
    CHECK(k.d == 1.0f);
    CHECK_EQ_INT(k.qs[100], -127);
    CHECK_EQ_INT(k.qs[0], -3);
    int s = 0;
    for (int i = 0; i < 16; i++) s += k.qs[i];
    CHECK_EQ_INT(k.bsums[0], s);
}

/* ---------------- SIMD against scalar ---------------- */

static int close_rel(double a, double b, double scale, double rel) {
    return fabs(a - b) <= rel * scale + 1e-30;
}

/* quant_mat_dot's decoded path (quant_iqd) with kernel set kern: s[c * bs + r]. */
static void iqd_mat_dot(const struct quant_kernels *kern, uint32_t t, int n, float *s, size_t bs,
                        const void *vx, size_t bx, const void *vy, size_t by, int nr, int nc) {
    const uint8_t *x = vx, *y = vy;
    int off;
    float g, f;
    quant_iqd_consts(t, &off, &g, &f);
    struct quant_iqd w[16];
    for (int c = 0; c < nc; c++)
        for (int r = 0; r < nr; r++) s[(size_t)c * bs + (size_t)r] = 0.0f;
    for (int i = 0; i < n / QK_K; i++) {
        for (int r = 0; r < nr; r++) kern->iqd_dec[t](x + (size_t)r * bx, i, &w[r]);
        kern->iqd_gemm(w, nr, y, by, i, s, bs, nc, off, g);
    }
    for (int c = 0; c < nc; c++)
        for (int r = 0; r < nr; r++) s[(size_t)c * bs + (size_t)r] *= f;
}

TEST(quant_simd_vs_scalar) {
    const int sizes[] = {32, 96, 224, 256, 512, 768, 1024, 2048, 4096 + 256};
    const int maxn = 4096 + 256;
    void *x = malloc((size_t)maxn * 4 * 4), *yq = malloc((size_t)maxn * 8 * 4);
    float *yf = malloc((size_t)maxn * 4), *xf = malloc((size_t)maxn * 4);
    float *yd = malloc((size_t)maxn * 4);
    int n_tested = 0;
    for (int lv = QUANT_AVX2; lv < QUANT_LEVEL_COUNT; lv++) {
        const struct quant_kernels *kern = quant_kernels_of((enum quant_level)lv);
        if (!kern) continue;
        for (size_t k = 0; k < N_TYPES_ALL; k++) {
            const uint32_t t = types_all[k];
            const struct quant_traits *tr = quant_traits_get(t);
            const struct quant_traits *vt = quant_traits_get(tr->vec_dot_type);
            for (size_t si = 0; si < sizeof sizes / sizeof sizes[0]; si++) {
                const int n = sizes[si];
                if (n % tr->blck_size) continue;
                const size_t rx = quant_row_size(t, n), ry = quant_row_size(tr->vec_dot_type, n);
                for (int r = 0; r < 4; r++) fill_random_row(t, (char *)x + r * rx, n);
                for (int c = 0; c < 4; c++) {
                    for (int i = 0; i < n; i++) yf[i] = rng_f() * (c + 1);
                    vt->from_float(yf, (char *)yq + c * ry, n);
                }
                double scale[4][4];
                float ref[4][4];
                for (int r = 0; r < 4; r++) {
                    tr->to_float((char *)x + r * rx, xf, n);
                    for (int c = 0; c < 4; c++) {
                        vt->to_float((char *)yq + c * ry, yd, n);
                        double sa = 0;
                        for (int i = 0; i < n; i++) sa += fabs((double)xf[i] * yd[i]);
                        scale[r][c] = sa;
                        tr->vec_dot_ref(n, &ref[r][c], (char *)x + r * rx, (char *)yq + c * ry);
                    }
                }
                if (kern->vec_dot[t]) {
                    for (int r = 0; r < 4; r++)
                        for (int c = 0; c < 4; c++) {
                            float s;
                            kern->vec_dot[t](n, &s, (char *)x + r * rx, (char *)yq + c * ry);
                            CHECK_MSG(close_rel(s, ref[r][c], scale[r][c], 1e-5),
                                      "%s %s n=%d: %.9g vs scalar %.9g", quant_level_name(lv),
                                      tr->name, n, s, ref[r][c]);
                            CHECK_MSG(!kernels_exact(t) || s == ref[r][c],
                                      "%s %s n=%d: %.9g, not the scalar's bits %.9g",
                                      quant_level_name(lv), tr->name, n, s, ref[r][c]);
                            n_tested++;
                        }
                }
                if (kern->iqd_dec[t] && kern->iqd_gemm) {
                    for (int nr = 1; nr <= 4; nr++)
                        for (int nc = 1; nc <= 4; nc += 3) {
                            float st[4 * 5];
                            for (int i = 0; i < 20; i++) st[i] = -1e30f;
                            iqd_mat_dot(kern, t, n, st, 5, x, rx, yq, ry, nr, nc);
                            for (int c = 0; c < 4; c++)
                                for (int r = 0; r < 5; r++) {
                                    const float v = st[c * 5 + r];
                                    if (r >= nr || c >= nc) {
                                        CHECK(v == -1e30f);
                                        continue;
                                    }
                                    CHECK_MSG(v == ref[r][c], "%s %s decoded %dx%d n=%d: %.9g, "
                                              "not the scalar's bits %.9g", quant_level_name(lv),
                                              tr->name, nr, nc, n, v, ref[r][c]);
                                }
                            n_tested++;
                        }
                }
                if (kern->tile[t]) {
                    float full[4 * 4];
                    kern->tile[t](n, full, 4, x, rx, yq, ry, 4, 4);
                    CHECK_MSG(kern->vec_dot[t] != NULL, "%s %s: a tile without a vec_dot",
                              quant_level_name(lv), tr->name);
                    for (int c = 0; kern->vec_dot[t] && tiles_as_vec_dot(lv, t) && c < 4; c++)
                        for (int r = 0; r < 4; r++) {
                            float v;
                            kern->vec_dot[t](n, &v, (char *)x + r * rx, (char *)yq + c * ry);
                            CHECK_MSG(full[c * 4 + r] == v, "%s %s tile n=%d [%d,%d]: %.9g, not "
                                      "vec_dot's bits %.9g", quant_level_name(lv), tr->name, n,
                                      r, c, full[c * 4 + r], v);
                        }
                    for (int nr = 1; nr <= 4; nr++)
                        for (int nc = 1; nc <= 4; nc++) {
                            float st[4 * 5];
                            for (int i = 0; i < 20; i++) st[i] = -1e30f;
                            kern->tile[t](n, st, 5, x, rx, yq, ry, nr, nc);
                            for (int c = 0; c < 4; c++)
                                for (int r = 0; r < 5; r++) {
                                    const float v = st[c * 5 + r];
                                    if (r >= nr || c >= nc) {
                                        CHECK(v == -1e30f);
                                        continue;
                                    }
                                    /* same bits whatever the tile shape */
                                    CHECK_MSG(v == full[c * 4 + r], "%s %s tile %dx%d n=%d: %.9g vs 4x4 %.9g",
                                              quant_level_name(lv), tr->name, nr, nc, n, v, full[c * 4 + r]);
                                    CHECK_MSG(close_rel(v, ref[r][c], scale[r][c], 1e-5),
                                              "%s %s tile n=%d: %.9g vs scalar %.9g", quant_level_name(lv),
                                              tr->name, n, v, ref[r][c]);
                                    CHECK_MSG(!kernels_exact(t) || v == ref[r][c],
                                              "%s %s tile n=%d: %.9g, not the scalar's bits %.9g",
                                              quant_level_name(lv), tr->name, n, v, ref[r][c]);
                                }
                            n_tested++;
                        }
                }
            }
        }
        /* activation quantizers must be bit-exact */
        const uint32_t acts[] = {GGML_TYPE_Q8_0, GGML_TYPE_Q8_1, GGML_TYPE_Q8_K, QUANT_TYPE_Q8_0S};
        const quant_from_float_fn fns[] = {kern->q8_0_from_float, kern->q8_1_from_float,
                                           kern->q8_K_from_float, kern->q8_0s_from_float};
        const quant_from_float_fn refs[] = {quant_q8_0_from_float, quant_q8_1_from_float,
                                            quant_q8_K_from_float, quant_q8_0s_from_float};
        for (int a = 0; a < 4; a++) {
            if (!fns[a]) continue;
            const int n = 4096;
            const size_t rs = quant_row_size(acts[a], n);
            char *q1 = malloc(rs), *q2 = malloc(rs);
            for (int rep = 0; rep < 10; rep++) {
                for (int i = 0; i < n; i++) yf[i] = rng_f() * (float)(rep + 1);
                if (rep == 3) for (int i = 0; i < 256; i++) yf[i] = 0.0f;
                if (rep == 4) for (int i = 0; i < n; i++) yf[i] = (float)(i % 64 - 32) * 0.5f;
                if (rep == 5) for (int i = 0; i < n; i++) yf[i] = (float)(i % 7) - 3.0f; /* +-3 ties */
                if (rep == 6) for (int i = 0; i < n; i++) yf[i] = -(float)((i * 37) % 11);
                refs[a](yf, q1, n);
                fns[a](yf, q2, n);
                CHECK_MSG(memcmp(q1, q2, rs) == 0, "%s %s quantizer differs (rep %d)",
                          quant_level_name(lv), quant_traits_get(acts[a])->name, rep);
            }
            free(q1), free(q2);
            n_tested++;
        }
        /* F16 helpers */
        for (int n = 0; n < 300; n += 7) {
            uint16_t h[300];
            float f[300], g[300], g2[300];
            for (int i = 0; i < n; i++) {
                h[i] = quant_f32_to_f16(rng_f());
                f[i] = rng_f();
                g[i] = g2[i] = rng_f();
            }
            double d = 0, sa = 0;
            for (int i = 0; i < n; i++) {
                d += (double)quant_f16_to_f32(h[i]) * f[i];
                sa += fabs((double)quant_f16_to_f32(h[i]) * f[i]);
            }
            if (kern->f16_dot_f32)
                CHECK(close_rel(kern->f16_dot_f32(n, h, f), d, sa, 1e-6));
            if (kern->f16_axpy) {
                kern->f16_axpy(n, 0.75f, h, g);
                for (int i = 0; i < n; i++)
                    CHECK(fabsf(g[i] - (g2[i] + 0.75f * quant_f16_to_f32(h[i]))) <= 1e-6f);
            }
            if (kern->f16_to_f32) {
                kern->f16_to_f32(h, g, n);
                for (int i = 0; i < n; i++) CHECK(g[i] == quant_f16_to_f32(h[i]));
            }
            if (kern->f32_to_f16) {
                uint16_t h2[300];
                kern->f32_to_f16(f, h2, n);
                for (int i = 0; i < n; i++) CHECK(h2[i] == quant_f32_to_f16(f[i]));
            }
        }
    }
    free(x), free(yq), free(yf), free(xf), free(yd);
#if defined(__x86_64__)
    if (quant_kernels_of(QUANT_AVX2) || quant_kernels_of(QUANT_NEON)) CHECK(n_tested > 1000);
#endif
}

/* IQ4_NL in x86's tile order: per block 8 i32 lanes of 4 products (values 0..15, then
 * 16..31), one FMA per lane by dx * dy, the lanes summed as hsum8. */
static float iq4_nl_lanes_ref(int n, const block_iq4_nl *x, const block_q8_0 *y) {
    float acc[8] = {0};
    for (int i = 0; i < n / QK4_NL; i++) {
        int lane[8] = {0};
        for (int j = 0; j < QK4_NL / 2; j++) {
            lane[j / 4] += quant_kvalues_iq4nl[x[i].qs[j] & 0xF] * y[i].qs[j];
            lane[4 + j / 4] += quant_kvalues_iq4nl[x[i].qs[j] >> 4] * y[i].qs[j + QK4_NL / 2];
        }
        const float d = quant_f16_to_f32(x[i].d) * quant_f16_to_f32(y[i].d);
        for (int k = 0; k < 8; k++) acc[k] = fmaf(d, (float)lane[k], acc[k]);
    }
    float r[4];
    for (int k = 0; k < 4; k++) r[k] = acc[k] + acc[k + 4];
    return (r[0] + r[2]) + (r[1] + r[3]);
}

/* IQ4_NL's batched products have the same bits on x86 and ARM: every level's tile and NEON's
 * vec_dot equal iq4_nl_lanes_ref bit for bit (x86's vec_dot keeps four accumulators). */
TEST(quant_iq4_nl_lane_order) {
    enum { NR = 4, NC = 4 };
    const int sizes[] = {32, 96, 1024, 4096 + 32};
    int n_tested = 0;
    for (size_t si = 0; si < sizeof sizes / sizeof sizes[0]; si++) {
        const int n = sizes[si];
        const size_t rx = quant_row_size(GGML_TYPE_IQ4_NL, n);
        const size_t ry = quant_row_size(GGML_TYPE_Q8_0, n);
        char *x = malloc(rx * NR), *y = malloc(ry * NC);
        float *yf = malloc(sizeof(float) * (size_t)n);
        for (int r = 0; r < NR; r++) fill_random_row(GGML_TYPE_IQ4_NL, x + r * rx, n);
        for (int c = 0; c < NC; c++) {
            for (int i = 0; i < n; i++) yf[i] = rng_f() * (float)(c + 1);
            quant_q8_0_from_float(yf, y + c * ry, n);
        }
        for (int lv = QUANT_AVX2; lv < QUANT_LEVEL_COUNT; lv++) {
            const struct quant_kernels *kern = quant_kernels_of((enum quant_level)lv);
            if (!kern) continue;
            CHECK_MSG(lv < QUANT_NEON || kern->tile[GGML_TYPE_IQ4_NL], "%s: no IQ4_NL tile",
                      quant_level_name(lv));
            float st[NC][NR];
            if (kern->tile[GGML_TYPE_IQ4_NL])
                kern->tile[GGML_TYPE_IQ4_NL](n, &st[0][0], NR, x, rx, y, ry, NR, NC);
            for (int r = 0; r < NR; r++)
                for (int c = 0; c < NC; c++) {
                    const float want = iq4_nl_lanes_ref(n, (const block_iq4_nl *)(x + r * rx),
                                                        (const block_q8_0 *)(y + c * ry));
                    CHECK_MSG(!kern->tile[GGML_TYPE_IQ4_NL] || st[c][r] == want,
                              "%s IQ4_NL tile n=%d [%d,%d]: %.9g, lanes %.9g", quant_level_name(lv),
                              n, r, c, st[c][r], want);
                    float v = want;
                    if (lv >= QUANT_NEON)
                        kern->vec_dot[GGML_TYPE_IQ4_NL](n, &v, x + r * rx, y + c * ry);
                    CHECK_MSG(v == want, "%s IQ4_NL vec_dot n=%d [%d,%d]: %.9g, lanes %.9g",
                              quant_level_name(lv), n, r, c, v, want);
                    n_tested++;
                }
        }
        free(x), free(y), free(yf);
    }
    if (quant_kernels_of(QUANT_AVX2) || quant_kernels_of(QUANT_NEON)) CHECK(n_tested > 0);
}

/* The new types (and IQ4_XS, IQ4_NL) at their extremes: rows of all-ones bytes (largest indices
 * and scales, every sign set, the -1/8 shift), all-zero bytes and random bytes, with the
 * largest, smallest normal, a subnormal and a negative half scale (MXFP4: E8M0 exponents 0 to
 * 150), against activations at +-127: every SIMD kernel and tile equals the reference bit for
 * bit (MXFP4, IQ4_XS, IQ4_NL: within float rounding; tiles_as_vec_dot's tiles are their
 * vec_dot's bits). */
static void set_block_scale(uint32_t t, void *blk, uint16_t d, uint8_t e) {
    switch (t) {
    case GGML_TYPE_MXFP4: ((block_mxfp4 *)blk)->e = e; break;
    case GGML_TYPE_TQ1_0: ((block_tq1_0 *)blk)->d = d; break;
    case GGML_TYPE_TQ2_0: ((block_tq2_0 *)blk)->d = d; break;
    case GGML_TYPE_IQ1_M: iq1_m_set_d(blk, d); break;
    default: memcpy(blk, &d, 2); break; /* the others start with their half d */
    }
}

TEST(quant_new_types_extremes) {
    static const uint32_t types[] = {
        GGML_TYPE_MXFP4, GGML_TYPE_TQ1_0, GGML_TYPE_TQ2_0, GGML_TYPE_IQ2_XXS, GGML_TYPE_IQ2_XS,
        GGML_TYPE_IQ2_S, GGML_TYPE_IQ3_XXS, GGML_TYPE_IQ3_S, GGML_TYPE_IQ1_S, GGML_TYPE_IQ1_M,
        GGML_TYPE_IQ4_XS, GGML_TYPE_IQ4_NL,
    };
    static const uint16_t halves[] = {0x7BFF, 0x0400, 0x0001, 0xBC00};
    static const uint8_t exps[] = {0, 1, 2, 100, 127, 128, 150, 127};
    enum { N = 512, NR = 4, NC = 4 };
    float yf[N];
    int n_tested = 0;
    for (size_t k = 0; k < sizeof types / sizeof types[0]; k++) {
        const uint32_t t = types[k];
        const struct quant_traits *tr = quant_traits_get(t);
        const struct quant_traits *vt = quant_traits_get(tr->vec_dot_type);
        const size_t rx = quant_row_size(t, N), ry = quant_row_size(tr->vec_dot_type, N);
        uint8_t *x = malloc(NR * rx), *y = malloc(NC * ry);
        for (int c = 0; c < NC; c++) {
            for (int i = 0; i < N; i++)
                yf[i] = c == 0 ? 1.0f : c == 1 ? (i & 1 ? -1.0f : 1.0f) : c == 2 ? -1.0f : rng_f();
            vt->from_float(yf, y + c * ry, N);
        }
        for (int pat = 0; pat < 3; pat++) {
            for (int sc = 0; sc < 4; sc++) {
                for (int r = 0; r < NR; r++) {
                    uint8_t *row = x + r * rx;
                    for (size_t i = 0; i < rx; i++)
                        row[i] = pat == 0 ? 0xFF : pat == 1 ? 0x00 : (uint8_t)rng_u32();
                    for (size_t b = 0; b < rx / tr->type_size; b++)
                        set_block_scale(t, row + b * tr->type_size, halves[(sc + r + b) % 4],
                                        exps[(2 * sc + r + b) % 8]);
                }
                float ref[NR][NC];
                double sa[NR][NC];
                float *xf = malloc(sizeof(float) * N), *yd = malloc(sizeof(float) * N);
                for (int r = 0; r < NR; r++) {
                    tr->to_float(x + r * rx, xf, N);
                    for (int c = 0; c < NC; c++) {
                        vt->to_float(y + c * ry, yd, N);
                        sa[r][c] = 0;
                        for (int i = 0; i < N; i++) sa[r][c] += fabs((double)xf[i] * yd[i]);
                        tr->vec_dot_ref(N, &ref[r][c], x + r * rx, y + c * ry);
                        CHECK(isfinite(ref[r][c]));
                    }
                }
                free(xf), free(yd);
                for (int lv = QUANT_AVX2; lv < QUANT_LEVEL_COUNT; lv++) {
                    const struct quant_kernels *kern = quant_kernels_of((enum quant_level)lv);
                    if (!kern) continue;
                    /* x86 levels cover every type; NEON the common ones */
                    CHECK_MSG(lv >= QUANT_NEON || kern->vec_dot[t] != NULL, "%s: no %s kernel",
                              tr->name, quant_level_name(lv));
                    if (!kern->vec_dot[t]) continue;
                    float tile[NC][NR]; /* the tile, or the decoded path */
                    if (kern->tile[t]) kern->tile[t](N, &tile[0][0], NR, x, rx, y, ry, NR, NC);
                    CHECK(!kernels_exact(t) || (kern->iqd_dec[t] && kern->iqd_gemm));
                    if (kern->iqd_dec[t])
                        iqd_mat_dot(kern, t, N, &tile[0][0], NR, x, rx, y, ry, NR, NC);
                    for (int r = 0; r < NR; r++)
                        for (int c = 0; c < NC; c++) {
                            float s = 0;
                            if (kern->vec_dot[t]) kern->vec_dot[t](N, &s, x + r * rx, y + c * ry);
                            const int batched = kern->tile[t] || kern->iqd_dec[t];
                            const float v[2] = {s, batched ? tile[c][r] : ref[r][c]};
                            CHECK_MSG(!kern->tile[t] || !tiles_as_vec_dot(lv, t) || v[1] == s,
                                      "%s %s pattern %d scales %d [%d,%d]: tile %.9g, vec_dot %.9g",
                                      quant_level_name(lv), tr->name, pat, sc, r, c, v[1], s);
                            for (int w = 0; w < 2; w++)
                                CHECK_MSG(kernels_exact(t) ? v[w] == ref[r][c]
                                                           : close_rel(v[w], ref[r][c], sa[r][c], 1e-5),
                                          "%s %s %s pattern %d scales %d [%d,%d]: %.9g vs %.9g",
                                          quant_level_name(lv), tr->name, w ? "batched" : "vec_dot", pat,
                                          sc, r, c, v[w], ref[r][c]);
                            n_tested++;
                        }
                }
            }
        }
        free(x), free(y);
    }
    /* MXFP4x16 at the same exponents (subnormal scales included): SIMD = reference, bits */
    const struct quant_repack *rp = quant_repack_find(GGML_TYPE_MXFP4);
    CHECK(rp != NULL);
    if (rp) {
        const size_t rx = quant_row_size(GGML_TYPE_MXFP4, N), ry = quant_row_size(rp->act_type, N);
        uint8_t *x = malloc(QUANT_RP_ROWS * rx), *g = malloc(rp->group_bytes(N)), *y = malloc(4 * ry);
        for (size_t i = 0; i < QUANT_RP_ROWS * rx; i++) x[i] = (uint8_t)rng_u32();
        for (int r = 0; r < QUANT_RP_ROWS; r++)
            for (int b = 0; b < N / QK_MXFP4; b++)
                ((block_mxfp4 *)(x + r * rx))[b].e = exps[(r + b) % 8];
        for (int c = 0; c < 4; c++) {
            for (int i = 0; i < N; i++) yf[i] = c == 0 ? 1.0f : rng_f();
            quant_traits_get(rp->act_type)->from_float(yf, y + c * ry, N);
        }
        rp->pack(x, rx, g, N);
        float ref[4][QUANT_RP_ROWS], got[4][QUANT_RP_ROWS];
        rp->gemm_ref(N, &ref[0][0], QUANT_RP_ROWS, g, y, ry, 4);
        for (int lv = QUANT_AVX2; lv < QUANT_LEVEL_COUNT; lv++) {
            const struct quant_kernels *kern = quant_kernels_of((enum quant_level)lv);
            if (!kern || !kern->rp_gemm[GGML_TYPE_MXFP4]) continue;
            kern->rp_gemm[GGML_TYPE_MXFP4](N, &got[0][0], QUANT_RP_ROWS, g, y, ry, 4);
            CHECK_MSG(memcmp(got, ref, sizeof got) == 0, "%s MXFP4x16 at extreme scales",
                      quant_level_name(lv));
        }
        free(x), free(g), free(y);
    }
#if defined(__x86_64__)
    if (quant_kernels_x86(QUANT_AVX2)) CHECK(n_tested > 0);
#endif
}

/* quant_mat_dot agrees with vec_dot (up to float summation order), for odd shapes too, and
 * gives the same bits however the rows are split (as threads split them). */
/* Repacked layouts: the scalar reference against the row-major scalar kernel (float order
 * differs: tolerance), every SIMD kernel and the driver against the scalar reference (bit for
 * bit, whatever the column count), and the layout against the rows it came from. */
TEST(quant_repack_vs_scalar) {
    const int sizes[] = {256, 512, 768, 2048, 4096 + 256};
    const uint32_t types[] = {GGML_TYPE_Q4_0, GGML_TYPE_Q8_0, GGML_TYPE_Q4_K, GGML_TYPE_Q6_K,
                              GGML_TYPE_MXFP4};
    enum { NR = 2 * QUANT_RP_ROWS, NC = 19 };
    int n_tested = 0;
    for (size_t k = 0; k < sizeof types / sizeof types[0]; k++) {
        const struct quant_repack *rp = quant_repack_find(types[k]);
        CHECK(rp != NULL && rp->type == types[k] && rp->gemm_ref != NULL);
        if (!rp) continue;
        const struct quant_traits *tr = quant_traits_get(rp->type);
        const struct quant_traits *at = quant_traits_get(rp->act_type);
        CHECK(at && at->from_float && at->to_float);
        /* the scalar row-major kernel's activations (Q8_0 for Q4_0) carry the same quants */
        const struct quant_traits *vt = quant_traits_get(tr->vec_dot_type);
        for (size_t si = 0; si < sizeof sizes / sizeof sizes[0]; si++) {
            const int n = sizes[si];
            const size_t rx = quant_row_size(rp->type, n), ry = quant_row_size(rp->act_type, n);
            const size_t rv = quant_row_size(tr->vec_dot_type, n), gb = rp->group_bytes(n);
            CHECK(gb >= QUANT_RP_ROWS * rx && gb <= QUANT_RP_ROWS * rx * 21 / 20);
            char *x = malloc(NR * rx), *g = malloc(2 * gb), *y = malloc(NC * ry), *yv = malloc(NC * rv);
            float *yf = malloc((size_t)n * sizeof *yf), *xf = malloc((size_t)n * sizeof *xf);
            float *yd = malloc((size_t)n * sizeof *yd);
            float ref[NC][NR], got[NC][NR];
            for (int r = 0; r < NR; r++) fill_random_row(rp->type, x + r * rx, n);
            for (int c = 0; c < NC; c++) {
                for (int i = 0; i < n; i++) yf[i] = rng_f() * (float)(c % 5 + 1);
                at->from_float(yf, y + c * ry, n);
                vt->from_float(yf, yv + c * rv, n);
            }
            rp->pack(x, rx, g, n);
            rp->pack(x + QUANT_RP_ROWS * rx, rx, g + gb, n);
            for (int c = 0; c < NC; c++) {
                rp->gemm_ref(n, &ref[c][0], NR, g, y + c * ry, ry, 1);
                rp->gemm_ref(n, &ref[c][QUANT_RP_ROWS], NR, g + gb, y + c * ry, ry, 1);
                vt->to_float(yv + c * rv, yd, n);
                for (int r = 0; r < NR; r++) {
                    float s;
                    tr->vec_dot_ref(n, &s, x + r * rx, yv + c * rv);
                    tr->to_float(x + r * rx, xf, n);
                    double sa = 0;
                    for (int i = 0; i < n; i++) sa += fabs((double)xf[i] * yd[i]);
                    CHECK_MSG(close_rel(ref[c][r], s, sa, 1e-5), "%s n=%d r=%d c=%d: %.9g vs "
                              "row-major scalar %.9g", rp->name, n, r, c, ref[c][r], s);
                }
            }
            for (int lv = QUANT_AVX2; lv < QUANT_LEVEL_COUNT; lv++) {
                const struct quant_kernels *kern = quant_kernels_of((enum quant_level)lv);
                const quant_rp_gemm_fn fn = kern ? kern->rp_gemm[rp->type] : NULL;
                if (!fn) continue;
                for (int nc = 1; nc <= NC; nc += (nc < 10 ? 1 : 9)) {
                    for (int c0 = 0; c0 < NC; c0 += nc) {
                        const int m = NC - c0 < nc ? NC - c0 : nc;
                        for (int c = c0; c < c0 + m; c++)
                            for (int r = 0; r < NR; r++) got[c][r] = -1e30f;
                        fn(n, &got[c0][0], NR, g, y + c0 * ry, ry, m);
                        fn(n, &got[c0][QUANT_RP_ROWS], NR, g + gb, y + c0 * ry, ry, m);
                    }
                    CHECK_MSG(memcmp(got, ref, sizeof got) == 0, "%s %s n=%d nc=%d: %.9g vs "
                              "scalar %.9g", quant_level_name(lv), rp->name, n, nc, got[0][0], ref[0][0]);
                    n_tested++;
                }
            }
            /* the driver: both groups, all columns, SIMD when this CPU has it */
            for (int c = 0; c < NC; c++) for (int r = 0; r < NR; r++) got[c][r] = -1e30f;
            quant_repack_mat_dot(rp, n, &got[0][0], NR, g, gb, 2, y, ry, NC);
            CHECK_MSG(memcmp(got, ref, sizeof got) == 0, "%s quant_repack_mat_dot n=%d", rp->name, n);
            free(x), free(g), free(y), free(yv), free(yf), free(xf), free(yd);
        }
    }
    if (quant_kernels_of(QUANT_AVX2) || quant_kernels_of(QUANT_NEON)) CHECK(n_tested > 0);
#if defined(__aarch64__)
    /* every NEON level has all five layouts' kernels, so ARM repacks them (unless told not to) */
    for (size_t k = 0; k < sizeof types / sizeof types[0]; k++) {
        for (int lv = QUANT_NEON; lv < QUANT_LEVEL_COUNT; lv++) {
            const struct quant_kernels *kern = quant_kernels_of((enum quant_level)lv);
            CHECK_MSG(!kern || kern->rp_gemm[types[k]], "%s lacks %s's repacked kernel",
                      quant_level_name(lv), quant_traits_get(types[k])->name);
        }
        CHECK(getenv("NATTER_REPACK") || quant_repack_get(types[k]) != NULL);
    }
#endif
}

TEST(quant_mat_dot_matches_vec_dot) {
    const int n = 512, nr = 7, nc = 6;
    for (size_t k = 0; k < N_TYPES_ALL; k++) {
        const uint32_t t = types_all[k];
        const struct quant_traits *tr = quant_traits_get(t);
        const struct quant_traits *vt = quant_traits_get(tr->vec_dot_type);
        const size_t rx = quant_row_size(t, n), ry = quant_row_size(tr->vec_dot_type, n);
        char *x = malloc(rx * nr), *y = malloc(ry * nc);
        float *yf = malloc(n * 4), *xf = malloc(n * 4), *yd = malloc(n * 4), s[7 * 6], s2[7 * 6];
        for (int r = 0; r < nr; r++) fill_random_row(t, x + r * rx, n);
        for (int c = 0; c < nc; c++) {
            for (int i = 0; i < n; i++) yf[i] = rng_f();
            vt->from_float(yf, y + c * ry, n);
        }
        quant_mat_dot(t, n, s, nr, x, rx, y, ry, nr, nc);
        quant_mat_dot(t, n, s2, nr, x, rx, y, ry, 3, nc);
        quant_mat_dot(t, n, s2 + 3, nr, x + 3 * rx, rx, y, ry, nr - 3, nc);
        for (int c = 0; c < nc; c++)
            for (int r = 0; r < nr; r++) {
                float v;
                tr->vec_dot(n, &v, x + r * rx, y + c * ry);
                tr->to_float(x + r * rx, xf, n);
                vt->to_float(y + c * ry, yd, n);
                double sa = 0;
                for (int i = 0; i < n; i++) sa += fabs((double)xf[i] * yd[i]);
                CHECK_MSG(close_rel(s[c * nr + r], v, sa, 1e-5), "%s [%d,%d] %g vs %g", tr->name,
                          r, c, s[c * nr + r], v);
                CHECK_MSG(s[c * nr + r] == s2[c * nr + r], "%s [%d,%d] split %g vs %g", tr->name,
                          r, c, s2[c * nr + r], s[c * nr + r]);
                CHECK_MSG(!(kernels_exact(t) || tiles_as_vec_dot(quant_level_active(), t)) ||
                              s[c * nr + r] == v,
                          "%s [%d,%d] %.9g, not "
                          "vec_dot's bits %.9g", tr->name, r, c, s[c * nr + r], v);
            }
        free(x), free(y), free(yf), free(xf), free(yd);
    }
}

/* Many columns: quant_mat_dot walks them in L2-sized chunks; every entry still matches. */
TEST(quant_mat_dot_many_columns) {
    const int n = 4096, nr = 6, nc = 150;
    const uint32_t types[] = {GGML_TYPE_Q4_K, GGML_TYPE_Q8_0, GGML_TYPE_IQ2_XS, GGML_TYPE_TQ1_0};
    for (size_t k = 0; k < sizeof types / sizeof types[0]; k++) {
        const uint32_t t = types[k];
        const struct quant_traits *tr = quant_traits_get(t);
        const struct quant_traits *vt = quant_traits_get(tr->vec_dot_type);
        const size_t rx = quant_row_size(t, n), ry = quant_row_size(tr->vec_dot_type, n);
        char *x = malloc(rx * nr), *y = malloc(ry * nc);
        float *yf = malloc(n * 4), *s = malloc(sizeof(float) * nr * nc);
        for (int r = 0; r < nr; r++) fill_random_row(t, x + r * rx, n);
        for (int c = 0; c < nc; c++) {
            for (int i = 0; i < n; i++) yf[i] = rng_f();
            vt->from_float(yf, y + c * ry, n);
        }
        quant_mat_dot(t, n, s, nr, x, rx, y, ry, nr, nc);
        for (int c = 0; c < nc; c++) {
            float one[6];
            quant_mat_dot(t, n, one, nr, x, rx, y + c * ry, ry, nr, 1);
            for (int r = 0; r < nr; r++) {
                float v;
                tr->vec_dot(n, &v, x + r * rx, y + c * ry);
                CHECK_MSG(fabsf(s[c * nr + r] - v) <= 1e-4f * (fabsf(v) + 1.0f), "%s [%d,%d] %g vs %g",
                          tr->name, r, c, s[c * nr + r], v);
                CHECK(s[c * nr + r] == one[r]);
            }
        }
        free(x), free(y), free(yf), free(s);
    }
}

TEST(quant_force_scalar_switches) {
    const struct quant_traits *tr = quant_traits_get(GGML_TYPE_Q4_0);
    const char *best = quant_simd_name();
    CHECK(best != NULL);
    CHECK_EQ_INT(quant_force_scalar(1), 0);
    CHECK_STR_EQ(quant_simd_name(), "scalar");
    CHECK(tr->vec_dot == tr->vec_dot_ref && tr->vec_dot_tile == NULL);
    CHECK_EQ_INT(quant_force_scalar(0), 1);
    CHECK_STR_EQ(quant_simd_name(), best);
    if (!getenv("NATTER_SIMD"))
        CHECK_STR_EQ(best, quant_kernels_of(quant_level_detect()) ? quant_level_name(quant_level_detect())
                                                                   : "scalar");
}

/* NATTER_SIMD=name in a fresh process: the level this CPU runs for that cap. */
static void simd_name_for(const char *cap, char *out, size_t len) {
    int fd[2];
    out[0] = 0;
    if (pipe(fd) != 0) return;
    const pid_t pid = fork();
    if (pid == 0) {
        setenv("NATTER_SIMD", cap, 1);
        const char *nm = quant_simd_name();
        ssize_t w = write(fd[1], nm, strlen(nm));
        _exit(w < 0);
    }
    close(fd[1]);
    const ssize_t r = pid > 0 ? read(fd[0], out, len - 1) : -1;
    out[r > 0 ? r : 0] = 0;
    close(fd[0]);
    if (pid > 0) waitpid(pid, NULL, 0);
}

/* Each level's name caps at it when the CPU has it, else at the best level below it in its
 * family (AVX-512 parts lack AVX-VNNI, AVX-VNNI parts AVX-512); other names change nothing. */
TEST(quant_simd_cap_names) {
    const enum quant_level best = quant_kernels_of(quant_level_detect()) ? quant_level_detect()
                                                                         : QUANT_SCALAR;
    char got[64];
    simd_name_for("scalar", got, sizeof got);
    CHECK_STR_EQ(got, "scalar");
    simd_name_for("no-such-level", got, sizeof got);
    CHECK_STR_EQ(got, quant_level_name(best));
    for (int lv = QUANT_AVX2; lv < QUANT_LEVEL_COUNT; lv++) {
        const int neon = lv >= QUANT_NEON;
        int want = best == QUANT_SCALAR || neon != (best >= QUANT_NEON) || lv > (int)best ? (int)best : lv;
        while (want != (int)best && want > (neon ? QUANT_NEON : QUANT_AVX2) &&
               !quant_kernels_of((enum quant_level)want))
            want--;
        simd_name_for(quant_level_name((enum quant_level)lv), got, sizeof got);
        CHECK_MSG(strcmp(got, quant_level_name((enum quant_level)want)) == 0,
                  "NATTER_SIMD=%s runs %s, not %s", quant_level_name((enum quant_level)lv), got,
                  quant_level_name((enum quant_level)want));
    }
    if (quant_kernels_of(QUANT_AVX_VNNI) && !getenv("NATTER_SIMD")) {
        simd_name_for("avx_vnni", got, sizeof got);
        CHECK_STR_EQ(got, "avx_vnni");
    }
}

/* ---------------- real files ---------------- */

#include "gguf.h"

/* The syn-llama files are one set of random weights quantized by llama-quantize: every
 * quantized tensor, dequantized, must be close to the F32 file's tensor (a wrong layout gives
 * an NMSE near 1), and every kernel must agree with the scalar one on the real rows. */
TEST(quant_shared_models_dequantize_like_f32) {
    REQUIRE_SHARED();
    static const char *files[] = {
        "F16", "BF16", "Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q2_K", "Q3_K_M", "Q4_K_M",
        "Q5_K_M", "Q6_K", "IQ4_NL", "IQ4_XS",
    };
    char path[4096], err[256];
    gguf *ref = NULL;
    snprintf(path, sizeof path, "%s", test_shared_path("models/syn-llama-F32.gguf"));
    CHECK_MSG(gguf_open(path, &ref, err, sizeof err) == 0, "%s: %s", path, err);
    int seen[GGML_TYPE_COUNT] = {0};
    for (size_t f = 0; f < sizeof files / sizeof files[0]; f++) {
        char rel[128];
        snprintf(rel, sizeof rel, "models/syn-llama-%s.gguf", files[f]);
        snprintf(path, sizeof path, "%s", test_shared_path(rel));
        gguf *g = NULL;
        CHECK_MSG(gguf_open(path, &g, err, sizeof err) == 0, "%s: %s", path, err);
        for (int64_t k = 0; k < gguf_n_tensors(g); k++) {
            const struct gguf_tensor *t = gguf_tensor_at(g, k);
            const struct gguf_tensor *r = gguf_tensor_find(ref, t->name);
            if (t->type == GGML_TYPE_F32 || !r || r->type != GGML_TYPE_F32) continue;
            const struct quant_traits *tr = quant_traits_get(t->type);
            CHECK_MSG(tr && tr->supported, "%s: %s has type %u", rel, t->name, t->type);
            seen[t->type] = 1;
            const int64_t n = t->ne[0] * t->ne[1] * t->ne[2] * t->ne[3];
            float *y = malloc(sizeof(float) * (size_t)n);
            tr->to_float(t->data, y, n);
            const double e = nmse(r->data, y, (int)n);
            /* measured on these files: F16 4e-8, BF16 3e-6, Q8_0 3e-5, Q6_K 3e-4, Q5 1.3e-3
             * to 1.8e-3, Q4/IQ4 5e-3 to 7e-3, Q3_K 2.2e-2, Q2_K 8e-2 */
            const double lim = t->type == GGML_TYPE_F16 ? 1e-7 : t->type == GGML_TYPE_BF16 ? 1e-5
                             : t->type == GGML_TYPE_Q8_0 ? 1e-4 : t->type == GGML_TYPE_Q6_K ? 1e-3
                             : t->type == GGML_TYPE_Q2_K ? 0.2 : t->type == GGML_TYPE_Q3_K ? 0.05
                             : (t->type == GGML_TYPE_Q5_0 || t->type == GGML_TYPE_Q5_1 ||
                                t->type == GGML_TYPE_Q5_K) ? 5e-3 : 0.02;
            CHECK_MSG(e <= lim, "%s %s (%s): nmse %g > %g", rel, t->name, tr->name, e, lim);
            /* kernels on the first rows of the real tensor */
            const int ne0 = (int)t->ne[0];
            const struct quant_traits *vt = quant_traits_get(tr->vec_dot_type);
            char *yq = malloc(quant_row_size(tr->vec_dot_type, ne0));
            float *act = malloc(sizeof(float) * (size_t)ne0);
            for (int i = 0; i < ne0; i++) act[i] = rng_f();
            vt->from_float(act, yq, ne0);
            const size_t rs = quant_row_size(t->type, ne0);
            for (int row = 0; row < 4 && row < t->ne[1]; row++) {
                const char *xr = (const char *)t->data + (size_t)row * rs;
                float a, b, c;
                tr->vec_dot_ref(ne0, &a, xr, yq);
                tr->vec_dot(ne0, &b, xr, yq);
                quant_mat_dot(t->type, ne0, &c, 1, xr, rs, yq, 0, 1, 1);
                double sa = 0;
                float *yd = malloc(sizeof(float) * (size_t)ne0);
                vt->to_float(yq, yd, ne0);
                for (int i = 0; i < ne0; i++) sa += fabs((double)y[(size_t)row * ne0 + i] * yd[i]);
                free(yd);
                CHECK_MSG(close_rel(a, b, sa, 1e-5) && close_rel(a, c, sa, 1e-5),
                          "%s %s row %d: ref %g simd %g mat %g", rel, t->name, row, a, b, c);
            }
            free(yq), free(act), free(y);
        }
        gguf_close(g);
    }
    gguf_close(ref);
    const uint32_t want[] = {GGML_TYPE_F16, GGML_TYPE_BF16, GGML_TYPE_Q8_0, GGML_TYPE_Q4_0,
                             GGML_TYPE_Q4_1, GGML_TYPE_Q5_0, GGML_TYPE_Q5_1, GGML_TYPE_Q2_K,
                             GGML_TYPE_Q3_K, GGML_TYPE_Q4_K, GGML_TYPE_Q5_K, GGML_TYPE_Q6_K,
                             GGML_TYPE_IQ4_NL, GGML_TYPE_IQ4_XS};
    for (size_t k = 0; k < sizeof want / sizeof want[0]; k++)
        CHECK_MSG(seen[want[k]], "no tensor of type %s in the shared models",
                  quant_traits_get(want[k])->name);
}

/* The syn26-types files are llama-quantize of syn26-qwen3-F16.gguf to the new types (with an
 * importance matrix): every tensor, dequantized, must be near the F16 file's (a wrong layout
 * or grid gives an NMSE near or above 1), and on the real rows every SIMD kernel and tile must
 * equal the scalar reference (bit for bit where promised). */
TEST(quant_types_files_dequantize_like_f16) {
    REQUIRE_SHARED();
    static const char *files[] = {"MXFP4", "IQ2_XXS", "IQ2_XS", "IQ2_S", "IQ3_XXS", "IQ3_S",
                                  "IQ1_S", "IQ1_M", "TQ1_0", "TQ2_0"};
    char path[4096], err[256];
    gguf *ref = NULL;
    snprintf(path, sizeof path, "%s", test_shared_path("models-2026/syn26-qwen3-F16.gguf"));
    if (gguf_open(path, &ref, err, sizeof err) != 0) SKIP("no models-2026 files");
    int seen[GGML_TYPE_COUNT] = {0};
    for (size_t f = 0; f < sizeof files / sizeof files[0]; f++) {
        char rel[128];
        snprintf(rel, sizeof rel, "models-2026/syn26-types-%s.gguf", files[f]);
        snprintf(path, sizeof path, "%s", test_shared_path(rel));
        gguf *g = NULL;
        CHECK_MSG(gguf_open(path, &g, err, sizeof err) == 0, "%s: %s", path, err);
        for (int64_t k = 0; k < gguf_n_tensors(g); k++) {
            const struct gguf_tensor *t = gguf_tensor_at(g, k);
            const struct gguf_tensor *r = gguf_tensor_find(ref, t->name);
            if (t->type == GGML_TYPE_F32 || !r || r->type != GGML_TYPE_F16) continue;
            const struct quant_traits *tr = quant_traits_get(t->type);
            CHECK_MSG(tr && tr->supported, "%s: %s has type %u", rel, t->name, t->type);
            seen[t->type] = 1;
            const int64_t n = t->ne[0] * t->ne[1] * t->ne[2] * t->ne[3];
            float *y = malloc(sizeof(float) * (size_t)n), *yr = malloc(sizeof(float) * (size_t)n);
            tr->to_float(t->data, y, n);
            quant_f16_to_float(r->data, yr, n);
            const double e = nmse(yr, y, (int)n);
            /* measured (gguf-py, worst tensor per type): MXFP4 0.013, IQ3_S 0.021, IQ3_XXS
             * 0.037, IQ2_S 0.063, IQ2_XS 0.098, IQ2_XXS 0.13, IQ1_M 0.23, IQ1_S 0.26, TQ1_0 and
             * TQ2_0 0.66 (ternary weights of a random model); K-quants as in the syn-llama test */
            const uint32_t ty = t->type;
            const double lim = ty == GGML_TYPE_MXFP4 || ty == GGML_TYPE_Q8_0 ? 0.02
                             : ty == GGML_TYPE_Q5_K || ty == GGML_TYPE_Q6_K ? 5e-3
                             : ty == GGML_TYPE_IQ3_S || ty == GGML_TYPE_IQ3_XXS ? 0.05
                             : ty == GGML_TYPE_IQ2_S || ty == GGML_TYPE_IQ2_XS || ty == GGML_TYPE_Q2_K ? 0.12
                             : ty == GGML_TYPE_IQ2_XXS ? 0.16
                             : ty == GGML_TYPE_IQ1_S || ty == GGML_TYPE_IQ1_M ? 0.3 : 0.7;
            CHECK_MSG(e <= lim, "%s %s (%s): nmse %g > %g", rel, t->name, tr->name, e, lim);
            const int ne0 = (int)t->ne[0];
            const int nrow = t->ne[1] < 4 ? (int)t->ne[1] : 4;
            const struct quant_traits *vt = quant_traits_get(tr->vec_dot_type);
            const size_t rs = quant_row_size(t->type, ne0), ys = quant_row_size(tr->vec_dot_type, ne0);
            char *yq = malloc(ys * 4);
            float *act = malloc(sizeof(float) * (size_t)ne0), *yd = malloc(sizeof(float) * (size_t)ne0);
            for (int c = 0; c < 4; c++) {
                for (int i = 0; i < ne0; i++) act[i] = rng_f();
                vt->from_float(act, yq + c * ys, ne0);
            }
            for (int row = 0; row < nrow; row++) {
                const char *xr = (const char *)t->data + (size_t)row * rs;
                for (int c = 0; c < 4; c++) {
                    float a;
                    tr->vec_dot_ref(ne0, &a, xr, yq + c * ys);
                    vt->to_float(yq + c * ys, yd, ne0);
                    double sa = 0, d = 0;
                    for (int i = 0; i < ne0; i++) {
                        sa += fabs((double)y[(size_t)row * ne0 + i] * yd[i]);
                        d += (double)y[(size_t)row * ne0 + i] * yd[i];
                    }
                    CHECK_MSG(close_rel(a, d, sa, 2e-6), "%s %s row %d: ref %g vs %g", rel,
                              t->name, row, a, d);
                    for (int lv = QUANT_AVX2; lv < QUANT_LEVEL_COUNT; lv++) {
                        const struct quant_kernels *kern = quant_kernels_of((enum quant_level)lv);
                        if (!kern || !kern->vec_dot[t->type]) continue;
                        float b, tl[4 * 4];
                        kern->vec_dot[t->type](ne0, &b, xr, yq + c * ys);
                        CHECK_MSG(kernels_exact(t->type) ? b == a : close_rel(a, b, sa, 1e-5),
                                  "%s %s %s row %d: %.9g vs ref %.9g", quant_level_name(lv), rel,
                                  t->name, row, b, a);
                        if (kern->iqd_dec[t->type]) {
                            iqd_mat_dot(kern, t->type, ne0, tl, 4, xr, rs, yq, ys, 1, 4);
                            CHECK_MSG(tl[c * 4] == a, "%s %s %s row %d decoded: %.9g vs ref %.9g",
                                      quant_level_name(lv), rel, t->name, row, tl[c * 4], a);
                        }
                        if (!kern->tile[t->type]) continue;
                        kern->tile[t->type](ne0, tl, 4, xr, rs, yq, ys, 1, 4);
                        CHECK_MSG(kernels_exact(t->type) ? tl[c * 4] == a
                                                         : close_rel(a, tl[c * 4], sa, 1e-5),
                                  "%s %s %s row %d tile: %.9g vs ref %.9g", quant_level_name(lv), rel,
                                  t->name, row, tl[c * 4], a);
                    }
                }
            }
            free(yq), free(act), free(yd), free(y), free(yr);
        }
        gguf_close(g);
    }
    gguf_close(ref);
    for (size_t k = 0; k < sizeof types_all / sizeof types_all[0]; k++)
        if (types_all[k] == GGML_TYPE_MXFP4 || kernels_exact(types_all[k]))
            CHECK_MSG(seen[types_all[k]], "no tensor of type %s in the types files",
                      quant_traits_get(types_all[k])->name);
}
