/* src/serve_out.c — the JSON of `natter serve`'s answers (serve_out.h). Pure; any thread. */
#include "serve_out.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "serve_req.h"

void serve_out_init(struct serve_out *o, int kind, const char *model, unsigned long long seq) {
    o->kind = kind;
    o->created = (long long)time(NULL);
    o->model = model;
    snprintf(o->id, sizeof o->id, "%s-%llx%llx", kind == SERVE_CHAT ? "chatcmpl" : "cmpl",
             (unsigned long long)o->created, seq);
}

static void put_fmt(struct json_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void put_fmt(struct json_buf *b, const char *fmt, ...) {
    char tmp[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n > 0)
        json_put(b, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

/* {"id":..,"object":OBJECT,"created":..,"model":..,"choices":[  */
static void put_head(struct json_buf *b, const struct serve_out *o, const char *object) {
    json_puts(b, "{\"id\":");
    json_put_str(b, o->id, strlen(o->id));
    json_puts(b, ",\"object\":");
    json_put_str(b, object, strlen(object));
    put_fmt(b, ",\"created\":%lld,\"model\":", o->created);
    json_put_str(b, o->model, strlen(o->model));
    json_puts(b, ",\"choices\":[");
}

static void chunk_head(struct json_buf *b, const struct serve_out *o) {
    json_puts(b, "data: ");
    put_head(b, o, o->kind == SERVE_CHAT ? "chat.completion.chunk" : "text_completion");
}

static void chunk_tail(struct json_buf *b) { json_puts(b, "]}\n\n"); }

void serve_out_chunk_role(struct json_buf *b, const struct serve_out *o) {
    chunk_head(b, o);
    json_puts(b, "{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"},"
                 "\"logprobs\":null,\"finish_reason\":null}");
    chunk_tail(b);
}

void serve_out_chunk_text(struct json_buf *b, const struct serve_out *o, int reasoning,
                          const char *s, size_t n) {
    chunk_head(b, o);
    if (o->kind == SERVE_CHAT) {
        json_puts(b, reasoning ? "{\"index\":0,\"delta\":{\"reasoning_content\":"
                               : "{\"index\":0,\"delta\":{\"content\":");
        json_put_str(b, s, n);
        json_puts(b, "},\"logprobs\":null,\"finish_reason\":null}");
    } else {
        json_puts(b, "{\"index\":0,\"text\":");
        json_put_str(b, s, n);
        json_puts(b, ",\"logprobs\":null,\"finish_reason\":null}");
    }
    chunk_tail(b);
}

static void put_usage(struct json_buf *b, const struct eng_stats *st) {
    const int prompt = st->n_prompt + st->n_reused;
    put_fmt(b, ",\"usage\":{\"prompt_tokens\":%d,\"completion_tokens\":%d,\"total_tokens\":%d,"
            "\"prompt_tokens_details\":{\"cached_tokens\":%d}}", prompt, st->n_gen,
            prompt + st->n_gen, st->n_reused);
}

static void put_timings(struct json_buf *b, const struct eng_stats *st) {
    const double pms = st->prompt_tps > 0 ? 1e3 * st->n_prompt / st->prompt_tps : 0;
    const double gms = st->gen_tps > 0 ? 1e3 * st->n_gen / st->gen_tps : 0;
    put_fmt(b, ",\"timings\":{\"cache_n\":%d,\"prompt_n\":%d,\"prompt_ms\":%.3f,"
            "\"prompt_per_second\":%.3f,", st->n_reused, st->n_prompt, pms,
            (double)st->prompt_tps);
    put_fmt(b, "\"predicted_n\":%d,\"predicted_ms\":%.3f,\"predicted_per_second\":%.3f}",
            st->n_gen, gms, (double)st->gen_tps);
}

void serve_out_chunk_end(struct json_buf *b, const struct serve_out *o, const char *finish,
                         const struct eng_stats *st, int include_usage) {
    chunk_head(b, o);
    json_puts(b, o->kind == SERVE_CHAT ? "{\"index\":0,\"delta\":{},"
                                       : "{\"index\":0,\"text\":\"\",");
    json_puts(b, "\"logprobs\":null,\"finish_reason\":");
    json_put_str(b, finish, strlen(finish));
    json_puts(b, "}]");
    if (!include_usage)
        put_timings(b, st);
    json_puts(b, "}\n\n");
    if (include_usage) {
        chunk_head(b, o);
        json_puts(b, "]");
        put_usage(b, st);
        put_timings(b, st);
        json_puts(b, "}\n\n");
    }
    json_puts(b, "data: [DONE]\n\n");
}

void serve_out_chunk_error(struct json_buf *b, const char *json, size_t len) {
    json_puts(b, "data: ");
    json_put(b, json, len);
    json_puts(b, "\n\n");
}

void serve_out_body(struct json_buf *b, const struct serve_out *o, const char *text, size_t len,
                    const char *think, size_t think_len, const char *finish,
                    const struct eng_stats *st) {
    put_head(b, o, o->kind == SERVE_CHAT ? "chat.completion" : "text_completion");
    json_puts(b, "{\"index\":0,");
    if (o->kind == SERVE_CHAT) {
        json_puts(b, "\"message\":{\"role\":\"assistant\",\"content\":");
        json_put_str(b, text, len);
        if (think_len) {
            json_puts(b, ",\"reasoning_content\":");
            json_put_str(b, think, think_len);
        }
        json_puts(b, "},");
    } else {
        json_puts(b, "\"text\":");
        json_put_str(b, text, len);
        json_puts(b, ",");
    }
    json_puts(b, "\"logprobs\":null,\"finish_reason\":");
    json_put_str(b, finish, strlen(finish));
    json_puts(b, "}]");
    put_usage(b, st);
    put_timings(b, st);
    json_puts(b, "}");
}

void serve_out_models(struct json_buf *b, const char *model, long long created, int n_ctx) {
    json_puts(b, "{\"object\":\"list\",\"data\":[{\"id\":");
    json_put_str(b, model, strlen(model));
    put_fmt(b, ",\"object\":\"model\",\"created\":%lld,\"owned_by\":\"natter\","
            "\"meta\":{\"n_ctx\":%d}}]}", created, n_ctx);
}
