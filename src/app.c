/* src/app.c — the chat's state apart from drawing (see app.h): messages in memory, settings,
 * slash commands, which turns fit in the context. UI thread only. */
#include "app.h"
#include "json_syntax.h"
#include "json_write.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int msg_reserve(struct app_msg *m, size_t need) {
    if (need + 1 <= m->cap)
        return 0;
    size_t cap = m->cap ? m->cap : 64;
    while (cap < need + 1)
        cap *= 2;
    char *t = realloc(m->text, cap);
    if (!t)
        return -1;
    m->text = t;
    m->cap = cap;
    return 0;
}

int app_msg_append(struct app_msg *m, const char *text, size_t len) {
    if (msg_reserve(m, m->len + len) != 0)
        return -1;
    memcpy(m->text + m->len, text, len);
    m->len += len;
    m->text[m->len] = '\0';
    return 0;
}

int app_msg_set(struct app_msg *m, const char *text, size_t len) {
    m->len = 0;
    if (m->text)
        m->text[0] = '\0';
    return app_msg_append(m, text, len);
}

int app_msg_append_think(struct app_msg *m, const char *text, size_t len) {
    if (m->think_len + len + 1 > m->think_cap) {
        size_t cap = m->think_cap ? m->think_cap : 64;
        while (cap < m->think_len + len + 1)
            cap *= 2;
        char *t = realloc(m->think, cap);
        if (!t)
            return -1;
        m->think = t;
        m->think_cap = cap;
    }
    memcpy(m->think + m->think_len, text, len);
    m->think_len += len;
    m->think[m->think_len] = '\0';
    return 0;
}

const char *app_role_name(int role) {
    switch (role) {
    case APP_ROLE_SYSTEM: return "system";
    case APP_ROLE_USER: return "user";
    case APP_ROLE_ASSISTANT: return "assistant";
    default: return "notice";
    }
}

int app_role_parse(const char *name) {
    for (int r = APP_ROLE_SYSTEM; r <= APP_ROLE_NOTICE; r++)
        if (name && !strcmp(name, app_role_name(r)))
            return r;
    return -1;
}

const char *app_finish_name(int32_t reason) {
    switch (reason) {
    case ENG_DONE_EOG: return "eog";
    case ENG_DONE_STOP: return "stop";
    case ENG_DONE_CANCELLED: return "stopped";
    default: return "length";
    }
}

const char *app_finish_store(const char *finish) {
    return !strcmp(finish, "eog") ? "stop" : finish;
}

char *app_model_short_name(const char *path, char *buf, size_t len) {
    const char *at = strstr(path, "@http");
    if (at && !memchr(path, '/', (size_t)(at - path))) { /* a remote's "MODEL@URL" */
        snprintf(buf, len, "%.*s", (int)(at - path), path);
        return buf;
    }
    const char *b = strrchr(path, '/');
    b = b ? b + 1 : path;
    size_t bl = strlen(b);
    if (bl > 5 && !strcmp(b + bl - 5, ".gguf"))
        bl -= 5;
    snprintf(buf, len, "%.*s", (int)(bl < len ? bl : len - 1), b);
    return buf;
}

struct app_msg *app_conv_add(struct app_conv *c, int role, const char *text, size_t len) {
    if (c->n_msgs == c->cap_msgs) {
        int cap = c->cap_msgs ? c->cap_msgs * 2 : 16;
        struct app_msg *m = realloc(c->msgs, (size_t)cap * sizeof *m);
        if (!m)
            return NULL;
        c->msgs = m;
        c->cap_msgs = cap;
    }
    struct app_msg *m = &c->msgs[c->n_msgs];
    memset(m, 0, sizeof *m);
    m->role = role;
    m->think_tokens = -1;
    m->think_ms = -1;
    if (app_msg_append(m, text ? text : "", text ? len : 0) != 0)
        return NULL;
    c->n_msgs++;
    return m;
}

void app_conv_truncate(struct app_conv *c, int i) {
    if (i < 0)
        i = 0;
    while (c->n_msgs > i) {
        c->n_msgs--;
        free(c->msgs[c->n_msgs].text);
        free(c->msgs[c->n_msgs].think);
    }
}

void app_conv_clear(struct app_conv *c) {
    app_conv_truncate(c, 0);
    free(c->msgs);
    memset(c, 0, sizeof *c);
}

int app_conv_last(const struct app_conv *c, int role) {
    for (int i = c->n_msgs - 1; i >= 0; i--)
        if (c->msgs[i].role == role)
            return i;
    return -1;
}

/* ---- fitting the context ---- */

/* The end of the turn starting at i: the next user message's index (or n). */
static int turn_end(const struct app_conv *c, int i) {
    int j = i + 1;
    while (j < c->n_msgs && c->msgs[j].role != APP_ROLE_USER)
        j++;
    return j;
}

/* keep for the conversation with the first k droppable turns (turns[2i], turns[2i + 1]) out;
 * returns how many user and assistant messages that leaves out. */
static int fit_apply(const struct app_conv *c, const int *turns, int k, unsigned char *keep) {
    int dropped = 0;
    for (int i = 0; i < c->n_msgs; i++)
        keep[i] = c->msgs[i].role != APP_ROLE_NOTICE;
    for (int t = 0; t < k; t++)
        for (int i = turns[2 * t]; i < turns[2 * t + 1]; i++)
            if (keep[i] && c->msgs[i].role != APP_ROLE_SYSTEM) {
                keep[i] = 0;
                dropped += c->msgs[i].role == APP_ROLE_USER || c->msgs[i].role == APP_ROLE_ASSISTANT;
            }
    return dropped;
}

int app_conv_fit(const struct app_conv *c, int n_ctx, int room, unsigned char *keep,
                 int (*count)(const unsigned char *keep, void *ud), void *ud, int *n_tokens) {
    /* the turns that may go, oldest first: before the last one, holding no pin */
    int last = app_conv_last(c, APP_ROLE_USER), n_turns = 0;
    int *turns = malloc(((size_t)c->n_msgs + 1) * 2 * sizeof *turns);
    if (!turns)
        return -1;
    for (int i = 0, end; i < last; i = end) {
        end = turn_end(c, i);
        int pinned = 0, any = 0;
        for (int k = i; k < end; k++) {
            pinned |= c->msgs[k].pinned;
            any |= c->msgs[k].role == APP_ROLE_USER || c->msgs[k].role == APP_ROLE_ASSISTANT;
        }
        if (any && !pinned && end <= last) {
            turns[2 * n_turns] = i;
            turns[2 * n_turns + 1] = end;
            n_turns++;
        }
    }
    /* the fewest turns out that make it fit: a binary search (fewer messages, fewer tokens),
     * so a long conversation is rendered a few times, not once per turn */
    int r = -1, lo = 0, hi = n_turns, n_hi = -1;
    fit_apply(c, turns, 0, keep);
    int n = count(keep, ud);
    *n_tokens = n;
    if (n < 0 || n + room <= n_ctx) {
        r = n < 0 ? -1 : 0;
        goto done;
    }
    fit_apply(c, turns, hi, keep);
    if ((n_hi = count(keep, ud)) < 0)
        goto done;
    if (n_hi + room > n_ctx) { /* nothing more can go: the rest gets what room there is */
        *n_tokens = n_hi;
        r = n_hi >= n_ctx ? -2 : fit_apply(c, turns, hi, keep);
        goto done;
    }
    while (hi - lo > 1) { /* lo does not fit, hi does */
        int mid = lo + (hi - lo) / 2;
        fit_apply(c, turns, mid, keep);
        int m = count(keep, ud);
        if (m < 0)
            goto done;
        if (m + room <= n_ctx)
            hi = mid, n_hi = m;
        else
            lo = mid;
    }
    *n_tokens = n_hi;
    r = fit_apply(c, turns, hi, keep);
done:
    free(turns);
    return r;
}

int app_reply_room(int n_predict, int n_ctx) {
    return n_predict > 0 && n_predict < n_ctx / 4 ? n_predict : n_ctx / 4;
}

/* ---- settings ---- */

void app_settings_default(struct app_settings *s, const struct eng_sample_params *sample) {
    memset(s, 0, sizeof *s);
    if (sample)
        s->sample = *sample;
    s->n_predict = 512;
    s->think = 1;
    s->draft_max = 8;
    s->draft_p_min = 0.5f;
    s->markdown = 1;
}

enum setting_kind { SET_FLOAT, SET_INT, SET_U64, SET_BOOL, SET_KV };
struct setting {
    const char *name;
    int kind;
    size_t off; /* in struct app_settings */
    double min, max;
};
#define SOFF(f) offsetof(struct app_settings, f)
static const struct setting settings_table[] = {
    {"temp", SET_FLOAT, SOFF(sample.temp), 0, 10},
    {"top-k", SET_INT, SOFF(sample.top_k), 0, 1e6},
    {"top-p", SET_FLOAT, SOFF(sample.top_p), 0, 1},
    {"min-p", SET_FLOAT, SOFF(sample.min_p), 0, 1},
    {"repeat-penalty", SET_FLOAT, SOFF(sample.repeat_penalty), 0, 10},
    {"seed", SET_U64, SOFF(sample.seed), 0, 0},
    {"n-predict", SET_INT, SOFF(n_predict), -1, 1e7},
    {"ctx", SET_INT, SOFF(n_ctx), 0, 1 << 20},
    {"threads", SET_INT, SOFF(n_threads), 0, 1024},
    {"repeat-last-n", SET_INT, SOFF(sample.penalty_last_n), -1, 1 << 20},
    {"frequency-penalty", SET_FLOAT, SOFF(sample.freq_penalty), -10, 10},
    {"presence-penalty", SET_FLOAT, SOFF(sample.presence_penalty), -10, 10},
    {"think", SET_BOOL, SOFF(think), 0, 1},
    {"lookup", SET_INT, SOFF(lookup), 0, ENG_DRAFT_MAX},
    {"draft-max", SET_INT, SOFF(draft_max), 1, ENG_DRAFT_MAX},
    {"draft-p-min", SET_FLOAT, SOFF(draft_p_min), 0, 1},
    {"kv", SET_KV, SOFF(kv_type), 0, 0},
    {"markdown", SET_BOOL, SOFF(markdown), 0, 1},
};

/* on/off, 1/0, true/false, yes/no: 1 or 0, -1 for anything else. */
static int bool_parse(const char *v) {
    static const char *const on[] = {"on", "1", "true", "yes"}, *const off[] = {"off", "0",
                                                                               "false", "no"};
    for (size_t i = 0; v && i < 4; i++) {
        if (!strcmp(v, on[i]))
            return 1;
        if (!strcmp(v, off[i]))
            return 0;
    }
    return -1;
}

int app_settings_set(struct app_settings *s, const char *name, const char *value, char *err,
                     size_t err_len) {
    for (size_t i = 0; i < sizeof settings_table / sizeof settings_table[0]; i++) {
        const struct setting *t = &settings_table[i];
        if (strcmp(name, t->name) != 0)
            continue;
        char *end;
        errno = 0;
        if (t->kind == SET_BOOL) {
            int b = bool_parse(value);
            if (b < 0) {
                snprintf(err, err_len, "%s: '%s' is not on or off", name, value ? value : "");
                return -1;
            }
            *(int *)((char *)s + t->off) = b;
            return 0;
        }
        if (t->kind == SET_KV) {
            int k = eng_kv_type_parse(value);
            if (k < 0) {
                snprintf(err, err_len, "%s: '%s' is not f16, f32, q8_0 or q4_0", name,
                         value ? value : "");
                return -1;
            }
            *(int *)((char *)s + t->off) = k;
            return 0;
        }
        if (t->kind == SET_U64) {
            if (value && !strcmp(value, "random")) { /* the engine picks one per reply */
                *(uint64_t *)((char *)s + t->off) = ENG_SEED_RANDOM;
                return 0;
            }
            unsigned long long u = value && value[0] != '-' ? strtoull(value, &end, 10) : 0;
            if (!value || value[0] == '-' || end == value || *end || errno) {
                snprintf(err, err_len, "%s: '%s' is not a whole number >= 0", name,
                         value ? value : "");
                return -1;
            }
            *(uint64_t *)((char *)s + t->off) = u;
            return 0;
        }
        double v = strtod(value ? value : "", &end);
        if (!value || end == value || *end || errno || v != v) {
            snprintf(err, err_len, "%s: '%s' is not a number", name, value ? value : "");
            return -1;
        }
        if (v < t->min || v > t->max || (t->kind != SET_FLOAT && v != (double)(long long)v)) {
            snprintf(err, err_len, "%s: %s is out of range (%g..%g%s)", name, value, t->min,
                     t->max, t->kind != SET_FLOAT ? ", whole numbers" : "");
            return -1;
        }
        char *p = (char *)s + t->off;
        if (t->kind == SET_FLOAT)
            *(float *)p = (float)v;
        else
            *(int *)p = (int)v;
        return 0;
    }
    size_t o = (size_t)snprintf(err, err_len, "unknown setting '%s' (", name);
    for (size_t i = 0; i < sizeof settings_table / sizeof settings_table[0] && o < err_len; i++)
        o += (size_t)snprintf(err + o, err_len - o, "%s%s", i ? ", " : "",
                              settings_table[i].name);
    if (o < err_len)
        snprintf(err + o, err_len - o, ")");
    return -1;
}

int app_settings_describe(const struct app_settings *s, int i, char *buf, size_t len) {
    if (i < 0 || (size_t)i >= sizeof settings_table / sizeof settings_table[0])
        return -1;
    const struct setting *t = &settings_table[i];
    const char *p = (const char *)s + t->off;
    if (t->kind == SET_FLOAT)
        snprintf(buf, len, "%s %g", t->name, (double)*(const float *)p);
    else if (t->kind == SET_INT)
        snprintf(buf, len, "%s %d", t->name, *(const int *)p);
    else if (t->kind == SET_BOOL)
        snprintf(buf, len, "%s %s", t->name, *(const int *)p ? "on" : "off");
    else if (t->kind == SET_KV)
        snprintf(buf, len, "%s %s", t->name, eng_kv_type_name(*(const int *)p));
    else if (*(const uint64_t *)p == ENG_SEED_RANDOM)
        snprintf(buf, len, "%s random", t->name);
    else
        snprintf(buf, len, "%s %llu", t->name, (unsigned long long)*(const uint64_t *)p);
    return 0;
}

/* ---- a conversation's sampling settings as JSON ---- */

static int is_space(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static const struct {
    const char *key, *setting;
    int restore; /* app_settings_from_json applies it */
} json_table[] = {
    {"temp", "temp", 1}, {"top_k", "top-k", 1}, {"top_p", "top-p", 1}, {"min_p", "min-p", 1},
    {"repeat_penalty", "repeat-penalty", 1}, {"repeat_last_n", "repeat-last-n", 1},
    {"frequency_penalty", "frequency-penalty", 1}, {"presence_penalty", "presence-penalty", 1},
    {"seed", "seed", 1}, {"n_predict", "n-predict", 1}, {"ctx", "ctx", 0}, {"think", "think", 0},
};

static const struct setting *setting_find(const char *name) {
    for (size_t i = 0; i < sizeof settings_table / sizeof settings_table[0]; i++)
        if (!strcmp(settings_table[i].name, name))
            return &settings_table[i];
    return NULL;
}

char *app_settings_json(const struct app_settings *s) {
    struct json_buf b = {0};
    for (size_t i = 0; i < sizeof json_table / sizeof json_table[0]; i++) {
        const struct setting *t = setting_find(json_table[i].setting);
        const char *p = (const char *)s + t->off;
        char num[48];
        if (t->kind == SET_FLOAT) { /* the shortest text that reads back as the same float */
            float f = *(const float *)p;
            for (int prec = 1; prec <= 9; prec++) {
                snprintf(num, sizeof num, "%.*g", prec, (double)f);
                if ((float)strtod(num, NULL) == f) /* as app_settings_set reads it */
                    break;
            }
        } else if (t->kind == SET_U64) {
            snprintf(num, sizeof num, "%llu", (unsigned long long)*(const uint64_t *)p);
        } else {
            snprintf(num, sizeof num, "%d", *(const int *)p);
        }
        json_puts(&b, i ? "," : "{");
        json_put_str(&b, json_table[i].key, strlen(json_table[i].key));
        json_puts(&b, ":");
        json_puts(&b, num);
    }
    json_puts(&b, "}");
    if (b.oom) {
        free(b.p);
        return NULL;
    }
    return b.p;
}

/* The end of the JSON value at p (text that passed json_syntax_check). */
static const char *json_value_end(const char *p, const char *e) {
    int depth = 0;
    do {
        if (*p == '"') {
            for (p++; p < e && *p != '"'; p++)
                if (*p == '\\')
                    p++;
            p++;
        } else if (*p == '{' || *p == '[') {
            depth++, p++;
        } else if (*p == '}' || *p == ']') {
            depth--, p++;
        } else if (depth > 0 && (*p == ',' || *p == ':' || is_space(*p))) {
            p++;
        } else { /* a number or a literal */
            while (p < e && *p != ',' && *p != '}' && *p != ']' && !is_space(*p))
                p++;
        }
    } while (depth > 0 && p < e);
    return p < e ? p : e;
}

static const char *json_ws(const char *p, const char *e) {
    while (p < e && is_space(*p))
        p++;
    return p;
}

int app_settings_from_json(struct app_settings *s, const char *json, size_t len, char *changed,
                           size_t cap) {
    size_t off;
    const char *why;
    if (cap)
        changed[0] = '\0';
    if (json_syntax_check(json, len, &off, &why) < 0 || json_syntax_top(json, len) != '{')
        return -1;
    const char *p = json_ws(json, json + len), *e = json + len;
    int n = 0;
    size_t o = 0;
    for (p = json_ws(p + 1, e); p < e && *p == '"';) {
        const char *k = p;
        p = json_value_end(p, e);
        char key[64];
        size_t kl = 0;
        int known = (size_t)(p - k) <= sizeof key / 3 &&
                    json_text_decode(k, (size_t)(p - k), key, &kl) == 0 && kl < sizeof key;
        key[known ? kl : 0] = '\0';
        p = json_ws(json_ws(p, e) + 1, e); /* past the ':' */
        const char *v = p;
        p = json_value_end(p, e);
        for (size_t i = 0; known && i < sizeof json_table / sizeof json_table[0]; i++) {
            if (strcmp(key, json_table[i].key) || !json_table[i].restore)
                continue;
            char num[64], before[sizeof(uint64_t)], after[128], err[256];
            if (!(*v == '-' || (*v >= '0' && *v <= '9')) || (size_t)(p - v) >= sizeof num)
                break; /* not a number */
            snprintf(num, sizeof num, "%.*s", (int)(p - v), v);
            const struct setting *t = setting_find(json_table[i].setting);
            int idx = (int)(t - settings_table);
            double d = strtod(num, NULL);
            if (t->kind != SET_FLOAT && d >= -9e18 && d <= 9e18 && d == (double)(long long)d)
                snprintf(num, sizeof num, "%.0f", d); /* 4.0e1 is the whole number 40 */
            const char *field = (const char *)s + t->off;
            size_t size = t->kind == SET_U64 ? sizeof(uint64_t) : sizeof(int);
            memcpy(before, field, size);
            if (app_settings_set(s, t->name, num, err, sizeof err) < 0)
                break; /* out of range: the session's value stays */
            app_settings_describe(s, idx, after, sizeof after);
            if (memcmp(before, field, size)) { /* 0.8000001 is not 0.8, though both show 0.8 */
                n++;
                if (o < cap)
                    o += (size_t)snprintf(changed + o, cap - o, "%s%s", o ? ", " : "", after);
            }
        }
        p = json_ws(p, e);
        if (p < e && *p == ',')
            p = json_ws(p + 1, e);
    }
    return n;
}

/* ---- slash commands ---- */

static const struct {
    const char *name;
    int id;
} cmd_table[] = {
    {"new", APP_CMD_NEW},       {"model", APP_CMD_MODEL},   {"system", APP_CMD_SYSTEM},
    {"set", APP_CMD_SET},       {"regen", APP_CMD_REGEN},   {"rename", APP_CMD_RENAME},
    {"delete", APP_CMD_DELETE}, {"export", APP_CMD_EXPORT}, {"search", APP_CMD_SEARCH},
    {"help", APP_CMD_HELP},     {"quit", APP_CMD_QUIT},     {"template", APP_CMD_TEMPLATE},
    {"think", APP_CMD_THINK},   {"copy", APP_CMD_COPY},     {"exit", APP_CMD_QUIT},
    {"q", APP_CMD_QUIT},
};

int app_cmd_complete(const char *word, size_t len, const char **names, int cap) {
    int n = 0;
    for (size_t i = 0; i < sizeof cmd_table / sizeof cmd_table[0]; i++)
        if (!strncmp(cmd_table[i].name, word, len) && strlen(cmd_table[i].name) > 1) {
            if (n < cap)
                names[n] = cmd_table[i].name;
            n++;
        }
    return n;
}

int app_system_is_none(const char *arg) {
    return !arg[0] || !strcmp(arg, "none") || !strcmp(arg, "off") || !strcmp(arg, "\"\"") ||
           !strcmp(arg, "''");
}

void app_cmd_parse(const char *line, struct app_cmd *out) {
    memset(out, 0, sizeof *out);
    out->arg = line;
    out->arg_len = strlen(line);
    if (line[0] != '/')
        return;
    if (line[1] == '/') { /* "//x": the message "/x" */
        out->arg = line + 1;
        out->arg_len--;
        return;
    }
    const char *w = line + 1, *e = w;
    while (*e && !is_space(*e))
        e++;
    out->id = APP_CMD_UNKNOWN;
    for (size_t i = 0; i < sizeof cmd_table / sizeof cmd_table[0]; i++)
        if (strlen(cmd_table[i].name) == (size_t)(e - w) && !strncmp(w, cmd_table[i].name,
                                                                      (size_t)(e - w)))
            out->id = cmd_table[i].id;
    if (out->id == APP_CMD_UNKNOWN)
        e = w; /* arg: the whole word, for the error message */
    while (*e && is_space(*e))
        e++;
    const char *end = e + strlen(e);
    while (end > e && is_space(end[-1]))
        end--;
    out->arg = e;
    out->arg_len = (size_t)(end - e);
}
