/* tests/test_remote.c — the remote backend (src/remote.c) against a scripted local server
 * (tests/tools/sse_server.py, python3): the request body, streamed text and reasoning, usage
 * and timings as stats, skipped garbage lines, a one-body reply, raw completions, the model
 * list, and every way a reply can fail — malformed, cut, killed and stalled streams, 401, 404,
 * 429 with its Retry-After, 5xx, both context-size errors, refused connections, unknown hosts
 * — each ending in exactly one ERROR frame with its code after the text already streamed; and a
 * cancel that ends a long stream at once. Skips when python3 is missing. */
#include "harness.h"
#include "json_read.h"
#include "remote.h"
#include "backend.h"

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct rt_server {
    pid_t pid;
    char port_file[512];
    char base[128];
};

/* Starts the scripted server; 0, or -1 (python3 missing: the caller skips). */
static int rt_server_start(struct rt_server *s) {
    if (system("command -v python3 >/dev/null 2>&1") != 0)
        return -1;
    snprintf(s->port_file, sizeof s->port_file, "%s/port", test_tmpdir());
    s->pid = fork();
    if (s->pid == 0) {
        execlp("python3", "python3", "tests/tools/sse_server.py", s->port_file, (char *)NULL);
        _exit(127);
    }
    for (int i = 0; i < 200; i++) { /* up to 10 s on a loaded machine */
        char *t = test_read_file(s->port_file, NULL);
        if (t) {
            snprintf(s->base, sizeof s->base, "http://127.0.0.1:%d", atoi(t));
            free(t);
            return 0;
        }
        nanosleep(&(struct timespec){0, 50000000}, NULL);
    }
    return -1;
}

static void rt_server_stop(struct rt_server *s) {
    if (s->pid > 0) {
        kill(s->pid, SIGKILL);
        waitpid(s->pid, NULL, 0);
    }
}

/* What one reply streamed. */
struct rt_reply {
    char text[4096], think[1024], err[512];
    size_t text_len, think_len;
    int n_token_frames, n_done, n_error, n_stats, done, code, after_end;
    struct eng_stats st;
    int rc;             /* remote_gen_join's */
    double ms;          /* from start to the last frame */
};

static double rt_now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Runs one request through remote_start and collects its frames; cancel_after > 0 cancels
 * after that many text frames. 0, or -1 when remote_start failed (err in r->err). */
static int rt_run(const struct remote_endpoint *ep, const struct remote_request *rq,
                  struct rt_reply *r, int cancel_after) {
    memset(r, 0, sizeof *r);
    int fd[2];
    if (pipe(fd) != 0)
        return -1;
    struct remote_gen *g;
    double t0 = rt_now_ms();
    if (remote_start(ep, rq, fd[1], 77, &g, r->err, sizeof r->err) != 0) {
        close(fd[0]);
        close(fd[1]);
        return -1;
    }
    struct eng_frame h;
    unsigned char p[ENG_FRAME_MAX];
    int ended = 0;
    while (!ended && eng_frame_read(fd[0], &h, p) == 1) {
        if (h.gen_id != 77)
            r->after_end++;
        if (h.type == ENG_EV_TOKEN || h.type == BACKEND_EV_REASONING) {
            if (h.len == 0 || h.len > ENG_FRAME_MAX - sizeof h)
                r->after_end++;
            char *dst = h.type == ENG_EV_TOKEN ? r->text : r->think;
            size_t *len = h.type == ENG_EV_TOKEN ? &r->text_len : &r->think_len;
            size_t cap = h.type == ENG_EV_TOKEN ? sizeof r->text : sizeof r->think;
            if (*len + h.len < cap) {
                memcpy(dst + *len, p, h.len);
                *len += h.len;
                dst[*len] = 0;
            }
            if (h.type == ENG_EV_TOKEN && ++r->n_token_frames == cancel_after)
                remote_gen_cancel(g);
        } else if (h.type == ENG_EV_STATS) {
            r->n_stats++;
            memcpy(&r->st, p, sizeof r->st);
        } else if (h.type == ENG_EV_DONE) {
            r->n_done++;
            memcpy(&r->done, p, 4);
            ended = 1;
        } else if (h.type == ENG_EV_ERROR) {
            r->n_error++;
            int32_t c;
            memcpy(&c, p, 4);
            r->code = c;
            snprintf(r->err, sizeof r->err, "%.*s", (int)(h.len - 4), (char *)p + 4);
            ended = 1;
        }
    }
    r->ms = rt_now_ms() - t0;
    r->rc = remote_gen_join(g);
    /* nothing after DONE/ERROR: the write end is still ours, so read what is left */
    close(fd[1]);
    while (eng_frame_read(fd[0], &h, p) == 1)
        r->after_end++;
    close(fd[0]);
    return 0;
}

static const struct remote_msg rt_msgs[] = {{"system", "Be brief.", 9}, {"user", "Hi \"you\"\n", 9}};

static void rt_request(struct remote_request *rq, const struct eng_sample_params *sp) {
    memset(rq, 0, sizeof *rq);
    rq->msgs = rt_msgs;
    rq->n_msgs = 2;
    rq->sample = sp;
    rq->think = -1;
}

/* Runs scenario name (the URL's first segment) with a default request. */
static int rt_scenario(struct rt_server *s, const char *name, int timeout_s, struct rt_reply *r) {
    char url[256];
    snprintf(url, sizeof url, "%s/%s", s->base, name);
    struct remote_endpoint ep = {url, "m", NULL, timeout_s};
    struct remote_request rq;
    rt_request(&rq, NULL);
    return rt_run(&ep, &rq, r, 0);
}

#define RT_START(s)                                                                 \
    struct rt_server s = {0};                                                       \
    if (rt_server_start(&s) != 0) SKIP("python3 is missing (the scripted server)")

TEST(remote_request_body) {
    struct eng_sample_params sp = eng_sample_default_params();
    sp.temp = 0.7f;
    sp.seed = 42;
    const char *stop[] = {"</s>", "\nUser:"};
    struct remote_request rq;
    rt_request(&rq, &sp);
    rq.n_predict = 64;
    rq.stop = stop;
    rq.n_stop = 2;
    rq.think = 0;
    struct remote_endpoint ep = {"http://x", "qwen3", NULL, 0};
    char *j = remote_request_json(&ep, &rq);
    CHECK(j);
    CHECK_STR_EQ(j, "{\"stream\":true,\"stream_options\":{\"include_usage\":true},"
                    "\"model\":\"qwen3\",\"messages\":[{\"role\":\"system\",\"content\":"
                    "\"Be brief.\"},{\"role\":\"user\",\"content\":\"Hi \\\"you\\\"\\n\"}],"
                    "\"temperature\":0.7,\"top_p\":0.95,\"top_k\":40,\"min_p\":0.05,"
                    "\"repeat_penalty\":1,\"repeat_last_n\":64,\"presence_penalty\":0,"
                    "\"frequency_penalty\":0,\"seed\":42,\"max_tokens\":64,"
                    "\"stop\":[\"</s>\",\"\\nUser:\"],"
                    "\"chat_template_kwargs\":{\"enable_thinking\":false}}");
    free(j);
    /* raw: a prompt, no messages, no thinking field; no model, random seed: not sent */
    sp.seed = ENG_SEED_RANDOM;
    rq.prompt = "Once";
    rq.prompt_len = 4;
    rq.n_predict = 0;
    rq.n_stop = 0;
    ep.model = NULL;
    j = remote_request_json(&ep, &rq);
    CHECK(j);
    CHECK_STR_EQ(j, "{\"stream\":true,\"stream_options\":{\"include_usage\":true},"
                    "\"prompt\":\"Once\",\"temperature\":0.7,\"top_p\":0.95,\"top_k\":40,"
                    "\"min_p\":0.05,\"repeat_penalty\":1,\"repeat_last_n\":64,"
                    "\"presence_penalty\":0,\"frequency_penalty\":0}");
    free(j);
}

TEST(remote_stream_normal) {
    RT_START(s);
    struct rt_reply r;
    char url[256];
    snprintf(url, sizeof url, "%s/normal/v1/", s.base); /* a base with /v1 and a slash */
    struct remote_endpoint ep = {url, "m", "sk-secret", 5};
    struct remote_request rq;
    struct eng_sample_params sp = eng_sample_default_params();
    rt_request(&rq, &sp);
    CHECK_EQ_INT(rt_run(&ep, &rq, &r, 0), 0);
    CHECK_STR_EQ(r.text, "Hello, world! é日本");
    CHECK_EQ_INT(r.n_token_frames, 3);
    CHECK_EQ_INT(r.n_done, 1);
    CHECK_EQ_INT(r.n_error, 0);
    CHECK_EQ_INT(r.done, ENG_DONE_EOG);
    CHECK_EQ_INT(r.n_stats, 1);
    CHECK_EQ_INT(r.st.n_prompt, 8); /* 12 prompt tokens, 4 of them cached */
    CHECK_EQ_INT(r.st.n_reused, 4);
    CHECK_EQ_INT(r.st.n_gen, 5);
    CHECK_EQ_INT(r.st.n_past, 17);
    CHECK_EQ_INT(r.st.n_ctx, -1);
    CHECK_EQ_INT(r.st.n_drafted, -1);
    CHECK(r.st.ttft_ms > 0);
    CHECK_EQ_INT(r.rc, 0);
    CHECK_EQ_INT(r.after_end, 0);
    char path[600];
    snprintf(path, sizeof path, "%s.auth", s.port_file);
    char *auth = test_read_file(path, NULL);
    CHECK_STR_EQ(auth, "Bearer sk-secret");
    free(auth);
    snprintf(path, sizeof path, "%s.req", s.port_file);
    char *body = test_read_file(path, NULL);
    CHECK(body);
    struct json_doc *d;
    char err[128];
    CHECK_EQ_INT(json_doc_parse(body, strlen(body), &d, err, sizeof err), 0);
    const struct json_node *msgs = json_node_get(json_doc_root(d), "messages");
    CHECK(msgs && msgs->n == 2);
    CHECK_STR_EQ(json_node_get_str(json_node_at(msgs, 1), "content", NULL), "Hi \"you\"\n");
    json_doc_free(d);
    free(body);
    rt_server_stop(&s);
}

TEST(remote_stream_reasoning_timings_garbage) {
    RT_START(s);
    struct rt_reply r;
    CHECK_EQ_INT(rt_scenario(&s, "reasoning", 5, &r), 0);
    CHECK_STR_EQ(r.think, "Let me think.");
    CHECK_STR_EQ(r.text, "42");
    CHECK_EQ_INT(r.n_done, 1);
    CHECK_EQ_INT(r.st.n_gen, -1); /* no usage sent: unknown */
    CHECK_EQ_INT(r.st.n_prompt, -1);
    CHECK(r.st.prompt_tps == 0);
    CHECK_EQ_INT(rt_scenario(&s, "reasoning2", 5, &r), 0);
    CHECK_STR_EQ(r.think, "hmm");
    CHECK_STR_EQ(r.text, "ok");
    CHECK_EQ_INT(rt_scenario(&s, "timings", 5, &r), 0);
    CHECK_STR_EQ(r.text, "Hello");
    CHECK_EQ_INT(r.done, ENG_DONE_LENGTH);
    CHECK(r.st.prompt_tps == 250.5f && r.st.gen_tps == 31.25f);
    CHECK_EQ_INT(r.st.n_reused, 4);
    CHECK_EQ_INT(r.st.n_gen, 5);
    CHECK_EQ_INT(rt_scenario(&s, "garbage", 5, &r), 0);
    CHECK_STR_EQ(r.text, "Hello, wor");
    CHECK_EQ_INT(r.n_error, 0);
    CHECK_EQ_INT(r.done, ENG_DONE_EOG);
    CHECK_EQ_INT(rt_scenario(&s, "bytes", 5, &r), 0); /* one byte per TCP write */
    CHECK_STR_EQ(r.text, "Hello, world! é日本");
    CHECK_EQ_INT(r.st.n_gen, 5);
    CHECK_EQ_INT(r.n_done, 1);
    CHECK_EQ_INT(rt_scenario(&s, "body", 5, &r), 0); /* one JSON body, no stream */
    CHECK_STR_EQ(r.text, "Whole reply.");
    CHECK_STR_EQ(r.think, "brief");
    CHECK_EQ_INT(r.st.n_gen, 5);
    CHECK_EQ_INT(r.n_done, 1);
    rt_server_stop(&s);
}

TEST(remote_raw_completion) {
    RT_START(s);
    char url[256];
    snprintf(url, sizeof url, "%s/raw", s.base);
    struct remote_endpoint ep = {url, NULL, NULL, 5};
    struct remote_request rq;
    rt_request(&rq, NULL);
    rq.prompt = "Once upon";
    rq.prompt_len = 9;
    struct rt_reply r;
    CHECK_EQ_INT(rt_run(&ep, &rq, &r, 0), 0);
    CHECK_STR_EQ(r.text, "<Once>");
    CHECK_EQ_INT(r.n_done, 1);
    rt_server_stop(&s);
}

/* Each failure: one ERROR frame with its code, the text streamed before it kept. */
TEST(remote_stream_failures) {
    RT_START(s);
    static const struct {
        const char *name;
        int code;
        const char *text, *err;
    } cases[] = {
        {"badjson", REMOTE_E_STREAM, "Hello",
         "malformed stream from the server: invalid JSON at line 1, column 39 (the reply was cut "
         "after 5 bytes)"},
        {"truncated", REMOTE_E_STREAM, "Hello, wor",
         "the stream ended without [DONE] or a finish_reason (the reply was cut after 10 bytes)"},
        {"midstream_error", REMOTE_E_SERVER, "Hello",
         "server error (HTTP 500): the model crashed (the reply was cut after 5 bytes)"},
        {"e401", REMOTE_E_AUTH, "",
         "not authorized (HTTP 401): check the endpoint's API key: Invalid API Key"},
        {"e404", REMOTE_E_MODEL, "",
         "model 'm' not found (HTTP 404): The model `nope` does not exist."},
        {"e429", REMOTE_E_RATE, "", "rate limited (HTTP 429), retry after 7 s: Rate limit reached"},
        {"e500", REMOTE_E_SERVER, "", "server error (HTTP 500): boom internal"},
        {"e503html", REMOTE_E_SERVER, "",
         "server error (HTTP 503): <html>Service Unavailable</html>"},
        {"ctx_llama", REMOTE_E_CONTEXT, "",
         "the conversation does not fit the model's context (HTTP 400): the request exceeds the "
         "available context size, try increasing it"},
        {"ctx_openai", REMOTE_E_CONTEXT, "",
         "the conversation does not fit the model's context (HTTP 400): This model's maximum "
         "context length is 8192 tokens. However, your messages resulted in 9000 tokens."},
        {"e400", REMOTE_E_REQUEST, "",
         "the server refused the request (HTTP 400): invalid 'temperature'"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct rt_reply r;
        CHECK_EQ_INT(rt_scenario(&s, cases[i].name, 5, &r), 0);
        CHECK_MSG(r.n_error == 1 && r.n_done == 0 && r.code == cases[i].code && r.rc == r.code,
                  "%s: %d errors, %d done, code %d: %s", cases[i].name, r.n_error, r.n_done,
                  r.code, r.err);
        CHECK_MSG(strcmp(r.text, cases[i].text) == 0, "%s: text '%s'", cases[i].name, r.text);
        CHECK_MSG(strcmp(r.err, cases[i].err) == 0, "%s: '%s'", cases[i].name, r.err);
        CHECK_EQ_INT(r.after_end, 0);
        CHECK_STR_EQ(remote_strerror(r.code) ? "ok" : NULL, "ok");
    }
    rt_server_stop(&s);
}

TEST(remote_killed_and_stalled) {
    RT_START(s);
    struct rt_reply r;
    CHECK_EQ_INT(rt_scenario(&s, "stall", 1, &r), 0);
    CHECK_EQ_INT(r.n_error, 1);
    CHECK_EQ_INT(r.code, REMOTE_E_TIMEOUT);
    CHECK_STR_EQ(r.text, "Hello");
    CHECK_STR_EQ(r.err, "timed out: the stream stalled, nothing for 1 s (the reply was cut after "
                        "5 bytes)");
    /* the server sleeps 30 s: a 1 s timeout ends it long before (bound loose for a loaded box) */
    CHECK_MSG(r.ms < 20000, "the stall took %.0f ms to notice", r.ms);
    CHECK_EQ_INT(rt_scenario(&s, "killed", 5, &r), 0); /* the server process dies */
    CHECK_EQ_INT(r.n_error, 1);
    CHECK_EQ_INT(r.code, REMOTE_E_STREAM);
    CHECK_STR_EQ(r.text, "Hello");
    static const char closed[] = "the connection closed before the reply was finished (";
    CHECK_MSG(strncmp(r.err, closed, sizeof closed - 1) == 0 &&
              strstr(r.err, "(the reply was cut after 5 bytes)"), "%s", r.err);
    /* once it is gone, nothing listens on that port */
    waitpid(s.pid, NULL, 0);
    s.pid = 0;
    CHECK_EQ_INT(rt_scenario(&s, "normal", 5, &r), 0);
    CHECK_MSG(r.code == REMOTE_E_REFUSED, "%d: %s", r.code, r.err);
    char want[300];
    snprintf(want, sizeof want, "connection refused: nothing answers at %s/normal/v1/chat/completions",
             s.base);
    CHECK_STR_EQ(r.err, want);
    rt_server_stop(&s);
}

TEST(remote_unknown_host) {
    struct remote_endpoint ep = {"http://natter-no-such-host.invalid:8080", NULL, NULL, 5};
    struct remote_request rq;
    rt_request(&rq, NULL);
    struct rt_reply r;
    CHECK_EQ_INT(rt_run(&ep, &rq, &r, 0), 0);
    CHECK_EQ_INT(r.n_error, 1);
    CHECK_MSG(r.code == REMOTE_E_DNS, "code %d: %s", r.code, r.err);
    CHECK(strncmp(r.err, "unknown host: http://natter-no-such-host.invalid:8080/v1/chat/completions",
                  72) == 0);
    /* a key that would split the header is refused before anything is sent */
    ep.api_key = "a\r\nX-Evil: 1";
    CHECK_EQ_INT(rt_run(&ep, &rq, &r, 0), -1);
    CHECK_STR_EQ(r.err, "the API key holds a control character");
}

TEST(remote_cancel_is_prompt) {
    RT_START(s);
    char url[256];
    snprintf(url, sizeof url, "%s/slow", s.base);
    struct remote_endpoint ep = {url, NULL, NULL, 5};
    struct remote_request rq;
    rt_request(&rq, NULL);
    struct rt_reply r;
    CHECK_EQ_INT(rt_run(&ep, &rq, &r, 3), 0);
    CHECK_EQ_INT(r.n_done, 1);
    CHECK_EQ_INT(r.done, ENG_DONE_CANCELLED);
    CHECK_EQ_INT(r.n_error, 0);
    CHECK_EQ_INT(r.rc, 0);
    CHECK_STR_EQ(r.text, "...");
    /* 600 tokens take 30 s; the cancel after 3 ends it long before (loose for a loaded box) */
    CHECK_MSG(r.ms < 20000, "the cancel took %.0f ms", r.ms);
    rt_server_stop(&s);
}

TEST(remote_models) {
    RT_START(s);
    struct remote_endpoint ep = {s.base, NULL, NULL, 5};
    char **names;
    int n;
    char err[256];
    CHECK_MSG(remote_models_list(&ep, &names, &n, err, sizeof err) == 0, "%s", err);
    CHECK_EQ_INT(n, 3); /* an entry without an id is left out */
    CHECK_STR_EQ(names[0], "qwen3-32b");
    CHECK_STR_EQ(names[1], "llama-3.1-8b");
    CHECK_STR_EQ(names[2], "x [31my"); /* no escape sequence reaches the terminal */
    remote_models_free(names, n);
    char url[256];
    snprintf(url, sizeof url, "%s/e401", s.base);
    ep.url = url;
    CHECK_EQ_INT(remote_models_list(&ep, &names, &n, err, sizeof err), -1);
    CHECK_STR_EQ(err, "not authorized (HTTP 401): check the endpoint's API key: Invalid API Key");
    rt_server_stop(&s);
}
