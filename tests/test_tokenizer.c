/* tests/test_tokenizer.c — the tokenizer (engine/vocab*.c, engine/unicode.c): llama.cpp's
 * tokenizer test vectors for every vocab in ../shared/vocab, the prompt tokens of every
 * ../shared/reference file, round trips, special-token parsing, end-of-generation tokens,
 * hostile text and bad tokenizer metadata; the 2026 vocabs of ../shared/vocab-2026 (base and
 * chat sets, EOG sets, gemma4), the pre-tokenizer table and the regex matcher. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine.h"
#include "gguf.h"
#include "harness.h"
#include "tokenizer.h"
#include "tokenizer_pre.h"
#include "tokenizer_regex.h"
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

/* Runs one .inp/.out set (suffix "" or ".chat") of the vocab at rel; returns the number of
 * cases, -1 if the set is absent. Mismatches go to *n_fail, the first described in first. */
static int tt_vector_set(const struct vocab *v, const char *rel, const char *suffix,
                         int *n_fail, char *first, size_t first_len) {
    char path[640];
    snprintf(path, sizeof path, "%s%s.inp", rel, suffix);
    char *inp = test_read_file(test_shared_path(path), NULL);
    snprintf(path, sizeof path, "%s%s.out", rel, suffix);
    char *out = test_read_file(test_shared_path(path), NULL);
    if (!inp || !out) {
        free(inp);
        free(out);
        return -1;
    }
    static const char sep[] = "\n__ggml_vocab_test__\n";
    char *p = inp, *line = out;
    int n_cases = 0;
    for (;;) {
        char *q = strstr(p, sep);
        if (!q)
            break; /* the piece after the last separator is not a test */
        size_t len = (size_t)(q - p);
        char *nl = line ? strchr(line, '\n') : NULL;
        if (nl)
            *nl = 0;
        int32_t want[1024];
        int n_want = line ? tt_parse_ids(line, want, 1024) : -1;
        int n_got;
        int32_t *got = tt_tokenize(v, p, len, 0, 0, &n_got);
        int same = got && n_want <= 1024 && n_got == n_want &&
                   memcmp(got, want, sizeof *got * (size_t)n_got) == 0;
        if (!same && !*n_fail) {
            char g[200], w[200];
            tt_format_ids(got, got ? n_got : 0, g, sizeof g);
            tt_format_ids(want, n_want > 0 ? (n_want < 1024 ? n_want : 1024) : 0, w, sizeof w);
            snprintf(first, first_len, "%s%s case %d \"%.*s\": got [%s] want [%s]", rel, suffix,
                     n_cases, (int)(len > 40 ? 40 : len), p, g, w);
        }
        *n_fail += !same;
        free(got);
        n_cases++;
        p = q + sizeof sep - 1;
        line = nl ? nl + 1 : NULL;
    }
    free(inp);
    free(out);
    return n_cases;
}

static int tt_cmp_names(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every ggml-vocab-*.gguf of ../shared/DIR with its base and chat sets: llama.cpp's ids. */
static void tt_vector_dir(const char *dir, int min_vocabs) {
    REQUIRE_SHARED();
    const char *full = test_shared_path(dir);
    DIR *d = full ? opendir(full) : NULL;
    if (!d)
        SKIP("this ../shared has no vocab dir");
    char *names[64];
    int n_names = 0;
    struct dirent *e;
    while ((e = readdir(d)) && n_names < 64) {
        size_t l = strlen(e->d_name);
        if (l > 5 && strcmp(e->d_name + l - 5, ".gguf") == 0)
            names[n_names++] = strdup(e->d_name);
    }
    closedir(d);
    qsort(names, (size_t)n_names, sizeof *names, tt_cmp_names);
    int n_fail = 0, n_sets = 0, n_cases = 0;
    char first[2048] = "";
    for (int i = 0; i < n_names; i++) {
        char rel[512], err[256];
        snprintf(rel, sizeof rel, "%s/%s", dir, names[i]);
        struct tt_vocab tv;
        int rc = tt_open(test_shared_path(rel), &tv, err, sizeof err);
        if (rc != ENG_OK && !n_fail)
            snprintf(first, sizeof first, "%s: %s", rel, err);
        n_fail += rc != ENG_OK;
        for (int k = 0; rc == ENG_OK && k < 2; k++) {
            int n = tt_vector_set(tv.v, rel, k ? ".chat" : "", &n_fail, first, sizeof first);
            if (n >= 0) {
                n_sets++;
                n_cases += n;
            }
        }
        if (rc == ENG_OK)
            tt_close(&tv);
        free(names[i]);
    }
    CHECK_MSG(n_names >= min_vocabs, "%s: only %d vocabs", dir, n_names);
    CHECK_MSG(n_fail == 0, "%s: %d of %d cases (%d sets) differ; first: %s", dir, n_fail,
              n_cases, n_sets, first);
}

/* ../shared/vocab: llama.cpp's own vectors (spm, phi-3, gpt-2, starcoder, ...) */
TEST(tokenizer_vectors_vocab) { tt_vector_dir("vocab", 8); }
/* ../shared/vocab-2026: qwen35, gemma-4, falcon, gpt-4o, tekken, base and chat sets */
TEST(tokenizer_vectors_vocab_2026) { tt_vector_dir("vocab-2026", 5); }

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
    CHECK(unicode_flags(0x2EBF0) & UNICODE_LETTER);   /* CJK ext. I: Unicode 15.1, as llama.cpp */
    CHECK(unicode_flags(0x31EF) & UNICODE_SYMBOL);
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

/* ---- the regex matcher (engine/tokenizer_regex.c) on hand-written strings ----
 * The expected pieces follow std::regex ECMAScript rules over llama.cpp's collapsed text. */

static int tt_piece_push(void *ud, size_t len) {
    size_t *p = ud;
    if (p[0] < 63)
        p[1 + p[0]++] = len;
    return 0;
}

/* Splits s with rx; returns the pieces joined by '|' in a static buffer. */
static const char *tt_rx_split(const char *rx, const char *s) {
    static char buf[1024];
    char err[160];
    struct tre *re = NULL;
    if (tre_compile(rx, &re, err, sizeof err)) {
        snprintf(buf, sizeof buf, "compile error: %s", err);
        return buf;
    }
    uint32_t cp[256], u[256];
    size_t n = 0, len = strlen(s), pos = 0;
    size_t offs[257];
    while (pos < len && n < 256) {
        offs[n] = pos;
        cp[n] = unicode_decode(s, len, &pos);
        u[n] = tre_unit(cp[n], unicode_flags(cp[n]), tre_is_collapsed(re));
        n++;
    }
    offs[n] = pos;
    size_t pieces[64] = {0};
    struct tre_scratch sc = {0};
    tre_split(re, u, 0, n, &sc, tt_piece_push, pieces);
    tre_scratch_free(&sc);
    tre_free(re);
    size_t o = 0, at = 0;
    buf[0] = 0;
    for (size_t i = 0; i < pieces[0] && o + 64 < sizeof buf; i++) {
        size_t b0 = offs[at], b1 = offs[at + pieces[1 + i]];
        o += (size_t)snprintf(buf + o, sizeof buf - o, "%s%.*s", i ? "|" : "", (int)(b1 - b0),
                              s + b0);
        at += pieces[1 + i];
    }
    return buf;
}

#define TT_SPLIT(rx, s, want) CHECK_STR_EQ(tt_rx_split((rx), (s)), (want))

/* llama.cpp's gpt-4o regex (o200k with \p{M} dropped, ASCII-only case classes) */
static const char tt_rx_gpt4o[] =
    "[^\\r\\n\\p{L}\\p{N}]?((?=[\\p{L}])([^a-z]))*((?=[\\p{L}])([^A-Z]))+(?:'[sS]|'[tT]|'[rR][eE]|"
    "'[vV][eE]|'[mM]|'[lL][lL]|'[dD])?|[^\\r\\n\\p{L}\\p{N}]?((?=[\\p{L}])([^a-z]))+((?=[\\p{L}])"
    "([^A-Z]))*(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])?|\\p{N}{1,3}| ?[^\\s\\p{L}"
    "\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

TEST(tokenizer_regex_features) {
    /* alternatives in order, not the longest */
    TT_SPLIT("a|ab", "abab", "a|b|a|b");
    TT_SPLIT("ab|a", "abab", "ab|ab");
    /* greedy and lazy quantifiers, counted repetition */
    TT_SPLIT("a+", "aaba", "aa|b|a");
    TT_SPLIT("a+?", "aa", "a|a");
    TT_SPLIT("[0-9]{1,3}", "1234567", "123|456|7");
    TT_SPLIT("x{2}", "xxxxx", "xx|xx|x");
    /* classes: ranges, negation, escapes, identity escapes */
    TT_SPLIT("[^\\s]+", "ab cd\tef", "ab| |cd|\t|ef");
    TT_SPLIT("[\\$\\+<=>\\^~\\|`]+", "a$+<b", "a|$+<|b");
    /* lookahead: \s+(?!\S) leaves the last space of a run to the word after it */
    TT_SPLIT("\\s+(?!\\S)| ?[a-z]+|\\s+", "a   b", "a|  | b");
    TT_SPLIT("\\s+(?!\\S)|\\s+| ?[a-z]+", "a   b", "a|  | |b");
    TT_SPLIT("[0-9](?=[0-9]{3}$)", "12345", "1|2|345");
    /* an empty match (superbpe's lookahead): splits without consuming */
    TT_SPLIT("(?=(\\d{3})+(?!\\d))", "1234567", "1|234|567");
    /* anchors and word boundaries see only the piece */
    TT_SPLIT("\\s+$", "a  b  ", "a  b|  ");
    TT_SPLIT("^a", "aaa", "a|aa");
    TT_SPLIT("\\b[a-z]", "ab cd", "a|b |c|d");
    /* whitespace outside ASCII is \s (llama.cpp maps it to \v) */
    TT_SPLIT("\\s", "a\xc2\xa0" "b\xe3\x80\x80", "a|\xc2\xa0|b|\xe3\x80\x80");
    /* categories over collapsed text */
    TT_SPLIT("\\p{N}+", "a12\xd9\xa3\xd9\xa4x", "a|12\xd9\xa3\xd9\xa4|x");
    TT_SPLIT("\\p{L}+", "caf\xc3\xa9!", "caf\xc3\xa9|!");
    TT_SPLIT("\\p{M}", "e\xcc\x81", "e|\xcc\x81");
    TT_SPLIT("[\\p{L}\\p{M}]+", "e\xcc\x81 x", "e\xcc\x81| |x");
    TT_SPLIT("[\\p{P}]+", "a,.\xe2\x80\x94" "b\xe2\x82\xac", "a|,.\xe2\x80\x94|b\xe2\x82\xac");
    /* a non-ASCII letter is in [^a-z] and in [^A-Z]: both case classes */
    TT_SPLIT("((?=[\\p{L}])([^a-z]))+", "ABc\xc3\xa9" "D", "AB|c|\xc3\xa9" "D");

    /* the gpt-4o regex: case splits, contractions of either case, digits in threes */
    TT_SPLIT(tt_rx_gpt4o, "HelloWorld", "Hello|World");
    TT_SPLIT(tt_rx_gpt4o, " I'M here", " I'M| here");
    TT_SPLIT(tt_rx_gpt4o, "they'RE", "they'RE");
    TT_SPLIT(tt_rx_gpt4o, "12345", "123|45");
    TT_SPLIT(tt_rx_gpt4o, "(HTTPServer)", "(HTTPServer|)");
    TT_SPLIT(tt_rx_gpt4o, "a/b\n/", "a|/b|\n|/");
    TT_SPLIT(tt_rx_gpt4o, "x!!/\r\n\r\ny", "x|!!/\r\n\r\n|y");
    /* É is upper and lower at once in collapsed text: the first branch takes it alone */
    TT_SPLIT(tt_rx_gpt4o, "\xc3\x89" "COLE", "\xc3\x89|COLE");
    /* marks end a word and start a punctuation piece (नमस्ते) */
    TT_SPLIT(tt_rx_gpt4o,
             "\xe0\xa4\xa8\xe0\xa4\xae\xe0\xa4\xb8\xe0\xa5\x8d\xe0\xa4\xa4\xe0\xa5\x87",
             "\xe0\xa4\xa8\xe0\xa4\xae\xe0\xa4\xb8|\xe0\xa5\x8d\xe0\xa4\xa4|\xe0\xa5\x87");
    /* CJK then a Latin capital: the run ends before the capital */
    TT_SPLIT(tt_rx_gpt4o, "\xe4\xbd\xa0\xe5\xa5\xbd" "ABC", "\xe4\xbd\xa0\xe5\xa5\xbd|ABC");
    TT_SPLIT(tt_rx_gpt4o, "a   \xc2\xa0" "b", "a|   |\xc2\xa0" "b");

    /* what does not compile says why */
    char err[160];
    struct tre *re = NULL;
    CHECK(tre_compile("(a*)*", &re, err, sizeof err) == -1 && strstr(err, "empty"));
    CHECK(tre_compile("[a-", &re, err, sizeof err) == -1);
    CHECK(tre_compile("\\p{L}\xc3\xa9", &re, err, sizeof err) == -1 && strstr(err, "non-ASCII"));
    CHECK(tre_compile("\\1", &re, err, sizeof err) == -1);
    CHECK(tre_compile("a{2,1}", &re, err, sizeof err) == -1);
    CHECK(re == NULL);
}

/* Every name of the table loads (all its regexes compile); unknown names are refused. */
TEST(tokenizer_pre_table) {
    char err[256];
    CHECK(pre_n_names() >= 90);
    for (size_t i = 0; i < pre_n_names(); i++) {
        struct pre_tok *p = NULL;
        const char *name = pre_name_at(i);
        CHECK_MSG(pre_load(name, strlen(name), &p, err, sizeof err) == ENG_OK, "%s: %s", name,
                  err);
        CHECK_STR_EQ(pre_name(p), name);
        pre_free(p);
    }
    static const char *const required[] = {
        "llama3", "llama-v3", "dbrx", "smaug-bpe", "deepseek-llm", "deepseek-coder",
        "deepseek-v3", "falcon", "falcon3", "falcon-h1", "mpt", "starcoder", "gpt-2", "refact",
        "command-r", "qwen2", "qwen35", "deepseek-r1-qwen", "stablelm2", "olmo", "jais", "jais-2",
        "poro-chat", "viking", "tekken", "smollm", "codeshell", "bloom", "gpt3-finnish",
        "chameleon", "minerva-7b", "exaone", "exaone4", "chatglm-bpe", "gpt-4o", "llama4",
        "pixtral", "superbpe", "trillion", "granite-docling", "bailingmoe", "bailingmoe2",
        "seed-coder", "hunyuan", "kimi-k2", "grok-2", "afmoe", "gemma4", "minimax-m2",
    };
    for (size_t i = 0; i < sizeof required / sizeof required[0]; i++) {
        struct pre_tok *p = NULL;
        CHECK_MSG(pre_load(required[i], strlen(required[i]), &p, err, sizeof err) == ENG_OK,
                  "%s: %s", required[i], err);
        pre_free(p);
    }
    struct pre_tok *p = NULL;
    CHECK(pre_load("gpt-5", 5, &p, err, sizeof err) == ENG_E_UNSUPPORTED && !p);
    CHECK(strstr(err, "unknown pre-tokenizer 'gpt-5'") != NULL);
    CHECK(pre_load("", 0, &p, err, sizeof err) == ENG_E_UNSUPPORTED);
}

/* Splits utf-8 s with the pre-tokenizer name; pieces joined by '|' (static buffer). */
static const char *tt_pre_split(const char *name, const char *s) {
    static char buf[1024];
    char err[256];
    struct pre_tok *p = NULL;
    if (pre_load(name, strlen(name), &p, err, sizeof err) != ENG_OK) {
        snprintf(buf, sizeof buf, "%s", err);
        return buf;
    }
    uint32_t cp[256];
    uint16_t fl[256];
    size_t offs[257], n = 0, len = strlen(s), pos = 0;
    while (pos < len && n < 256) {
        offs[n] = pos;
        cp[n] = unicode_decode(s, len, &pos);
        fl[n] = (uint16_t)unicode_flags(cp[n]);
        n++;
    }
    offs[n] = pos;
    size_t *pieces = NULL, n_pieces = 0, cap = 0;
    buf[0] = 0;
    if (pre_split(p, cp, fl, n, &pieces, &n_pieces, &cap) == 0) {
        size_t o = 0, at = 0;
        for (size_t i = 0; i < n_pieces && o + 64 < sizeof buf; i++) {
            size_t b0 = offs[at], b1 = offs[at + pieces[i]];
            o += (size_t)snprintf(buf + o, sizeof buf - o, "%s%.*s", i ? "|" : "",
                                  (int)(b1 - b0), s + b0);
            at += pieces[i];
        }
    }
    free(pieces);
    pre_free(p);
    return buf;
}

#define TT_PRE(name, s, want) CHECK_STR_EQ(tt_pre_split((name), (s)), (want))

TEST(tokenizer_pre_splits_2026) {
    /* qwen35: letters take combining marks, digits one by one, no NFC */
    TT_PRE("qwen35", "cafe\xcc\x81 12", "cafe\xcc\x81| |1|2");
    TT_PRE("qwen2", "cafe\xcc\x81 12", "cafe|\xcc\x81| |1|2");
    TT_PRE("qwen35", "I'M they'Ve", "I|'M| they|'Ve");
    TT_PRE("qwen35", "a!\xcc\x81", "a|!\xcc\x81"); /* a mark takes a leading character */
    /* falcon: punctuation runs first, then GPT-2, then ASCII digits in threes from the left */
    TT_PRE("falcon", "x=12345, y", "x|=|123|45|,| y");
    TT_PRE("falcon", "don't", "don|'|t");
    TT_PRE("falcon", "\xd9\xa1\xd9\xa2\xd9\xa3\xd9\xa4", "\xd9\xa1\xd9\xa2\xd9\xa3\xd9\xa4");
    /* tekken: gpt-4o's words without contractions, single digits */
    TT_PRE("tekken", "HelloWorld 123 don't", "Hello|World| |1|2|3| don|'t");
    TT_PRE("gpt-4o", "HelloWorld 123 don't", "Hello|World| |123| don't");
    TT_PRE("gpt-4o", "line1\r\n\r\n  x", "line|1|\r\n\r\n| | x");
    /* gemma4: only newline runs */
    TT_PRE("gemma4", "a b\n\n\nc", "a b|\n\n\n|c");
    /* deepseek-v3: digits in threes, CJK runs, then its BPE regex */
    TT_PRE("deepseek-v3", "ab1234\xe4\xbd\xa0\xe5\xa5\xbd", "ab|123|4|\xe4\xbd\xa0\xe5\xa5\xbd");
    /* afmoe digits: n % 3 first, then threes */
    TT_PRE("afmoe", "1234567", "1|234|567");
    /* kimi-k2: Han runs apart from other letters */
    TT_PRE("kimi-k2", "ab\xe4\xbd\xa0\xe5\xa5\xbd" "cd", "ab|\xe4\xbd\xa0\xe5\xa5\xbd|cd");
    /* bloom: everything but spaces and its punctuation */
    TT_PRE("bloom", "Hi, you!", "Hi|,| you|!");
}

/* ---- the 2026 vocabs: EOG sets, special-token text, gemma4 ---- */

static void tt_eog_set(const char *rel, const int32_t *want, int n_want) {
    char err[256];
    struct tt_vocab tv;
    CHECK_MSG(tt_open(test_shared_path(rel), &tv, err, sizeof err) == ENG_OK, "%s: %s", rel, err);
    int k = 0, n = vocab_n_tokens(tv.v);
    for (int32_t i = 0; i < n; i++) {
        if (!vocab_is_eog(tv.v, i))
            continue;
        CHECK_MSG(k < n_want && want[k] == i, "%s: token %d is EOG", rel, (int)i);
        k++;
    }
    CHECK_MSG(k == n_want, "%s: %d EOG tokens, want %d", rel, k, n_want);
    tt_close(&tv);
}

/* The EOG sets llama.cpp (2026-09-28) reports for these files (llama_vocab_is_eog). */
TEST(tokenizer_eog_2026) {
    REQUIRE_SHARED();
    const char *probe = test_shared_path("vocab-2026/ggml-vocab-gpt-4o.gguf");
    FILE *pf = probe ? fopen(probe, "rb") : NULL;
    if (!pf)
        SKIP("no ../shared/vocab-2026");
    fclose(pf);
    static const int32_t gpt4o[] = {199999}, tekken[] = {2}, falcon[] = {11};
    static const int32_t qwen35[] = {128247, 151643, 151645};   /* </s>, <|endoftext|>, <|im_end|> */
    static const int32_t gemma4[] = {1, 50, 106};               /* <eos>, <|tool_response>, <turn|> */
    tt_eog_set("vocab-2026/ggml-vocab-gpt-4o.gguf", gpt4o, 1);
    tt_eog_set("vocab-2026/ggml-vocab-tekken.gguf", tekken, 1);
    tt_eog_set("vocab-2026/ggml-vocab-falcon.gguf", falcon, 1);
    tt_eog_set("vocab-2026/ggml-vocab-qwen35.gguf", qwen35, 3);
    tt_eog_set("vocab-2026/ggml-vocab-gemma-4.gguf", gemma4, 3);

    /* through the public API, as generation uses it */
    struct eng_model_params mp = eng_model_default_params();
    mp.vocab_only = 1;
    eng_model *m = NULL;
    CHECK_MSG(eng_model_load(test_shared_path("vocab-2026/ggml-vocab-gemma-4.gguf"), &mp, &m) ==
                  ENG_OK, "%s", eng_last_error());
    CHECK(eng_token_is_eog(m, 106) && eng_token_is_eog(m, 1) && !eng_token_is_eog(m, 105));
    CHECK(!eng_token_is_eog(m, 212)); /* </s> is not EOG beside <|tool_response> */
    CHECK_EQ_INT(eng_token_bos(m), 2);
    eng_model_free(m);
}

TEST(tokenizer_gemma4) {
    REQUIRE_SHARED();
    char err[256];
    struct tt_vocab tv;
    const char *rel = test_shared_path("vocab-2026/ggml-vocab-gemma-4.gguf");
    if (!rel || tt_open(rel, &tv, err, sizeof err) != ENG_OK)
        SKIP("no ../shared/vocab-2026/ggml-vocab-gemma-4.gguf");
    CHECK_EQ_INT(vocab_n_tokens(tv.v), 262144);
    CHECK_STR_EQ(vocab_pre_name(tv.v), "gemma4");
    CHECK(vocab_add_bos(tv.v) && vocab_bos(tv.v) == 2 && vocab_eos(tv.v) == 1);
    tt_expect(tv.v, "Hello world", 0, 0, "9259 1902");          /* no prefix space */
    tt_expect(tv.v, " Hello", 0, 0, "26352");                     /* ▁Hello */
    tt_expect(tv.v, "\n\n\n", 0, 0, "109");                       /* a newline run token */
    tt_expect(tv.v, "\xf0\x9f\xa6\x99", 0, 0, "478 397 404 391"); /* 🦙: <0xF0> <0x9F> <0xA6> <0x99> */
    tt_expect(tv.v, "Hello world", 1, 0, "2 9259 1902");
    tt_expect(tv.v, "<turn|>", 0, 1, "106");
    /* pieces: U+2581 is a space again, byte tokens are their byte; so text comes back, but
     * for a U+2581 of its own, which comes back as a space (as with llama.cpp) */
    static const char *const texts[][2] = {
        {"Hello world", "Hello world"},
        {" two  spaces\n\n\nand \xf0\x9f\xa6\x99", " two  spaces\n\n\nand \xf0\x9f\xa6\x99"},
        {"\t tab\xe2\x96\x81", "\t tab "},
    };
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        int n, len;
        int32_t *ids = tt_tokenize(tv.v, texts[i][0], strlen(texts[i][0]), 0, 0, &n);
        CHECK(ids);
        char *back = tt_detokenize(tv.v, ids, n, 0, &len);
        CHECK(back);
        CHECK_MSG(len == (int)strlen(texts[i][1]) && memcmp(back, texts[i][1], (size_t)len) == 0,
                  "\"%s\" came back as \"%.*s\"", texts[i][0], len, back);
        free(ids);
        free(back);
    }
    tt_close(&tv);
}

/* gpt-oss (o200k-harmony) and gemma4 special-token rules on a hand-made vocab. */
TEST(tokenizer_special_rules_synthetic) {
    static const char *const toks[] = {
        "a", "b", "<|endoftext|>", "<|return|>", "<|call|>", "<|end|>", "<|channel|>",
        "<|message|>", "</s>", "<|tool_response>", "<|fim_prefix|>", "<ctrl_unused_1>",
    };
    int32_t types[12] = {1, 1, 3, 3, 3, 3, 3, 3, 3, 3, 1, 3};
    static const char *const merges[] = {"a b"};
    struct tt_gguf b = {0}, f = {0};
    tt_kv_str(&b, "tokenizer.ggml.model", "gpt2");
    tt_kv_str(&b, "tokenizer.ggml.pre", "gpt-4o");
    tt_kv_strs(&b, "tokenizer.ggml.tokens", toks, 12);
    tt_kv_arr32(&b, "tokenizer.ggml.token_type", GGUF_TYPE_INT32, types, 12);
    tt_kv_strs(&b, "tokenizer.ggml.merges", merges, 1);
    tt_kv_u32(&b, "tokenizer.ggml.eos_token_id", 2);
    tt_put(&f, "GGUF", 4);
    tt_u32(&f, 3);
    tt_u64(&f, 0);
    tt_u64(&f, b.n_kv);
    tt_put(&f, b.p, b.n);
    char err[256];
    gguf *g = NULL;
    struct vocab *v = NULL;
    CHECK_MSG(gguf_open_mem(f.p, f.n, &g, err, sizeof err) == ENG_OK, "%s", err);
    CHECK_MSG(vocab_load(g, &v, err, sizeof err) == ENG_OK, "%s", err);
    gguf_close(g);
    free(f.p);
    free(b.p);
    /* EOG: <|endoftext|>, <|return|>, <|call|>; not <|end|> (it ends a message, not a
     * generation, when <|return|> and <|call|> exist), and not </s> beside <|tool_response> */
    for (int32_t i = 0; i < 12; i++)
        CHECK_MSG(vocab_is_eog(v, i) == (i == 2 || i == 3 || i == 4 || i == 9), "token %d",
                  (int)i);
    CHECK(vocab_token_attr(v, 5) == VOCAB_ATTR_USER);
    CHECK(vocab_token_attr(v, 8) == VOCAB_ATTR_NORMAL);
    /* <|channel|> and <|message|> are user-defined: matched even without parse_special */
    CHECK(vocab_token_attr(v, 6) & VOCAB_ATTR_USER);
    tt_expect(v, "a<|channel|>b", 0, 0, "0 6 1");
    /* a FIM token found by its text becomes control; an "unused" control token is unused */
    CHECK(vocab_token_attr(v, 10) & VOCAB_ATTR_CONTROL);
    CHECK(vocab_token_attr(v, 11) & VOCAB_ATTR_UNUSED);
    vocab_free(v);
}

/* A rendered prompt's plain text (a message) never becomes control tokens: only the bytes the
 * mask marks as the template's may form one; an all-template mask is parse_special, an
 * all-plain one is plain text; a token straddling the boundary stays text. */
TEST(tokenizer_masked_no_injection) {
    REQUIRE_SHARED();
    const char *files[] = {"vocab/ggml-vocab-qwen2.gguf", "vocab/ggml-vocab-llama-bpe.gguf",
                           "vocab/ggml-vocab-llama-spm.gguf"};
    const char *specials[] = {"<|im_end|>", "<|eot_id|>", "</s>"};
    for (size_t f = 0; f < sizeof files / sizeof files[0]; f++) {
        struct eng_model_params p = eng_model_default_params();
        p.vocab_only = 1;
        eng_model *m = NULL;
        CHECK_MSG(eng_model_load(test_shared_path(files[f]), &p, &m) == ENG_OK, "%s",
                  eng_last_error());
        char text[256];
        const char *sp = specials[f];
        /* template: "X" + sp + "\n", message: "hi " + sp + " there", template: sp */
        int t0 = snprintf(text, sizeof text, "X%s\n", sp);
        int m1 = snprintf(text + t0, sizeof text - (size_t)t0, "hi %s there", sp);
        int t2 = snprintf(text + t0 + m1, sizeof text - (size_t)(t0 + m1), "%s", sp);
        const size_t len = (size_t)(t0 + m1 + t2);
        unsigned char mask[256] = {0};
        memset(mask + t0, 1, (size_t)m1);
        int32_t want_special[64], want_plain[64], got[64], sp_id[4];
        CHECK_EQ_INT(eng_tokenize(m, sp, strlen(sp), 0, 1, sp_id, 4), 1);
        int ns = eng_tokenize(m, text, len, 0, 1, want_special, 64);
        int np = eng_tokenize(m, text, len, 0, 0, want_plain, 64);
        CHECK(ns > 0 && ns <= 64 && np > 0 && np <= 64);
        static const unsigned char zeros[256];
        unsigned char ones[256];
        memset(ones, 1, sizeof ones);
        CHECK_EQ_INT(eng_tokenize_masked(m, text, len, 0, zeros, got, 64), ns);
        CHECK(!memcmp(got, want_special, (size_t)ns * sizeof *got));
        CHECK_EQ_INT(eng_tokenize_masked(m, text, len, 0, ones, got, 64), np);
        CHECK(!memcmp(got, want_plain, (size_t)np * sizeof *got));
        int n = eng_tokenize_masked(m, text, len, 0, mask, got, 64), n_sp = 0;
        CHECK(n > 0 && n <= 64);
        for (int i = 0; i < n; i++)
            n_sp += got[i] == sp_id[0];
        CHECK_MSG(n_sp == 2, "%s: %d of the 3 '%s' became the token (want the template's 2)",
                  files[f], n_sp, sp);
        /* the message's bytes decode back to themselves */
        char out[256];
        int dl = eng_detokenize(m, got, n, out, sizeof out, 1);
        CHECK(dl > 0 && strstr(out, "hi ") && strstr(out, sp));
        /* a special token half in the template, half in the message stays text */
        memset(mask, 0, sizeof mask);
        mask[t0 + 3 + 2] = 1;
        n = eng_tokenize_masked(m, text, len, 0, mask, got, 64);
        n_sp = 0;
        for (int i = 0; i < n; i++)
            n_sp += got[i] == sp_id[0];
        CHECK_EQ_INT(n_sp, 2);
        eng_model_free(m);
    }
}
