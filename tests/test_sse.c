/* tests/test_sse.c — the SSE parser (src/sse.c): fields, comments, line ends, multi-line data,
 * the BOM, the cut at the end, limits, and the same events whatever the chunking (split at
 * every byte boundary, and one byte at a time). */
#include "harness.h"
#include "sse.h"

#include <stdlib.h>
#include <string.h>

/* Events rendered as "event|data\n" with NUL shown as \0, into a growing string. */
struct sse_log {
    char buf[4096];
    size_t len;
};

static int sse_log_fn(void *ud, const struct sse_event *ev) {
    struct sse_log *l = ud;
    int n = snprintf(l->buf + l->len, sizeof l->buf - l->len, "%s|", ev->event);
    l->len += (size_t)n;
    for (size_t i = 0; i < ev->len && l->len + 3 < sizeof l->buf; i++) {
        if (ev->data[i] == 0) {
            memcpy(l->buf + l->len, "\\0", 2);
            l->len += 2;
        } else {
            l->buf[l->len++] = ev->data[i];
        }
    }
    if (l->len + 1 < sizeof l->buf)
        l->buf[l->len++] = '#';
    l->buf[l->len] = 0;
    return 0;
}

/* Parses s[0..n) fed as chunks of step bytes, or (split > 0) as two chunks cut at split. */
static int sse_run(const char *s, size_t n, size_t step, size_t split, struct sse_log *l,
                   int *cut) {
    struct sse_parser p;
    sse_init(&p);
    memset(l, 0, sizeof *l);
    int rc = 0;
    if (split) {
        rc = sse_feed(&p, s, split, sse_log_fn, l);
        if (rc == 0)
            rc = sse_feed(&p, s + split, n - split, sse_log_fn, l);
    } else {
        for (size_t i = 0; i < n && rc == 0; i += step)
            rc = sse_feed(&p, s + i, n - i < step ? n - i : step, sse_log_fn, l);
    }
    *cut = sse_finish(&p);
    sse_free(&p);
    return rc;
}

static const char sse_stream[] =
    "\xEF\xBB\xBF: a comment\r\n"
    "data: {\"a\":1}\r\n\r\n"
    "event: error\n"
    "data:first\n"
    "data:  second\n"
    "id: 7\n"
    "retry: 100\n"
    "bogus line\n"
    "\n"
    "data\r\r"
    "data: x\0y\n\n"
    "\n\n"
    "data: [DONE]\r\n\r\n"
    "data: cut";

static const char sse_expect[] =
    "|{\"a\":1}#error|first\n second#|#|x\\0y#|[DONE]#";

TEST(sse_events) {
    struct sse_log l;
    int cut = 0;
    CHECK_EQ_INT(sse_run(sse_stream, sizeof sse_stream - 1, 1 << 20, 0, &l, &cut), 0);
    CHECK_STR_EQ(l.buf, sse_expect);
    CHECK_EQ_INT(cut, 1);
}

TEST(sse_every_chunking) {
    struct sse_log l;
    size_t n = sizeof sse_stream - 1;
    int cut = 0;
    for (size_t split = 1; split < n; split++) {
        CHECK_EQ_INT(sse_run(sse_stream, n, 0, split, &l, &cut), 0);
        CHECK_MSG(strcmp(l.buf, sse_expect) == 0 && cut == 1, "split at %zu: %s", split, l.buf);
    }
    for (size_t step = 1; step <= 7; step++) {
        CHECK_EQ_INT(sse_run(sse_stream, n, step, 0, &l, &cut), 0);
        CHECK_MSG(strcmp(l.buf, sse_expect) == 0 && cut == 1, "step %zu: %s", step, l.buf);
    }
}

TEST(sse_end_states) {
    struct sse_log l;
    int cut = 1;
    /* a complete stream: nothing cut */
    CHECK_EQ_INT(sse_run("data: a\n\n", 9, 100, 0, &l, &cut), 0);
    CHECK_STR_EQ(l.buf, "|a#");
    CHECK_EQ_INT(cut, 0);
    /* a data line without its blank line: not dispatched, reported cut */
    CHECK_EQ_INT(sse_run("data: a\n", 8, 100, 0, &l, &cut), 0);
    CHECK_STR_EQ(l.buf, "");
    CHECK_EQ_INT(cut, 1);
    /* only comments: nothing, nothing cut */
    CHECK_EQ_INT(sse_run(": ping\n\n: ping\n", 15, 100, 0, &l, &cut), 0);
    CHECK_STR_EQ(l.buf, "");
    CHECK_EQ_INT(cut, 0);
    /* a BOM prefix that is not a BOM stays text */
    CHECK_EQ_INT(sse_run("\xEF\xBB" "data: b\n\n", 11, 1, 0, &l, &cut), 0);
    CHECK_STR_EQ(l.buf, "");
    CHECK_EQ_INT(sse_run("\xEF" "\n" "data: b\n\n", 11, 1, 0, &l, &cut), 0);
    CHECK_STR_EQ(l.buf, "|b#");
}

static int sse_stop_fn(void *ud, const struct sse_event *ev) {
    (void)ev;
    ++*(int *)ud;
    return 5;
}

TEST(sse_stop_and_limit) {
    struct sse_parser p;
    sse_init(&p);
    int calls = 0;
    CHECK_EQ_INT(sse_feed(&p, "data: a\n\ndata: b\n\n", 18, sse_stop_fn, &calls), 5);
    CHECK_EQ_INT(calls, 1);
    sse_free(&p);
    /* a line past SSE_LINE_MAX is an error, fed in pieces */
    sse_init(&p);
    size_t piece = 1 << 20;
    char *big = malloc(piece);
    CHECK(big);
    memset(big, 'x', piece);
    int rc = 0;
    for (size_t fed = 0; fed <= (size_t)SSE_LINE_MAX && rc == 0; fed += piece)
        rc = sse_feed(&p, big, piece, sse_stop_fn, &calls);
    free(big);
    CHECK_EQ_INT(rc, -1);
    sse_free(&p);
}
