/* tests/fuzz/fuzz_serve_req.c — libFuzzer target for `natter serve`'s request reader
 * (src/serve_req.c: an HTTP body, untrusted, into a request or an error). Byte 0 picks the
 * route (chat or completion); the rest is the body. Checked: a request has what its kind needs
 * (messages with a known role and NUL-terminated content, or a prompt), at most SERVE_STOP_MAX
 * non-empty stop strings, sampling values in their ranges; an error is a 400 (or a 500 out of
 * memory) with a message, and its JSON body, like the replies serve_out writes for the request,
 * passes the strict syntax check. Single-threaded. */
#include "json_syntax.h"
#include "serve_out.h"
#include "serve_req.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fz_check_json(struct json_buf *b) {
    size_t off;
    const char *why;
    if (b->oom)
        return;
    if (json_syntax_check(b->p, b->len, &off, &why) != 0)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1)
        return 0;
    const int kind = data[0] & 1 ? SERVE_COMPLETION : SERVE_CHAT;
    struct eng_sample_params sp = eng_sample_default_params();
    struct serve_req r;
    struct serve_err e;
    struct json_buf b = {0};
    if (serve_req_parse(kind, (const char *)data + 1, size - 1, &sp, 64, &r, &e) != 0) {
        if ((e.status != 400 && e.status != 500) || !e.message[0] || !e.type[0])
            abort();
        serve_err_json(&e, &b);
        fz_check_json(&b);
        free(b.p);
        return 0;
    }
    if (kind == SERVE_CHAT) {
        if (r.n_msgs < 1 || !r.msgs)
            abort();
        for (int i = 0; i < r.n_msgs; i++) {
            const struct serve_msg *m = &r.msgs[i];
            if (!m->role || !m->content || m->content[m->len] != '\0')
                abort();
            if (strcmp(m->role, "system") && strcmp(m->role, "user") &&
                strcmp(m->role, "assistant") && strcmp(m->role, "tool"))
                abort();
        }
    } else if (!r.prompt || r.prompt[r.prompt_len] != '\0') {
        abort();
    }
    if (r.n_stop < 0 || r.n_stop > SERVE_STOP_MAX)
        abort();
    for (int i = 0; i < r.n_stop; i++)
        if (!r.stop[i] || !r.stop[i][0])
            abort();
    if (!(r.sample.temp >= 0) || !(r.sample.top_p >= 0 && r.sample.top_p <= 1) ||
        r.sample.top_k < 0 || !(r.sample.min_p >= 0 && r.sample.min_p <= 1) ||
        !(r.sample.repeat_penalty > 0) || r.n_predict == 0 || r.think < -1 || r.think > 1)
        abort();
    /* what the server would answer with this request's text */
    struct serve_out o;
    serve_out_init(&o, kind, "model", 1);
    struct eng_stats st = {0};
    const char *text = kind == SERVE_CHAT ? r.msgs[0].content : r.prompt;
    const size_t len = kind == SERVE_CHAT ? r.msgs[0].len : r.prompt_len;
    serve_out_body(&b, &o, text, len, text, len, "stop", &st);
    fz_check_json(&b);
    free(b.p);
    serve_req_free(&r);
    return 0;
}
