/* src/serve.h — `natter serve`: the engine behind an OpenAI-compatible HTTP API
 * (libmicrohttpd): POST /v1/chat/completions and /v1/completions (streamed as server-sent
 * events or whole), GET /v1/models, GET /health. Owns the HTTP daemon (one thread per
 * connection), N contexts each served by a worker thread (requests go to the idle context
 * whose KV cache shares the longest prefix with their prompt, the others wait in a bounded
 * queue; a full queue answers 503), and the responses. A client that disconnects cancels its
 * generation. Every failure a client causes is a 4xx JSON error in OpenAI's shape
 * (src/serve_req.h); errors of its own are 5xx in the same shape.
 *
 * Generation goes through the engine backend (src/backend.h), one per context: it renders the
 * messages with the model's chat template, tokenizes them and generates.
 *
 * Threads: serve_start / serve_port / serve_stop from one thread (the main thread); the model
 * and the prompt maker are borrowed and outlive the server (the prompt maker is used under
 * the server's lock, one render at a time). */
#ifndef NATTER_SERVE_H
#define NATTER_SERVE_H

#include <stddef.h>

#include "app.h"
#include "chat_prompt.h"
#include "engine.h"

struct serve_params {
    const char *host;            /* address to bind: "127.0.0.1" (default), "::1", "0.0.0.0" */
    int port;                    /* 0: any free port (serve_port says which) */
    const char *api_key;         /* NULL or "": no key; else "Authorization: Bearer KEY" */
    int parallel;                /* contexts (requests generating at once), >= 1 */
    int queue_max;               /* requests waiting for a context, beyond: 503 */
    size_t max_body;             /* request body limit in bytes, beyond: 413 */
    const char *model_name;      /* the id /v1/models lists and responses carry */
    struct app_settings set;     /* each context's size, threads and KV type; the defaults of
                                  * the request's sampling fields, max_tokens (n_predict <= 0:
                                  * until the end or a full context) and enable_thinking */
};

struct serve;

/* Creates the contexts and starts listening. 0, or -1 with a one-line message in err. */
int serve_start(eng_model *m, chat_prompt *cp, const struct serve_params *p, struct serve **out,
                char *err, size_t err_len);
/* The port it listens on. */
int serve_port(const struct serve *s);
/* Stops accepting, answers queued requests 503, lets running ones finish for up to grace_ms
 * and cancels the rest (their responses end as cancelled), then frees everything. */
void serve_stop(struct serve *s, int grace_ms);

#endif
