/* tests/fuzz/fuzz_sse.c — libFuzzer target for the SSE parser (src/sse.c), which reads what a
 * remote server streams. Byte 0 picks the chunk size; the rest is fed in chunks of it and again
 * whole: both must give the same events (counted and hashed) and the same end state. Checked
 * too: every event's data is NUL-terminated and no longer than the input. Single-threaded. */
#include "sse.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct fz_sum {
    size_t n, bytes, max;
    uint64_t h;
};

static int fz_event(void *ud, const struct sse_event *ev) {
    struct fz_sum *s = ud;
    if (ev->data[ev->len] != 0 || ev->len > s->max || strlen(ev->event) >= 64)
        abort();
    s->n++;
    s->bytes += ev->len;
    for (size_t i = 0; i < ev->len; i++)
        s->h = (s->h ^ (unsigned char)ev->data[i]) * 1099511628211u;
    for (const char *e = ev->event; *e; e++)
        s->h = (s->h ^ (unsigned char)*e) * 1099511628211u;
    s->h = (s->h ^ 0x100) * 1099511628211u;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1)
        return 0;
    size_t step = data[0] ? data[0] : 1;
    const char *in = (const char *)data + 1;
    size_t n = size - 1;
    struct fz_sum a = {0, 0, n, 1469598103934665603u}, b = a;
    struct sse_parser p;
    sse_init(&p);
    for (size_t i = 0; i < n; i += step)
        if (sse_feed(&p, in + i, n - i < step ? n - i : step, fz_event, &a) != 0)
            abort();
    int cut_a = sse_finish(&p);
    sse_free(&p);
    sse_init(&p);
    if (sse_feed(&p, in, n, fz_event, &b) != 0)
        abort();
    int cut_b = sse_finish(&p);
    sse_free(&p);
    if (a.n != b.n || a.h != b.h || a.bytes != b.bytes || cut_a != cut_b)
        abort();
    return 0;
}
