/* src/serve_req.h — `natter serve`'s request bodies: the JSON of a POST /v1/chat/completions
 * or /v1/completions (untrusted) checked and turned into a struct serve_req, or into an error
 * in OpenAI's shape (struct serve_err: HTTP status, message, type, param, code) naming the
 * field that is wrong. Also the writer of that error body. Fields of OpenAI's protocol that
 * natter does not use (tools, logprobs, n = 1, user...) are ignored; the ones it uses are
 * checked for their type and range. Pure (no I/O); any thread, one request per call.
 * Errors: -1 with *err filled (status 400); out of memory is a 500 with the same shape. */
#ifndef NATTER_SERVE_REQ_H
#define NATTER_SERVE_REQ_H

#include <stddef.h>

#include "engine.h"
#include "json_write.h"

enum serve_kind { SERVE_CHAT = 0, SERVE_COMPLETION = 1 };

enum { SERVE_STOP_MAX = 16 }; /* stop strings a request may give */

/* One message; role is a static string ("system", "user", "assistant", "tool"; "developer"
 * reads as "system"), content is owned (the text parts of an array joined), NUL-terminated. */
struct serve_msg {
    const char *role;
    char *content;
    size_t len;
};

struct serve_req {
    int kind;                          /* enum serve_kind */
    struct serve_msg *msgs;            /* SERVE_CHAT */
    int n_msgs;
    char *prompt;                      /* SERVE_COMPLETION: owned, NUL-terminated */
    size_t prompt_len;
    struct eng_sample_params sample;   /* the defaults given, with the request's fields */
    int n_predict;                     /* max_tokens / max_completion_tokens, else the default */
    char *stop[SERVE_STOP_MAX];        /* owned */
    int n_stop;
    int stream, include_usage;         /* stream, stream_options.include_usage */
    int think;                         /* chat_template_kwargs.enable_thinking, -1: not given */
};

struct serve_err {
    int status;          /* HTTP status */
    char type[32];       /* "invalid_request_error", "authentication_error", "server_error"... */
    char param[64];      /* "" : null */
    char code[40];       /* "" : null */
    char message[400];
};

/* Fills e (printf-style message). */
void serve_err_set(struct serve_err *e, int status, const char *type, const char *param,
                   const char *code, const char *fmt, ...) __attribute__((format(printf, 6, 7)));
/* {"error":{"message":...,"type":...,"param":...,"code":...}} into b. */
void serve_err_json(const struct serve_err *e, struct json_buf *b);

/* Parses body[0..n) as a request of kind; sample and n_predict are the server's defaults.
 * 0 with *out filled (serve_req_free it), or -1 with *err (nothing to free). */
int serve_req_parse(int kind, const char *body, size_t n, const struct eng_sample_params *sample,
                    int n_predict, struct serve_req *out, struct serve_err *err);
void serve_req_free(struct serve_req *r);

#endif
