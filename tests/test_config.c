/* tests/test_config.c — the config file (src/config.c): defaults applied through
 * app_settings_set, endpoints looked up, --remote's URL-or-name rule with the key read from the
 * environment, a missing file, and each kind of bad line as one error naming FILE:LINE. */
#include "harness.h"
#include "app.h"
#include "config.h"
#include "remote.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char cfg_text[] =
    "# defaults for the chat and natter run\n"
    "temp = 0.5\r\n"
    "  ctx=8192   # a comment after a blank\n"
    "\n"
    "top-k = 20\n"
    "temp = 0.25\n"
    "[endpoint big]\n"
    "url = http://box:8080/v1#frag\n"
    "model = qwen3-32b\n"
    "api-key-env = NATTER_TEST_BIG_KEY\n"
    "timeout = 90\n"
    "[ endpoint local.2 ]\n"
    "url = http://127.0.0.1:8080\n";

TEST(config_defaults_and_endpoints) {
    struct config c;
    char err[300] = "";
    CHECK_MSG(config_parse(&c, "cfg", cfg_text, sizeof cfg_text - 1, err, sizeof err) == 0, "%s",
              err);
    CHECK_EQ_INT(c.n_settings, 4);
    CHECK_EQ_INT(c.n_endpoints, 2);
    struct app_settings s;
    app_settings_default(&s, NULL);
    CHECK_EQ_INT(config_apply(&c, &s, err, sizeof err), 0);
    CHECK(s.sample.temp == 0.25f); /* the later line wins */
    CHECK_EQ_INT(s.n_ctx, 8192);
    CHECK_EQ_INT(s.sample.top_k, 20);
    const struct config_endpoint *e = config_endpoint_find(&c, "big");
    CHECK(e);
    CHECK_STR_EQ(e->url, "http://box:8080/v1#frag");
    CHECK_STR_EQ(e->model, "qwen3-32b");
    CHECK_EQ_INT(e->timeout_s, 90);
    CHECK_EQ_INT(e->line, 7);
    CHECK(config_endpoint_find(&c, "local.2"));
    CHECK(!config_endpoint_find(&c, "nope"));

    struct remote_endpoint ep;
    unsetenv("NATTER_TEST_BIG_KEY");
    CHECK_EQ_INT(config_remote_resolve(&c, "big", &ep, err, sizeof err), -1);
    CHECK_STR_EQ(err, "endpoint 'big': its API key's variable NATTER_TEST_BIG_KEY is not set");
    setenv("NATTER_TEST_BIG_KEY", "sk-1", 1);
    CHECK_EQ_INT(config_remote_resolve(&c, "big", &ep, err, sizeof err), 0);
    CHECK_STR_EQ(ep.url, "http://box:8080/v1#frag");
    CHECK_STR_EQ(ep.model, "qwen3-32b");
    CHECK_STR_EQ(ep.api_key, "sk-1");
    CHECK_EQ_INT(ep.timeout_s, 90);
    CHECK_EQ_INT(config_remote_resolve(&c, "local.2", &ep, err, sizeof err), 0);
    CHECK(ep.api_key == NULL && ep.model == NULL);
    CHECK_EQ_INT(config_remote_resolve(&c, "nope", &ep, err, sizeof err), -1);
    CHECK_STR_EQ(err, "no endpoint 'nope' in cfg (a URL holds ':' or '/')");
    setenv("NATTER_API_KEY", "sk-url", 1);
    CHECK_EQ_INT(config_remote_resolve(&c, "box:8080", &ep, err, sizeof err), 0);
    CHECK_STR_EQ(ep.url, "box:8080");
    CHECK_STR_EQ(ep.api_key, "sk-url");
    config_free(&c);
}

TEST(config_bad_lines) {
    static const struct {
        const char *text, *err;
    } cases[] = {
        {"temp = 0.7\ntemp = hot\n", "f:2: temp: 'hot' is not a number"},
        {"\n\nfoo = 1\n", NULL}, /* the message is app_settings_set's: checked by prefix */
        {"temp\n", "f:1: expected NAME = VALUE or [endpoint NAME]"},
        {"temp =\n", "f:1: 'temp' has no value"},
        {"= 3\n", "f:1: a setting's name is missing before '='"},
        {"[server x]\n", "f:1: unknown section (the one section is [endpoint NAME])"},
        {"[endpoint x\n", "f:1: a section header ends with ']'"},
        {"[endpoint a/b]\n", "f:1: an endpoint's name is 1-64 letters, digits, '.', '_' or '-'"},
        {"[endpoint a]\nurl = x\n[endpoint a]\n", "f:3: endpoint 'a' is already defined on line 1"},
        {"[endpoint a]\nmodel = m\n", "f:1: endpoint 'a' has no url"},
        {"[endpoint a]\nurl = x\nkey = 1\n",
         "f:3: unknown endpoint setting 'key' (url, model, api-key-env, timeout)"},
        {"[endpoint a]\nurl = x\napi-key = sk-1\n",
         "f:3: an API key is not written in the file: api-key-env = VARIABLE names the "
         "environment variable holding it"},
        {"[endpoint a]\nurl = x\ntimeout = 0\n",
         "f:3: timeout: '0' is not a number of seconds (1..86400)"},
        {"temp = 0.7\x01\n", "f:1: a control character"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct config c;
        char err[300] = "";
        CHECK_MSG(config_parse(&c, "f", cases[i].text, strlen(cases[i].text), err, sizeof err) ==
                      -1, "case %zu parsed", i);
        if (cases[i].err)
            CHECK_MSG(strcmp(err, cases[i].err) == 0, "case %zu: '%s'", i, err);
        else
            CHECK_MSG(strncmp(err, "f:3: unknown setting 'foo' (", 28) == 0, "'%s'", err);
        CHECK_EQ_INT(c.n_settings + c.n_endpoints, 0);
    }
    struct config c;
    char err[300] = "";
    CHECK_EQ_INT(config_parse(&c, "f", "a\0b", 3, err, sizeof err), -1);
    CHECK_STR_EQ(err, "f:1: a NUL byte (not a text file)");
}

TEST(config_load_files) {
    char path[600], err[300] = "";
    struct config c;
    snprintf(path, sizeof path, "%s/missing", test_tmpdir());
    CHECK_EQ_INT(config_load(&c, path, err, sizeof err), 0); /* a missing file is fine */
    CHECK_EQ_INT(c.n_settings + c.n_endpoints, 0);
    CHECK_EQ_INT(config_load(&c, test_tmpdir(), err, sizeof err), -1);
    char want[700];
    snprintf(want, sizeof want, "%s: is a directory", test_tmpdir());
    CHECK_STR_EQ(err, want);
    /* the default path: $XDG_CONFIG_HOME/natter/config */
    char dir[600];
    snprintf(dir, sizeof dir, "%s/xdg/natter", test_tmpdir());
    char cmd[1400];
    snprintf(cmd, sizeof cmd, "mkdir -p %s && printf 'seed = 7\\nthink = off\\n' > %s/config", dir,
             dir);
    CHECK_EQ_INT(system(cmd), 0);
    snprintf(dir, sizeof dir, "%s/xdg", test_tmpdir());
    setenv("XDG_CONFIG_HOME", dir, 1);
    CHECK(config_default_path(path, sizeof path));
    snprintf(want, sizeof want, "%s/natter/config", dir);
    CHECK_STR_EQ(path, want);
    CHECK_MSG(config_load(&c, NULL, err, sizeof err) == 0, "%s", err);
    CHECK_STR_EQ(c.path, want);
    struct app_settings s;
    app_settings_default(&s, NULL);
    CHECK_EQ_INT(config_apply(&c, &s, err, sizeof err), 0);
    CHECK_EQ_INT((long long)s.sample.seed, 7);
    CHECK_EQ_INT(s.think, 0);
    config_free(&c);
}
