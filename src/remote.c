/* src/remote.c — the remote OpenAI-compatible backend (see remote.h): the request body, the
 * transfer on its own thread (a curl multi handle polled with a wake-up pipe, so a cancel
 * takes effect at once and a stalled stream is noticed within a second), the SSE or one-body
 * reply turned into frames, and the one-line errors. */
#include "remote.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <locale.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "backend.h"
#include "fdio.h"
#include "json_read.h"
#include "json_write.h"
#include "sse.h"

enum { REMOTE_ERRBODY_MAX = 64 << 10,  /* an error's body kept for its message */
       REMOTE_BODY_MAX = 64 << 20,     /* a one-body (non-streamed) reply */
       REMOTE_MSG_MAX = 200 };         /* bytes of a server's message quoted in an error */

const char *remote_strerror(int code) {
    switch (code) {
    case REMOTE_E_REFUSED: return "connection refused";
    case REMOTE_E_DNS: return "unknown host";
    case REMOTE_E_TIMEOUT: return "timed out";
    case REMOTE_E_AUTH: return "not authorized";
    case REMOTE_E_MODEL: return "model not found";
    case REMOTE_E_RATE: return "rate limited";
    case REMOTE_E_SERVER: return "server error";
    case REMOTE_E_CONTEXT: return "context too long";
    case REMOTE_E_STREAM: return "bad stream";
    case REMOTE_E_REQUEST: return "request refused";
    case REMOTE_E_NETWORK: return "network error";
    default: return NULL;
    }
}

static pthread_once_t remote_curl_once = PTHREAD_ONCE_INIT;
static int remote_curl_ok;
static void remote_curl_init(void) {
    remote_curl_ok = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
}

static double remote_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* ---- the request ---- */

/* A float as the shortest text that reads back to it (0.7, not 0.699999988), C notation. */
static void remote_put_float(struct json_buf *b, float v) {
    char t[32];
    for (int prec = 1; prec <= 9; prec++) {
        snprintf(t, sizeof t, "%.*g", prec, (double)v);
        if (strtof(t, NULL) == v)
            break;
    }
    json_puts(b, t);
}

static void remote_put_key(struct json_buf *b, const char *key) {
    json_puts(b, ",\"");
    json_puts(b, key);
    json_puts(b, "\":");
}

char *remote_request_json(const struct remote_endpoint *ep, const struct remote_request *rq) {
    locale_t c_loc = newlocale(LC_ALL_MASK, "C", (locale_t)0);
    locale_t old = c_loc ? uselocale(c_loc) : (locale_t)0;
    struct json_buf b = {0};
    json_puts(&b, "{\"stream\":true,\"stream_options\":{\"include_usage\":true}");
    if (ep->model && *ep->model) {
        remote_put_key(&b, "model");
        json_put_str(&b, ep->model, strlen(ep->model));
    }
    if (rq->prompt) {
        remote_put_key(&b, "prompt");
        json_put_str(&b, rq->prompt, rq->prompt_len);
    } else {
        remote_put_key(&b, "messages");
        json_puts(&b, "[");
        for (int i = 0; i < rq->n_msgs; i++) {
            json_puts(&b, i ? ",{\"role\":" : "{\"role\":");
            json_put_str(&b, rq->msgs[i].role, strlen(rq->msgs[i].role));
            json_puts(&b, ",\"content\":");
            json_put_str(&b, rq->msgs[i].content ? rq->msgs[i].content : "", rq->msgs[i].len);
            json_puts(&b, "}");
        }
        json_puts(&b, "]");
    }
    const struct eng_sample_params *s = rq->sample;
    if (s) {
        char t[32];
        remote_put_key(&b, "temperature");
        remote_put_float(&b, s->temp < 0 ? 0 : s->temp);
        remote_put_key(&b, "top_p");
        remote_put_float(&b, s->top_p);
        remote_put_key(&b, "top_k");
        snprintf(t, sizeof t, "%d", s->top_k);
        json_puts(&b, t);
        remote_put_key(&b, "min_p");
        remote_put_float(&b, s->min_p);
        remote_put_key(&b, "repeat_penalty");
        remote_put_float(&b, s->repeat_penalty);
        remote_put_key(&b, "repeat_last_n");
        snprintf(t, sizeof t, "%d", s->penalty_last_n);
        json_puts(&b, t);
        remote_put_key(&b, "presence_penalty");
        remote_put_float(&b, s->presence_penalty);
        remote_put_key(&b, "frequency_penalty");
        remote_put_float(&b, s->freq_penalty);
        if (s->seed != ENG_SEED_RANDOM) {
            remote_put_key(&b, "seed");
            snprintf(t, sizeof t, "%llu", (unsigned long long)s->seed);
            json_puts(&b, t);
        }
    }
    if (rq->n_predict > 0) {
        char t[16];
        remote_put_key(&b, "max_tokens");
        snprintf(t, sizeof t, "%d", rq->n_predict);
        json_puts(&b, t);
    }
    if (rq->n_stop > 0) {
        remote_put_key(&b, "stop");
        json_puts(&b, "[");
        for (int i = 0; i < rq->n_stop; i++) {
            if (i)
                json_puts(&b, ",");
            json_put_str(&b, rq->stop[i], strlen(rq->stop[i]));
        }
        json_puts(&b, "]");
    }
    if (rq->think >= 0 && !rq->prompt) {
        remote_put_key(&b, "chat_template_kwargs");
        json_puts(&b, rq->think ? "{\"enable_thinking\":true}" : "{\"enable_thinking\":false}");
    }
    json_puts(&b, "}");
    if (c_loc) {
        uselocale(old);
        freelocale(c_loc);
    }
    if (b.oom) {
        free(b.p);
        return NULL;
    }
    return b.p;
}

/* base + "/v1/" + route, the base's trailing slashes and /v1 dropped. NULL: out of memory. */
static char *remote_url(const char *base, const char *route) {
    size_t n = strlen(base);
    while (n > 0 && base[n - 1] == '/')
        n--;
    if (n >= 3 && memcmp(base + n - 3, "/v1", 3) == 0)
        n -= 3;
    size_t len = n + 4 + strlen(route) + 1;
    char *u = malloc(len);
    if (u)
        snprintf(u, len, "%.*s/v1/%s", (int)n, base, route);
    return u;
}

/* ---- errors ---- */

/* The server's words, safe for one line: control bytes become spaces, clipped at a UTF-8
 * character boundary. */
static void remote_clean(char *dst, size_t cap, const char *s, size_t n) {
    size_t o = 0;
    for (size_t i = 0; i < n && o + 1 < cap; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (o + 1 >= REMOTE_MSG_MAX && (ch & 0xC0) != 0x80)
            break;
        dst[o++] = ch < 0x20 || ch == 0x7f ? ' ' : (char)ch;
    }
    while (o > 0 && dst[o - 1] == ' ')
        o--;
    while (o > 0 && ((unsigned char)dst[o - 1] & 0xC0) == 0x80) { /* drop a cut character */
        size_t k = o;
        while (k > 0 && ((unsigned char)dst[k - 1] & 0xC0) == 0x80)
            k--;
        if (k == 0)
            break;
        unsigned char lead = (unsigned char)dst[k - 1];
        size_t need = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;
        if (o - (k - 1) >= need)
            break;
        o = k - 1;
    }
    if (cap)
        dst[o] = 0;
}

static int remote_contains(const char *s, const char *word) {
    size_t n = strlen(word);
    for (; s && *s; s++)
        if (strncasecmp(s, word, n) == 0)
            return 1;
    return 0;
}

/* Reads an error object: {"error":{"message","type","code"}} (OpenAI, llama-server, vLLM),
 * {"error":"text"} (ollama), {"message"} or {"detail"} (others). */
static void remote_error_fields(const struct json_node *root, char *msg, size_t msg_cap,
                                char *type, size_t type_cap) {
    msg[0] = type[0] = 0;
    const struct json_node *e = json_node_get(root, "error");
    const struct json_node *obj = e && e->type == JSON_OBJECT ? e : root;
    size_t len = 0;
    const char *m = e && e->type == JSON_STRING ? e->str : json_node_get_str(obj, "message", &len);
    if (e && e->type == JSON_STRING)
        len = e->len;
    if (!m)
        m = json_node_get_str(obj, "detail", &len);
    if (m)
        remote_clean(msg, msg_cap, m, len);
    const char *t = json_node_get_str(obj, "type", &len);
    const char *c = json_node_get_str(obj, "code", NULL);
    char both[160];
    snprintf(both, sizeof both, "%s %s", t ? t : "", c ? c : "");
    remote_clean(type, type_cap, both, strlen(both));
}

/* Whether the error's words say the prompt is past the context: OpenAI's code
 * context_length_exceeded, llama-server's type exceed_context_size_error, vLLM's "maximum
 * context length", llama-server's older "exceeds the available context size". */
static int remote_is_context(const char *msg, const char *type) {
    return remote_contains(type, "context_length_exceeded") ||
           remote_contains(type, "exceed_context_size") ||
           remote_contains(msg, "context length") || remote_contains(msg, "context size") ||
           remote_contains(msg, "context window") || remote_contains(msg, "maximum context");
}

/* An HTTP error status with its body: the code and one line in err. */
static int remote_http_error(long status, const char *body, size_t n, const char *retry_after,
                             const char *model, const char *url, char *err, size_t err_len) {
    char msg[REMOTE_MSG_MAX + 8] = "", type[160] = "";
    struct json_doc *d = NULL;
    char jerr[96];
    if (n > 0 && json_doc_parse(body, n, &d, jerr, sizeof jerr) == 0)
        remote_error_fields(json_doc_root(d), msg, sizeof msg, type, sizeof type);
    else if (n > 0)
        remote_clean(msg, sizeof msg, body, n); /* a plain-text or HTML error page */
    json_doc_free(d);
    char said[REMOTE_MSG_MAX + 32] = "";
    if (msg[0])
        snprintf(said, sizeof said, ": %s", msg);
    if (status >= 400 && remote_is_context(msg, type)) {
        snprintf(err, err_len, "the conversation does not fit the model's context (HTTP %ld)%s",
                 status, said);
        return REMOTE_E_CONTEXT;
    }
    if (status == 401 || status == 403) {
        snprintf(err, err_len, "not authorized (HTTP %ld): check the endpoint's API key%s",
                 status, said);
        return REMOTE_E_AUTH;
    }
    if (status == 404) {
        if (model && *model)
            snprintf(err, err_len, "model '%s' not found (HTTP 404)%s", model, said);
        else
            snprintf(err, err_len, "not found (HTTP 404): %s%s", url, said);
        return REMOTE_E_MODEL;
    }
    if (status == 429) {
        char ra[96] = "";
        if (retry_after && *retry_after) {
            int digits = retry_after[strspn(retry_after, "0123456789")] == 0;
            snprintf(ra, sizeof ra, ", retry after %s%s", retry_after, digits ? " s" : "");
        }
        snprintf(err, err_len, "rate limited (HTTP 429)%s%s", ra, said);
        return REMOTE_E_RATE;
    }
    if (status >= 500) {
        snprintf(err, err_len, "server error (HTTP %ld)%s", status, said);
        return REMOTE_E_SERVER;
    }
    snprintf(err, err_len, "the server refused the request (HTTP %ld)%s", status, said);
    return REMOTE_E_REQUEST;
}

/* A transfer error (no HTTP status to read): the code and one line. */
static int remote_curl_error(CURLcode rc, const char *url, const char *detail, int timeout_s,
                             char *err, size_t err_len) {
    switch (rc) {
    case CURLE_COULDNT_CONNECT:
        snprintf(err, err_len, "connection refused: nothing answers at %s", url);
        return REMOTE_E_REFUSED;
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
        snprintf(err, err_len, "unknown host: %s (%s)", url, detail[0] ? detail : "DNS failed");
        return REMOTE_E_DNS;
    case CURLE_OPERATION_TIMEDOUT:
        snprintf(err, err_len, "timed out: no connection to %s within %d s", url, timeout_s);
        return REMOTE_E_TIMEOUT;
    default:
        snprintf(err, err_len, "network error: %s (%s)", detail[0] ? detail : curl_easy_strerror(rc),
                 url);
        return REMOTE_E_NETWORK;
    }
}

/* ---- the transfer ---- */

enum { REMOTE_MODE_NONE, REMOTE_MODE_SSE, REMOTE_MODE_BODY, REMOTE_MODE_ERROR };

struct remote_gen {
    pthread_t thread;
    int fd;
    uint32_t gen_id;
    char *url, *body, *auth, *model;
    int timeout_s, raw;
    volatile sig_atomic_t cancel;
    int wake[2];            /* remote_gen_cancel writes a byte: the poll wakes at once */
    CURL *easy;
    struct curl_slist *headers;
    char curl_err[CURL_ERROR_SIZE];
    /* the reply */
    long status;
    int mode;
    struct json_buf raw_body; /* MODE_BODY / MODE_ERROR: the whole body */
    struct sse_parser sse;
    char retry_after[64];
    int got_done, got_finish, finish;
    int fail_code;          /* a reason to end found while reading (REMOTE_E_*, ENG_E_*) */
    char fail[512];
    size_t n_text;          /* reply bytes streamed (text and reasoning) */
    int have_usage;
    long n_prompt, n_gen, n_cached;
    double prompt_tps, gen_tps;
    long n_drafted, n_accepted;
    double t_start, t_first, t_last, t_byte;
    int rc;
};

static int remote_frame(struct remote_gen *g, uint16_t type, const void *p, size_t n) {
    unsigned char buf[ENG_FRAME_MAX];
    struct eng_frame h = {type, (uint16_t)n, g->gen_id};
    memcpy(buf, &h, sizeof h);
    memcpy(buf + sizeof h, p, n);
    if (fdio_write_all(g->fd, buf, sizeof h + n) != 0) {
        if (!g->fail_code) {
            g->fail_code = ENG_E_IO;
            snprintf(g->fail, sizeof g->fail, "the reply's reader is gone: %s", strerror(errno));
        }
        return -1;
    }
    return 0;
}

/* Text as frames of whole UTF-8 characters (json_read gives well-formed UTF-8). */
static int remote_text(struct remote_gen *g, uint16_t type, const char *s, size_t n) {
    const size_t cap = ENG_FRAME_MAX - sizeof(struct eng_frame);
    if (n > 0) {
        double now = remote_now();
        if (g->n_text == 0)
            g->t_first = now;
        g->t_last = now;
        g->n_text += n;
    }
    while (n > 0) {
        size_t k = n <= cap ? n : cap;
        if (k < n)
            while (k > 0 && ((unsigned char)s[k] & 0xC0) == 0x80)
                k--;
        if (k == 0)
            k = n < cap ? n : cap;
        if (remote_frame(g, type, s, k) != 0)
            return -1;
        s += k;
        n -= k;
    }
    return 0;
}

static void remote_fail(struct remote_gen *g, int code, const char *what) {
    if (g->fail_code)
        return;
    g->fail_code = code;
    if (g->n_text)
        snprintf(g->fail, sizeof g->fail, "%s (the reply was cut after %zu bytes)", what,
                 g->n_text);
    else
        snprintf(g->fail, sizeof g->fail, "%s", what);
}

static long remote_num(const struct json_node *obj, const char *key) {
    const struct json_node *v = json_node_get(obj, key);
    return v && v->type == JSON_NUMBER && v->num >= 0 && v->num < 2e9 ? (long)v->num : -1;
}

static double remote_rate(const struct json_node *obj, const char *key) {
    const struct json_node *v = json_node_get(obj, key);
    return v && v->type == JSON_NUMBER && v->num > 0 && v->num < 1e12 ? v->num : 0;
}

/* One chunk (or the one body): text, reasoning, finish_reason, usage, timings. 0 or -1 (end
 * the transfer: g->fail says why). */
static int remote_chunk(struct remote_gen *g, const char *text, size_t n) {
    struct json_doc *d = NULL;
    char jerr[128];
    if (json_doc_parse(text, n, &d, jerr, sizeof jerr) != 0) {
        char what[200];
        snprintf(what, sizeof what, "malformed stream from the server: %s", jerr);
        remote_fail(g, REMOTE_E_STREAM, what);
        return -1;
    }
    const struct json_node *root = json_doc_root(d);
    int rc = 0;
    const struct json_node *err = json_node_get(root, "error");
    if (err && err->type != JSON_NULL) { /* an error sent inside the stream */
        char msg[REMOTE_MSG_MAX + 8], type[160], what[300];
        remote_error_fields(root, msg, sizeof msg, type, sizeof type);
        const struct json_node *c = err->type == JSON_OBJECT ? json_node_get(err, "code") : NULL;
        long st = c && c->type == JSON_NUMBER ? (long)c->num : 500;
        int code = remote_http_error(st, text, n, NULL, g->model, g->url, what, sizeof what);
        remote_fail(g, code, what);
        json_doc_free(d);
        return -1;
    }
    const struct json_node *choices = json_node_get(root, "choices");
    const struct json_node *ch = json_node_at(choices, 0);
    if (ch) {
        const struct json_node *delta = json_node_get(ch, "delta");
        if (!delta)
            delta = json_node_get(ch, "message");
        size_t len = 0;
        const char *r = json_node_get_str(delta, "reasoning_content", &len);
        if (!r)
            r = json_node_get_str(delta, "reasoning", &len);
        if (r && len && remote_text(g, BACKEND_EV_REASONING, r, len) != 0)
            rc = -1;
        const char *t = g->raw ? json_node_get_str(ch, "text", &len)
                               : json_node_get_str(delta, "content", &len);
        if (rc == 0 && t && len && remote_text(g, ENG_EV_TOKEN, t, len) != 0)
            rc = -1;
        const char *fr = json_node_get_str(ch, "finish_reason", NULL);
        if (fr) {
            g->got_finish = 1;
            g->finish = !strcmp(fr, "length") ? ENG_DONE_LENGTH : ENG_DONE_EOG;
        }
    }
    const struct json_node *u = json_node_get(root, "usage");
    if (u && u->type == JSON_OBJECT) {
        g->have_usage = 1;
        g->n_prompt = remote_num(u, "prompt_tokens");
        g->n_gen = remote_num(u, "completion_tokens");
        long cached = remote_num(json_node_get(u, "prompt_tokens_details"), "cached_tokens");
        if (cached >= 0)
            g->n_cached = cached;
    }
    const struct json_node *tm = json_node_get(root, "timings"); /* llama-server's */
    if (tm && tm->type == JSON_OBJECT) {
        g->prompt_tps = remote_rate(tm, "prompt_per_second");
        g->gen_tps = remote_rate(tm, "predicted_per_second");
        long cache_n = remote_num(tm, "cache_n");
        if (cache_n >= 0 && g->n_cached < 0)
            g->n_cached = cache_n;
        if (g->n_prompt < 0 && remote_num(tm, "prompt_n") >= 0)
            g->n_prompt = remote_num(tm, "prompt_n") + (cache_n > 0 ? cache_n : 0);
        if (g->n_gen < 0)
            g->n_gen = remote_num(tm, "predicted_n");
        g->n_drafted = remote_num(tm, "draft_n");
        g->n_accepted = remote_num(tm, "draft_n_accepted");
    }
    json_doc_free(d);
    return rc;
}

static int remote_on_event(void *ud, const struct sse_event *ev) {
    struct remote_gen *g = ud;
    if (g->got_done)
        return 0; /* past [DONE]: nothing more is read */
    if (ev->len == 6 && memcmp(ev->data, "[DONE]", 6) == 0) {
        g->got_done = 1;
        return 0;
    }
    if (ev->len == 0)
        return 0;
    return remote_chunk(g, ev->data, ev->len) != 0 ? 1 : 0;
}

static size_t remote_on_header(char *p, size_t size, size_t nmemb, void *ud) {
    struct remote_gen *g = ud;
    size_t n = size * nmemb;
    g->t_byte = remote_now();
    if (n > 12 && strncasecmp(p, "retry-after:", 12) == 0) {
        const char *v = p + 12;
        size_t len = n - 12;
        while (len && (*v == ' ' || *v == '\t')) {
            v++;
            len--;
        }
        while (len && (v[len - 1] == '\r' || v[len - 1] == '\n' || v[len - 1] == ' '))
            len--;
        remote_clean(g->retry_after, sizeof g->retry_after, v, len);
    }
    return n;
}

static size_t remote_on_body(char *p, size_t size, size_t nmemb, void *ud) {
    struct remote_gen *g = ud;
    size_t n = size * nmemb;
    g->t_byte = remote_now();
    if (g->cancel || g->fail_code)
        return 0;
    if (g->mode == REMOTE_MODE_NONE) {
        char *ct = NULL;
        curl_easy_getinfo(g->easy, CURLINFO_RESPONSE_CODE, &g->status);
        curl_easy_getinfo(g->easy, CURLINFO_CONTENT_TYPE, &ct);
        if (g->status >= 400)
            g->mode = REMOTE_MODE_ERROR;
        else if (ct && remote_contains(ct, "text/event-stream"))
            g->mode = REMOTE_MODE_SSE;
        else if (ct && remote_contains(ct, "json"))
            g->mode = REMOTE_MODE_BODY;
        else { /* no telling type: a body that starts with '{' is one JSON reply */
            size_t i = 0;
            while (i < n && (p[i] == ' ' || p[i] == '\n' || p[i] == '\r' || p[i] == '\t'))
                i++;
            g->mode = i < n && p[i] == '{' ? REMOTE_MODE_BODY : REMOTE_MODE_SSE;
        }
    }
    if (g->mode == REMOTE_MODE_SSE) {
        int rc = sse_feed(&g->sse, p, n, remote_on_event, g);
        if (rc < 0)
            remote_fail(g, REMOTE_E_STREAM, "malformed stream from the server: a line too long");
        return rc == 0 ? n : 0;
    }
    size_t max = g->mode == REMOTE_MODE_ERROR ? REMOTE_ERRBODY_MAX : REMOTE_BODY_MAX;
    if (g->raw_body.len + n > max) {
        if (g->mode == REMOTE_MODE_ERROR)
            return n; /* the rest of a long error page is not needed */
        remote_fail(g, REMOTE_E_STREAM, "the server's reply is larger than 64 MiB");
        return 0;
    }
    json_put(&g->raw_body, p, n);
    if (g->raw_body.oom) {
        remote_fail(g, ENG_E_NOMEM, "out of memory");
        return 0;
    }
    return n;
}

static void remote_send_stats(struct remote_gen *g) {
    struct eng_stats st;
    memset(&st, 0, sizeof st);
    st.n_prompt = (int32_t)(g->n_prompt >= 0 && g->n_cached > 0 ? g->n_prompt - g->n_cached
                                                                : g->n_prompt);
    st.n_reused = (int32_t)g->n_cached;
    st.n_gen = (int32_t)g->n_gen;
    st.n_past = g->n_prompt >= 0 && g->n_gen >= 0 ? (int32_t)(g->n_prompt + g->n_gen) : -1;
    st.n_ctx = -1;
    st.prompt_tps = (float)g->prompt_tps;
    st.gen_tps = (float)g->gen_tps;
    if (st.gen_tps == 0 && g->n_gen > 1 && g->t_last > g->t_first) /* measured here */
        st.gen_tps = (float)((double)(g->n_gen - 1) / (g->t_last - g->t_first));
    st.ttft_ms = g->n_text ? (float)((g->t_first - g->t_start) * 1e3) : 0;
    st.n_drafted = (int32_t)g->n_drafted;
    st.n_accepted = (int32_t)g->n_accepted;
    remote_frame(g, ENG_EV_STATS, &st, sizeof st);
}

static void remote_send_error(struct remote_gen *g, int code, const char *msg) {
    unsigned char buf[ENG_FRAME_MAX - sizeof(struct eng_frame)];
    int32_t c = code;
    memcpy(buf, &c, 4);
    size_t n = strlen(msg);
    if (n > sizeof buf - 4)
        n = sizeof buf - 4;
    while (n > 0 && n < strlen(msg) && ((unsigned char)msg[n] & 0xC0) == 0x80)
        n--;
    memcpy(buf + 4, msg, n);
    g->rc = code;
    remote_frame(g, ENG_EV_ERROR, buf, 4 + n);
}

static void remote_send_done(struct remote_gen *g, int reason) {
    int32_t r = reason;
    remote_frame(g, ENG_EV_DONE, &r, 4);
}

/* Sets the options a request and a model listing share. 0 or -1. */
static int remote_easy_setup(CURL *e, const char *url, struct curl_slist *headers, int timeout_s,
                             char *errbuf) {
    int bad = 0;
    bad |= curl_easy_setopt(e, CURLOPT_URL, url) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_HTTPHEADER, headers) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT, (long)timeout_s) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_ERRORBUFFER, errbuf) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https") != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_USERAGENT, "natter/" NATTER_VERSION) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L) != CURLE_OK;
    return bad ? -1 : 0;
}

static struct curl_slist *remote_headers(const char *auth, int json_body) {
    struct curl_slist *h = NULL, *t;
    if (json_body) {
        if (!(t = curl_slist_append(h, "Content-Type: application/json")))
            goto oom;
        h = t;
        if (!(t = curl_slist_append(h, "Accept: text/event-stream, application/json")))
            goto oom;
        h = t;
    }
    if (!(t = curl_slist_append(h, "Expect:"))) /* no 100-continue round trip */
        goto oom;
    h = t;
    if (auth) {
        if (!(t = curl_slist_append(h, auth)))
            goto oom;
        h = t;
    }
    return h;
oom:
    curl_slist_free_all(h);
    return NULL;
}

/* Runs e to its end, polling the wake pipe (cancel) and watching for a stall. */
static CURLcode remote_perform(struct remote_gen *g, int *stalled) {
    CURLM *m = curl_multi_init();
    if (!m)
        return CURLE_OUT_OF_MEMORY;
    CURLcode res = CURLE_OK;
    if (curl_multi_add_handle(m, g->easy) != CURLM_OK) {
        curl_multi_cleanup(m);
        return CURLE_OUT_OF_MEMORY;
    }
    int running = 1;
    g->t_byte = remote_now();
    while (running) {
        if (curl_multi_perform(m, &running) != CURLM_OK) {
            res = CURLE_OUT_OF_MEMORY;
            break;
        }
        if (!running || g->cancel)
            break;
        if (remote_now() - g->t_byte > (double)g->timeout_s) {
            *stalled = 1;
            break;
        }
        struct curl_waitfd w = {g->wake[0], CURL_WAIT_POLLIN, 0};
        curl_multi_poll(m, &w, 1, 500, NULL);
    }
    int left;
    CURLMsg *msg;
    while ((msg = curl_multi_info_read(m, &left)))
        if (msg->msg == CURLMSG_DONE)
            res = msg->data.result;
    curl_multi_remove_handle(m, g->easy);
    curl_multi_cleanup(m);
    return res;
}

static void *remote_thread(void *arg) {
    struct remote_gen *g = arg;
    int stalled = 0;
    g->t_start = remote_now();
    CURLcode res = remote_perform(g, &stalled);
    char msg[400];
    if (g->status == 0)
        curl_easy_getinfo(g->easy, CURLINFO_RESPONSE_CODE, &g->status);
    if (g->cancel) {
        remote_send_stats(g);
        remote_send_done(g, ENG_DONE_CANCELLED);
        return NULL;
    }
    if (g->status >= 400) {
        int code = remote_http_error(g->status, g->raw_body.p, g->raw_body.len, g->retry_after,
                                     g->model, g->url, msg, sizeof msg);
        remote_send_error(g, code, msg);
        return NULL;
    }
    if (g->fail_code) {
        remote_send_error(g, g->fail_code, g->fail);
        return NULL;
    }
    if (stalled) {
        if (g->mode == REMOTE_MODE_NONE)
            snprintf(msg, sizeof msg, "timed out: no answer from %s within %d s", g->url,
                     g->timeout_s);
        else
            snprintf(msg, sizeof msg, "timed out: the stream stalled, nothing for %d s",
                     g->timeout_s);
        remote_fail(g, REMOTE_E_TIMEOUT, msg);
        remote_send_error(g, g->fail_code, g->fail);
        return NULL;
    }
    if (g->mode == REMOTE_MODE_BODY && res == CURLE_OK) {
        if (remote_chunk(g, g->raw_body.p ? g->raw_body.p : "", g->raw_body.len) != 0) {
            remote_send_error(g, g->fail_code, g->fail);
            return NULL;
        }
        g->got_done = 1;
    }
    int finished = g->got_done || g->got_finish;
    if (res != CURLE_OK && !finished) {
        int code;
        if (g->mode != REMOTE_MODE_NONE || res == CURLE_PARTIAL_FILE || res == CURLE_RECV_ERROR ||
            res == CURLE_GOT_NOTHING) {
            code = REMOTE_E_STREAM;
            snprintf(msg, sizeof msg, "the connection closed before the reply was finished (%s)",
                     g->curl_err[0] ? g->curl_err : curl_easy_strerror(res));
            remote_fail(g, code, msg);
            remote_send_error(g, g->fail_code, g->fail);
        } else {
            code = remote_curl_error(res, g->url, g->curl_err, g->timeout_s, msg, sizeof msg);
            remote_send_error(g, code, msg);
        }
        return NULL;
    }
    if (!finished) {
        remote_fail(g, REMOTE_E_STREAM, "the stream ended without [DONE] or a finish_reason");
        remote_send_error(g, g->fail_code, g->fail);
        return NULL;
    }
    remote_send_stats(g);
    remote_send_done(g, g->got_finish ? g->finish : ENG_DONE_EOG);
    return NULL;
}

static void remote_gen_free(struct remote_gen *g) {
    if (!g)
        return;
    if (g->easy)
        curl_easy_cleanup(g->easy);
    curl_slist_free_all(g->headers);
    if (g->wake[0] >= 0)
        close(g->wake[0]);
    if (g->wake[1] >= 0)
        close(g->wake[1]);
    if (g->auth) { /* the key: not left in freed memory */
        volatile char *p = g->auth;
        while (*p)
            *p++ = 0;
    }
    free(g->auth);
    free(g->url);
    free(g->body);
    free(g->model);
    free(g->raw_body.p);
    sse_free(&g->sse);
    free(g);
}

/* "Authorization: Bearer KEY", NULL with err when the key cannot be a header value. */
static char *remote_auth_header(const char *key, char *err, size_t err_len) {
    for (const char *p = key; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f) {
            snprintf(err, err_len, "the API key holds a control character");
            return NULL;
        }
    size_t n = strlen(key) + 32;
    char *a = malloc(n);
    if (a)
        snprintf(a, n, "Authorization: Bearer %s", key);
    else
        snprintf(err, err_len, "out of memory");
    return a;
}

static int remote_pipe(int p[2]) {
    if (pipe(p) != 0)
        return -1;
    for (int i = 0; i < 2; i++) {
        fcntl(p[i], F_SETFL, fcntl(p[i], F_GETFL) | O_NONBLOCK);
        fcntl(p[i], F_SETFD, FD_CLOEXEC);
    }
    return 0;
}

int remote_start(const struct remote_endpoint *ep, const struct remote_request *rq, int fd,
                 uint32_t gen_id, struct remote_gen **out, char *err, size_t err_len) {
    *out = NULL;
    pthread_once(&remote_curl_once, remote_curl_init);
    if (!remote_curl_ok) {
        snprintf(err, err_len, "libcurl failed to start");
        return -1;
    }
    if (!ep || !ep->url || !*ep->url || !rq || (!rq->prompt && rq->n_msgs <= 0)) {
        snprintf(err, err_len, "a remote request needs a URL and messages or a prompt");
        return -1;
    }
    struct remote_gen *g = calloc(1, sizeof *g);
    if (!g) {
        snprintf(err, err_len, "out of memory");
        return -1;
    }
    g->wake[0] = g->wake[1] = -1;
    g->fd = fd;
    g->gen_id = gen_id;
    g->timeout_s = ep->timeout_s > 0 ? ep->timeout_s : 30;
    g->raw = rq->prompt != NULL;
    g->n_prompt = g->n_gen = g->n_cached = g->n_drafted = g->n_accepted = -1;
    sse_init(&g->sse);
    g->url = remote_url(ep->url, g->raw ? "completions" : "chat/completions");
    g->body = remote_request_json(ep, rq);
    g->model = ep->model ? strdup(ep->model) : NULL;
    if (!g->url || !g->body || (ep->model && !g->model)) {
        snprintf(err, err_len, "out of memory");
        goto fail;
    }
    if (ep->api_key && *ep->api_key && !(g->auth = remote_auth_header(ep->api_key, err, err_len)))
        goto fail;
    if (remote_pipe(g->wake) != 0) {
        snprintf(err, err_len, "pipe: %s", strerror(errno));
        goto fail;
    }
    g->headers = remote_headers(g->auth, 1);
    g->easy = curl_easy_init();
    if (!g->headers || !g->easy ||
        remote_easy_setup(g->easy, g->url, g->headers, g->timeout_s, g->curl_err) != 0 ||
        curl_easy_setopt(g->easy, CURLOPT_POSTFIELDS, g->body) != CURLE_OK ||
        curl_easy_setopt(g->easy, CURLOPT_WRITEFUNCTION, remote_on_body) != CURLE_OK ||
        curl_easy_setopt(g->easy, CURLOPT_WRITEDATA, g) != CURLE_OK ||
        curl_easy_setopt(g->easy, CURLOPT_HEADERFUNCTION, remote_on_header) != CURLE_OK ||
        curl_easy_setopt(g->easy, CURLOPT_HEADERDATA, g) != CURLE_OK) {
        snprintf(err, err_len, "libcurl: cannot set up the request to %s", g->url);
        goto fail;
    }
    int rc = pthread_create(&g->thread, NULL, remote_thread, g);
    if (rc != 0) {
        snprintf(err, err_len, "cannot start the transfer thread: %s", strerror(rc));
        goto fail;
    }
    *out = g;
    return 0;
fail:
    remote_gen_free(g);
    return -1;
}

void remote_gen_cancel(struct remote_gen *g) {
    if (!g)
        return;
    int saved = errno;
    g->cancel = 1;
    ssize_t w = write(g->wake[1], "x", 1); /* async-signal-safe; a full pipe is woken already */
    (void)w;
    errno = saved;
}

int remote_gen_join(struct remote_gen *g) {
    if (!g)
        return 0;
    pthread_join(g->thread, NULL);
    int rc = g->rc;
    remote_gen_free(g);
    return rc;
}

/* ---- GET /v1/models ---- */

static size_t remote_on_models(char *p, size_t size, size_t nmemb, void *ud) {
    struct json_buf *b = ud;
    size_t n = size * nmemb;
    if (b->len + n > REMOTE_BODY_MAX)
        return 0;
    json_put(b, p, n);
    return b->oom ? 0 : n;
}

void remote_models_free(char **names, int n) {
    for (int i = 0; names && i < n; i++)
        free(names[i]);
    free(names);
}

int remote_models_list(const struct remote_endpoint *ep, char ***names, int *n, char *err,
                       size_t err_len) {
    *names = NULL;
    *n = 0;
    pthread_once(&remote_curl_once, remote_curl_init);
    if (!remote_curl_ok || !ep || !ep->url || !*ep->url) {
        snprintf(err, err_len, remote_curl_ok ? "no URL" : "libcurl failed to start");
        return -1;
    }
    int timeout = ep->timeout_s > 0 ? ep->timeout_s : 30;
    char *url = remote_url(ep->url, "models"), *auth = NULL;
    if (!url) {
        snprintf(err, err_len, "out of memory");
        return -1;
    }
    if (ep->api_key && *ep->api_key && !(auth = remote_auth_header(ep->api_key, err, err_len))) {
        free(url);
        return -1;
    }
    struct curl_slist *h = remote_headers(auth, 0);
    CURL *e = curl_easy_init();
    struct json_buf body = {0};
    char cerr[CURL_ERROR_SIZE] = "";
    int rc = -1;
    if (!h || !e || remote_easy_setup(e, url, h, timeout, cerr) != 0 ||
        curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, remote_on_models) != CURLE_OK ||
        curl_easy_setopt(e, CURLOPT_WRITEDATA, &body) != CURLE_OK ||
        curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, 1L) != CURLE_OK ||
        curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME, (long)timeout) != CURLE_OK) {
        snprintf(err, err_len, "libcurl: cannot set up the request to %s", url);
        goto done;
    }
    CURLcode res = curl_easy_perform(e);
    long status = 0;
    curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
    if (res != CURLE_OK) {
        if (res == CURLE_OPERATION_TIMEDOUT && status)
            snprintf(err, err_len, "timed out: %s sent nothing for %d s", url, timeout);
        else
            remote_curl_error(res, url, cerr, timeout, err, err_len);
        goto done;
    }
    if (status >= 400) {
        remote_http_error(status, body.p, body.len, NULL, NULL, url, err, err_len);
        goto done;
    }
    struct json_doc *d = NULL;
    char jerr[128];
    if (json_doc_parse(body.p ? body.p : "", body.len, &d, jerr, sizeof jerr) != 0) {
        snprintf(err, err_len, "%s: not a model list: %s", url, jerr);
        goto done;
    }
    const struct json_node *data = json_node_get(json_doc_root(d), "data");
    if (!data || data->type != JSON_ARRAY) {
        snprintf(err, err_len, "%s: not a model list (no \"data\" array)", url);
        json_doc_free(d);
        goto done;
    }
    char **v = calloc((size_t)data->n + 1, sizeof *v);
    int k = 0, oom = !v;
    for (const struct json_node *m = data->child; v && m; m = m->next) {
        size_t len = 0;
        const char *id = json_node_get_str(m, "id", &len);
        if (!id || !len || memchr(id, 0, len))
            continue;
        if (!(v[k] = malloc(len + 1))) {
            oom = 1;
            break;
        }
        remote_clean(v[k], len + 1, id, len);
        k++;
    }
    json_doc_free(d);
    if (oom) {
        snprintf(err, err_len, "out of memory");
        remote_models_free(v, k);
        goto done;
    }
    *names = v;
    *n = k;
    rc = 0;
done:
    curl_easy_cleanup(e);
    curl_slist_free_all(h);
    if (auth) {
        volatile char *p = auth;
        while (*p)
            *p++ = 0;
    }
    free(auth);
    free(url);
    free(body.p);
    return rc;
}
