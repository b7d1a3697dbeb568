/* tests/test_session.c — the chat-session core (src/session.h) over the engine backend
 * (src/backend.h) on ../shared/models/stories260K.gguf: a turn's reply equals the engine's own
 * greedy generation from the same rendered prompt, is saved in the store as it streams (text,
 * finish, tokens), raw prompts skip the template, a conversation that outgrows the context
 * leaves its oldest turns out; and chat_prompt_tokenize gives one BOS. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backend.h"
#include "gen_test.h"
#include "harness.h"
#include "prompts.h"
#include "session.h"
#include "store.h"

struct sess_env {
    eng_model *m;
    eng_ctx *c;
    chat_prompt *cp;
    struct backend *b;
    struct app_settings set;
    struct app_conv conv;
    int fd[2];
    store *db;
};

static int sess_open(struct sess_env *e, int n_ctx, int with_store) {
    memset(e, 0, sizeof *e);
    e->fd[0] = e->fd[1] = -1;
    const char *path = test_shared_path("models/stories260K.gguf");
    struct eng_model_params mp = eng_model_default_params();
    char err[256];
    if (!path || eng_model_load(path, &mp, &e->m) != ENG_OK) return -1;
    struct eng_ctx_params cp = eng_ctx_default_params();
    cp.n_ctx = n_ctx;
    cp.n_threads = 1;
    if (eng_ctx_new(e->m, &cp, &e->c) != ENG_OK) return -1;
    prompts_load();
    if (chat_prompt_new(e->m, NULL, &e->cp, err, sizeof err)) return -1;
    struct backend_engine_params bp = {.model = e->m, .ctx = e->c, .cp = e->cp};
    if (backend_engine_new(&bp, &e->b, err, sizeof err)) return -1;
    struct eng_sample_params sp = eng_sample_default_params();
    app_settings_default(&e->set, &sp);
    e->set.sample.temp = 0;
    e->set.n_predict = 16;
    if (pipe(e->fd) != 0) return -1;
    if (with_store) {
        char db[4096];
        snprintf(db, sizeof db, "%s/s.db", test_tmpdir());
        if (store_open(db, &e->db, err, sizeof err)) return -1;
    }
    return 0;
}

static void sess_close(struct sess_env *e) {
    backend_free(e->b);
    chat_prompt_free(e->cp);
    app_conv_clear(&e->conv);
    store_close(e->db);
    eng_ctx_free(e->c);
    eng_model_free(e->m);
    if (e->fd[0] >= 0) close(e->fd[0]);
    if (e->fd[1] >= 0) close(e->fd[1]);
    prompts_free();
}

/* Reads frames into the session until the reply ended; its last event. */
static int sess_pump(struct session *s, int fd) {
    struct eng_frame h;
    unsigned char p[ENG_FRAME_MAX + 1];
    int ev = SESSION_EV_NONE;
    while (session_live(s)->running && eng_frame_read(fd, &h, p) == 1)
        ev = session_frame(s, &h, p);
    return ev;
}

/* The engine's own greedy text from toks (a fresh context: no reuse involved). */
static int sess_reference(struct sess_env *e, const int32_t *toks, int n, int n_predict,
                          struct gen_test_run *r) {
    struct eng_ctx_params cp = eng_ctx_default_params();
    cp.n_ctx = eng_ctx_n_ctx(e->c);
    cp.n_threads = 1;
    eng_ctx *c = NULL;
    int fd[2];
    if (eng_ctx_new(e->m, &cp, &c) != ENG_OK || pipe(fd) != 0) return -1;
    struct eng_gen_params gp = eng_gen_default_params();
    gp.sample.temp = 0;
    gp.n_predict = n_predict;
    eng_gen *g = NULL;
    int rc = eng_gen_start(c, toks, n, &gp, fd[1], 7, &g);
    if (rc == ENG_OK) {
        memset(r, 0, sizeof *r);
        gen_test_collect(fd[0], 7, r);
        rc = eng_gen_join(g);
    }
    close(fd[0]);
    close(fd[1]);
    eng_ctx_free(c);
    return rc;
}

/* The saved reply: its text, finish and tokens. */
struct sess_saved {
    char text[4096], finish[32];
    int n_tokens, n_msgs;
};

static int sess_saved_msg(const struct store_msg *m, void *ud) {
    struct sess_saved *v = ud;
    v->n_msgs++;
    if (!strcmp(m->role, "assistant")) {
        snprintf(v->text, sizeof v->text, "%s", m->content);
        snprintf(v->finish, sizeof v->finish, "%s", m->finish ? m->finish : "");
        v->n_tokens = m->n_tokens;
    }
    return 0;
}

TEST(session_engine_turn_saved) {
    REQUIRE_SHARED();
    struct sess_env e;
    CHECK(sess_open(&e, 256, 1) == 0);
    const char *u = "Once upon a time";
    CHECK(app_conv_add(&e.conv, APP_ROLE_USER, u, strlen(u)));
    struct session *s = NULL;
    struct session_params p = {.backend = e.b, .db = e.db, .conv = &e.conv, .set = &e.set,
                               .fd = e.fd[1], .model = "stories260K.gguf", .who = "stories"};
    CHECK(session_new(&p, &s) == 0);
    struct store_conv_params cp = {.model = "stories260K.gguf"};
    struct session_turn turn = {.save_user = 1, .create = &cp};
    struct session_started st;
    char err[256];
    CHECK_MSG(session_start(s, &turn, &st, err, sizeof err) == 0, "%s", err);
    CHECK_EQ_INT(st.dropped, 0);
    CHECK(st.n_tokens > 0);
    CHECK_EQ_INT(sess_pump(s, e.fd[0]), SESSION_EV_DONE);
    CHECK_EQ_INT(session_ended(s)->reason, ENG_DONE_LENGTH);
    CHECK_EQ_INT(session_ended(s)->save_failures, 0);
    CHECK_EQ_INT(e.conv.n_msgs, 2);
    const struct app_msg *r = &e.conv.msgs[1];
    CHECK_STR_EQ(r->finish, "length");
    CHECK_STR_EQ(r->who, "stories");
    CHECK_EQ_INT(r->n_tokens, 16);

    /* the same prompt, made independently, through the engine alone */
    struct chat_msg cm = {"user", u, strlen(u), NULL, 0};
    char *text = NULL;
    unsigned char *mask = NULL;
    size_t len = 0;
    struct chat_prompt_opts o = {1, 1};
    CHECK(chat_prompt_render(e.cp, &cm, 1, &o, &text, &len, &mask, err, sizeof err) == 0);
    int32_t *toks = NULL;
    int n = chat_prompt_tokenize(e.cp, text, len, mask, &toks, err, sizeof err);
    free(text);
    free(mask);
    CHECK_EQ_INT(n, st.n_tokens);
    struct gen_test_run ref;
    CHECK(sess_reference(&e, toks, n, 16, &ref) == ENG_OK);
    free(toks);
    CHECK_EQ_INT(ref.reason, ENG_DONE_LENGTH);
    CHECK_MSG(r->len == ref.n_text && !memcmp(r->text, ref.text, ref.n_text),
              "session '%s' != engine '%.*s'", r->text, (int)ref.n_text, ref.text);

    /* saved as it streamed: the conversation, the user message and the reply */
    CHECK(e.conv.id[0]);
    CHECK(e.conv.msgs[0].id > 0 && r->id > 0);
    struct sess_saved v = {{0}, {0}, 0, 0};
    CHECK(store_msg_each(e.db, e.conv.id, sess_saved_msg, &v) >= 0);
    CHECK_EQ_INT(v.n_msgs, 2);
    CHECK_STR_EQ(v.text, r->text);
    CHECK_STR_EQ(v.finish, "length");
    CHECK_EQ_INT(v.n_tokens, 16);

    /* a second turn reuses the context's prefix: only the new tokens are processed */
    const char *u2 = " The end.";
    CHECK(app_conv_add(&e.conv, APP_ROLE_USER, u2, strlen(u2)));
    CHECK_MSG(session_start(s, &turn, &st, err, sizeof err) == 0, "%s", err);
    CHECK_EQ_INT(sess_pump(s, e.fd[0]), SESSION_EV_DONE);
    CHECK(session_live(s)->have_stats);
    CHECK(session_live(s)->stats.n_reused > 0);
    CHECK_EQ_INT(session_live(s)->stats.n_reused + session_live(s)->stats.n_prompt,
                 st.n_tokens);
    session_free(s);
    sess_close(&e);
}

TEST(session_engine_raw_and_cancel) {
    REQUIRE_SHARED();
    struct sess_env e;
    CHECK(sess_open(&e, 256, 0) == 0);
    struct session *s = NULL;
    struct session_params p = {.backend = e.b, .conv = &e.conv, .set = &e.set, .fd = e.fd[1]};
    CHECK(session_new(&p, &s) == 0);
    const char *raw = "Once upon a time";
    struct session_turn turn = {.raw = raw, .raw_len = strlen(raw)};
    struct session_started st;
    char err[256];
    CHECK_MSG(session_start(s, &turn, &st, err, sizeof err) == 0, "%s", err);
    CHECK_EQ_INT(sess_pump(s, e.fd[0]), SESSION_EV_DONE);
    CHECK_EQ_INT(e.conv.n_msgs, 1); /* the reply only: no store, no user message */
    int32_t *toks = NULL;
    int n = chat_tokenize(e.m, raw, strlen(raw), 1, 1, NULL, &toks, err, sizeof err);
    CHECK(n > 1);
    struct gen_test_run ref;
    CHECK(sess_reference(&e, toks, n, 16, &ref) == ENG_OK);
    free(toks);
    CHECK_MSG(e.conv.msgs[0].len == ref.n_text &&
              !memcmp(e.conv.msgs[0].text, ref.text, ref.n_text), "raw '%s' != '%.*s'",
              e.conv.msgs[0].text, (int)ref.n_text, ref.text);

    /* Esc right after the start: stopped, whatever was written kept */
    e.set.n_predict = 200;
    CHECK(session_start(s, &turn, &st, err, sizeof err) == 0);
    session_cancel(s);
    CHECK_EQ_INT(sess_pump(s, e.fd[0]), SESSION_EV_DONE);
    CHECK_EQ_INT(session_ended(s)->reason, ENG_DONE_CANCELLED);
    CHECK_STR_EQ(e.conv.msgs[1].finish, "stopped");
    CHECK(e.conv.msgs[1].stopped);
    /* a second start while nothing runs, then free while it runs: no leak, no hang */
    CHECK(session_start(s, &turn, &st, err, sizeof err) == 0);
    CHECK(session_start(s, &turn, &st, err, sizeof err) == -1);
    CHECK_STR_EQ(err, "a reply is streaming");
    session_free(s);
    sess_close(&e);
}

TEST(session_fit_leaves_oldest_out) {
    REQUIRE_SHARED();
    struct sess_env e;
    CHECK(sess_open(&e, 64, 0) == 0);
    e.set.n_predict = 8;
    const char *t = "Lily and Tom went to the park to play with the big red ball.";
    for (int i = 0; i < 4; i++) {
        CHECK(app_conv_add(&e.conv, APP_ROLE_USER, t, strlen(t)));
        CHECK(app_conv_add(&e.conv, APP_ROLE_ASSISTANT, t, strlen(t)));
    }
    CHECK(app_conv_add(&e.conv, APP_ROLE_USER, "Hi", 2));
    struct session *s = NULL;
    struct session_params p = {.backend = e.b, .conv = &e.conv, .set = &e.set, .fd = e.fd[1]};
    CHECK(session_new(&p, &s) == 0);
    struct session_turn turn = {0};
    struct session_started st;
    char err[256];
    CHECK_MSG(session_start(s, &turn, &st, err, sizeof err) == 0, "%s", err);
    CHECK(st.dropped > 0 && st.dropped < 9);
    CHECK(st.n_tokens + 8 <= 64);
    CHECK(e.conv.msgs[0].left_out);
    CHECK(!e.conv.msgs[8].left_out);
    CHECK_EQ_INT(sess_pump(s, e.fd[0]), SESSION_EV_DONE);
    CHECK(session_live(s)->stats.n_past <= 64);

    /* the last turn alone too long: refused, nothing added */
    char big[2048];
    memset(big, 'a', sizeof big - 1);
    for (size_t i = 0; i + 1 < sizeof big; i += 4) big[i] = ' ';
    big[sizeof big - 1] = 0;
    CHECK(app_conv_add(&e.conv, APP_ROLE_USER, big, strlen(big)));
    int n_before = e.conv.n_msgs;
    CHECK(session_start(s, &turn, &st, err, sizeof err) == -1);
    CHECK_MSG(strstr(err, "does not fit in the context"), "%s", err);
    CHECK_EQ_INT(e.conv.n_msgs, n_before);
    session_free(s);
    sess_close(&e);
}

/* One BOS whatever the template says (issue 20: gigachat's "bos" line gave "1 1 ..."). */
TEST(session_prompt_one_bos) {
    REQUIRE_SHARED();
    const char *models[] = {"models/stories260K.gguf", "models/syn-llama-Q8_0.gguf"};
    prompts_load();
    for (int k = 0; k < 2; k++) {
        const char *path = test_shared_path(models[k]);
        struct eng_model_params mp = eng_model_default_params();
        mp.vocab_only = 1;
        eng_model *m = NULL;
        CHECK(path && eng_model_load(path, &mp, &m) == ENG_OK);
        chat_prompt *cp = NULL;
        char err[256];
        CHECK(chat_prompt_new(m, "gigachat", &cp, err, sizeof err) == 0);
        struct chat_msg cm = {"user", "hi", 2, NULL, 0};
        struct chat_prompt_opts o = {1, 1};
        int32_t *toks = NULL;
        int n = chat_prompt_tokens(cp, &cm, 1, &o, NULL, &toks, NULL, NULL, NULL, err,
                                   sizeof err);
        CHECK_MSG(n > 2, "%s", err);
        const int32_t bos = eng_token_bos(m);
        CHECK_EQ_INT(toks[0], bos);
        CHECK_MSG(toks[1] != bos, "%s: two BOS", models[k]);
        /* and the rest is the format without its "bos" text: "user<|role_sep|>hi..." */
        int32_t *rest = NULL;
        const char *tail = "user<|role_sep|>";
        int nr = chat_tokenize(m, tail, strlen(tail), 0, 1, NULL, &rest, err, sizeof err);
        CHECK(nr > 0 && nr < n);
        CHECK_MSG(!memcmp(toks + 1, rest, (size_t)nr * sizeof *rest), "%s: the text after BOS",
                  models[k]);
        free(rest);
        free(toks);
        chat_prompt_free(cp);
        eng_model_free(m);
    }
    prompts_free();
}
