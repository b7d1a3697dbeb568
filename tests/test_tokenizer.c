/* tests/test_tokenizer.c — the tokenizer (engine/tokenizer.c, engine/unicode.c): llama.cpp's
 * tokenizer test vectors for every vocab in ../shared/vocab, the prompt tokens of every
 * ../shared/reference file, round trips, special-token parsing, end-of-generation tokens,
 * hostile text and bad tokenizer metadata. */
#include <dirent.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine.h"
#include "gguf.h"
#include "harness.h"
#include "tokenizer.h"
#include "unicode.h"

/* ---- helpers ---- */

struct tt_vocab {
    gguf *g;
    struct vocab *v;
};

static int tt_open(const char *path, struct tt_vocab *tv, char *err, size_t err_len) {
    tv->g = NULL;
    tv->v = NULL;
    int rc = gguf_open(path, &tv->g, err, err_len);
    if (rc != ENG_OK)
        return rc;
    rc = vocab_load(tv->g, &tv->v, err, err_len);
    if (rc != ENG_OK) {
        gguf_close(tv->g);
        tv->g = NULL;
    }
    return rc;
}

static void tt_close(struct tt_vocab *tv) {
    vocab_free(tv->v);
    gguf_close(tv->g);
}

/* Tokenizes into a malloc'ed array (*n ids); NULL on error. */
static int32_t *tt_tokenize(const struct vocab *v, const char *s, size_t len, int add_special,
                            int parse_special, int *n) {
    int k = vocab_tokenize(v, s, len, add_special, parse_special, NULL, 0);
    *n = k;
    if (k < 0)
        return NULL;
    int32_t *ids = malloc(sizeof *ids * (size_t)(k + 1));
    if (!ids)
        return NULL;
    int k2 = vocab_tokenize(v, s, len, add_special, parse_special, ids, k);
    if (k2 != k) {
        free(ids);
        *n = -1;
        return NULL;
    }
    return ids;
}

static char *tt_detokenize(const struct vocab *v, const int32_t *ids, int n, int special,
                           int *len) {
    int need = vocab_detokenize(v, ids, n, NULL, 0, special);
    char *buf = malloc((size_t)need + 1);
    if (!buf)
        return NULL;
    int got = vocab_detokenize(v, ids, n, buf, need + 1, special);
    *len = got;
    return got == need ? buf : (free(buf), NULL);
}

static void tt_format_ids(const int32_t *ids, int n, char *buf, size_t cap) {
    size_t o = 0;
    buf[0] = 0;
    for (int i = 0; i < n && o + 16 < cap; i++)
        o += (size_t)snprintf(buf + o, cap - o, "%s%d", i ? " " : "", (int)ids[i]);
}

/* Parses "ID ID ..." into ids (cap entries); returns the count. */
static int tt_parse_ids(const char *s, int32_t *ids, int cap) {
    int n = 0;
    while (*s) {
        char *end;
        long x = strtol(s, &end, 10);
        if (end == s) {
            s++;
            continue;
        }
        if (n < cap)
            ids[n] = (int32_t)x;
        n++;
        s = end;
    }
    return n;
}

/* ---- the llama.cpp test vectors ---- */

static void tt_vocab_vectors(const char *name) {
    REQUIRE_SHARED();
    char rel[256], err[256];
    snprintf(rel, sizeof rel, "vocab/ggml-vocab-%s.gguf", name);
    struct tt_vocab tv;
    CHECK_MSG(tt_open(test_shared_path(rel), &tv, err, sizeof err) == ENG_OK, "%s: %s", rel, err);
    snprintf(rel, sizeof rel, "vocab/ggml-vocab-%s.gguf.inp", name);
    char *inp = test_read_file(test_shared_path(rel), NULL);
    snprintf(rel, sizeof rel, "vocab/ggml-vocab-%s.gguf.out", name);
    char *out = test_read_file(test_shared_path(rel), NULL);
    CHECK(inp && out);

    static const char sep[] = "\n__ggml_vocab_test__\n";
    char *p = inp, *line = out;
    int n_cases = 0, n_fail = 0;
    char first_fail[1024] = "";
    for (;;) {
        char *q = strstr(p, sep);
        if (!q)
            break; /* the piece after the last separator is not a test */
        size_t len = (size_t)(q - p);
        char *nl = strchr(line, '\n');
        CHECK_MSG(nl, "%s: .out has fewer lines than tests", name);
        *nl = 0;
        int32_t want[512];
        int n_want = tt_parse_ids(line, want, 512);
        int n_got;
        int32_t *got = tt_tokenize(tv.v, p, len, 0, 0, &n_got);
        CHECK(got);
        int same = n_got == n_want && memcmp(got, want, sizeof *got * (size_t)n_got) == 0;
        if (!same && !n_fail) {
            char g[400], w[400];
            tt_format_ids(got, n_got, g, sizeof g);
            tt_format_ids(want, n_want, w, sizeof w);
            snprintf(first_fail, sizeof first_fail, "case %d \"%.*s\": got [%s] want [%s]",
                     n_cases, (int)(len > 60 ? 60 : len), p, g, w);
        }
        n_fail += !same;
        free(got);
        n_cases++;
        p = q + sizeof sep - 1;
        line = nl + 1;
    }
    free(inp);
    free(out);
    tt_close(&tv);
    CHECK_MSG(n_cases > 10, "%s: only %d cases", name, n_cases);
    CHECK_MSG(n_fail == 0, "%s: %d of %d cases differ; first: %s", name, n_fail, n_cases,
              first_fail);
}

TEST(tokenizer_vocab_llama_spm) { tt_vocab_vectors("llama-spm"); }
TEST(tokenizer_vocab_phi_3) { tt_vocab_vectors("phi-3"); }
TEST(tokenizer_vocab_gpt_2) { tt_vocab_vectors("gpt-2"); }
TEST(tokenizer_vocab_starcoder) { tt_vocab_vectors("starcoder"); }
TEST(tokenizer_vocab_deepseek_coder) { tt_vocab_vectors("deepseek-coder"); }
TEST(tokenizer_vocab_refact) { tt_vocab_vectors("refact"); }
TEST(tokenizer_vocab_llama_bpe) { tt_vocab_vectors("llama-bpe"); }
TEST(tokenizer_vocab_qwen2) { tt_vocab_vectors("qwen2"); }

/* ---- the prompts of ../shared/reference ---- */

static size_t tt_unescape(const char *s, char *out) {
    size_t o = 0;
    for (; *s && *s != '\n'; s++) {
        if (*s != '\\' || !s[1]) {
            out[o++] = *s;
            continue;
        }
        s++;
        switch (*s) {
        case 'n': out[o++] = '\n'; break;
        case 't': out[o++] = '\t'; break;
        case 'r': out[o++] = '\r'; break;
        case 'x': {
            char hex[3] = {s[1], s[1] ? s[2] : 0, 0};
            out[o++] = (char)strtol(hex, NULL, 16);
            s += 2;
            break;
        }
        default: out[o++] = *s; break;
        }
    }
    return o;
}

/* Checks the prompt tokens of one reference file against its model's tokenizer; returns the
 * number of prompts checked, -1 after a failure (already reported). */
static int tt_reference_file(const char *ref_name) {
    char rel[512], err[256];
    snprintf(rel, sizeof rel, "reference/%s", ref_name);
    char *ref = test_read_file(test_shared_path(rel), NULL);
    if (!ref) {
        test_fail(__FILE__, __LINE__, "cannot read %s", rel);
        return -1;
    }
    snprintf(rel, sizeof rel, "models/%.*s.gguf", (int)(strlen(ref_name) - 4), ref_name);
    struct tt_vocab tv;
    if (tt_open(test_shared_path(rel), &tv, err, sizeof err) != ENG_OK) {
        test_fail(__FILE__, __LINE__, "%s: %s", rel, err);
        free(ref);
        return -1;
    }
    char *prompt = malloc(strlen(ref) + 1);
    static int32_t want[16384];
    size_t plen = 0;
    int n_prompt = -1, n_checked = 0;
    for (char *l = ref; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
        if (strncmp(l, "prompt ", 7) == 0) {
            plen = tt_unescape(l + 7, prompt);
        } else if (strncmp(l, "n_prompt ", 9) == 0) {
            n_prompt = atoi(l + 9);
        } else if (strncmp(l, "tokens ", 7) == 0) {
            int n_tok = tt_parse_ids(l + 7, want, 16384);
            int n_got;
            int32_t *got = tt_tokenize(tv.v, prompt, plen, 1, 0, &n_got);
            if (n_prompt <= 0 || n_prompt > n_tok || n_prompt > 16384 || !got ||
                n_got != n_prompt || memcmp(got, want, sizeof *got * (size_t)n_prompt) != 0) {
                char g[1024], w[1024];
                tt_format_ids(got, n_got, g, sizeof g);
                tt_format_ids(want, n_prompt > 0 ? n_prompt : 0, w, sizeof w);
                test_fail(__FILE__, __LINE__, "%s \"%.*s\": got [%s] want [%s]", ref_name,
                          (int)plen, prompt, g, w);
                n_checked = -1;
                free(got);
                break;
            }
            free(got);
            n_checked++;
        }
    }
    free(prompt);
    free(ref);
    tt_close(&tv);
    return n_checked;
}

/* Every .ref file of ../shared/reference: its prompts tokenize (with BOS when the model adds one, no
 * special parsing) to exactly llama.cpp's prompt tokens. */
TEST(tokenizer_reference_prompts) {
    REQUIRE_SHARED();
    DIR *d = opendir(test_shared_path("reference"));
    CHECK(d);
    int n_files = 0, n_prompts = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t nl = strlen(e->d_name);
        if (nl < 5 || strcmp(e->d_name + nl - 4, ".ref") != 0)
            continue;
        int k = tt_reference_file(e->d_name);
        if (k < 0) {
            closedir(d);
            return;
        }
        n_files++;
        n_prompts += k;
    }
    closedir(d);
    CHECK_MSG(n_files >= 20 && n_prompts >= 60, "%d files, %d prompts", n_files, n_prompts);
}

/* ---- round trips ---- */

/* ascii_only: the vocab has no byte tokens, so only test what it can spell. */
static void tt_round_trip(const char *rel, int ascii_only) {
    REQUIRE_SHARED();
    char err[256];
    struct tt_vocab tv;
    CHECK_MSG(tt_open(test_shared_path(rel), &tv, err, sizeof err) == ENG_OK, "%s: %s", rel, err);
    static const char *const texts[] = {
        "Hello world", " Hello world", "  two leading spaces", "trailing  ",
        "line one\nline two\n\n\ttab", "It's 2024: 1234567 items cost $3.50!",
        "Hello world! \xe4\xbd\xa0\xe5\xa5\xbd\xef\xbc\x8c\xe4\xb8\x96\xe7\x95\x8c \xf0\x9f\xa6\x99 "
        "na\xc3\xafve caf\xc3\xa9",
        "<s> and </s> and <|im_start|> stay text", "   ", "\n", "a",
    };
    for (int add = 0; add < 2; add++) {
        for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
            const char *s = texts[i];
            int ascii = 1; /* printable ASCII and newlines: what a small vocab spells */
            for (const char *c = s; *c; c++)
                ascii &= (*c >= ' ' && *c < 127) || *c == '\n';
            if (ascii_only && !ascii)
                continue;
            int n, len;
            int32_t *ids = tt_tokenize(tv.v, s, strlen(s), add, 0, &n);
            CHECK(ids);
            int has_unk = 0;
            for (int k = 0; k < n; k++)
                has_unk |= ids[k] == vocab_unk(tv.v);
            if (has_unk) { /* a character the vocab cannot spell (no byte fallback) */
                CHECK_MSG(ascii_only, "%s: <unk> in \"%s\"", rel, s);
                free(ids);
                continue;
            }
            char *back = tt_detokenize(tv.v, ids, n, 0, &len);
            CHECK(back);
            CHECK_MSG((size_t)len == strlen(s) && memcmp(back, s, (size_t)len) == 0,
                      "%s add_special=%d: \"%s\" came back as \"%.*s\"", rel, add, s, len, back);
            free(back);
            free(ids);
        }
    }
    tt_close(&tv);
}

TEST(tokenizer_round_trip_spm) { tt_round_trip("vocab/ggml-vocab-llama-spm.gguf", 0); }
TEST(tokenizer_round_trip_phi3) { tt_round_trip("vocab/ggml-vocab-phi-3.gguf", 0); }
TEST(tokenizer_round_trip_gpt2) { tt_round_trip("vocab/ggml-vocab-gpt-2.gguf", 0); }
TEST(tokenizer_round_trip_llama_bpe) { tt_round_trip("vocab/ggml-vocab-llama-bpe.gguf", 0); }
TEST(tokenizer_round_trip_qwen2) { tt_round_trip("vocab/ggml-vocab-qwen2.gguf", 0); }
TEST(tokenizer_round_trip_deepseek) { tt_round_trip("vocab/ggml-vocab-deepseek-coder.gguf", 0); }
TEST(tokenizer_round_trip_stories) { tt_round_trip("models/stories260K.gguf", 0); }
TEST(tokenizer_round_trip_tinystories) { tt_round_trip("models/TinyStories-656K-Q8_0.gguf", 1); }

/* ---- special tokens ---- */

static void tt_expect(const struct vocab *v, const char *s, int add, int parse,
                      const char *want) {
    int n;
    int32_t *ids = tt_tokenize(v, s, strlen(s), add, parse, &n);
    char got[1024];
    tt_format_ids(ids, n, got, sizeof got);
    free(ids);
    if (strcmp(got, want) != 0)
        test_fail(__FILE__, __LINE__, "\"%s\" (add=%d parse=%d): got [%s] want [%s]", s, add,
                  parse, got, want);
}

TEST(tokenizer_special_llama_bpe) {
    REQUIRE_SHARED();
    char err[256];
    struct tt_vocab tv;
    CHECK_MSG(tt_open(test_shared_path("vocab/ggml-vocab-llama-bpe.gguf"), &tv, err,
                      sizeof err) == ENG_OK, "%s", err);
    const struct vocab *v = tv.v;
    CHECK_EQ_INT(vocab_bos(v), 128000);
    CHECK_EQ_INT(vocab_eos(v), 128001);
    CHECK(vocab_add_bos(v)); /* llama-bpe adds BOS even without the key */
    int32_t eot = vocab_find(v, "<|eot_id|>", 10);
    CHECK(eot == 128009);
    CHECK(vocab_is_eog(v, eot) && vocab_is_eog(v, 128001) && !vocab_is_eog(v, 128000));
    CHECK(!vocab_is_eog(v, 9906) && !vocab_is_eog(v, -1) && !vocab_is_eog(v, 1 << 30));
    const char *s = "<|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>";
    int n;
    int32_t *ids = tt_tokenize(v, s, strlen(s), 1, 1, &n);
    CHECK(ids && n == 7);
    CHECK_EQ_INT(ids[0], 128000);
    CHECK_EQ_INT(ids[1], 128006);
    CHECK_EQ_INT(ids[3], 128007);
    CHECK_EQ_INT(ids[6], 128009);
    free(ids);
    tt_expect(v, s, 1, 1, "128000 128006 882 128007 271 13347 128009");
    /* without parse_special the same text is plain text: no control ids */
    ids = tt_tokenize(v, s, strlen(s), 0, 0, &n);
    CHECK(ids && n > 7);
    for (int i = 0; i < n; i++)
        CHECK(ids[i] < 128000);
    /* and it comes back verbatim; control tokens render only with special */
    int len;
    char *back = tt_detokenize(v, ids, n, 0, &len);
    CHECK(back && (size_t)len == strlen(s) && memcmp(back, s, (size_t)len) == 0);
    free(back);
    free(ids);
    char piece[64];
    CHECK_EQ_INT(vocab_token_to_piece(v, 128009, piece, sizeof piece, 0), 0);
    CHECK_EQ_INT(vocab_token_to_piece(v, 128009, piece, sizeof piece, 1), 10);
    CHECK(memcmp(piece, "<|eot_id|>", 10) == 0);
    /* a piece larger than the buffer: the length, nothing written past cap */
    piece[2] = 'X';
    CHECK_EQ_INT(vocab_token_to_piece(v, 128009, piece, 2, 1), 10);
    CHECK(piece[2] == 'X');
    tt_close(&tv);
}

TEST(tokenizer_special_qwen2_phi3) {
    REQUIRE_SHARED();
    char err[256];
    struct tt_vocab tv;
    CHECK_MSG(tt_open(test_shared_path("vocab/ggml-vocab-qwen2.gguf"), &tv, err, sizeof err) ==
                  ENG_OK, "%s", err);
    int32_t im_start = vocab_find(tv.v, "<|im_start|>", 12);
    int32_t im_end = vocab_find(tv.v, "<|im_end|>", 10);
    CHECK(im_start == 151644 && im_end == 151645);
    CHECK(vocab_is_eog(tv.v, im_end) && vocab_is_eog(tv.v, 151643) && !vocab_is_eog(tv.v, im_start));
    CHECK(!vocab_add_bos(tv.v));
    tt_expect(tv.v, "<|im_start|>user\nhi<|im_end|>", 1, 1, "151644 872 198 6023 151645");
    tt_close(&tv);

    CHECK_MSG(tt_open(test_shared_path("vocab/ggml-vocab-phi-3.gguf"), &tv, err, sizeof err) ==
                  ENG_OK, "%s", err);
    int32_t user = vocab_find(tv.v, "<|user|>", 8), end = vocab_find(tv.v, "<|end|>", 7);
    int32_t asst = vocab_find(tv.v, "<|assistant|>", 13);
    CHECK(user > 0 && end > 0 && asst > 0);
    CHECK(vocab_is_eog(tv.v, end) && vocab_is_eog(tv.v, 32000) && !vocab_is_eog(tv.v, user));
    /* Phi-3's special tokens eat the whitespace after them (llama.cpp's rstrip). */
    char want[128];
    snprintf(want, sizeof want, "1 %d 15043 %d %d", (int)user, (int)end, (int)asst);
    tt_expect(tv.v, "<|user|>\nHello<|end|>\n<|assistant|>\n", 1, 1, want);
    tt_close(&tv);
}

TEST(tokenizer_spm_bos_and_pieces) {
    REQUIRE_SHARED();
    char err[256];
    struct tt_vocab tv;
    CHECK_MSG(tt_open(test_shared_path("vocab/ggml-vocab-llama-spm.gguf"), &tv, err,
                      sizeof err) == ENG_OK, "%s", err);
    const struct vocab *v = tv.v;
    tt_expect(v, "Hello world", 1, 0, "1 15043 3186");
    tt_expect(v, "Hello world", 0, 0, "15043 3186");
    tt_expect(v, "", 1, 0, "1");
    tt_expect(v, "", 0, 0, "");
    tt_expect(v, "<s>Hello", 0, 1, "1 15043");
    tt_expect(v, "<s>", 0, 0, "529 29879 29958");
    char piece[16];
    CHECK_EQ_INT(vocab_token_to_piece(v, 15043, piece, sizeof piece, 0), 6);
    CHECK(memcmp(piece, " Hello", 6) == 0);
    CHECK_EQ_INT(vocab_token_to_piece(v, 3 + 0x41, piece, sizeof piece, 0), 1); /* <0x41> */
    CHECK(piece[0] == 'A');
    CHECK_EQ_INT(vocab_token_to_piece(v, 1, piece, sizeof piece, 0), 0);
    CHECK_EQ_INT(vocab_token_to_piece(v, 1, piece, sizeof piece, 1), 3);
    CHECK_EQ_INT(vocab_token_to_piece(v, 99999, piece, sizeof piece, 1), 0);
    int32_t seq[3] = {1, 15043, 3186};
    char out[64];
    CHECK_EQ_INT(vocab_detokenize(v, seq, 3, out, sizeof out, 0), 11);
    CHECK_STR_EQ(out, "Hello world");
    CHECK_EQ_INT(vocab_detokenize(v, seq, 3, out, sizeof out, 1), 14);
    CHECK_STR_EQ(out, "<s>Hello world");
    CHECK_EQ_INT(vocab_detokenize(v, seq + 2, 1, out, sizeof out, 0), 5);
    CHECK_STR_EQ(out, "world");
    tt_close(&tv);
}

/* TinyStories-656K has no byte tokens: what it cannot spell becomes <unk>. */
TEST(tokenizer_spm_unk_without_byte_tokens) {
    REQUIRE_SHARED();
    char err[256];
    struct tt_vocab tv;
    CHECK_MSG(tt_open(test_shared_path("models/TinyStories-656K-Q8_0.gguf"), &tv, err,
                      sizeof err) == ENG_OK, "%s", err);
    int n;
    const char *s = "a \xe4\xbd\xa0 b";
    int32_t *ids = tt_tokenize(tv.v, s, strlen(s), 0, 0, &n);
    CHECK(ids);
    int n_unk = 0;
    for (int i = 0; i < n; i++)
        n_unk += ids[i] == vocab_unk(tv.v);
    CHECK_EQ_INT(n_unk, 1);
    free(ids);
    tt_close(&tv);
}

/* ---- hostile input ---- */

TEST(tokenizer_arbitrary_bytes) {
    REQUIRE_SHARED();
    static const char *const files[] = {
        "vocab/ggml-vocab-llama-spm.gguf", "vocab/ggml-vocab-gpt-2.gguf",
        "vocab/ggml-vocab-qwen2.gguf",     "vocab/ggml-vocab-deepseek-coder.gguf",
        "vocab/ggml-vocab-starcoder.gguf", "vocab/ggml-vocab-phi-3.gguf",
        "models/TinyStories-656K-Q8_0.gguf",
    };
    static const char *const fixed[] = {
        "\xff\xfe\xfd", "\xc3", "\xe4\xbd", "\xf0\x9f\xa6", "\xed\xa0\x80\xed\xb0\x80",
        "\xc0\x80 overlong", "\x80\x80\x80", "a\0b", "<|im_start|", "<s", "\xf4\x90\x80\x80",
        "\xf8\x88\x80\x80\x80",
    };
    uint32_t seed = 12345;
    char buf[512];
    for (size_t f = 0; f < sizeof files / sizeof files[0]; f++) {
        char err[256];
        struct tt_vocab tv;
        CHECK_MSG(tt_open(test_shared_path(files[f]), &tv, err, sizeof err) == ENG_OK, "%s", err);
        int nv = vocab_n_tokens(tv.v);
        for (int iter = 0; iter < 60; iter++) {
            const char *s;
            size_t len;
            if (iter < (int)(sizeof fixed / sizeof fixed[0])) {
                s = fixed[iter];
                len = iter == 7 ? 3 : strlen(s);
            } else {
                len = (size_t)(iter * 7 % 300);
                for (size_t i = 0; i < len; i++) {
                    seed = seed * 1103515245u + 12345u;
                    buf[i] = (char)(seed >> 16);
                }
                s = buf;
            }
            for (int mode = 0; mode < 4; mode++) {
                int n;
                int32_t *ids = tt_tokenize(tv.v, s, len, mode & 1, mode >> 1, &n);
                CHECK(ids);
                for (int i = 0; i < n; i++)
                    CHECK(ids[i] >= 0 && ids[i] < nv);
                int dl;
                char *back = tt_detokenize(tv.v, ids, n, mode >> 1, &dl);
                CHECK(back);
                free(back);
                free(ids);
            }
        }
        tt_close(&tv);
    }
}

/* ---- bad metadata ---- */

struct tt_gguf {
    unsigned char *p;
    size_t n, cap;
    uint64_t n_kv;
};

static void tt_put(struct tt_gguf *b, const void *d, size_t n) {
    if (b->n + n > b->cap) {
        b->cap = (b->n + n) * 2 + 256;
        b->p = realloc(b->p, b->cap);
    }
    memcpy(b->p + b->n, d, n);
    b->n += n;
}
static void tt_u32(struct tt_gguf *b, uint32_t x) { tt_put(b, &x, 4); }
static void tt_u64(struct tt_gguf *b, uint64_t x) { tt_put(b, &x, 8); }
static void tt_str(struct tt_gguf *b, const char *s) {
    tt_u64(b, strlen(s));
    tt_put(b, s, strlen(s));
}
static void tt_kv_str(struct tt_gguf *b, const char *k, const char *v) {
    tt_str(b, k);
    tt_u32(b, GGUF_TYPE_STRING);
    tt_str(b, v);
    b->n_kv++;
}
static void tt_kv_u32(struct tt_gguf *b, const char *k, uint32_t v) {
    tt_str(b, k);
    tt_u32(b, GGUF_TYPE_UINT32);
    tt_u32(b, v);
    b->n_kv++;
}
static void tt_kv_strs(struct tt_gguf *b, const char *k, const char *const *v, int n) {
    tt_str(b, k);
    tt_u32(b, GGUF_TYPE_ARRAY);
    tt_u32(b, GGUF_TYPE_STRING);
    tt_u64(b, (uint64_t)n);
    for (int i = 0; i < n; i++)
        tt_str(b, v[i]);
    b->n_kv++;
}
static void tt_kv_arr32(struct tt_gguf *b, const char *k, uint32_t type, const void *v, int n) {
    tt_str(b, k);
    tt_u32(b, GGUF_TYPE_ARRAY);
    tt_u32(b, type);
    tt_u64(b, (uint64_t)n);
    tt_put(b, v, 4 * (size_t)n);
    b->n_kv++;
}

/* Builds a tensor-less GGUF from kvs (already serialized in body) and loads its vocab. */
static int tt_load_mem(struct tt_gguf *body, char *err, size_t err_len) {
    struct tt_gguf f = {0};
    tt_put(&f, "GGUF", 4);
    tt_u32(&f, 3);
    tt_u64(&f, 0);
    tt_u64(&f, body->n_kv);
    tt_put(&f, body->p, body->n);
    gguf *g;
    int rc = gguf_open_mem(f.p, f.n, &g, err, err_len);
    if (rc == ENG_OK) {
        struct vocab *v;
        rc = vocab_load(g, &v, err, err_len);
        if (rc == ENG_OK) {
            int n;
            int32_t *ids = tt_tokenize(v, "ab ba", 5, 1, 1, &n);
            free(ids);
            vocab_free(v);
        }
        gguf_close(g);
    }
    free(f.p);
    free(body->p);
    memset(body, 0, sizeof *body);
    return rc;
}

TEST(tokenizer_bad_metadata) {
    static const char *const toks[] = {"<unk>", "<s>", "</s>", "a", "b", "ab"};
    static const char *const btoks[] = {"a", "b", "\xc4\xa0", "ab"};
    static const char *const merges[] = {"a b", "x y", "nospace"};
    float scores[6] = {0, 0, 0, -1, -2, -0.5f};
    int32_t types[6] = {2, 3, 3, 1, 1, 1};
    char err[256];
    struct tt_gguf b = {0};

    /* a well-formed SPM vocab loads */
    tt_kv_str(&b, "tokenizer.ggml.model", "llama");
    tt_kv_strs(&b, "tokenizer.ggml.tokens", toks, 6);
    tt_kv_arr32(&b, "tokenizer.ggml.scores", GGUF_TYPE_FLOAT32, scores, 6);
    tt_kv_arr32(&b, "tokenizer.ggml.token_type", GGUF_TYPE_INT32, types, 6);
    CHECK_MSG(tt_load_mem(&b, err, sizeof err) == ENG_OK, "%s", err);

    /* and a well-formed BPE one (a merge of tokens the vocab lacks is harmless) */
    tt_kv_str(&b, "tokenizer.ggml.model", "gpt2");
    tt_kv_str(&b, "tokenizer.ggml.pre", "qwen2");
    tt_kv_strs(&b, "tokenizer.ggml.tokens", btoks, 4);
    tt_kv_strs(&b, "tokenizer.ggml.merges", merges, 2);
    CHECK_MSG(tt_load_mem(&b, err, sizeof err) == ENG_OK, "%s", err);

    /* a merge that is not a pair */
    tt_kv_str(&b, "tokenizer.ggml.model", "gpt2");
    tt_kv_strs(&b, "tokenizer.ggml.tokens", btoks, 4);
    tt_kv_strs(&b, "tokenizer.ggml.merges", merges, 3);
    CHECK(tt_load_mem(&b, err, sizeof err) == ENG_E_FORMAT && strstr(err, "'nospace'"));

    tt_kv_strs(&b, "tokenizer.ggml.tokens", toks, 6);
    CHECK(tt_load_mem(&b, err, sizeof err) == ENG_E_FORMAT && strstr(err, "tokenizer.ggml.model"));

    tt_kv_str(&b, "tokenizer.ggml.model", "bert");
    tt_kv_strs(&b, "tokenizer.ggml.tokens", toks, 6);
    CHECK(tt_load_mem(&b, err, sizeof err) == ENG_E_UNSUPPORTED && strstr(err, "'bert'"));

    tt_kv_str(&b, "tokenizer.ggml.model", "gpt2");
    tt_kv_str(&b, "tokenizer.ggml.pre", "klingon");
    tt_kv_strs(&b, "tokenizer.ggml.tokens", btoks, 4);
    tt_kv_strs(&b, "tokenizer.ggml.merges", merges, 3);
    CHECK(tt_load_mem(&b, err, sizeof err) == ENG_E_UNSUPPORTED &&
          strstr(err, "unknown pre-tokenizer 'klingon' (supported: "));

    tt_kv_str(&b, "tokenizer.ggml.model", "gpt2");
    tt_kv_strs(&b, "tokenizer.ggml.tokens", btoks, 4);
    CHECK(tt_load_mem(&b, err, sizeof err) == ENG_E_FORMAT && strstr(err, "merges"));

    tt_kv_str(&b, "tokenizer.ggml.model", "llama");
    tt_kv_strs(&b, "tokenizer.ggml.tokens", toks, 6);
    tt_kv_arr32(&b, "tokenizer.ggml.scores", GGUF_TYPE_FLOAT32, scores, 5);
    CHECK(tt_load_mem(&b, err, sizeof err) == ENG_E_FORMAT && strstr(err, "scores"));

    tt_kv_str(&b, "tokenizer.ggml.model", "llama");
    tt_kv_strs(&b, "tokenizer.ggml.tokens", toks, 6);
    tt_kv_arr32(&b, "tokenizer.ggml.token_type", GGUF_TYPE_INT32, types, 4);
    CHECK(tt_load_mem(&b, err, sizeof err) == ENG_E_FORMAT && strstr(err, "token_type"));

    int32_t bad_types[6] = {2, 3, 3, 1, 99, 1};
    tt_kv_str(&b, "tokenizer.ggml.model", "llama");
    tt_kv_strs(&b, "tokenizer.ggml.tokens", toks, 6);
    tt_kv_arr32(&b, "tokenizer.ggml.token_type", GGUF_TYPE_INT32, bad_types, 6);
    CHECK(tt_load_mem(&b, err, sizeof err) == ENG_E_FORMAT && strstr(err, "type 99"));

    tt_kv_str(&b, "tokenizer.ggml.model", "llama");
    tt_kv_strs(&b, "tokenizer.ggml.tokens", toks, 6);
    tt_kv_u32(&b, "tokenizer.ggml.bos_token_id", 6);
    CHECK(tt_load_mem(&b, err, sizeof err) == ENG_E_FORMAT && strstr(err, "bos_token_id = 6"));

    tt_kv_str(&b, "tokenizer.ggml.model", "llama");
    tt_kv_strs(&b, "tokenizer.ggml.tokens", toks, 6);
    tt_kv_u32(&b, "tokenizer.ggml.eos_token_id", INT32_MAX);
    CHECK(tt_load_mem(&b, err, sizeof err) == ENG_E_FORMAT && strstr(err, "eos_token_id"));

    /* -1 stored as uint32 means "none" (llama.cpp's LLAMA_TOKEN_NULL), as stories260K does for
     * its separator; a BOS of none is then never added */
    tt_kv_str(&b, "tokenizer.ggml.model", "llama");
    tt_kv_strs(&b, "tokenizer.ggml.tokens", toks, 6);
    tt_kv_u32(&b, "tokenizer.ggml.bos_token_id", UINT32_MAX);
    tt_kv_u32(&b, "tokenizer.ggml.eos_token_id", UINT32_MAX);
    CHECK_MSG(tt_load_mem(&b, err, sizeof err) == ENG_OK, "%s", err);

    tt_kv_str(&b, "tokenizer.ggml.model", "llama");
    tt_kv_strs(&b, "tokenizer.ggml.tokens", toks, 6);
    tt_kv_u32(&b, "tokenizer.ggml.seperator_token_id", UINT32_MAX);
    tt_kv_u32(&b, "tokenizer.ggml.padding_token_id", 1000);
    CHECK_MSG(tt_load_mem(&b, err, sizeof err) == ENG_OK, "%s", err);

    tt_kv_str(&b, "tokenizer.ggml.model", "llama");
    tt_kv_u32(&b, "tokenizer.ggml.tokens", 3);
    CHECK(tt_load_mem(&b, err, sizeof err) == ENG_E_FORMAT && strstr(err, "tokens"));

    tt_kv_str(&b, "tokenizer.ggml.model", "llama");
    tt_kv_strs(&b, "tokenizer.ggml.tokens", toks, 0);
    CHECK(tt_load_mem(&b, err, sizeof err) == ENG_E_FORMAT && strstr(err, "tokens"));
}

/* ---- unicode tables ---- */

TEST(tokenizer_unicode_categories) {
    CHECK(unicode_flags('a') & UNICODE_LETTER);
    CHECK(unicode_flags(0x4E2D) & UNICODE_LETTER);    /* CJK, in a First/Last range */
    CHECK(unicode_flags(0xAC01) & UNICODE_LETTER);    /* Hangul syllable */
    CHECK(unicode_flags('7') & UNICODE_NUMBER);
    CHECK(unicode_flags(0xBD) & UNICODE_NUMBER);      /* ½ is No */
    CHECK(unicode_flags(0x0663) & UNICODE_NUMBER);    /* Arabic-Indic three */
    CHECK(unicode_flags('!') & UNICODE_PUNCT);
    CHECK(unicode_flags('$') & UNICODE_SYMBOL);
    CHECK(unicode_flags(0x1F999) & UNICODE_SYMBOL);   /* 🦙 */
    CHECK(unicode_flags(0x0301) & UNICODE_MARK);
    CHECK(unicode_flags(' ') & UNICODE_WHITESPACE);
    CHECK(unicode_flags('\n') & UNICODE_WHITESPACE);
    CHECK(unicode_flags(0x3000) & UNICODE_WHITESPACE);
    CHECK(unicode_flags(0x85) & UNICODE_WHITESPACE);
    CHECK(!(unicode_flags(0x200B) & UNICODE_WHITESPACE)); /* zero width space is Cf */
    CHECK(unicode_flags(0x0378) == UNICODE_UNDEFINED);
    CHECK(unicode_flags(0x110000) == UNICODE_UNDEFINED);
    for (int b = 0; b < 256; b++)
        CHECK_EQ_INT(unicode_cp_to_byte(unicode_byte_to_cp((unsigned char)b)), b);
    CHECK_EQ_INT(unicode_byte_to_cp(' '), 0x120);   /* Ġ */
    CHECK_EQ_INT(unicode_byte_to_cp('\n'), 0x10A);  /* Ċ */
    CHECK_EQ_INT(unicode_cp_to_byte(0x4E2D), -1);
    size_t pos = 0;
    CHECK_EQ_INT(unicode_decode("\xe4\xbd\xa0", 3, &pos), 0x4F60);
    CHECK_EQ_INT(pos, 3);
    pos = 0;
    CHECK_EQ_INT(unicode_decode("\xe4\xbd", 2, &pos), 0xFFFD);
    CHECK_EQ_INT(pos, 1);
}

/* Loading the 128k-token Llama 3 vocab (280k merges) stays fast. */
TEST(tokenizer_load_speed) {
    REQUIRE_SHARED();
    char err[256];
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    struct tt_vocab tv;
    CHECK_MSG(tt_open(test_shared_path("vocab/ggml-vocab-llama-bpe.gguf"), &tv, err,
                      sizeof err) == ENG_OK, "%s", err);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
    CHECK_EQ_INT(vocab_n_tokens(tv.v), 128256);
    tt_close(&tv);
    /* make memcheck runs 20-50x slower: the load is checked there, not its time */
    CHECK_MSG(ms < 2000 || getenv("NATTER_VALGRIND"), "loading llama-bpe took %.0f ms", ms);
}

/* ---- pre-tokenizers on a small synthetic BPE vocab: where each one splits ---- */

static struct vocab *tt_synthetic_bpe(const char *pre) {
    static const char *const toks[] = {
        "a", "b", "\xc4\xa0", "ab", "\xc4\xa0" "ab", "1", "2", "12", "\xc4\xa0" "1",
        "\xc4\xa0" "12", "!", "\xc4\xa0" "!", "!!", "\xc4\x8a", "\xc4\xa0\xc4\xa0",
    };
    static const char *const merges[] = {
        "a b", "\xc4\xa0 ab", "1 2", "\xc4\xa0 1", "\xc4\xa0" "1 2", "! !", "\xc4\xa0 !",
        "\xc4\xa0 \xc4\xa0",
    };
    struct tt_gguf b = {0}, f = {0};
    tt_kv_str(&b, "tokenizer.ggml.model", "gpt2");
    tt_kv_str(&b, "tokenizer.ggml.pre", pre);
    tt_kv_strs(&b, "tokenizer.ggml.tokens", toks, (int)(sizeof toks / sizeof toks[0]));
    tt_kv_strs(&b, "tokenizer.ggml.merges", merges, (int)(sizeof merges / sizeof merges[0]));
    tt_put(&f, "GGUF", 4);
    tt_u32(&f, 3);
    tt_u64(&f, 0);
    tt_u64(&f, b.n_kv);
    tt_put(&f, b.p, b.n);
    char err[256];
    gguf *g = NULL;
    struct vocab *v = NULL;
    if (gguf_open_mem(f.p, f.n, &g, err, sizeof err) == ENG_OK) {
        if (vocab_load(g, &v, err, sizeof err) != ENG_OK)
            v = NULL;
        gguf_close(g);
    }
    free(f.p);
    free(b.p);
    return v;
}

TEST(tokenizer_pretokenizer_splits) {
    /* ids: a0 b1 Ġ2 ab3 Ġab4 1:5 2:6 12:7 Ġ1:8 Ġ12:9 !10 Ġ!11 !!12 Ċ13 ĠĠ14 */
    static const struct {
        const char *pre, *text, *want;
    } cases[] = {
        {"gpt-2", "ab ab", "3 4"},          {"gpt-2", "12 12", "7 2 7"},
        {"gpt-2", "ab!! ab", "3 12 4"},     {"gpt-2", "ab  ab", "3 2 4"},
        {"starcoder", "12 12", "5 6 2 5 6"}, {"smollm", "12 12", "5 6 2 5 6"},
        {"refact", "ab !!", "3 2 12"},
        {"qwen2", "12 12", "5 6 2 5 6"},    {"qwen2", "ab ab", "3 4"},
        {"qwen2", "ab\n\n", "3 13 13"},
        {"llama-bpe", "12 12", "7 2 7"},    {"llama-bpe", "ab ab", "3 4"},
        {"default", "12 12", "7 2 7"},      {"default", "ab!! ab", "3 12 4"},
        {"deepseek-coder", "12 12", "5 6 2 5 6"}, {"deepseek-coder", "ab ab", "3 4"},
        {"deepseek-llm", "12 12", "7 2 7"}, {"deepseek-llm", "ab!! ab", "3 12 4"},
        {"deepseek-llm", "ab  ", "3 14"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct vocab *v = tt_synthetic_bpe(cases[i].pre);
        CHECK_MSG(v, "pre '%s' did not load", cases[i].pre);
        tt_expect(v, cases[i].text, 0, 0, cases[i].want);
        vocab_free(v);
    }
}

/* ---- the public API (engine/engine.h) over a vocab-only model ---- */

TEST(tokenizer_engine_api) {
    REQUIRE_SHARED();
    struct eng_model_params p = eng_model_default_params();
    p.vocab_only = 1;
    eng_model *m = NULL;
    CHECK_MSG(eng_model_load(test_shared_path("vocab/ggml-vocab-llama-bpe.gguf"), &p, &m) ==
                  ENG_OK, "%s", eng_last_error());
    CHECK_EQ_INT(eng_vocab_size(m), 128256);
    CHECK_EQ_INT(eng_token_bos(m), 128000);
    CHECK_EQ_INT(eng_token_eos(m), 128001);
    CHECK(eng_token_is_eog(m, 128009) && eng_token_is_eog(m, 128001));
    CHECK(!eng_token_is_eog(m, 128000) && !eng_token_is_eog(m, -1));

    const char *s = "Hello world, 12345!";
    int32_t small[2] = {-7, -7}, big[64];
    int n = eng_tokenize(m, s, strlen(s), 1, 0, small, 1);
    CHECK(n > 2);
    CHECK(small[1] == -7); /* nothing past cap */
    CHECK_EQ_INT(eng_tokenize(m, s, strlen(s), 1, 0, big, 64), n);
    CHECK_EQ_INT(big[0], 128000);
    CHECK_EQ_INT(small[0], 128000);
    CHECK_EQ_INT(eng_detokenize(m, big, n, NULL, 0, 0), (int)strlen(s));
    char out[64];
    CHECK_EQ_INT(eng_detokenize(m, big, n, out, sizeof out, 0), (int)strlen(s));
    CHECK_STR_EQ(out, s);
    CHECK_EQ_INT(eng_detokenize(m, big, n, out, sizeof out, 1), (int)strlen(s) + 17);
    CHECK(strncmp(out, "<|begin_of_text|>", 17) == 0);
    char piece[16];
    CHECK_EQ_INT(eng_token_to_piece(m, big[1], piece, sizeof piece, 0), 5);
    CHECK(memcmp(piece, "Hello", 5) == 0);
    eng_model_free(m);

    /* a tokenizer we lack is refused with a message naming it */
    CHECK(eng_model_load(test_shared_path("models/MODELS.md"), &p, &m) != ENG_OK);
    CHECK(eng_vocab_size(NULL) == 0 && eng_token_bos(NULL) == -1);
    CHECK(eng_tokenize(NULL, "x", 1, 1, 1, big, 64) < 0);
}
