/* ui/hyperlink.c — OSC 8 detection and sequences (see hyperlink.h). UI thread. */
#include "hyperlink.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int hyper_enabled(void) {
    const char *v = getenv("NATTER_HYPERLINKS");
    if (v && *v)
        return strcmp(v, "0") != 0;
    if (getenv("TMUX") || getenv("STY"))
        return 0;
    const char *tp = getenv("TERM_PROGRAM");
    static const char *const known[] = {"iTerm.app", "WezTerm", "vscode", "ghostty"};
    for (size_t i = 0; tp && i < sizeof known / sizeof known[0]; i++)
        if (!strcmp(tp, known[i]))
            return 1;
    const char *vte = getenv("VTE_VERSION");
    if (vte && atoi(vte) >= 5000)
        return 1;
    return getenv("KITTY_WINDOW_ID") != NULL || getenv("WT_SESSION") != NULL;
}

static int url_ok(const char *url) {
    size_t n = 0;
    for (; url[n]; n++)
        if ((unsigned char)url[n] <= 0x20 || (unsigned char)url[n] >= 0x7f)
            return 0;
    return n > 0 && n <= HYPER_URL_MAX;
}

size_t hyper_append(char *out, size_t cap, size_t used, int y, int x, const char *url,
                    const char *sgr, const char *text, size_t len) {
    if (!url_ok(url) || used >= cap || len > (size_t)1 << 20)
        return used;
    int n = snprintf(out + used, cap - used, "\033[%d;%dH\033]8;;%s\033\\\033[%sm%.*s\033]8;;\033\\"
                     "\033[0m", y + 1, x + 1, url, sgr, (int)len, text);
    if (n < 0 || (size_t)n >= cap - used) {
        out[used] = '\0';
        return used;
    }
    return used + (size_t)n;
}
