/* src/config.h — natter's config file, $XDG_CONFIG_HOME/natter/config (default
 * ~/.config/natter/config): defaults for the chat and `natter run` (the names of /set) and
 * named remote endpoints. The format, one setting a line:
 *
 *     # a comment (a # at the start of a line or after a blank starts one)
 *     temp = 0.7                 settings before any section: defaults, as /set NAME VALUE
 *     cache-max = 4G             and the context snapshot cache's size limit (src/kvcache.h)
 *     [endpoint big]             a remote endpoint named big (letters, digits, . _ -)
 *     url = http://box:8080      its base URL (required; with or without /v1)
 *     model = qwen3-32b          the model to ask for (else the server's default)
 *     api-key-env = BIG_API_KEY  the environment variable holding its API key (the key itself
 *                                is never written in the file, the database or a log)
 *     timeout = 60               seconds for the connection and for a stalled stream (30)
 *
 * A later line for the same name wins. Errors are one line naming FILE:LINE. Main thread (read
 * once at start); the result is read-only after. */
#ifndef NATTER_CONFIG_H
#define NATTER_CONFIG_H

#include <stddef.h>

struct app_settings;
struct remote_endpoint;

struct config_setting {
    char *name, *value;
    int line;
};
struct config_endpoint {
    char *name, *url, *model, *api_key_env;
    int timeout_s; /* 0: the default */
    int line;      /* of its [endpoint] header */
};
struct config {
    char path[4096];              /* the file read ("" when none was) */
    struct config_setting *settings;
    int n_settings;
    struct config_endpoint *endpoints;
    int n_endpoints;
};

/* The default path into buf: $XDG_CONFIG_HOME/natter/config. NULL when HOME is unset too. */
char *config_default_path(char *buf, size_t len);
/* Reads path (NULL: the default path). A missing file is an empty config (0). 0, or -1 with
 * "FILE:LINE: why" (or "FILE: why" when it cannot be read) in err; c is then empty. The
 * defaults are checked as app_settings_set checks them. */
int config_load(struct config *c, const char *path, char *err, size_t err_len);
/* The same on text[0..n) read from name (for messages). */
int config_parse(struct config *c, const char *name, const char *text, size_t n, char *err,
                 size_t err_len);
void config_free(struct config *c);
/* Applies the defaults to s in the file's order (each through app_settings_set). 0 or -1
 * with "FILE:LINE: why" in err. */
int config_apply(const struct config *c, struct app_settings *s, char *err, size_t err_len);
/* The defaults of the config file at the default path applied to s (load, apply, free): what
 * the chat and `natter run` do before their command line's options. 0 or -1 with err. */
int config_defaults_apply(struct app_settings *s, char *err, size_t err_len);
/* The value of the default named name (the last line that sets it), NULL if none does. */
const char *config_get(const struct config *c, const char *name);
/* The endpoint named name, NULL if there is none. */
const struct config_endpoint *config_endpoint_find(const struct config *c, const char *name);
/* What --remote ARG means: a URL (it holds ':' or '/': "http://box:8080", "box:8080/v1") is
 * used as is with the API key of $NATTER_API_KEY if set; otherwise ARG names an endpoint of c,
 * its key read from the variable its api-key-env names. out's strings borrow from c, arg and
 * the environment. 0, or -1 with a one-line err (no such endpoint; its key's variable unset). */
int config_remote_resolve(const struct config *c, const char *arg, struct remote_endpoint *out,
                          char *err, size_t err_len);

#endif
