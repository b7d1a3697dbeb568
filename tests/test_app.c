/* tests/test_app.c — the chat's state apart from drawing: messages, settings, slash commands. */
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
    CHECK_EQ_INT(n, 14);
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
    CHECK_EQ_INT(app_settings_describe(&s, 13, buf, sizeof buf), 0);
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
