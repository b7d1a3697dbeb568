/* engine/engine.h — natter's inference engine: the one public header (llama.h style).
 *
 * Runs GGUF language models in-process on the CPU. Knows nothing of curses, SQLite or files
 * other than the model. Opaque handles; *_default_params() structs passed by value; every
 * constructor has a _free that accepts NULL; negative return codes (ENG_E_*) with
 * eng_strerror(), and a one-line detail from eng_last_error() (per thread).
 *
 * Threads: a model is read-only after load and may be shared by contexts on any thread. A
 * context is used by one thread at a time (the generation thread while a eng_gen runs on it).
 */
#ifndef NATTER_ENGINE_H
#define NATTER_ENGINE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct eng_model eng_model;
typedef struct eng_ctx eng_ctx;
typedef struct eng_sampler eng_sampler;
typedef struct eng_gen eng_gen;

/* ---- errors ---- */
enum eng_status {
    ENG_OK = 0,
    ENG_E_IO = -1,          /* open/read/mmap failed */
    ENG_E_FORMAT = -2,      /* malformed model file */
    ENG_E_UNSUPPORTED = -3, /* valid file, but an architecture/type/tokenizer we lack */
    ENG_E_NOMEM = -4,
    ENG_E_ARG = -5,         /* bad argument from the caller */
    ENG_E_CTX_FULL = -6,    /* the context has no room for the tokens */
    ENG_E_CANCELLED = -7,
    ENG_E_THREAD = -8,
    ENG_E_MISMATCH = -9,    /* a state snapshot of another model, context or format version */
    ENG_E_CORRUPT = -10,    /* a state snapshot that is truncated or fails its checksum */
    ENG_E_CHANGED = -11,    /* the model file shrank or changed on disk after it was loaded:
                             * eng_model_free it and load it again */
};
const char *eng_strerror(int rc);
/* The last error's detail on the calling thread, one line, e.g.
 * "tensor 'blk.3.attn_q.weight': data ends past the end of the file". Never NULL. */
const char *eng_last_error(void);

/* ---- models ---- */
struct eng_model_params {
    int vocab_only;                       /* load the tokenizer only (no tensors needed) */
    void (*progress)(float frac, void *ud); /* 0..1 while loading, may be NULL */
    void *progress_ud;
    int no_repack;   /* compute on the weights as stored (no row-interleaved copy at load) */
};
struct eng_model_params eng_model_default_params(void);

/* Loads a GGUF file (one read-only mmap). On success *out owns the mapping. */
int eng_model_load(const char *path, const struct eng_model_params *p, eng_model **out);
void eng_model_free(eng_model *m);

struct eng_model_info {
    char name[128];       /* general.name, else the file's base name */
    char arch[32];        /* general.architecture */
    char types[96];       /* tensor types by bytes, e.g. "Q4_K,Q6_K,F32" */
    char ftype[32];       /* file type label, e.g. "Q4_K_M" (or "" if unknown) */
    int64_t n_params;
    uint64_t file_size;
    int n_ctx_train, n_embd, n_layer, n_head, n_head_kv, n_ff, n_vocab; /* the first attention
                                                     * layer's heads, layer 0's FFN */
    int n_ctx_orig;       /* the pre-training context RoPE scaling extends (= n_ctx_train
                           * without scaling) */
    char rope_scaling[12];/* "yarn", "linear", "longrope" when the file scales RoPE, else "" */
    int n_swa;            /* sliding window of the local layers (0: none) */
    int has_chat_template;
    uint64_t repacked_bytes; /* weights rearranged at load for the SIMD kernels (0: none) */
    double repack_ms;        /* the time that took */
};
void eng_model_info_get(const eng_model *m, struct eng_model_info *out);

/* ENG_OK while the model's file is the one loaded; ENG_E_CHANGED (eng_last_error: "the model
 * file changed on disk: reload it") when it was removed, replaced, resized or rewritten since
 * (one stat of the path), or a read past its shrunken end was absorbed: a SIGBUS inside the
 * mapping is caught, the mapping reads as zeros from then on and eng_decode fails with
 * ENG_E_CHANGED. The generation thread checks this before each prompt. Any thread. */
int eng_model_check(const eng_model *m);

/* A string metadata value (e.g. "tokenizer.chat_template"), NUL-terminated, borrowed from the
 * model (valid until eng_model_free). NULL if absent or not a string. */
const char *eng_model_meta_str(const eng_model *m, const char *key);
/* The same from a GGUF file without loading its model (its header only): a NUL-terminated copy
 * of the value into *out (caller frees; NULL when absent or not a string). ENG_OK, or
 * ENG_E_IO / ENG_E_FORMAT (eng_last_error names the file; a value over max_len bytes is
 * FORMAT) / ENG_E_NOMEM. Any thread. */
int eng_file_meta_str(const char *path, const char *key, size_t max_len, char **out);

/* ---- tokenizer ---- */
int eng_vocab_size(const eng_model *m);
int32_t eng_token_bos(const eng_model *m); /* -1 if none */
int32_t eng_token_eos(const eng_model *m);
int eng_token_is_eog(const eng_model *m, int32_t tok); /* eos, eot, <|im_end|>-like ends */

/* Tokenizes len bytes of text. add_special: BOS/EOS as the model's metadata asks.
 * parse_special: special-token text (e.g. "<|im_start|>") becomes its token; otherwise it is
 * plain text. Returns the number of tokens; if that is > cap, nothing beyond cap is written and
 * the caller retries with a larger buffer. Negative ENG_E_* on error. */
int eng_tokenize(const eng_model *m, const char *text, size_t len, int add_special,
                 int parse_special, int32_t *out, int32_t cap);
/* A rendered prompt: special-token text becomes its token only where every byte of it is the
 * template's own (plain_mask[i] == 0); where any byte is plain text (non-zero: a person's,
 * a file's or a model's words) it stays text, so a message cannot inject control tokens.
 * Otherwise as one eng_tokenize of the whole text with parse_special (the same merges across
 * the boundaries). plain_mask: len bytes, NULL: every byte the template's. */
int eng_tokenize_masked(const eng_model *m, const char *text, size_t len, int add_special,
                        const unsigned char *plain_mask, int32_t *out, int32_t cap);

/* The bytes of one token (byte tokens decoded, SPM "▁" to space). special: render control
 * tokens' text (else they give ""). Returns the length (may be > cap: nothing written past cap;
 * no NUL added). Decoding a sequence = concatenating pieces, except that the SPM leading space
 * of the first token after BOS is dropped when lstrip_first is set via eng_detokenize. */
int eng_token_to_piece(const eng_model *m, int32_t tok, char *buf, int cap, int special);
/* Decodes a sequence into buf (NUL-terminated if room). Returns the length needed. */
int eng_detokenize(const eng_model *m, const int32_t *toks, int n, char *buf, int cap,
                   int special);

/* ---- contexts (KV cache + activations; all memory allocated here, none per token) ---- */
/* The KV cache's type. Q8_0 and Q4_0 are ggml's blocks of 32 values (34 and 18 bytes: about
 * half and a quarter of F16), written as llama.cpp's -ctk/-ctv q8_0|q4_0 write them; they need
 * head dimensions that are multiples of 32. Attention reads them a block of positions at a
 * time, dequantized to float, with the F32 cache's arithmetic. */
enum eng_kv_type { ENG_KV_F16 = 0, ENG_KV_F32 = 1, ENG_KV_Q8_0 = 2, ENG_KV_Q4_0 = 3 };
/* "f16", "f32", "q8_0", "q4_0"; NULL for another value. */
const char *eng_kv_type_name(int kv_type);
/* The type named (as eng_kv_type_name, any case), or -1. */
int eng_kv_type_parse(const char *name);
struct eng_ctx_params {
    int n_ctx;      /* 0: the model's training context, capped at 4096 */
    int n_batch;    /* prompt tokens per forward pass, 0: 512 */
    int n_threads;  /* 0: physical cores */
    int kv_type;    /* enum eng_kv_type */
};
struct eng_ctx_params eng_ctx_default_params(void);
/* A context over m (borrowed: free the context first); caller frees with eng_ctx_free. ENG_OK,
 * or ENG_E_ARG, ENG_E_NOMEM (the buffers or the thread pool) or ENG_E_THREAD (the system
 * would not start the pool's threads); eng_last_error says which. */
int eng_ctx_new(eng_model *m, const struct eng_ctx_params *p, eng_ctx **out);
void eng_ctx_free(eng_ctx *c);
eng_model *eng_ctx_model(const eng_ctx *c); /* the model c was created with (borrowed) */
int eng_ctx_n_ctx(const eng_ctx *c);
int eng_ctx_n_past(const eng_ctx *c);        /* tokens in the KV cache */
size_t eng_ctx_kv_bytes(const eng_ctx *c);   /* bytes allocated for the KV cache */
int eng_ctx_kv_type(const eng_ctx *c);       /* enum eng_kv_type */
/* Bytes of one copy of the recurrent layers' state (convolution inputs + SSM/DeltaNet
 * matrices; 0 without recurrent layers). A context holds the current state and up to
 * *n_checkpoints (if not NULL) checkpoints of the same size. */
size_t eng_ctx_rs_bytes(const eng_ctx *c, int *n_checkpoints);
/* The tokens in the KV cache (borrowed, eng_ctx_n_past() of them). */
const int32_t *eng_ctx_tokens(const eng_ctx *c);
/* Forgets cache positions >= n_past (keeps the first n_past tokens). A model with recurrent
 * layers (LFM2, Qwen3.5, Granite 4.0-H) cannot rewind its state: the context goes back to its
 * latest checkpoint at or before n_past (the start when there is none), so it may keep fewer
 * tokens than asked: eng_ctx_n_past() says how many. */
void eng_ctx_truncate(eng_ctx *c, int n_past);
/* Saves the recurrent state at the current position (a few are kept, the oldest replaced;
 * eng_decode of more than one token does it at its end). No-op for models without recurrent
 * layers. For the end of a reply: the next turn resumes from there. */
void eng_ctx_checkpoint(eng_ctx *c);

/* ---- context state snapshots (a conversation resumed in another process) ----
 * A snapshot holds the context's tokens, the K/V rows of every position of every layer (as the
 * cache stores them: F16 or F32), the recurrent state and its checkpoints: a header (format
 * version, the model's fingerprint, the context's parameters, the sizes, a checksum of its
 * own), the payload, then a trailer with the payload's checksum. Nothing is trusted before it
 * is checked: another model, context size, KV type or version gives ENG_E_MISMATCH, a short,
 * damaged or inconsistent file ENG_E_CORRUPT, a failing read or write ENG_E_IO. */

/* A 64-bit identity of the model file: a hash of its bytes before the tensor data (header,
 * metadata, tensor names, shapes, types and offsets). */
uint64_t eng_model_fingerprint(const eng_model *m);
/* Bytes eng_ctx_state_write writes for c as it is now. */
size_t eng_ctx_state_size(const eng_ctx *c);
/* Writes c's state at fd's offset (fd borrowed; no fsync). ENG_OK or ENG_E_IO. */
int eng_ctx_state_write(const eng_ctx *c, int fd);
/* Reads a snapshot's header and tokens at fd's offset (moving it) and returns how many of
 * toks[0..n) c would get from it: their longest common prefix with the snapshot's tokens,
 * for a model with recurrent layers only a length whose state the snapshot holds (its end or
 * a checkpoint). c is not changed. >= 0, or ENG_E_MISMATCH, ENG_E_CORRUPT, ENG_E_IO. */
int eng_ctx_state_match(const eng_ctx *c, int fd, const int32_t *toks, int n);
/* Restores the snapshot at fd's offset into c, keeping as much of it as matches toks[0..n)
 * (as eng_ctx_state_match says); returns that count (then eng_ctx_n_past()). The whole file
 * is read and its checksums verified; on any error c is left empty (n_past 0) and the error
 * code returned. No logits are kept: the next eng_decode gives them. */
int eng_ctx_state_read(eng_ctx *c, int fd, const int32_t *toks, int n);

/* Runs the model on n tokens appended at position n_past. logits_all: keep logits for every
 * token of this call (teacher forcing); else only for the last. Returns ENG_OK or ENG_E_*. */
int eng_decode(eng_ctx *c, const int32_t *toks, int n, int logits_all);
/* Logits (n_vocab floats, borrowed until the next eng_decode) for the i-th token of the last
 * eng_decode call; i = -1 means the last token. NULL if not kept. */
const float *eng_logits(eng_ctx *c, int i);

/* A flag checked per token and per matmul chunk; eng_decode returns ENG_E_CANCELLED when set.
 * The batches before the cancel stay in the cache; a model with recurrent layers goes back to
 * its latest checkpoint instead (its state may have advanced over part of a batch). */
void eng_ctx_set_cancel(eng_ctx *c, const volatile int *flag);

/* ---- sampling ---- */
struct eng_sample_params {
    float temp;            /* <= 0: greedy */
    int top_k;             /* <= 0: off */
    float top_p;           /* >= 1: off */
    float min_p;           /* <= 0: off */
    float repeat_penalty;  /* 1: off */
    float freq_penalty;    /* 0: off */
    float presence_penalty;/* 0: off */
    int penalty_last_n;    /* window of recent tokens the penalties look at (< 0: all, 0: off) */
    uint64_t seed;         /* ENG_SEED_RANDOM: a different seed each time */
};
#define ENG_SEED_RANDOM 0xFFFFFFFFu  /* llama.cpp's LLAMA_DEFAULT_SEED */
struct eng_sample_params eng_sample_default_params(void);
int eng_sampler_new(const struct eng_sample_params *p, int n_vocab, eng_sampler **out);
void eng_sampler_free(eng_sampler *s);
/* Defaults as llama.cpp's CLI: temp 0.8, top-k 40, top-p 0.95, min-p 0.05, penalties off
 * (repeat 1.0 over the last 64), random seed. The order is llama.cpp's: penalties, top-k,
 * top-p, min-p (these three on the temperature-1 distribution), temperature, draw. */
/* Picks a token from logits (not modified) given the recent history for the penalties.
 * Allocates nothing; the same seed and inputs give the same tokens. */
int32_t eng_sampler_sample(eng_sampler *s, const float *logits, const int32_t *hist, int n_hist);

/* ---- generation on its own thread, streaming events through a pipe ---- */
/* Speculative decoding: drafted tokens are verified by the model in one batch (a batch of up
 * to ENG_DRAFT_MAX + 1 tokens computes each token's logits bit for bit as decoding it alone
 * does), and at each position the sampler draws from the model's own logits as it would
 * without drafts: a draft is kept while it equals the draw, the first draw that differs is the
 * next token. Drafts are deterministic, so this is the speculative-sampling rule (accept with
 * probability p(d), else draw from p without d), and the same seed gives the same tokens with
 * and without drafts. Models with recurrent layers cannot rewind and decode without drafts. */
#define ENG_DRAFT_MAX 15
struct eng_gen_params {
    struct eng_sample_params sample;
    int n_predict;              /* max tokens to generate, <= 0: until the context is full */
    const char *const *stop;    /* stop strings (copied), may be NULL */
    int n_stop;
    int lookup;                 /* > 0: draft up to this many tokens (<= ENG_DRAFT_MAX) from
                                   the context's own n-grams (prompt lookup); 0: off */
    eng_ctx *draft;             /* a draft model's context (borrowed; eng_draft_compatible):
                                   it drafts greedily, up to n_draft tokens; NULL: off */
    int n_draft;                /* <= 0: 8 */
    float draft_p_min;          /* the draft model stops drafting when its probability for
                                   its choice falls below this (0: never) */
    int prefill_only;           /* process the prompt into the KV cache, generate nothing:
                                 * then STATS and DONE (LENGTH), no token is sampled (the
                                 * prompt's last token is processed too) */
    int prompt_chunk;           /* prompt tokens per decode call (one PROGRESS each; a cancel
                                 * keeps the calls done before it), <= 0: 512 */
};
/* ENG_OK when d can draft for m: the same vocabulary (size and every token's text), else
 * ENG_E_ARG with eng_last_error() saying what differs. */
int eng_draft_compatible(const eng_model *m, const eng_model *d);
struct eng_gen_params eng_gen_default_params(void);

/* Starts generating on a new thread. toks/n: the WHOLE prompt (e.g. the rendered conversation);
 * the tokens already in c's KV cache that match its start are reused, only the rest is
 * processed. Events are written to fd (borrowed, never closed) as frames below, tagged with
 * gen_id; the last frame is always DONE (after STATS) or ERROR. */
int eng_gen_start(eng_ctx *c, const int32_t *toks, int n, const struct eng_gen_params *p,
                  int fd, uint32_t gen_id, eng_gen **out);
void eng_gen_cancel(eng_gen *g);   /* async-safe to call from any thread */
/* Ends the generation at the next token boundary instead (DONE reason CANCELLED): every token
 * whose text or SPECIAL frame was sent is then in the context's KV cache, so
 * eng_ctx_tokens() after eng_gen_join is exactly the prompt plus the reply so far, ready to be
 * continued (e.g. with an end-of-thinking marker appended). Async-safe, from any thread. */
void eng_gen_stop(eng_gen *g);
int eng_gen_join(eng_gen *g);      /* joins and frees; returns the generation's status */

/* Pipe frames: header then len bytes; a whole frame is <= PIPE_BUF (written atomically). */
struct eng_frame {
    uint16_t type;    /* enum eng_event */
    uint16_t len;     /* payload bytes after this header */
    uint32_t gen_id;
};
enum eng_event {
    ENG_EV_TOKEN = 1,   /* payload: UTF-8 text, complete characters only */
    ENG_EV_STATS = 2,   /* payload: struct eng_stats */
    ENG_EV_DONE = 3,    /* payload: int32 enum eng_done_reason */
    ENG_EV_ERROR = 4,   /* payload: int32 code, then message text */
    ENG_EV_PROGRESS = 5,/* payload: int32 stage (enum eng_progress_stage), float fraction */
    ENG_EV_SPECIAL = 6, /* payload: int32 token id, then the token's text, e.g. "<|channel|>" */
};
/* Control tokens. A generated token that is a control token of the vocabulary (its text is
 * rendered only with special = 1 in eng_token_to_piece; <unk> included) is never part of TOKEN
 * text: the text before it is sent first (held-back text is released: a special token breaks
 * the text, so no stop string or UTF-8 sequence spans it), then one SPECIAL frame. Consumers
 * show none of it; they may read it as structure (reasoning markers, harmony channels). Model
 * text that merely spells the same characters (ordinary tokens "<|", "channel", "|>") arrives
 * as TOKEN text, so the two are never confused. A SPECIAL whose text equals a stop string ends
 * the generation like the stop string (DONE STOP).
 * End-of-generation tokens never produce a frame: they end the generation (DONE EOG). So does
 * their text when the model spells it with ordinary tokens (TinyStories writes "<|end_story|>"
 * as "<|" "end" "_story" "|>" before its EOS): the text of every end-of-generation control
 * token of the vocabulary is an implicit stop string that ends with DONE EOG, is held back
 * like one and never sent. */
enum eng_done_reason { ENG_DONE_EOG = 0, ENG_DONE_LENGTH = 1, ENG_DONE_CANCELLED = 2,
                       ENG_DONE_CTX_FULL = 3, ENG_DONE_STOP = 4 };
enum eng_progress_stage { ENG_PROGRESS_LOAD = 0, ENG_PROGRESS_PROMPT = 1 };
struct eng_stats {
    int32_t n_prompt;        /* prompt tokens processed (new ones only) */
    int32_t n_reused;        /* prompt tokens reused from the KV cache */
    int32_t n_gen;           /* tokens generated so far */
    int32_t n_past;          /* context used */
    int32_t n_ctx;
    float prompt_tps, gen_tps, ttft_ms;
    uint64_t kv_bytes, rss_bytes;
    int32_t n_drafted;       /* speculative decoding: tokens drafted, and of them kept */
    int32_t n_accepted;
};
#define ENG_FRAME_MAX 512    /* header + payload, <= PIPE_BUF everywhere */

/* Reads one whole frame from fd into hdr/payload (payload must hold ENG_FRAME_MAX bytes).
 * Returns 1 on a frame, 0 on EOF, -1 on error. For the reader (UI) thread. */
int eng_frame_read(int fd, struct eng_frame *hdr, void *payload);

/* ---- system ---- */
int eng_cpu_physical_cores(void);
uint64_t eng_rss_bytes(void);       /* current resident set size of this process */
uint64_t eng_rss_peak_bytes(void);
const char *eng_simd_name(void);    /* the kernels chosen at run time, e.g. "avx512vnni" */

#ifdef __cplusplus
}
#endif
#endif
