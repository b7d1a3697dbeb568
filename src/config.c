/* src/config.c — the config file (see config.h). */
#include "config.h"


#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "app.h"
#include "grow.h"
#include "kvcache.h"
#include "paths.h"
#include "remote.h"

enum { CONFIG_FILE_MAX = 1 << 20 };

char *config_default_path(char *buf, size_t len) {
    char dir[4096];
    if (!paths_config_dir(dir, sizeof dir))
        return NULL;
    int n = snprintf(buf, len, "%s/config", dir);
    return n > 0 && (size_t)n < len ? buf : NULL;
}

void config_free(struct config *c) {
    for (int i = 0; i < c->n_settings; i++) {
        free(c->settings[i].name);
        free(c->settings[i].value);
    }
    for (int i = 0; i < c->n_endpoints; i++) {
        struct config_endpoint *e = &c->endpoints[i];
        free(e->name);
        free(e->url);
        free(e->model);
        free(e->api_key_env);
    }
    free(c->settings);
    free(c->endpoints);
    memset(c, 0, sizeof *c);
}

static int config_is_blank(char ch) {
    return ch == ' ' || ch == '\t';
}

/* Replaces *slot with s[0..n); 0 or -1 (out of memory). */
static int config_set_str(char **slot, const char *s, size_t n) {
    char *p = strndup(s, n);
    if (!p)
        return -1;
    free(*slot);
    *slot = p;
    return 0;
}

static int config_name_ok(const char *s, size_t n) {
    if (n == 0 || n > 64)
        return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '.' || ch == '_' || ch == '-'))
            return 0;
    }
    return 1;
}

/* One line s[0..n) (no line end, comment removed, trimmed, not empty). 0, or -1 with a reason
 * in why. */
static int config_line(struct config *c, struct config_endpoint **cur, const char *s, size_t n,
                       int line, char *why, size_t why_len) {
    if (s[0] == '[') {
        if (s[n - 1] != ']') {
            snprintf(why, why_len, "a section header ends with ']'");
            return -1;
        }
        const char *p = s + 1, *e = s + n - 1;
        while (p < e && config_is_blank(*p))
            p++;
        while (e > p && config_is_blank(e[-1]))
            e--;
        if ((size_t)(e - p) < 9 || memcmp(p, "endpoint", 8) != 0 || !config_is_blank(p[8])) {
            snprintf(why, why_len, "unknown section (the one section is [endpoint NAME])");
            return -1;
        }
        p += 9;
        while (p < e && config_is_blank(*p))
            p++;
        if (!config_name_ok(p, (size_t)(e - p))) {
            snprintf(why, why_len, "an endpoint's name is 1-64 letters, digits, '.', '_' or '-'");
            return -1;
        }
        for (int i = 0; i < c->n_endpoints; i++)
            if (strlen(c->endpoints[i].name) == (size_t)(e - p) &&
                memcmp(c->endpoints[i].name, p, (size_t)(e - p)) == 0) {
                snprintf(why, why_len, "endpoint '%.*s' is already defined on line %d",
                         (int)(e - p), p, c->endpoints[i].line);
                return -1;
            }
        struct config_endpoint *ne = grow_one(c->endpoints, c->n_endpoints, sizeof *ne);
        if (!ne)
            goto oom;
        c->endpoints = ne;
        struct config_endpoint *ep = &c->endpoints[c->n_endpoints];
        memset(ep, 0, sizeof *ep);
        ep->line = line;
        if (!(ep->name = strndup(p, (size_t)(e - p))))
            goto oom;
        c->n_endpoints++;
        *cur = ep;
        return 0;
    }
    const char *eq = memchr(s, '=', n);
    if (!eq) {
        snprintf(why, why_len, "expected NAME = VALUE or [endpoint NAME]");
        return -1;
    }
    const char *ke = eq;
    while (ke > s && config_is_blank(ke[-1]))
        ke--;
    const char *v = eq + 1, *ve = s + n;
    while (v < ve && config_is_blank(*v))
        v++;
    size_t klen = (size_t)(ke - s), vlen = (size_t)(ve - v);
    if (klen == 0) {
        snprintf(why, why_len, "a setting's name is missing before '='");
        return -1;
    }
    if (vlen == 0) {
        snprintf(why, why_len, "'%.*s' has no value", (int)klen, s);
        return -1;
    }
    if (*cur) {
        struct config_endpoint *ep = *cur;
        char **slot = NULL;
        if (klen == 3 && !memcmp(s, "url", 3))
            slot = &ep->url;
        else if (klen == 5 && !memcmp(s, "model", 5))
            slot = &ep->model;
        else if (klen == 11 && !memcmp(s, "api-key-env", 11))
            slot = &ep->api_key_env;
        if (slot)
            return config_set_str(slot, v, vlen) == 0 ? 0 : (snprintf(why, why_len, "out of memory"), -1);
        if (klen == 7 && !memcmp(s, "timeout", 7)) {
            char num[16];
            long t = 0;
            char *end = num;
            if (vlen < sizeof num) {
                memcpy(num, v, vlen);
                num[vlen] = 0;
                errno = 0;
                t = strtol(num, &end, 10);
            }
            if (vlen >= sizeof num || *end || end == num || errno || t < 1 || t > 86400) {
                snprintf(why, why_len, "timeout: '%.*s' is not a number of seconds (1..86400)",
                         (int)(vlen < 32 ? vlen : 32), v);
                return -1;
            }
            ep->timeout_s = (int)t;
            return 0;
        }
        if (klen == 7 && !memcmp(s, "api-key", 7)) {
            snprintf(why, why_len, "an API key is not written in the file: api-key-env = VARIABLE "
                                   "names the environment variable holding it");
            return -1;
        }
        snprintf(why, why_len, "unknown endpoint setting '%.*s' (url, model, api-key-env, timeout)",
                 (int)(klen < 64 ? klen : 64), s);
        return -1;
    }
    /* a default: checked now as /set would check it */
    char *name = strndup(s, klen), *value = strndup(v, vlen);
    if (!name || !value) {
        free(name);
        free(value);
        goto oom;
    }
    uint64_t bytes;
    if (!strcmp(name, KVCACHE_CONFIG_KEY)) { /* the snapshot cache's limit, not a /set name */
        if (kvcache_size_parse(value, &bytes) != 0) {
            snprintf(why, why_len, "%s: '%.32s' is not a size (e.g. 512M, 2G, 0 for no cache)",
                     name, value);
            free(name);
            free(value);
            return -1;
        }
    } else {
        struct app_settings scratch;
        app_settings_default(&scratch, NULL);
        if (app_settings_set(&scratch, name, value, why, why_len) != 0) {
            free(name);
            free(value);
            return -1;
        }
    }
    struct config_setting *ns = grow_one(c->settings, c->n_settings, sizeof *ns);
    if (!ns) {
        free(name);
        free(value);
        goto oom;
    }
    c->settings = ns;
    ns[c->n_settings++] = (struct config_setting){name, value, line};
    return 0;
oom:
    snprintf(why, why_len, "out of memory");
    return -1;
}

int config_parse(struct config *c, const char *name, const char *text, size_t n, char *err,
                 size_t err_len) {
    memset(c, 0, sizeof *c);
    snprintf(c->path, sizeof c->path, "%s", name);
    struct config_endpoint *cur = NULL;
    int line = 0;
    size_t i = 0;
    char why[256];
    while (i < n) {
        line++;
        const char *s = text + i;
        const char *nl = memchr(s, '\n', n - i);
        size_t len = nl ? (size_t)(nl - s) : n - i;
        i += len + (nl != NULL);
        if (memchr(s, 0, len)) {
            snprintf(why, sizeof why, "a NUL byte (not a text file)");
            goto fail;
        }
        size_t e = 0; /* the comment: '#' at the start or after a blank */
        while (e < len && !(s[e] == '#' && (e == 0 || config_is_blank(s[e - 1]))))
            e++;
        while (e > 0 && (config_is_blank(s[e - 1]) || s[e - 1] == '\r'))
            e--;
        size_t b = 0;
        while (b < e && config_is_blank(s[b]))
            b++;
        if (b == e)
            continue;
        for (size_t k = b; k < e; k++)
            if ((unsigned char)s[k] < 0x20 && s[k] != '\t') {
                snprintf(why, sizeof why, "a control character");
                goto fail;
            }
        if (config_line(c, &cur, s + b, e - b, line, why, sizeof why) != 0)
            goto fail;
    }
    for (int k = 0; k < c->n_endpoints; k++)
        if (!c->endpoints[k].url) {
            line = c->endpoints[k].line;
            snprintf(why, sizeof why, "endpoint '%s' has no url", c->endpoints[k].name);
            goto fail;
        }
    return 0;
fail:
    snprintf(err, err_len, "%s:%d: %s", name, line, why);
    config_free(c);
    return -1;
}

int config_load(struct config *c, const char *path, char *err, size_t err_len) {
    char def[4096];
    memset(c, 0, sizeof *c);
    if (!path && !(path = config_default_path(def, sizeof def)))
        return 0; /* no HOME: no config */
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT)
            return 0;
        snprintf(err, err_len, "%s: %s", path, strerror(errno));
        return -1;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > CONFIG_FILE_MAX) {
        snprintf(err, err_len, "%s: %s", path,
                 S_ISDIR(st.st_mode) ? "is a directory" : "not a regular file of at most 1 MiB");
        close(fd);
        return -1;
    }
    size_t n = (size_t)st.st_size, got = 0;
    char *text = malloc(n + 1);
    if (!text) {
        close(fd);
        snprintf(err, err_len, "%s: out of memory", path);
        return -1;
    }
    while (got < n) {
        ssize_t r = read(fd, text + got, n - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    int rerr = errno;
    close(fd);
    if (got < n) {
        snprintf(err, err_len, "%s: %s", path, got ? "changed while read" : strerror(rerr));
        free(text);
        return -1;
    }
    int rc = config_parse(c, path, text, n, err, err_len);
    free(text);
    return rc;
}

int config_apply(const struct config *c, struct app_settings *s, char *err, size_t err_len) {
    for (int i = 0; i < c->n_settings; i++) {
        char why[256];
        if (!strcmp(c->settings[i].name, KVCACHE_CONFIG_KEY))
            continue; /* read by kvcache_limit */
        if (app_settings_set(s, c->settings[i].name, c->settings[i].value, why, sizeof why) != 0) {
            snprintf(err, err_len, "%s:%d: %s", c->path, c->settings[i].line, why);
            return -1;
        }
    }
    return 0;
}

int config_defaults_apply(struct app_settings *s, char *err, size_t err_len) {
    struct config c;
    int rc = config_load(&c, NULL, err, err_len) == 0 ? config_apply(&c, s, err, err_len) : -1;
    config_free(&c);
    return rc;
}

const char *config_get(const struct config *c, const char *name) {
    const char *v = NULL;
    for (int i = 0; i < c->n_settings; i++)
        if (!strcmp(c->settings[i].name, name))
            v = c->settings[i].value; /* a later line wins */
    return v;
}

const struct config_endpoint *config_endpoint_find(const struct config *c, const char *name) {
    for (int i = 0; i < c->n_endpoints; i++)
        if (strcmp(c->endpoints[i].name, name) == 0)
            return &c->endpoints[i];
    return NULL;
}

int config_remote_resolve(const struct config *c, const char *arg, struct remote_endpoint *out,
                          char *err, size_t err_len) {
    memset(out, 0, sizeof *out);
    if (!arg || !*arg) {
        snprintf(err, err_len, "--remote needs a URL or an endpoint's name");
        return -1;
    }
    if (strchr(arg, ':') || strchr(arg, '/')) {
        const char *k = getenv("NATTER_API_KEY");
        out->url = arg;
        out->api_key = k && *k ? k : NULL;
        return 0;
    }
    const struct config_endpoint *e = config_endpoint_find(c, arg);
    if (!e) {
        char def[4096];
        const char *p = c->path[0] ? c->path : config_default_path(def, sizeof def);
        snprintf(err, err_len, "no endpoint '%s' in %s (a URL holds ':' or '/')", arg,
                 p ? p : "the config file");
        return -1;
    }
    out->url = e->url;
    out->model = e->model;
    out->timeout_s = e->timeout_s;
    if (e->api_key_env) {
        const char *k = getenv(e->api_key_env);
        if (!k || !*k) {
            snprintf(err, err_len, "endpoint '%s': its API key's variable %s is not set",
                     e->name, e->api_key_env);
            return -1;
        }
        out->api_key = k;
    }
    return 0;
}
