/* src/sse.h — a parser of Server-Sent Events (the text/event-stream of the WHATWG HTML
 * standard, as OpenAI-compatible servers stream chat completions): bytes in any chunking in,
 * whole events out. Lines end in LF, CRLF or CR (a CR at the end of one chunk and the LF that
 * starts the next are one line end); `data:` lines of one event are joined with LF; `event:`
 * names it; comments (`:...`), `id:`, `retry:` and unknown fields are skipped; a blank line
 * dispatches; a leading UTF-8 BOM is dropped. An event left without its blank line when the
 * stream ends is not dispatched (sse_finish says it was there). Untrusted input: a line longer
 * than SSE_LINE_MAX or an out-of-memory is an error, never a crash. One parser per stream, used
 * by one thread (the remote backend's transfer thread). */
#ifndef NATTER_SSE_H
#define NATTER_SSE_H

#include <stddef.h>

enum { SSE_LINE_MAX = 8 << 20 }; /* bytes of one line, and of one event's data */

struct sse_event {
    const char *event;  /* the event: field, "" when there was none (NUL-terminated) */
    const char *data;   /* the data lines joined by LF, NUL-terminated (may hold NULs) */
    size_t len;
};
/* Called once per event; a non-zero return stops sse_feed, which returns that value. */
typedef int (*sse_event_fn)(void *ud, const struct sse_event *ev);

struct sse_parser {
    char *line; size_t line_len, line_cap;   /* the line being received */
    char *data; size_t data_len, data_cap;   /* the event's data so far */
    char event[64];
    int has_data;      /* a data: line was seen since the last dispatch */
    int pending;       /* a field line was seen since the last dispatch */
    int cr;            /* the last byte fed was a CR */
    int started;       /* past the first bytes (BOM check) */
    unsigned char bom; /* BOM bytes matched so far */
    size_t n_events;   /* events dispatched */
};

void sse_init(struct sse_parser *p);
/* Feeds n bytes. 0, the callback's non-zero value, or -1 (a line or an event's data longer than
 * SSE_LINE_MAX, or out of memory: the parser is then unusable). */
int sse_feed(struct sse_parser *p, const char *buf, size_t n, sse_event_fn fn, void *ud);
/* The end of the stream: 1 when an event (or a line) was cut off by it, else 0. */
int sse_finish(const struct sse_parser *p);
void sse_free(struct sse_parser *p);

#endif
