/* src/serve_out.h — the JSON `natter serve` answers with, in OpenAI's shapes: the chunks of a
 * streamed reply as server-sent events ("data: {...}\n\n", then "data: [DONE]\n\n"), a whole
 * reply, the model list. A reply carries usage (prompt, completion and cached tokens) and
 * llama-server's `timings` (prompt_n, prompt_per_second, predicted_n, predicted_per_second...),
 * which natter's remote client reads. Pure; any thread (one buffer per call). */
#ifndef NATTER_SERVE_OUT_H
#define NATTER_SERVE_OUT_H

#include <stddef.h>

#include "engine.h"
#include "json_write.h"

/* What every chunk of one reply repeats. */
struct serve_out {
    int kind;             /* enum serve_kind: chat.completion(.chunk) or text_completion */
    char id[48];          /* "chatcmpl-..." / "cmpl-..." */
    long long created;    /* Unix time */
    const char *model;
};

/* Fills o's id from seq (unique within the process) and the time. */
void serve_out_init(struct serve_out *o, int kind, const char *model, unsigned long long seq);

/* A chat stream's first chunk: delta {"role":"assistant","content":""}. */
void serve_out_chunk_role(struct json_buf *b, const struct serve_out *o);
/* A chunk of reply text: delta.content (reasoning 0) or delta.reasoning_content (1); for a
 * completion choices[0].text. */
void serve_out_chunk_text(struct json_buf *b, const struct serve_out *o, int reasoning,
                          const char *s, size_t n);
/* The end of a stream: the chunk with finish_reason, the usage chunk when include_usage
 * (choices []), timings in the last of them, and "data: [DONE]". */
void serve_out_chunk_end(struct json_buf *b, const struct serve_out *o, const char *finish,
                         const struct eng_stats *st, int include_usage);
/* An error inside a stream: "data: {"error":...}" (json: serve_err_json's text). */
void serve_out_chunk_error(struct json_buf *b, const char *json, size_t len);

/* A whole reply: the message (content, and reasoning_content when think_len > 0) or the text,
 * finish_reason, usage, timings. */
void serve_out_body(struct json_buf *b, const struct serve_out *o, const char *text, size_t len,
                    const char *think, size_t think_len, const char *finish,
                    const struct eng_stats *st);

/* GET /v1/models: the one model served. */
void serve_out_models(struct json_buf *b, const char *model, long long created, int n_ctx);

#endif
