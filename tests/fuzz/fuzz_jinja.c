/* tests/fuzz/fuzz_jinja.c — libFuzzer target for the Jinja engine (src/jinja*.c): the input is
 * a template, parsed and rendered over a fixed conversation (messages of every shape the chat
 * templates meet, tools, special tokens) under small limits; after a NUL byte, the rest is
 * JSON whose members are added as variables (when it passes the strict check). A refusal must come as
 * "LINE:COL: message"; a rendering must be len bytes, NUL-terminated, an origin per byte.
 * Single-threaded. */
#include "jinja.h"
#include "json_syntax.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char conv[] =
    "{\"messages\": ["
    "{\"role\": \"system\", \"content\": \"Be brief. <|im_end|>\"},"
    "{\"role\": \"user\", \"content\": \"Hi \\u00e9\\ud83d\\ude00 {{ x }}\\n\\t\"},"
    "{\"role\": \"assistant\", \"content\": \"\", \"reasoning_content\": \"hmm\","
    " \"tool_calls\": [{\"id\": \"abc123XYZ\", \"type\": \"function\", \"function\":"
    " {\"name\": \"f\", \"arguments\": {\"a\": 1, \"b\": [1.5, null, true], \"c\": \"x\"}}}]},"
    "{\"role\": \"tool\", \"tool_call_id\": \"abc123XYZ\", \"name\": \"f\", \"content\": \"42\"},"
    "{\"role\": \"user\", \"content\": [{\"type\": \"text\", \"text\": \"part\"}, {\"type\": \"image\"}]}"
    "], \"tools\": [{\"type\": \"function\", \"function\": {\"name\": \"f\", \"description\": \"d\","
    " \"parameters\": {\"type\": \"object\", \"properties\": {\"a\": {\"type\": \"integer\"}},"
    " \"required\": [\"a\"]}}}], \"documents\": null, \"enable_thinking\": false}";

static jinja_ctx *ctx;

static void check_err(const char *err) {
    /* "LINE:COL: message" */
    const char *p = err;
    if (*p < '0' || *p > '9')
        abort();
    while (*p >= '0' && *p <= '9')
        p++;
    if (*p++ != ':' || *p < '0' || *p > '9')
        abort();
    while (*p >= '0' && *p <= '9')
        p++;
    if (p[0] != ':' || p[1] != ' ')
        abort(); /* (a raise_exception message is the template's own text: newlines allowed) */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char err[512];
    if (!ctx) {
        ctx = jinja_ctx_new();
        if (!ctx || jinja_ctx_set_json_vars(ctx, conv, strlen(conv), 0, err, sizeof err) ||
            jinja_ctx_set_str(ctx, "bos_token", "<s>", 3, JINJA_ORIGIN_TEMPLATE) ||
            jinja_ctx_set_str(ctx, "eos_token", "</s>", 4, JINJA_ORIGIN_TEMPLATE) ||
            jinja_ctx_set_bool(ctx, "add_generation_prompt", 1))
            abort();
        struct tm now = {.tm_year = 126, .tm_mon = 11, .tm_mday = 1, .tm_hour = 12,
                         .tm_wday = 2, .tm_yday = 334};
        jinja_ctx_set_now(ctx, &now);
        struct jinja_limits lim = jinja_default_limits();
        lim.max_output = 1u << 20;
        lim.max_memory = 64u << 20;
        lim.max_steps = 200000;
        lim.max_depth = 300;
        jinja_ctx_set_limits(ctx, &lim);
    }
    jinja_tmpl *t = NULL;
    err[0] = 0;
    const uint8_t *nul = memchr(data, 0, size);
    size_t tlen = nul ? (size_t)(nul - data) : size;
    jinja_ctx *c = ctx;
    if (nul) { /* variables of the input's own */
        const char *json = (const char *)nul + 1;
        size_t jlen = size - tlen - 1;
        size_t off;
        const char *why;
        if (json_syntax_check(json, jlen, &off, &why) == 0 && json_syntax_top(json, jlen) == '{') {
            c = jinja_ctx_new();
            struct jinja_limits lim = jinja_default_limits();
            lim.max_output = 1u << 20;
            lim.max_memory = 64u << 20;
            lim.max_steps = 200000;
            lim.max_depth = 300;
            if (!c || jinja_ctx_set_json_vars(c, conv, strlen(conv), 0, err, sizeof err) ||
                jinja_ctx_set_json_vars(c, json, jlen, JINJA_JSON_ROLES_TRUSTED, err, sizeof err))
                abort();
            jinja_ctx_set_limits(c, &lim);
        }
    }
    if (jinja_parse((const char *)data, tlen, &t, err, sizeof err)) {
        if (t)
            abort();
        check_err(err);
        if (c != ctx)
            jinja_ctx_free(c);
        return 0;
    }
    struct jinja_out o;
    if (jinja_render(t, c, &o, err, sizeof err)) {
        if (o.text || o.len)
            abort();
        check_err(err);
    } else {
        if (!o.text || !o.origin || o.text[o.len] != 0 || o.len > (1u << 20))
            abort();
        for (size_t i = 0; i < o.len; i++)
            if (o.origin[i] > JINJA_ORIGIN_DATA)
                abort();
        jinja_out_free(&o);
    }
    jinja_free(t);
    if (c != ctx)
        jinja_ctx_free(c);
    return 0;
}
