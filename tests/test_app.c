/* tests/test_app.c — the chat's state apart from drawing: messages, settings, slash commands, which
 * messages the next turn fits in the context (oldest turns first, system prompt and pins kept). */
#include <stdlib.h>

#include "app.h"
#include "harness.h"

TEST(app_conv_messages_grow_and_truncate) {
    struct app_conv c;
    memset(&c, 0, sizeof c);
    CHECK(app_conv_add(&c, APP_ROLE_SYSTEM, "be brief", 8));
    for (int i = 0; i < 40; i++)
        CHECK(app_conv_add(&c, i % 2 ? APP_ROLE_ASSISTANT : APP_ROLE_USER, "x", 1));
    CHECK_EQ_INT(c.n_msgs, 41);
    struct app_msg *m = &c.msgs[40];
    for (int i = 0; i < 1000; i++)
        CHECK(app_msg_append(m, "ab", 2) == 0);
    CHECK_EQ_INT(m->len, 2001);
    CHECK_EQ_INT(strlen(m->text), 2001);
    CHECK_EQ_INT(app_conv_last(&c, APP_ROLE_USER), 39);
    CHECK_EQ_INT(app_conv_last(&c, APP_ROLE_SYSTEM), 0);
    CHECK_EQ_INT(app_conv_last(&c, APP_ROLE_NOTICE), -1);
    app_conv_truncate(&c, 3);
    CHECK_EQ_INT(c.n_msgs, 3);
    CHECK(app_msg_set(&c.msgs[1], "new", 3) == 0);
    CHECK_STR_EQ(c.msgs[1].text, "new");
    app_conv_clear(&c);
    CHECK(c.n_msgs == 0 && c.msgs == NULL);
}

TEST(app_settings_set_and_describe) {
    struct app_settings s;
    struct eng_sample_params sp;
    char err[256], buf[128];
    memset(&sp, 0, sizeof sp);
    sp.temp = 0.8f;
    app_settings_default(&s, &sp);
    CHECK(s.sample.temp > 0.79f && s.sample.temp < 0.81f);
    CHECK_EQ_INT(app_settings_set(&s, "temp", "0.25", err, sizeof err), 0);
    CHECK(s.sample.temp == 0.25f);
    CHECK_EQ_INT(app_settings_set(&s, "top-k", "12", err, sizeof err), 0);
    CHECK_EQ_INT(s.sample.top_k, 12);
    CHECK_EQ_INT(app_settings_set(&s, "seed", "18446744073709551615", err, sizeof err), 0);
    CHECK(s.sample.seed == UINT64_MAX);
    CHECK_EQ_INT(app_settings_set(&s, "seed", "random", err, sizeof err), 0);
    CHECK(s.sample.seed == ENG_SEED_RANDOM);
    CHECK_EQ_INT(app_settings_describe(&s, 5, buf, sizeof buf), 0);
    CHECK_STR_EQ(buf, "seed random");
    CHECK_EQ_INT(app_settings_set(&s, "seed", "-1", err, sizeof err), -1);
    CHECK_EQ_INT(app_settings_set(&s, "ctx", "1024", err, sizeof err), 0);
    CHECK_EQ_INT(s.n_ctx, 1024);
    CHECK_EQ_INT(app_settings_set(&s, "top-k", "1.5", err, sizeof err), -1);
    CHECK(strstr(err, "whole numbers"));
    CHECK_EQ_INT(app_settings_set(&s, "top-p", "2", err, sizeof err), -1);
    CHECK(strstr(err, "out of range"));
    CHECK_EQ_INT(app_settings_set(&s, "temp", "warm", err, sizeof err), -1);
    CHECK_STR_EQ(err, "temp: 'warm' is not a number");
    CHECK_EQ_INT(app_settings_set(&s, "temp", "nan", err, sizeof err), -1);
    CHECK_EQ_INT(app_settings_set(&s, "colour", "1", err, sizeof err), -1);
    CHECK(strstr(err, "unknown setting 'colour'"));
    CHECK_EQ_INT(app_settings_describe(&s, 0, buf, sizeof buf), 0);
    CHECK_STR_EQ(buf, "temp 0.25");
    int n = 0;
    while (app_settings_describe(&s, n, buf, sizeof buf) == 0)
        n++;
    CHECK_EQ_INT(n, 18);
    /* think: on by default, on/off and their synonyms */
    CHECK_EQ_INT(s.think, 1);
    CHECK_EQ_INT(app_settings_describe(&s, 12, buf, sizeof buf), 0);
    CHECK_STR_EQ(buf, "think on");
    CHECK_EQ_INT(app_settings_set(&s, "think", "off", err, sizeof err), 0);
    CHECK_EQ_INT(s.think, 0);
    CHECK_EQ_INT(app_settings_describe(&s, 12, buf, sizeof buf), 0);
    CHECK_STR_EQ(buf, "think off");
    CHECK_EQ_INT(app_settings_set(&s, "think", "yes", err, sizeof err), 0);
    CHECK_EQ_INT(s.think, 1);
    CHECK_EQ_INT(app_settings_set(&s, "think", "0", err, sizeof err), 0);
    CHECK_EQ_INT(s.think, 0);
    CHECK_EQ_INT(app_settings_set(&s, "think", "maybe", err, sizeof err), -1);
    CHECK_STR_EQ(err, "think: 'maybe' is not on or off");
    CHECK_EQ_INT(s.think, 0);
    /* markdown: rendered by default, off shows replies as plain text */
    CHECK_EQ_INT(s.markdown, 1);
    CHECK_EQ_INT(app_settings_set(&s, "markdown", "off", err, sizeof err), 0);
    CHECK_EQ_INT(app_settings_describe(&s, 17, buf, sizeof buf), 0);
    CHECK_STR_EQ(buf, "markdown off");
}

TEST(app_msg_reasoning) {
    struct app_conv c;
    memset(&c, 0, sizeof c);
    struct app_msg *m = app_conv_add(&c, APP_ROLE_ASSISTANT, "", 0);
    CHECK(m && m->think == NULL && m->think_tokens == -1 && m->think_ms < 0);
    CHECK_EQ_INT(app_msg_append_think(m, "", 0), 0);
    CHECK(m->think && m->think[0] == 0);
    for (int i = 0; i < 100; i++)
        CHECK_EQ_INT(app_msg_append_think(m, "hm ", 3), 0);
    CHECK_EQ_INT(m->think_len, 300);
    CHECK_EQ_INT(strlen(m->think), 300);
    app_conv_truncate(&c, 0); /* frees it (ASan would tell) */
    app_conv_clear(&c);
}

TEST(app_cmd_parse_commands_and_messages) {
    struct app_cmd c;
    app_cmd_parse("hello /new", &c);
    CHECK_EQ_INT(c.id, APP_CMD_NONE);
    CHECK_EQ_INT(c.arg_len, 10);
    app_cmd_parse("/new", &c);
    CHECK_EQ_INT(c.id, APP_CMD_NEW);
    CHECK_EQ_INT(c.arg_len, 0);
    app_cmd_parse("/set  temp 0.7  ", &c);
    CHECK_EQ_INT(c.id, APP_CMD_SET);
    CHECK(c.arg_len == 8 && !strncmp(c.arg, "temp 0.7", 8));
    app_cmd_parse("/rename My chat", &c);
    CHECK_EQ_INT(c.id, APP_CMD_RENAME);
    CHECK(c.arg_len == 7 && !strncmp(c.arg, "My chat", 7));
    app_cmd_parse("/newer", &c);
    CHECK_EQ_INT(c.id, APP_CMD_UNKNOWN);
    CHECK(c.arg_len == 5 && !strncmp(c.arg, "newer", 5));
    app_cmd_parse("//etc/passwd is a file", &c);
    CHECK_EQ_INT(c.id, APP_CMD_NONE);
    CHECK(!strcmp(c.arg, "/etc/passwd is a file"));
    const char *names[] = {"/model", "/system", "/regen", "/delete", "/export", "/search",
                           "/help", "/quit", "/template", "/think", "/copy 2"};
    int ids[] = {APP_CMD_MODEL, APP_CMD_SYSTEM, APP_CMD_REGEN, APP_CMD_DELETE, APP_CMD_EXPORT,
                 APP_CMD_SEARCH, APP_CMD_HELP, APP_CMD_QUIT, APP_CMD_TEMPLATE, APP_CMD_THINK,
                 APP_CMD_COPY};
    for (int i = 0; i < (int)(sizeof ids / sizeof ids[0]); i++) {
        app_cmd_parse(names[i], &c);
        CHECK_EQ_INT(c.id, ids[i]);
    }
    app_cmd_parse("/exit", &c);
    CHECK_EQ_INT(c.id, APP_CMD_QUIT);
    app_cmd_parse("/q", &c);
    CHECK_EQ_INT(c.id, APP_CMD_QUIT);
}

TEST(app_cmd_complete_names) {
    const char *names[8];
    CHECK_EQ_INT(app_cmd_complete("re", 2, names, 8), 2);
    CHECK_STR_EQ(names[0], "regen");
    CHECK_STR_EQ(names[1], "rename");
    CHECK_EQ_INT(app_cmd_complete("he", 2, names, 8), 1);
    CHECK_STR_EQ(names[0], "help");
    CHECK_EQ_INT(app_cmd_complete("zz", 2, names, 8), 0);
    CHECK_EQ_INT(app_cmd_complete("q", 1, names, 8), 1); /* "quit", not the alias "q" */
    CHECK_STR_EQ(names[0], "quit");
    CHECK_EQ_INT(app_cmd_complete("", 0, names, 1), 15); /* all but "q", only one written */
}

/* app_conv_fit's count for the tests: each kept message costs its text's length. */
static int fit_len(const unsigned char *keep, void *ud) {
    const struct app_conv *c = ud;
    int n = 0;
    for (int i = 0; i < c->n_msgs; i++)
        n += keep[i] ? (int)c->msgs[i].len : 0;
    return n;
}

static const char *fit_kept(const struct app_conv *c, const unsigned char *keep) {
    static char buf[64];
    for (int i = 0; i < c->n_msgs; i++)
        buf[i] = keep[i] ? 'k' : '.';
    buf[c->n_msgs] = 0;
    return buf;
}

TEST(app_conv_fit_drops_oldest_turns_keeps_system_and_pins) {
    struct app_conv c;
    memset(&c, 0, sizeof c);
    /* system 10, then turns: user 10 + reply 10 each, a notice, the last user message 10 */
    CHECK(app_conv_add(&c, APP_ROLE_SYSTEM, "SSSSSSSSSS", 10));
    for (int i = 0; i < 3; i++) {
        CHECK(app_conv_add(&c, APP_ROLE_USER, "UUUUUUUUUU", 10));
        CHECK(app_conv_add(&c, APP_ROLE_ASSISTANT, "AAAAAAAAAA", 10));
    }
    CHECK(app_conv_add(&c, APP_ROLE_NOTICE, "note", 4));
    CHECK(app_conv_add(&c, APP_ROLE_USER, "LLLLLLLLLL", 10));
    unsigned char keep[16];
    int n = 0;
    /* everything fits: 80 + room 20 <= 100 */
    CHECK_EQ_INT(app_conv_fit(&c, 100, 20, keep, fit_len, &c, &n), 0);
    CHECK_EQ_INT(n, 80);
    CHECK_STR_EQ(fit_kept(&c, keep), "kkkkkkk.k");
    /* 80 + 20 > 99: the oldest turn goes (the system prompt stays) */
    CHECK_EQ_INT(app_conv_fit(&c, 99, 20, keep, fit_len, &c, &n), 2);
    CHECK_EQ_INT(n, 60);
    CHECK_STR_EQ(fit_kept(&c, keep), "k..kkkk.k");
    /* 60 + 20 > 79: then the next */
    CHECK_EQ_INT(app_conv_fit(&c, 79, 20, keep, fit_len, &c, &n), 4);
    CHECK_EQ_INT(n, 40);
    CHECK_STR_EQ(fit_kept(&c, keep), "k....kk.k");
    /* a pin keeps its whole turn; the next one goes instead */
    c.msgs[2].pinned = 1;
    CHECK_EQ_INT(app_conv_fit(&c, 99, 20, keep, fit_len, &c, &n), 2);
    CHECK_STR_EQ(fit_kept(&c, keep), "kkk..kk.k");
    /* nothing more can go: the last turn gets what room there is... */
    CHECK_EQ_INT(app_conv_fit(&c, 45, 20, keep, fit_len, &c, &n), 4);
    CHECK_EQ_INT(n, 40);
    CHECK_STR_EQ(fit_kept(&c, keep), "kkk.....k");
    /* ...unless it does not fit at all */
    CHECK_EQ_INT(app_conv_fit(&c, 40, 20, keep, fit_len, &c, &n), -2);
    CHECK_EQ_INT(n, 40);
    app_conv_clear(&c);
}

struct fit_calls {
    const struct app_conv *c;
    int calls;
};

static int fit_len_counted(const unsigned char *keep, void *ud) {
    struct fit_calls *f = ud;
    f->calls++;
    return fit_len(keep, (void *)f->c);
}

TEST(app_conv_fit_long_conversation_few_counts) {
    struct app_conv c;
    memset(&c, 0, sizeof c);
    for (int i = 0; i < 200; i++) { /* 200 turns of 20 */
        CHECK(app_conv_add(&c, APP_ROLE_USER, "UUUUUUUUUU", 10));
        CHECK(app_conv_add(&c, APP_ROLE_ASSISTANT, "AAAAAAAAAA", 10));
    }
    CHECK(app_conv_add(&c, APP_ROLE_USER, "LLLLLLLLLL", 10));
    unsigned char keep[512];
    struct fit_calls f = {&c, 0};
    int n = 0;
    /* 4010 tokens into 1000 - 100: the 156 oldest turns go (44 * 20 + 10 = 890) */
    CHECK_EQ_INT(app_conv_fit(&c, 1000, 100, keep, fit_len_counted, &f, &n), 312);
    CHECK_EQ_INT(n, 890);
    CHECK(!keep[311] && keep[312] && keep[400]);
    CHECK_MSG(f.calls <= 2 + 8, "%d counts for 200 turns", f.calls); /* 2 + ceil(log2(200)) */
    app_conv_clear(&c);
}

TEST(app_system_none) {
    CHECK(app_system_is_none(""));
    CHECK(app_system_is_none("none"));
    CHECK(app_system_is_none("off"));
    CHECK(app_system_is_none("\"\""));
    CHECK(app_system_is_none("''"));
    CHECK(!app_system_is_none("None of that."));
    CHECK(!app_system_is_none("nonee"));
}

TEST(app_settings_json_round_trip) {
    struct eng_sample_params sp = eng_sample_default_params();
    struct app_settings a, b;
    app_settings_default(&a, &sp);
    char err[256], changed[256];
    CHECK(app_settings_set(&a, "temp", "0.3", err, sizeof err) == 0);
    CHECK(app_settings_set(&a, "top-k", "20", err, sizeof err) == 0);
    CHECK(app_settings_set(&a, "seed", "7", err, sizeof err) == 0);
    CHECK(app_settings_set(&a, "ctx", "1024", err, sizeof err) == 0);
    char *j = app_settings_json(&a);
    CHECK(j != NULL);
    /* floats as their shortest text: no 0.300000011920929 */
    CHECK_MSG(strstr(j, "{\"temp\":0.3,\"top_k\":20,\"top_p\":0.95,") == j, "%s", j);
    CHECK(strstr(j, "\"seed\":7,") && strstr(j, "\"ctx\":1024,"));
    app_settings_default(&b, &sp);
    CHECK_EQ_INT(app_settings_from_json(&b, j, strlen(j), changed, sizeof changed), 3);
    CHECK_STR_EQ(changed, "temp 0.3, top-k 20, seed 7");
    CHECK_EQ_INT(b.n_ctx, 0); /* the context is not restored */
    CHECK(b.sample.temp == a.sample.temp);
    /* the same again: nothing changes */
    CHECK_EQ_INT(app_settings_from_json(&b, j, strlen(j), changed, sizeof changed), 0);
    CHECK_STR_EQ(changed, "");
    free(j);
}

TEST(app_settings_from_json_untrusted) {
    struct eng_sample_params sp = eng_sample_default_params();
    struct app_settings s;
    app_settings_default(&s, &sp);
    char changed[256];
    const char *bad[] = {"", "[1]", "{\"temp\":", "{\"temp\" 1}", "\"temp\"", "{} x"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK_EQ_INT(app_settings_from_json(&s, bad[i], strlen(bad[i]), changed, sizeof changed),
                     -1);
    /* SQLite's float text, old keys, nested values, out-of-range and wrong types are skipped */
    const char *j = "{ \"x\": {\"temp\": 3, \"a\": [1, \"}\"]}, \"temp\" : 0.200000002980232,"
                    " \"top_k\": 2.0e1, \"top_p\": 7, \"min_p\": \"0.1\", \"seed\": -3,"
                    " \"n_predict\": 1.5, \"think\": 0, \"repeat_penalty\": true,"
                    " \"t\\u0065mp\": 0.5 }";
    CHECK_EQ_INT(app_settings_from_json(&s, j, strlen(j), changed, sizeof changed), 3);
    CHECK_STR_EQ(changed, "temp 0.2, top-k 20, temp 0.5"); /* the key's escape decoded */
    CHECK(s.sample.temp == 0.5f);
    CHECK_EQ_INT(s.think, 1);
    CHECK_EQ_INT(s.n_predict, 512);
    /* numbers no integer holds are refused (the fuzzer's 4.02367e+19 once met a cast) */
    const char *big = "{\"seed\": 4.02367e+19, \"top_k\": -1e300, \"n_predict\": 1e999}";
    CHECK_EQ_INT(app_settings_from_json(&s, big, strlen(big), changed, sizeof changed), 0);
    /* a change the text hides is still one (0.8000001 shows as 0.8) */
    const char *near = "{\"temp\": 0.5000001}";
    CHECK_EQ_INT(app_settings_from_json(&s, near, strlen(near), changed, sizeof changed), 1);
    CHECK_STR_EQ(changed, "temp 0.5");
}
