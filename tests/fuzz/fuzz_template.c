/* tests/fuzz/fuzz_template.c — libFuzzer target for src/prompts.c: the input is at once a
 * template file (prompts_template_parse; a refusal must come with a "path:line: message"), a
 * model's Jinja chat template (prompts_detect must name an installed template), and, split at
 * its NUL bytes, a conversation rendered with the parsed template and with chatml; its text up
 * to the first NUL is also a system prompt's, unwrapped (prompts_text_unwrap: never longer, the
 * same bytes apart from spaces and line breaks). Reads the
 * installed prompts/ once (run from the repository root). Single-threaded. */
#include "prompts.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void render_check(const struct prompts_template *t, const struct prompts_msg *msgs, int n) {
    for (int add = 0; add < 2; add++) {
        char *out = NULL;
        long len = prompts_render(t, msgs, n, add, &out);
        if (len >= 0 && (!out || strlen(out) > (size_t)len))
            abort(); /* the length must cover the string */
        free(out);
    }
}

static int is_blank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

static void unwrap_check(const char *in, size_t len) {
    char *out = prompts_text_unwrap(in, len);
    if (!out)
        return;
    if (strlen(out) > len)
        abort();
    const char *a = in, *b = out;
    for (;;) { /* the same non-blank bytes in the same order */
        while (*a && is_blank(*a))
            a++;
        while (*b && is_blank(*b))
            b++;
        if (*a != *b)
            abort();
        if (!*a)
            break;
        a++, b++;
    }
    free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = 0;

    char err[512];
    err[0] = 0;
    struct prompts_template *t = prompts_template_parse("fuzz", "fuzz.tmpl", text, size, err,
                                                        sizeof err);
    if (!t && strncmp(err, "fuzz.tmpl:", 10))
        abort();

    unwrap_check(text, strlen(text));

    int recognized;
    const char *name = prompts_detect(text, &recognized);
    if (!name || (prompts_template_count() > 0 && !prompts_template_find(name)))
        abort();

    /* the conversation: NUL-separated pieces, roles taken in turn */
    static const char *const roles[] = {"system", "user", "assistant", "user", "tool"};
    struct prompts_msg msgs[16];
    int n = 0;
    for (size_t off = 0; off <= size && n < 16; n++) {
        msgs[n].role = roles[n % 5 == 4 && size % 7 ? 3 : n % 5];
        msgs[n].content = text + off;
        msgs[n].content_len = 0; /* strlen */
        off += strlen(text + off) + 1;
    }
    if (t)
        render_check(t, msgs, n);
    const struct prompts_template *c = prompts_template_find("chatml");
    if (c)
        render_check(c, msgs, n);
    prompts_template_free(t);
    free(text);
    return 0;
}
