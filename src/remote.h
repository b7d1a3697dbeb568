/* src/remote.h — the remote backend: a chat reply from an OpenAI-compatible server
 * (llama.cpp's llama-server, vLLM, ollama, natter serve, hosted APIs) over HTTP with libcurl.
 * POST {url}/v1/chat/completions (or /v1/completions for a raw prompt) with stream:true, the
 * reply read as Server-Sent Events (src/sse.h) and each chunk's JSON (src/json_read.h) turned
 * into the engine's pipe frames (engine/engine.h): text as ENG_EV_TOKEN, the server's separated
 * reasoning as BACKEND_EV_REASONING, usage and llama-server's timings as ENG_EV_STATS, then
 * ENG_EV_DONE or ENG_EV_ERROR with one of the REMOTE_E_* codes below and a one-line text (the
 * text already streamed stays: the error says why it ended). A server that answers with one
 * JSON body instead of a stream is read the same way. The transfer runs on a thread of its own
 * (remote_start); remote_gen_cancel may be called from any thread or a signal handler. The API
 * key is sent as `Authorization: Bearer` and never written anywhere else. */
#ifndef NATTER_REMOTE_H
#define NATTER_REMOTE_H

#include <stddef.h>
#include <stdint.h>

#include "engine.h"

/* ENG_EV_ERROR codes of a remote reply (negative, apart from the engine's ENG_E_*). */
enum remote_error {
    REMOTE_E_REFUSED = -101, /* nothing listens there (connection refused, host unreachable) */
    REMOTE_E_DNS = -102,     /* the host name does not resolve */
    REMOTE_E_TIMEOUT = -103, /* no connection, or no byte of the reply, within timeout_s */
    REMOTE_E_AUTH = -104,    /* 401/403: a missing or wrong API key */
    REMOTE_E_MODEL = -105,   /* 404: no such model (or no such route) */
    REMOTE_E_RATE = -106,    /* 429: rate limited (the text says the Retry-After) */
    REMOTE_E_SERVER = -107,  /* 5xx */
    REMOTE_E_CONTEXT = -108, /* the prompt does not fit the model's context */
    REMOTE_E_STREAM = -109,  /* malformed or cut stream (no [DONE] and no finish_reason) */
    REMOTE_E_REQUEST = -110, /* another 4xx: the server refused the request */
    REMOTE_E_NETWORK = -111, /* another transfer error (TLS, a bad URL, ...) */
};
/* A short name of a code ("connection refused", ...), or NULL for another value. */
const char *remote_strerror(int code);

struct remote_endpoint {
    const char *url;     /* base URL: http://host:8080 or .../v1 */
    const char *model;   /* model name to request, NULL: server default */
    const char *api_key; /* NULL: none; never logged or stored */
    int timeout_s;       /* connect + stall timeout, <= 0: 30 */
};
struct remote_msg {
    const char *role;
    const char *content;
    size_t len;
};
struct remote_request {
    const struct remote_msg *msgs; /* /v1/chat/completions */
    int n_msgs;
    const char *prompt;            /* non-NULL: /v1/completions instead (--raw) */
    size_t prompt_len;
    const struct eng_sample_params *sample; /* sent as request fields (NULL: none sent) */
    int n_predict;                 /* max_tokens, <= 0: not sent */
    const char *const *stop;
    int n_stop;
    int think;                     /* -1: not sent; 0/1: chat_template_kwargs.enable_thinking */
};
struct remote_gen;

/* Starts the request on its own thread; frames as above on fd tagged gen_id. Everything is
 * copied: ep and rq may go once it returns. 0, or -1 with err (out of memory, a bad argument,
 * no thread). */
int remote_start(const struct remote_endpoint *ep, const struct remote_request *rq, int fd,
                 uint32_t gen_id, struct remote_gen **out, char *err, size_t err_len);
/* Async-safe: aborts the transfer at once (the reply ends with DONE CANCELLED). */
void remote_gen_cancel(struct remote_gen *g);
/* Joins and frees; 0 or the error code (REMOTE_E_*, ENG_E_NOMEM). */
int remote_gen_join(struct remote_gen *g);

/* GET /v1/models: *names (caller frees with remote_models_free), in the server's order. 0, or
 * -1 with a one-line err. Blocks (up to the timeout); any thread. */
int remote_models_list(const struct remote_endpoint *ep, char ***names, int *n, char *err,
                       size_t err_len);
void remote_models_free(char **names, int n);

/* The request body remote_start sends (for tests and --dry-run): a NUL-terminated JSON text
 * (caller frees), NULL when out of memory. */
char *remote_request_json(const struct remote_endpoint *ep, const struct remote_request *rq);

#endif
