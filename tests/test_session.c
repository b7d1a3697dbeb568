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
#include "store_test.h"

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

static int sess_collect(const struct store_msg *m, void *ud) {
    char *buf = ud;
    size_t o = strlen(buf);
    snprintf(buf + o, 4096 - o, "%s:%s:%s|", m->role, m->content, m->finish ? m->finish : "-");
    return 0;
}

/* `natter run --conv`'s history: the stored conversation read back as the transcript the
 * template renders (system prompt first), the messages' bytes plain text. */
TEST(session_conv_load_history) {
    const char *path = store_test_path("run.db");
    store *s = store_test_open(path);
    CHECK(s != NULL);
    char a[9];
    struct store_conv_params p = {.system_prompt = "S", .model = "/m/x.gguf"};
    CHECK_EQ_INT(store_conv_new(s, &p, a), 0);
    CHECK(store_msg_add(s, a, "user", "Q1", 0) > 0);
    int64_t r = store_reply_begin(s, a, "/m/x.gguf");
    CHECK(r > 0);
    CHECK_EQ_INT(store_reply_append(s, "A1", 2), 0);
    struct store_reply_stats st = {.n_tokens = 2, .prompt_tps = 10, .gen_tps = 5};
    CHECK_EQ_INT(store_reply_finish(s, "length", &st), 0);

    struct app_conv conv;
    memset(&conv, 0, sizeof conv);
    char model[64], err[256], pre[4] = {a[0], a[1], a[2], 0};
    CHECK_EQ_INT(session_conv_load(s, pre, &conv, model, sizeof model, err, sizeof err), 0);
    CHECK_STR_EQ(conv.id, a);
    CHECK_STR_EQ(model, "/m/x.gguf");
    CHECK_EQ_INT(conv.n_msgs, 3);
    CHECK_EQ_INT(conv.msgs[0].role, APP_ROLE_SYSTEM);
    CHECK_STR_EQ(conv.msgs[2].who, "x");
    CHECK_STR_EQ(conv.msgs[2].finish, "length");
    CHECK_EQ_INT(conv.msgs[2].n_tokens, 2);
    CHECK(conv.msgs[2].id == r);
    CHECK(app_conv_add(&conv, APP_ROLE_USER, "Q2", 2));
    CHECK(app_conv_add(&conv, APP_ROLE_NOTICE, "never sent", 10));
    struct chat_msg *cm = NULL;
    int n = session_msgs(&conv, NULL, &cm);
    CHECK_EQ_INT(n, 4);
    chat_prompt *cp = NULL;
    CHECK(chat_prompt_new(NULL, "chatml", &cp, err, sizeof err) == 0);
    struct chat_prompt_opts po = {1, -1};
    char *text = NULL;
    unsigned char *mask = NULL;
    size_t tlen = 0;
    CHECK_EQ_INT(chat_prompt_render(cp, cm, n, &po, &text, &tlen, &mask, err, sizeof err), 0);
    free(cm);
    chat_prompt_free(cp);
    CHECK_STR_EQ(text, "<|im_start|>system\nS<|im_end|>\n<|im_start|>user\nQ1<|im_end|>\n"
                       "<|im_start|>assistant\nA1<|im_end|>\n<|im_start|>user\nQ2<|im_end|>\n"
                       "<|im_start|>assistant\n");
    const char *q2 = strstr(text, "Q2");
    CHECK(q2 && mask[q2 - text] == 1 && mask[q2 - text + 1] == 1 && mask[q2 - text + 2] == 0);
    CHECK(mask[0] == 0 && tlen == strlen(text));
    free(text);
    free(mask);
    app_conv_clear(&conv);
    char buf[4096] = "";
    CHECK_EQ_INT(store_msg_each(s, a, sess_collect, buf), 0);
    CHECK_STR_EQ(buf, "user:Q1:-|assistant:A1:length|");
    CHECK_EQ_INT(session_conv_load(s, "zzzz", &conv, NULL, 0, err, sizeof err), -1);
    CHECK_STR_EQ(err, "no conversation 'zzzz'");
    store_close(s);
}

/* A backend that plays frames (a remote's shape: reasoning comes apart, no counting). */
struct sess_script {
    struct backend base;
    int joined;
};

static int sess_script_start(struct backend *b, const struct backend_request *rq, int fd,
                             uint32_t gen_id, struct backend_started *st, char *err,
                             size_t err_len) {
    (void)b, (void)rq, (void)st, (void)err, (void)err_len;
    struct { struct eng_frame h; char p[32]; } f;
    const struct { uint16_t type; const char *text; } plays[] = {
        {BACKEND_EV_REASONING, "why"}, {ENG_EV_TOKEN, "Hel"}, {ENG_EV_TOKEN, "lo"},
    };
    for (size_t i = 0; i < sizeof plays / sizeof plays[0]; i++) {
        size_t n = strlen(plays[i].text);
        f.h = (struct eng_frame){plays[i].type, (uint16_t)n, gen_id};
        memcpy(f.p, plays[i].text, n);
        if (write(fd, &f, sizeof f.h + n) < 0) return -1;
    }
    int32_t reason = ENG_DONE_EOG;
    f.h = (struct eng_frame){ENG_EV_DONE, 4, gen_id};
    memcpy(f.p, &reason, 4);
    return write(fd, &f, sizeof f.h + 4) < 0 ? -1 : 0;
}
static void sess_script_cancel(struct backend *b) { (void)b; }
static int sess_script_join(struct backend *b) {
    ((struct sess_script *)b)->joined++;
    return 0;
}
static void sess_script_free(struct backend *b) { (void)b; }
static const struct backend_ops sess_script_ops = {
    .kind = "script", .start = sess_script_start, .cancel = sess_script_cancel,
    .join = sess_script_join, .free = sess_script_free,
};

TEST(session_backend_reasoning_apart) {
    struct sess_script sb = {{&sess_script_ops, 0}, 0};
    struct app_settings set;
    app_settings_default(&set, NULL);
    struct app_conv conv;
    memset(&conv, 0, sizeof conv);
    CHECK(app_conv_add(&conv, APP_ROLE_USER, "hi", 2));
    int fd[2];
    CHECK(pipe(fd) == 0);
    struct session *s = NULL;
    struct session_params p = {.backend = &sb.base, .conv = &conv, .set = &set, .fd = fd[1]};
    CHECK(session_new(&p, &s) == 0);
    struct session_turn turn = {0};
    struct session_started st;
    char err[128];
    CHECK(session_start(s, &turn, &st, err, sizeof err) == 0);
    CHECK_EQ_INT(st.n_tokens, -1); /* cannot count: everything is sent */
    CHECK_EQ_INT(sess_pump(s, fd[0]), SESSION_EV_DONE);
    CHECK_STR_EQ(conv.msgs[1].text, "Hello");
    CHECK_STR_EQ(conv.msgs[1].think, "why");
    CHECK_STR_EQ(conv.msgs[1].finish, "eog");
    CHECK_EQ_INT(sb.joined, 1);
    session_free(s);
    app_conv_clear(&conv);
    close(fd[0]);
    close(fd[1]);
}

struct sess_fail_log {
    int n;
    char what[64], msg[256];
};

static void sess_fail_cb(void *ud, const char *what, const char *msg) {
    struct sess_fail_log *l = ud;
    if (!l->n++) {
        snprintf(l->what, sizeof l->what, "%s", what);
        snprintf(l->msg, sizeof l->msg, "%s", msg);
    }
}

/* Issue 20: the nth write of a turn fails (once, or from then on as on a full disk): the
 * failure reaches the caller (save_failed, one line, counted), the reply streams on and its
 * whole text stays in memory; with no fault left to meet, the turn saves everything. */
TEST(session_save_fault_reaches_caller) {
    for (int sticky = 0; sticky < 2; sticky++) {
        int clean = 0;
        for (int nth = 1; nth < 40 && !clean; nth++) {
            char path[64];
            snprintf(path, sizeof path, "f%d-%d.db", sticky, nth);
            store *db = store_test_open(store_test_path(path));
            CHECK(db != NULL);
            struct sess_script sb = {{&sess_script_ops, 0}, 0};
            struct app_settings set;
            app_settings_default(&set, NULL);
            struct app_conv conv;
            memset(&conv, 0, sizeof conv);
            CHECK(app_conv_add(&conv, APP_ROLE_USER, "hi", 2));
            int fd[2];
            CHECK(pipe(fd) == 0);
            struct sess_fail_log log = {0, "", ""};
            struct session *s = NULL;
            struct session_params p = {.backend = &sb.base, .db = db, .conv = &conv,
                                       .set = &set, .fd = fd[1], .model = "m@http://x",
                                       .save_failed = sess_fail_cb, .ud = &log};
            CHECK(session_new(&p, &s) == 0);
            store_test_fault(db, nth, 0, sticky);
            struct store_conv_params cp = {.model = "m@http://x"};
            struct session_turn turn = {.save_user = 1, .create = &cp};
            struct session_started st;
            char err[128];
            CHECK_MSG(session_start(s, &turn, &st, err, sizeof err) == 0, "%s", err);
            CHECK_EQ_INT(sess_pump(s, fd[0]), SESSION_EV_DONE);
            CHECK_EQ_INT(conv.n_msgs, 2);
            CHECK_STR_EQ(conv.msgs[1].text, "Hello"); /* kept whatever was saved */
            CHECK_STR_EQ(conv.msgs[1].think, "why");
            const int fails = session_ended(s)->save_failures;
            CHECK_EQ_INT(fails, log.n);
            if (fails) {
                CHECK_MSG(log.msg[0] && !strchr(log.msg, '\n'), "nth %d: '%s'", nth, log.msg);
                CHECK(strstr(log.msg, "disk is full") || strstr(log.msg, "full"));
            } else {
                clean = 1; /* the turn made fewer than nth writes: all of it saved */
                struct sess_saved v = {{0}, {0}, 0, 0};
                CHECK(store_msg_each(db, conv.id, sess_saved_msg, &v) >= 0);
                CHECK_EQ_INT(v.n_msgs, 2);
                CHECK_STR_EQ(v.text, "Hello");
                CHECK_STR_EQ(v.finish, "stop");
            }
            session_free(s);
            app_conv_clear(&conv);
            close(fd[0]);
            close(fd[1]);
            store_close(db);
        }
        CHECK_MSG(clean, "sticky %d: every nth failed", sticky);
    }
}
