/* tests/test_gen.c — the generation thread on a real model (../shared/models/stories260K.gguf):
 * the frame sequence, the greedy text against llama.cpp's reference, prefix reuse of the KV
 * cache, stop strings, cancel, a full context, a prompt that does not fit, eng_frame_read on
 * bad input; control tokens as SPECIAL frames (on a copy of stories260K whose "," is a control
 * token), TinyStories' spelled-out <|end_story|> never sent, eng_gen_stop at a token boundary. */
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "engine.h"
#include "gguf.h"
#include "gguf_write.h"
#include "gen_test.h"
#include "harness.h"

/* llama.cpp's tokens for "Once upon a time" and its greedy text (reference case 0) */
static const int32_t gen_test_prompt[] = {1, 403, 407, 261, 378};
static const char gen_test_ref_text[] =
    ", there was a little girl named Lily. She loved to play outside in the park. One day, "
    "she saw a big, red ball. She wanted to play with it,";

void gen_test_collect(int fd, uint32_t id, struct gen_test_run *r) {
    memset(r, 0, sizeof *r);
    r->done = -1;
    struct eng_frame h;
    unsigned char p[ENG_FRAME_MAX];
    int last_type = 0;
    while (eng_frame_read(fd, &h, p) == 1) {
        r->n_frames++;
        if (h.gen_id != id) r->bad_id = 1;
        if (h.type == ENG_EV_TOKEN) {
            r->n_token++;
            if (r->n_text + h.len < sizeof r->text) {
                memcpy(r->text + r->n_text, p, h.len);
                r->n_text += h.len;
                r->text[r->n_text] = 0;
            }
            if (r->n_stream + h.len < sizeof r->stream) {
                memcpy(r->stream + r->n_stream, p, h.len);
                r->n_stream += h.len;
                r->stream[r->n_stream] = 0;
            }
        } else if (h.type == ENG_EV_SPECIAL && h.len >= 4) {
            r->n_special++;
            memcpy(&r->special_id, p, 4);
            if (r->n_stream + h.len + 2 < sizeof r->stream)
                r->n_stream += (size_t)snprintf(r->stream + r->n_stream,
                                                sizeof r->stream - r->n_stream, "[%.*s]",
                                                (int)h.len - 4, (const char *)p + 4);
        } else if (h.type == ENG_EV_PROGRESS) {
            r->n_progress++;
            if (r->n_token) r->progress_after_token = 1;
        } else if (h.type == ENG_EV_STATS) {
            r->n_stats++;
            if (h.len == sizeof r->st) memcpy(&r->st, p, sizeof r->st);
        } else if (h.type == ENG_EV_DONE) {
            r->done = 1;
            memcpy(&r->reason, p, 4);
            r->stats_before_done = last_type == ENG_EV_STATS;
            return;
        } else if (h.type == ENG_EV_ERROR) {
            r->done = 0;
            memcpy(&r->error_code, p, 4);
            snprintf(r->error, sizeof r->error, "%.*s", (int)h.len - 4, (const char *)p + 4);
            return;
        }
        last_type = h.type;
    }
}

struct gen_test_env {
    eng_model *m;
    eng_ctx *c;
};

static int gen_test_open(struct gen_test_env *e, int n_ctx) {
    memset(e, 0, sizeof *e);
    const char *path = test_shared_path("models/stories260K.gguf");
    struct eng_model_params mp = eng_model_default_params();
    if (!path || eng_model_load(path, &mp, &e->m) != ENG_OK) return -1;
    struct eng_ctx_params cp = eng_ctx_default_params();
    cp.n_ctx = n_ctx;
    cp.n_threads = 1;
    return eng_ctx_new(e->m, &cp, &e->c) == ENG_OK ? 0 : -1;
}

static void gen_test_close(struct gen_test_env *e) {
    eng_ctx_free(e->c);
    eng_model_free(e->m);
}

/* One generation through a pipe. Returns eng_gen_join's status (or the start error). */
static int gen_test_gen(struct gen_test_env *e, const int32_t *toks, int n,
                        const struct eng_gen_params *gp, uint32_t id, struct gen_test_run *r) {
    int fd[2];
    if (pipe(fd) != 0) return -100;
    eng_gen *g = NULL;
    int rc = eng_gen_start(e->c, toks, n, gp, fd[1], id, &g);
    if (rc == ENG_OK) {
        gen_test_collect(fd[0], id, r);
        rc = eng_gen_join(g);
    }
    close(fd[0]);
    close(fd[1]);
    return rc;
}

static struct eng_gen_params gen_test_greedy(int n_predict) {
    struct eng_gen_params gp = eng_gen_default_params();
    gp.sample.temp = 0;
    gp.n_predict = n_predict;
    return gp;
}

TEST(gen_greedy_reference_and_frames) {
    REQUIRE_SHARED();
    struct gen_test_env e;
    CHECK_MSG(gen_test_open(&e, 256) == 0, "load: %s", eng_last_error());
    struct eng_gen_params gp = gen_test_greedy(48);
    struct gen_test_run r;
    CHECK_EQ_INT(gen_test_gen(&e, gen_test_prompt, 5, &gp, 7, &r), ENG_OK);
    CHECK_EQ_INT(r.done, 1);
    CHECK_EQ_INT(r.reason, ENG_DONE_LENGTH);
    CHECK_STR_EQ(r.text, gen_test_ref_text);
    CHECK(!r.bad_id);
    CHECK(r.n_progress >= 1);
    CHECK(!r.progress_after_token);
    CHECK(r.stats_before_done);
    CHECK_EQ_INT(r.st.n_prompt, 5);
    CHECK_EQ_INT(r.st.n_reused, 0);
    CHECK_EQ_INT(r.st.n_gen, 48);
    CHECK_EQ_INT(r.st.n_ctx, 256);
    CHECK_EQ_INT(r.st.n_past, 5 + 47); /* the last token is sampled, not decoded */
    CHECK(r.st.prompt_tps > 0 && r.st.gen_tps > 0 && r.st.kv_bytes > 0);
    gen_test_close(&e);
}

TEST(gen_prefix_reuse) {
    REQUIRE_SHARED();
    struct gen_test_env e;
    CHECK_MSG(gen_test_open(&e, 256) == 0, "load: %s", eng_last_error());
    struct eng_gen_params gp = gen_test_greedy(20);
    struct gen_test_run r1, r2;
    CHECK_EQ_INT(gen_test_gen(&e, gen_test_prompt, 5, &gp, 1, &r1), ENG_OK);
    /* the same prompt again: all but its last token come from the cache, same text */
    CHECK_EQ_INT(gen_test_gen(&e, gen_test_prompt, 5, &gp, 2, &r2), ENG_OK);
    CHECK_EQ_INT(r2.st.n_reused, 4);
    CHECK_EQ_INT(r2.st.n_prompt, 1);
    CHECK_STR_EQ(r2.text, r1.text);
    /* a conversation that goes on: prompt + what was generated + more */
    const int32_t *have = eng_ctx_tokens(e.c);
    int n_have = eng_ctx_n_past(e.c);
    CHECK_EQ_INT(n_have, 5 + 19);
    int32_t longer[40];
    memcpy(longer, have, (size_t)n_have * sizeof *have);
    longer[n_have] = 403;
    longer[n_have + 1] = 407;
    CHECK_EQ_INT(gen_test_gen(&e, longer, n_have + 2, &gp, 3, &r2), ENG_OK);
    CHECK_EQ_INT(r2.st.n_reused, n_have);
    CHECK_EQ_INT(r2.st.n_prompt, 2);
    /* a prompt that differs at position 3 keeps 3 tokens */
    int32_t other[] = {1, 403, 407, 300, 378};
    CHECK_EQ_INT(gen_test_gen(&e, other, 5, &gp, 4, &r2), ENG_OK);
    CHECK_EQ_INT(r2.st.n_reused, 3);
    CHECK_EQ_INT(r2.st.n_prompt, 2);
    /* and back: the reused result equals a fresh context's */
    CHECK_EQ_INT(gen_test_gen(&e, gen_test_prompt, 5, &gp, 5, &r2), ENG_OK);
    CHECK_EQ_INT(r2.st.n_reused, 3);
    CHECK_STR_EQ(r2.text, r1.text);
    /* sampling with a seed is reproducible across generations */
    gp.sample = eng_sample_default_params();
    gp.sample.seed = 42;
    CHECK_EQ_INT(gen_test_gen(&e, gen_test_prompt, 5, &gp, 6, &r1), ENG_OK);
    CHECK_EQ_INT(gen_test_gen(&e, gen_test_prompt, 5, &gp, 7, &r2), ENG_OK);
    CHECK(r1.n_text > 0);
    CHECK_STR_EQ(r2.text, r1.text);
    gen_test_close(&e);
}

/* prefill_only: the prompt goes into the KV cache in prompt_chunk pieces, nothing is sampled;
 * the generation that follows processes only its last token and writes the same text */
TEST(gen_prefill_only) {
    REQUIRE_SHARED();
    struct gen_test_env e;
    CHECK_MSG(gen_test_open(&e, 256) == 0, "load: %s", eng_last_error());
    struct eng_gen_params gp = gen_test_greedy(48);
    gp.prefill_only = 1;
    gp.prompt_chunk = 2;
    struct gen_test_run r;
    CHECK_EQ_INT(gen_test_gen(&e, gen_test_prompt, 5, &gp, 1, &r), ENG_OK);
    CHECK_EQ_INT(r.done, 1);
    CHECK_EQ_INT(r.reason, ENG_DONE_LENGTH);
    CHECK_EQ_INT(r.n_token, 0);
    CHECK_EQ_INT(r.n_progress, 1 + 3);   /* the start, then chunks of 2, 2, 1 */
    CHECK_EQ_INT(r.st.n_prompt, 5);
    CHECK_EQ_INT(r.st.n_gen, 0);
    CHECK_EQ_INT(eng_ctx_n_past(e.c), 5);
    /* again: nothing left to process */
    CHECK_EQ_INT(gen_test_gen(&e, gen_test_prompt, 5, &gp, 2, &r), ENG_OK);
    CHECK_EQ_INT(r.st.n_prompt, 0);
    CHECK_EQ_INT(r.st.n_reused, 5);
    gp.prefill_only = 0;
    CHECK_EQ_INT(gen_test_gen(&e, gen_test_prompt, 5, &gp, 3, &r), ENG_OK);
    CHECK_EQ_INT(r.st.n_reused, 4);
    CHECK_EQ_INT(r.st.n_prompt, 1);
    CHECK_STR_EQ(r.text, gen_test_ref_text);
    gen_test_close(&e);
}

TEST(gen_stop_strings) {
    REQUIRE_SHARED();
    struct gen_test_env e;
    CHECK_MSG(gen_test_open(&e, 256) == 0, "load: %s", eng_last_error());
    struct eng_gen_params gp = gen_test_greedy(48);
    const char *stops[] = {"zzz", "little girl"};
    gp.stop = stops;
    gp.n_stop = 2;
    struct gen_test_run r;
    CHECK_EQ_INT(gen_test_gen(&e, gen_test_prompt, 5, &gp, 1, &r), ENG_OK);
    CHECK_EQ_INT(r.reason, ENG_DONE_STOP);
    CHECK_STR_EQ(r.text, ", there was a ");
    /* a stop string that ends inside a token: "Lily. S" */
    const char *stops2[] = {"Lily. S"};
    gp.stop = stops2;
    gp.n_stop = 1;
    CHECK_EQ_INT(gen_test_gen(&e, gen_test_prompt, 5, &gp, 2, &r), ENG_OK);
    CHECK_EQ_INT(r.reason, ENG_DONE_STOP);
    CHECK_STR_EQ(r.text, ", there was a little girl named ");
    gen_test_close(&e);
}

TEST(gen_context_full_and_too_long) {
    REQUIRE_SHARED();
    struct gen_test_env e;
    CHECK_MSG(gen_test_open(&e, 16) == 0, "load: %s", eng_last_error());
    struct eng_gen_params gp = gen_test_greedy(-1);
    struct gen_test_run r;
    CHECK_EQ_INT(gen_test_gen(&e, gen_test_prompt, 5, &gp, 1, &r), ENG_OK);
    CHECK_EQ_INT(r.reason, ENG_DONE_CTX_FULL);
    CHECK_EQ_INT(r.st.n_gen, 12);  /* 11 decoded into positions 5..15, the 12th only sampled */
    CHECK(strncmp(gen_test_ref_text, r.text, r.n_text) == 0);
    int32_t many[20];
    for (int i = 0; i < 20; i++) many[i] = 300 + i;
    CHECK_EQ_INT(gen_test_gen(&e, many, 20, &gp, 2, &r), ENG_E_CTX_FULL);
    CHECK_EQ_INT(r.done, 0);
    CHECK_EQ_INT(r.error_code, ENG_E_CTX_FULL);
    CHECK(strstr(r.error, "does not fit"));
    eng_gen *g = NULL;
    CHECK_EQ_INT(eng_gen_start(e.c, many, 0, &gp, 1, 1, &g), ENG_E_ARG);
    gen_test_close(&e);
}

/* Cancel while the thread is blocked writing its first frame into a full pipe: it must stop
 * before decoding anything, with STATS then DONE(cancelled). */
TEST(gen_cancel) {
    REQUIRE_SHARED();
    struct gen_test_env e;
    CHECK_MSG(gen_test_open(&e, 256) == 0, "load: %s", eng_last_error());
    int fd[2];
    CHECK(pipe(fd) == 0);
    fcntl(fd[1], F_SETFL, fcntl(fd[1], F_GETFL) | O_NONBLOCK);
    char junk[4096];
    memset(junk, 'j', sizeof junk);
    size_t n_junk = 0;
    ssize_t w;
    while ((w = write(fd[1], junk, sizeof junk)) > 0) n_junk += (size_t)w;
    struct eng_gen_params gp = gen_test_greedy(-1);
    eng_gen *g = NULL;
    CHECK_EQ_INT(eng_gen_start(e.c, gen_test_prompt, 5, &gp, fd[1], 9, &g), ENG_OK);
    eng_gen_cancel(g);
    while (n_junk > 0) {
        ssize_t r = read(fd[0], junk, n_junk < sizeof junk ? n_junk : sizeof junk);
        CHECK(r > 0);
        n_junk -= (size_t)r;
    }
    struct gen_test_run r;
    gen_test_collect(fd[0], 9, &r);
    CHECK_EQ_INT(eng_gen_join(g), ENG_OK);
    CHECK_EQ_INT(r.done, 1);
    CHECK_EQ_INT(r.reason, ENG_DONE_CANCELLED);
    CHECK(r.stats_before_done);
    CHECK_EQ_INT(r.st.n_gen, 0);
    CHECK_EQ_INT(r.n_token, 0);
    /* the context is usable after a cancel */
    gp.n_predict = 48;
    CHECK_EQ_INT(gen_test_gen(&e, gen_test_prompt, 5, &gp, 10, &r), ENG_OK);
    CHECK_STR_EQ(r.text, gen_test_ref_text);
    close(fd[0]);
    close(fd[1]);
    gen_test_close(&e);
}

TEST(gen_frame_read_bad_input) {
    int fd[2];
    struct eng_frame h;
    unsigned char p[ENG_FRAME_MAX];
    CHECK(pipe(fd) == 0);
    close(fd[1]);
    CHECK_EQ_INT(eng_frame_read(fd[0], &h, p), 0);   /* EOF */
    close(fd[0]);
    CHECK(pipe(fd) == 0);
    struct eng_frame big = {ENG_EV_TOKEN, 600, 1};
    CHECK(write(fd[1], &big, sizeof big) == (ssize_t)sizeof big);
    CHECK_EQ_INT(eng_frame_read(fd[0], &h, p), -1);  /* longer than a frame can be */
    close(fd[0]);
    close(fd[1]);
    CHECK(pipe(fd) == 0);
    struct eng_frame cut = {ENG_EV_TOKEN, 10, 1};
    CHECK(write(fd[1], &cut, sizeof cut) == (ssize_t)sizeof cut);
    CHECK(write(fd[1], "abc", 3) == 3);
    close(fd[1]);
    CHECK_EQ_INT(eng_frame_read(fd[0], &h, p), -1);  /* cut short */
    close(fd[0]);
}

/* ---- control tokens ---- */

/* Copies stories260K.gguf to path with token `tok`'s type set to `type` (3: control). */
static int gen_test_write_typed(const char *path, int32_t tok, int32_t type) {
    char err[256];
    gguf *g;
    if (gguf_open(test_shared_path("models/stories260K.gguf"), &g, err, sizeof err)) return -1;
    gguf_writer *w = gguf_writer_new();
    uint32_t at;
    uint64_t n;
    const uint8_t *data;
    int rc = -1;
    if (gguf_get_arr(g, "tokenizer.ggml.token_type", &at, &n, &data) != 0 ||
        at != GGUF_TYPE_INT32 || tok >= (int32_t)n)
        goto out;
    int32_t *types = malloc(n * sizeof *types);
    memcpy(types, data, n * sizeof *types);
    types[tok] = type;
    for (int64_t i = 0; i < gguf_n_kv(g); i++) {
        const struct gguf_kv *kv = gguf_kv_at(g, i);
        if (kv->key.len == 25 && !memcmp(kv->key.p, "tokenizer.ggml.token_type", 25))
            gguf_writer_add_arr(w, "tokenizer.ggml.token_type", GGUF_TYPE_INT32, types, n);
        else
            gguf_writer_copy_kv(w, kv);
    }
    free(types);
    for (int64_t i = 0; i < gguf_n_tensors(g); i++) {
        const struct gguf_tensor *t = gguf_tensor_at(g, i);
        gguf_writer_add_tensor(w, t->name, t->type, t->n_dims, t->ne, t->data);
    }
    rc = gguf_writer_write(w, path, NULL, NULL, err, sizeof err);
out:
    gguf_writer_free(w);
    gguf_close(g);
    return rc;
}

/* The reference text with "," a control token: the commas come as SPECIAL frames at their
 * places, never in the text; a stop string "," stops at the first one. */
TEST(gen_special_frames) {
    REQUIRE_SHARED();
    char path[1024];
    snprintf(path, sizeof path, "%s/comma.gguf", test_tmpdir());
    CHECK(gen_test_write_typed(path, 432, 3) == 0); /* 432 is "," */
    struct gen_test_env e;
    memset(&e, 0, sizeof e);
    CHECK_MSG(eng_model_load(path, NULL, &e.m) == ENG_OK, "%s", eng_last_error());
    struct eng_ctx_params cp = eng_ctx_default_params();
    cp.n_ctx = 256;
    cp.n_threads = 1;
    CHECK(eng_ctx_new(e.m, &cp, &e.c) == ENG_OK);
    struct eng_gen_params gp = gen_test_greedy(48);
    struct gen_test_run r;
    CHECK_EQ_INT(gen_test_gen(&e, gen_test_prompt, 5, &gp, 1, &r), ENG_OK);
    CHECK_EQ_INT(r.reason, ENG_DONE_LENGTH);
    char want_stream[512], want_text[512];
    size_t a = 0, b = 0;
    for (const char *q = gen_test_ref_text; *q; q++) {
        if (*q == ',') {
            a += (size_t)snprintf(want_stream + a, sizeof want_stream - a, "[,]");
        } else {
            want_stream[a++] = *q;
            want_text[b++] = *q;
        }
    }
    want_stream[a] = want_text[b] = 0;
    CHECK_STR_EQ(r.text, want_text);
    CHECK_STR_EQ(r.stream, want_stream);
    CHECK_EQ_INT(r.n_special, 4);
    CHECK_EQ_INT(r.special_id, 432);
    CHECK_EQ_INT(r.st.n_gen, 48); /* control tokens count as generated */
    const char *stops[] = {","};
    gp.stop = stops;
    gp.n_stop = 1;
    CHECK_EQ_INT(gen_test_gen(&e, gen_test_prompt, 5, &gp, 2, &r), ENG_OK);
    CHECK_EQ_INT(r.reason, ENG_DONE_STOP);
    CHECK_EQ_INT(r.n_special, 0);
    CHECK_EQ_INT((int)r.n_text, 0);
    gen_test_close(&e);
}

/* TinyStories spells its end marker with ordinary tokens ("<|" "end" "_story" "|>") before its
 * EOS: the reply ends there as at the EOS, and none of the marker is ever sent. */
TEST(gen_eog_text_spelled_out) {
    REQUIRE_SHARED();
    struct gen_test_env e;
    memset(&e, 0, sizeof e);
    const char *path = test_shared_path("models/TinyStories-656K-Q8_0.gguf");
    CHECK(eng_model_load(path, NULL, &e.m) == ENG_OK);
    struct eng_ctx_params cp = eng_ctx_default_params();
    cp.n_threads = 1;
    CHECK(eng_ctx_new(e.m, &cp, &e.c) == ENG_OK);
    int32_t toks[16];
    int n = eng_tokenize(e.m, "Once upon a time", 16, 1, 1, toks, 16);
    CHECK(n > 1 && n < 16);
    struct eng_gen_params gp = gen_test_greedy(-1);
    struct gen_test_run r;
    CHECK_EQ_INT(gen_test_gen(&e, toks, n, &gp, 1, &r), ENG_OK);
    CHECK_EQ_INT(r.reason, ENG_DONE_EOG);
    CHECK(r.n_text > 100);
    CHECK_MSG(!strstr(r.text, "<|") && !strstr(r.text, "end_story"), "%s", r.text);
    CHECK_EQ_INT(r.n_special, 0);
    /* the model did write the marker as text: the decoded tokens end with its start */
    char all[8192];
    int len = eng_detokenize(e.m, eng_ctx_tokens(e.c), eng_ctx_n_past(e.c), all, sizeof all, 0);
    CHECK(len > 20 && len < (int)sizeof all);
    CHECK_MSG(strstr(all, "<|end_story") != NULL, "%s", all);
    gen_test_close(&e);
}

/* eng_gen_stop ends between tokens: everything sent is in the KV cache, nothing more. */
TEST(gen_stop_at_token_boundary) {
    REQUIRE_SHARED();
    struct gen_test_env e;
    CHECK_MSG(gen_test_open(&e, 512) == 0, "load: %s", eng_last_error());
    int fd[2];
    CHECK(pipe(fd) == 0);
    struct eng_gen_params gp = gen_test_greedy(-1);
    eng_gen *g = NULL;
    CHECK_EQ_INT(eng_gen_start(e.c, gen_test_prompt, 5, &gp, fd[1], 3, &g), ENG_OK);
    struct eng_frame h;
    unsigned char p[ENG_FRAME_MAX];
    char text[8192];
    size_t n_text = 0;
    int n_tok = 0, reason = -1;
    while (eng_frame_read(fd[0], &h, p) == 1) {
        if (h.type == ENG_EV_TOKEN && n_text + h.len < sizeof text) {
            memcpy(text + n_text, p, h.len);
            n_text += h.len;
            if (++n_tok == 10) eng_gen_stop(g);
        } else if (h.type == ENG_EV_DONE) {
            memcpy(&reason, p, 4);
            break;
        }
    }
    text[n_text] = 0;
    CHECK_EQ_INT(eng_gen_join(g), ENG_OK);
    CHECK_EQ_INT(reason, ENG_DONE_CANCELLED);
    CHECK(n_tok >= 10 && n_tok < 400);
    char kv[8192];
    int n_past = eng_ctx_n_past(e.c);
    int len = eng_detokenize(e.m, eng_ctx_tokens(e.c) + 5, n_past - 5, kv, sizeof kv, 0);
    CHECK(len >= 0 && len < (int)sizeof kv);
    CHECK_STR_EQ(kv, text);
    close(fd[0]);
    close(fd[1]);
    gen_test_close(&e);
}
