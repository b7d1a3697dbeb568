/* src/serve_req.c — request bodies of `natter serve` checked and read (serve_req.h): the JSON
 * parsed by src/json_read.h, each used field's type and range checked, the strings copied out
 * so the document is freed before the request runs. Pure; any thread. */
#include "serve_req.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_read.h"

void serve_err_set(struct serve_err *e, int status, const char *type, const char *param,
                   const char *code, const char *fmt, ...) {
    e->status = status;
    snprintf(e->type, sizeof e->type, "%s", type);
    snprintf(e->param, sizeof e->param, "%s", param ? param : "");
    snprintf(e->code, sizeof e->code, "%s", code ? code : "");
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->message, sizeof e->message, fmt, ap);
    va_end(ap);
}

static void err_put_opt(struct json_buf *b, const char *s) {
    if (*s)
        json_put_str(b, s, strlen(s));
    else
        json_puts(b, "null");
}

void serve_err_json(const struct serve_err *e, struct json_buf *b) {
    json_puts(b, "{\"error\":{\"message\":");
    json_put_str(b, e->message, strlen(e->message));
    json_puts(b, ",\"type\":");
    json_put_str(b, e->type, strlen(e->type));
    json_puts(b, ",\"param\":");
    err_put_opt(b, e->param);
    json_puts(b, ",\"code\":");
    err_put_opt(b, e->code);
    json_puts(b, "}}");
}

static const char *const type_names[] = {"null", "a boolean", "a boolean", "a number",
                                         "a string", "an array", "an object"};

/* -1 after a 400 naming the field and what it should be. */
static int bad_type(struct serve_err *e, const char *field, const char *want,
                    const struct json_node *v) {
    serve_err_set(e, 400, "invalid_request_error", field, "invalid_type",
                  "'%s' must be %s, not %s", field, want, type_names[v->type]);
    return -1;
}

static int bad_value(struct serve_err *e, const char *field, const char *fmt, double v) {
    char what[120];
    snprintf(what, sizeof what, fmt, v);
    serve_err_set(e, 400, "invalid_request_error", field, "invalid_value", "'%s' %s", field,
                  what);
    return -1;
}

static int no_mem(struct serve_err *e) {
    serve_err_set(e, 500, "server_error", NULL, NULL, "out of memory");
    return -1;
}

/* A number field within [lo, hi] (null or absent: *out stays). */
static int get_num(const struct json_node *o, const char *field, double lo, double hi,
                   double *out, struct serve_err *e) {
    const struct json_node *v = json_node_get(o, field);
    if (!v || v->type == JSON_NULL)
        return 0;
    if (v->type != JSON_NUMBER)
        return bad_type(e, field, "a number", v);
    if (!(v->num >= lo && v->num <= hi)) {
        char fmt[80];
        snprintf(fmt, sizeof fmt, "must be between %g and %g, not %%g", lo, hi);
        return bad_value(e, field, fmt, v->num);
    }
    *out = v->num;
    return 1;
}

/* An integer field within [lo, hi]. */
static int get_int(const struct json_node *o, const char *field, double lo, double hi,
                   double *out, struct serve_err *e) {
    int r = get_num(o, field, lo, hi, out, e);
    if (r > 0 && floor(*out) != *out)
        return bad_value(e, field, "must be an integer, not %g", *out);
    return r;
}

static int get_bool(const struct json_node *o, const char *field, int *out,
                    struct serve_err *e) {
    const struct json_node *v = json_node_get(o, field);
    if (!v || v->type == JSON_NULL)
        return 0;
    if (v->type != JSON_TRUE && v->type != JSON_FALSE)
        return bad_type(e, field, "a boolean", v);
    *out = v->type == JSON_TRUE;
    return 1;
}

static char *dup_bytes(const char *s, size_t n) {
    char *p = malloc(n + 1);
    if (p) {
        memcpy(p, s, n);
        p[n] = 0;
    }
    return p;
}

/* A message's content: a string, null (""), or an array of {"type":"text","text":...} parts
 * joined. */
static int read_content(const struct json_node *c, const char *field, struct serve_msg *m,
                        struct serve_err *e) {
    if (!c || c->type == JSON_NULL)
        return (m->content = dup_bytes("", 0)) ? 0 : no_mem(e);
    if (c->type == JSON_STRING) {
        m->len = c->len;
        return (m->content = dup_bytes(c->str, c->len)) ? 0 : no_mem(e);
    }
    if (c->type != JSON_ARRAY)
        return bad_type(e, field, "a string or an array of text parts", c);
    struct json_buf b = {0};
    json_put(&b, "", 0);
    int i = 0;
    for (const struct json_node *p = c->child; p; p = p->next, i++) {
        char f[96];
        snprintf(f, sizeof f, "%s[%d]", field, i);
        if (p->type != JSON_OBJECT) {
            free(b.p);
            return bad_type(e, f, "an object", p);
        }
        size_t tl;
        const char *type = json_node_get_str(p, "type", &tl);
        const struct json_node *text = json_node_get(p, "text");
        if (!type || strcmp(type, "text") != 0) {
            free(b.p);
            serve_err_set(e, 400, "invalid_request_error", f, "invalid_value",
                          "'%s.type' must be \"text\": only text content is supported", f);
            return -1;
        }
        if (!text || text->type != JSON_STRING) {
            free(b.p);
            snprintf(f + strlen(f), sizeof f - strlen(f), ".text");
            return text ? bad_type(e, f, "a string", text)
                        : (serve_err_set(e, 400, "invalid_request_error", f, "missing_field",
                                         "'%s' is missing", f), -1);
        }
        json_put(&b, text->str, text->len);
    }
    if (b.oom) {
        free(b.p);
        return no_mem(e);
    }
    m->content = b.p;
    m->len = b.len;
    return 0;
}

static int read_messages(const struct json_node *root, struct serve_req *r,
                         struct serve_err *e) {
    const struct json_node *ms = json_node_get(root, "messages");
    if (!ms) {
        serve_err_set(e, 400, "invalid_request_error", "messages", "missing_field",
                      "'messages' is missing");
        return -1;
    }
    if (ms->type != JSON_ARRAY)
        return bad_type(e, "messages", "an array", ms);
    if (ms->n == 0) {
        serve_err_set(e, 400, "invalid_request_error", "messages", "invalid_value",
                      "'messages' must not be empty");
        return -1;
    }
    if (!(r->msgs = calloc((size_t)ms->n, sizeof *r->msgs)))
        return no_mem(e);
    int i = 0;
    for (const struct json_node *m = ms->child; m; m = m->next, i++) {
        char f[64];
        snprintf(f, sizeof f, "messages[%d]", i);
        if (m->type != JSON_OBJECT)
            return bad_type(e, f, "an object", m);
        snprintf(f, sizeof f, "messages[%d].role", i);
        const struct json_node *role = json_node_get(m, "role");
        if (!role) {
            serve_err_set(e, 400, "invalid_request_error", f, "missing_field", "'%s' is missing",
                          f);
            return -1;
        }
        if (role->type != JSON_STRING)
            return bad_type(e, f, "a string", role);
        static const char *const roles[] = {"system", "user", "assistant", "tool", "developer"};
        const char *rn = NULL;
        for (size_t k = 0; k < sizeof roles / sizeof roles[0]; k++)
            if (strlen(roles[k]) == role->len && !memcmp(roles[k], role->str, role->len))
                rn = roles[k];
        if (!rn) {
            serve_err_set(e, 400, "invalid_request_error", f, "invalid_value",
                          "'%s' must be system, user, assistant, tool or developer", f);
            return -1;
        }
        r->msgs[i].role = !strcmp(rn, "developer") ? "system" : rn;
        snprintf(f, sizeof f, "messages[%d].content", i);
        r->n_msgs = i + 1; /* freed from here on */
        if (read_content(json_node_get(m, "content"), f, &r->msgs[i], e))
            return -1;
    }
    return 0;
}

static int read_prompt(const struct json_node *root, struct serve_req *r, struct serve_err *e) {
    const struct json_node *p = json_node_get(root, "prompt");
    if (!p) {
        serve_err_set(e, 400, "invalid_request_error", "prompt", "missing_field",
                      "'prompt' is missing");
        return -1;
    }
    if (p->type == JSON_ARRAY && p->n == 1 && p->child->type == JSON_STRING)
        p = p->child; /* ["text"]: one prompt */
    if (p->type != JSON_STRING)
        return bad_type(e, "prompt", "a string", p);
    r->prompt_len = p->len;
    return (r->prompt = dup_bytes(p->str, p->len)) ? 0 : no_mem(e);
}

static int read_stop(const struct json_node *root, struct serve_req *r, struct serve_err *e) {
    const struct json_node *s = json_node_get(root, "stop");
    if (!s || s->type == JSON_NULL)
        return 0;
    const struct json_node *one = s->type == JSON_STRING ? s : NULL;
    if (!one && s->type != JSON_ARRAY)
        return bad_type(e, "stop", "a string or an array of strings", s);
    if (!one && s->n > SERVE_STOP_MAX) {
        serve_err_set(e, 400, "invalid_request_error", "stop", "invalid_value",
                      "'stop' holds %d strings, at most %d", s->n, SERVE_STOP_MAX);
        return -1;
    }
    int i = 0;
    for (const struct json_node *v = one ? one : s->child; v; v = one ? NULL : v->next, i++) {
        char f[32];
        snprintf(f, sizeof f, "stop[%d]", i);
        if (v->type != JSON_STRING)
            return bad_type(e, one ? "stop" : f, "a string", v);
        if (v->len == 0 || memchr(v->str, 0, v->len))
            continue; /* an empty stop string stops nothing */
        if (!(r->stop[r->n_stop] = dup_bytes(v->str, v->len)))
            return no_mem(e);
        r->n_stop++;
    }
    return 0;
}

static int read_sampling(const struct json_node *root, struct serve_req *r,
                         struct serve_err *e) {
    double v;
    int g;
    if ((g = get_num(root, "temperature", 0, 100, &v, e)) < 0) return -1;
    if (g) r->sample.temp = (float)v;
    if ((g = get_num(root, "top_p", 0, 1, &v, e)) < 0) return -1;
    if (g) r->sample.top_p = (float)v;
    if ((g = get_int(root, "top_k", 0, 1e9, &v, e)) < 0) return -1;
    if (g) r->sample.top_k = (int)v;
    if ((g = get_num(root, "min_p", 0, 1, &v, e)) < 0) return -1;
    if (g) r->sample.min_p = (float)v;
    if ((g = get_num(root, "presence_penalty", -2, 2, &v, e)) < 0) return -1;
    if (g) r->sample.presence_penalty = (float)v;
    if ((g = get_num(root, "frequency_penalty", -2, 2, &v, e)) < 0) return -1;
    if (g) r->sample.freq_penalty = (float)v;
    if ((g = get_num(root, "repeat_penalty", 0, 100, &v, e)) < 0) return -1;
    if (g) r->sample.repeat_penalty = v > 0 ? (float)v : 1.0f;
    if ((g = get_int(root, "seed", -1, 18446744073709549568.0, &v, e)) < 0) return -1;
    if (g) r->sample.seed = v < 0 ? ENG_SEED_RANDOM : (uint64_t)v;
    const char *lim = json_node_get(root, "max_completion_tokens") ? "max_completion_tokens"
                                                                    : "max_tokens";
    if ((g = get_int(root, lim, -1, 1e9, &v, e)) < 0) return -1;
    if (g) r->n_predict = v <= 0 ? -1 : (int)v;
    return 0;
}

static int read_fields(const struct json_node *root, struct serve_req *r, struct serve_err *e) {
    const struct json_node *model = json_node_get(root, "model");
    if (model && model->type != JSON_STRING && model->type != JSON_NULL)
        return bad_type(e, "model", "a string", model);
    if (r->kind == SERVE_CHAT ? read_messages(root, r, e) : read_prompt(root, r, e))
        return -1;
    if (read_sampling(root, r, e) || read_stop(root, r, e) ||
        get_bool(root, "stream", &r->stream, e) < 0)
        return -1;
    const struct json_node *so = json_node_get(root, "stream_options");
    if (so && so->type != JSON_NULL) {
        if (so->type != JSON_OBJECT)
            return bad_type(e, "stream_options", "an object", so);
        if (get_bool(so, "include_usage", &r->include_usage, e) < 0)
            return -1;
    }
    const struct json_node *kw = json_node_get(root, "chat_template_kwargs");
    if (kw && kw->type != JSON_NULL) {
        if (kw->type != JSON_OBJECT)
            return bad_type(e, "chat_template_kwargs", "an object", kw);
        if (get_bool(kw, "enable_thinking", &r->think, e) < 0) {
            snprintf(e->param, sizeof e->param, "chat_template_kwargs.enable_thinking");
            return -1;
        }
    }
    return 0;
}

int serve_req_parse(int kind, const char *body, size_t n, const struct eng_sample_params *sample,
                    int n_predict, struct serve_req *out, struct serve_err *err) {
    memset(out, 0, sizeof *out);
    out->kind = kind;
    out->sample = *sample;
    out->n_predict = n_predict;
    out->think = -1;
    struct json_doc *d = NULL;
    char msg[200];
    if (json_doc_parse(body, n, &d, msg, sizeof msg) != 0) {
        serve_err_set(err, 400, "invalid_request_error", NULL, NULL,
                      "the request body is not JSON: %s", msg);
        return -1;
    }
    const struct json_node *root = json_doc_root(d);
    int rc = 0;
    if (root->type != JSON_OBJECT)
        rc = bad_type(err, "body", "an object", root);
    else
        rc = read_fields(root, out, err);
    json_doc_free(d);
    if (rc)
        serve_req_free(out);
    return rc;
}

void serve_req_free(struct serve_req *r) {
    for (int i = 0; i < r->n_msgs; i++)
        free(r->msgs[i].content);
    free(r->msgs);
    free(r->prompt);
    for (int i = 0; i < r->n_stop; i++)
        free(r->stop[i]);
    memset(r, 0, sizeof *r);
}
