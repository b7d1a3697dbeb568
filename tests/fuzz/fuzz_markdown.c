/* tests/fuzz/fuzz_markdown.c — libFuzzer target for the transcript's Markdown renderer: any
 * bytes (byte 0 picks the width, 1..80) render without a crash, every line fits the width,
 * no control byte reaches the rendered text or a link target, and every code block md_render
 * counted can be taken out for copying; the same with md_stream_tail's closing markers added,
 * as a streaming reply is rendered. Single-threaded. */
#include <locale.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "markdown.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static int init;
    if (!init) {
        if (!setlocale(LC_CTYPE, "C.UTF-8"))
            setlocale(LC_CTYPE, "en_US.UTF-8");
        init = 1;
    }
    if (size < 1)
        return 0;
    int width = 1 + data[0] % 80;
    const char *src = (const char *)data + 1;
    size_t len = size - 1;
    struct md_doc d = {0};
    if (md_render(src, len, width, &d) != 0)
        return 0; /* out of memory only */
    for (int i = 0; i < d.n_lines; i++)
        if (d.lines[i].width > width)
            abort();
    for (size_t i = 0; i < d.len; i++) {
        unsigned char c = (unsigned char)d.text[i];
        if (c < 0x20 || c == 0x7f)
            abort();
        if (c == 0xc2 && i + 1 < d.len && (unsigned char)d.text[i + 1] >= 0x80 &&
            (unsigned char)d.text[i + 1] < 0xa0)
            abort(); /* a C1 control */
    }
    for (int k = 0; k < d.n_links; k++)
        for (const char *p = d.links[k].url; *p; p++)
            if ((unsigned char)*p < 0x20 || *p == 0x7f)
                abort();
    for (int n = 0; n < d.n_codes; n++) {
        size_t cl;
        char *c = md_code_block(src, len, n, &cl);
        if (!c)
            abort();
        free(c);
    }
    md_doc_free(&d);
    /* as the chat renders a reply that is still streaming: its open spans closed */
    char tail[4];
    size_t tl = md_stream_tail(src, len, tail);
    if (tl > 3)
        abort();
    char *grown = malloc(len + tl + 1);
    if (!grown)
        return 0;
    memcpy(grown, src, len);
    memcpy(grown + len, tail, tl);
    if (md_render(grown, len + tl, width, &d) == 0)
        for (int i = 0; i < d.n_lines; i++)
            if (d.lines[i].width > width)
                abort();
    md_doc_free(&d);
    free(grown);
    return 0;
}
