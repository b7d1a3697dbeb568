/* tests/tools/mdbench.c — how long the chat's Markdown renderer (ui/markdown.c) takes for one
 * reply, the work it redoes for each token of a streaming reply: FILE (default: a built-in
 * ~8 KB reply of headings, paragraphs, lists, code blocks and tables) rendered N times at WIDTH
 * columns. Prints "bytes B lines L us_per_render T". Single purpose tool.
 *
 *   mdbench [-w WIDTH] [-n N] [FILE]
 */
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "markdown.h"

int main(int argc, char **argv) {
    int width = 100, n = 1000;
    const char *path = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-w") && i + 1 < argc)
            width = atoi(argv[++i]);
        else if (!strcmp(argv[i], "-n") && i + 1 < argc)
            n = atoi(argv[++i]);
        else
            path = argv[i];
    }
    if (!setlocale(LC_CTYPE, "C.UTF-8"))
        setlocale(LC_CTYPE, "en_US.UTF-8");
    static char buf[1 << 20];
    size_t len = 0;
    if (path) {
        FILE *f = fopen(path, "rb");
        if (!f) {
            perror(path);
            return 1;
        }
        len = fread(buf, 1, sizeof buf, f);
        fclose(f);
    } else {
        const char *unit = "## Step\n\nSome **bold** text with `code` and a "
                           "[link](https://example.org/x) that wraps across the width of the "
                           "transcript several times over.\n\n- item one\n- item two with "
                           "*emphasis*\n\n```python\ndef f(x):\n    return x * 2  # double\n```"
                           "\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n";
        while (len + strlen(unit) < 8192) {
            memcpy(buf + len, unit, strlen(unit));
            len += strlen(unit);
        }
    }
    struct md_doc d = {0};
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    for (int i = 0; i < n; i++)
        if (md_render(buf, len, width, &d) != 0)
            return 1;
    clock_gettime(CLOCK_MONOTONIC, &b);
    double us = ((double)(b.tv_sec - a.tv_sec) * 1e9 + (double)(b.tv_nsec - a.tv_nsec)) / 1e3 / n;
    printf("bytes %zu lines %d us_per_render %.1f\n", len, d.n_lines, us);
    md_doc_free(&d);
    return 0;
}
