/* tests/fuzz/fuzz_reasoning.c — libFuzzer target for the reasoning splitter (src/reasoning.c),
 * which reads model output, untrusted like any generated text. Byte 0 picks the family (and
 * whether the prompt opened the reasoning, and whether its markers are control tokens); the rest
 * is split at NUL bytes into events: a piece starting with \x01 is a control token's text
 * (SPECIAL), others are text, fed in chunks of byte 1's size. Checked: every byte shown is one
 * of the input's (never more output than input, plus the held-back whitespace that is the
 * input's too), no empty emits, and the prompt helpers on the whole input. Single-threaded. */
#include "reasoning.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct fz_sink {
    size_t n;
};

static void fz_emit(void *ud, int part, const char *s, size_t n) {
    struct fz_sink *k = ud;
    if (n == 0 || (part != REASONING_ANSWER && part != REASONING_THOUGHT) || !s)
        abort();
    k->n += n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static const char *const families[] = {"think", "harmony", "mistral", "thought", "seed",
                                           "kimi", "cohere", "gemma4", "none"};
    if (size < 2)
        return 0;
    struct reasoning_markers mk;
    unsigned sel = data[0];
    if ((sel & 15) < 9)
        reasoning_markers_family(&mk, families[sel & 15]);
    else if (reasoning_markers_pair(&mk, "<a>", (sel & 1) ? "</a>" : "<a>") != 0)
        abort();
    if (sel & 32)
        for (int i = 0; i < mk.n; i++)
            mk.m[i].as_text = 0;
    size_t step = data[1] ? data[1] : 1;
    const char *in = (const char *)data + 2;
    size_t n = size - 2;
    struct fz_sink k = {0};
    struct reasoning r;
    reasoning_init(&r, &mk, (sel & 16) != 0, fz_emit, &k);
    size_t i = 0, fed = 0;
    while (i <= n) {
        const char *z = memchr(in + i, 0, n - i);
        size_t end = z ? (size_t)(z - in) : n;
        if (end > i && in[i] == '\x01') {
            reasoning_special(&r, in + i + 1, end - i - 1);
        } else {
            for (size_t o = i; o < end; o += step) {
                size_t c = end - o < step ? end - o : step;
                reasoning_text(&r, in + o, c);
                fed += c;
            }
        }
        (void)reasoning_thinking(&r);
        i = end + 1;
    }
    reasoning_finish(&r);
    if (k.n > fed)
        abort(); /* only the text's own bytes are ever shown */
    if (r.n_out[0] + r.n_out[1] != k.n)
        abort();
    char *t = malloc(n + 1);
    if (!t)
        return 0;
    memcpy(t, in, n);
    t[n] = 0;
    size_t len = strlen(t);
    (void)reasoning_prompt_inside(&mk, t, len);
    if (reasoning_prompt_no_think(&mk, sel & 64, &t, &len) > 0 && strlen(t) != len)
        abort();
    free(t);
    char buf[2 * REASONING_MARKER_LEN + 64];
    if (reasoning_end_text(&mk, buf, sizeof buf) >= sizeof buf)
        abort();
    return 0;
}
