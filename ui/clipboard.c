/* ui/clipboard.c — OSC 52 and the clipboard file (see clipboard.h). UI thread. */
#include "clipboard.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fdio.h"
#include "layout.h"
#include "paths.h"

char *clip_clean(const char *s, size_t n, size_t *out_len) {
    char *out = malloc(n * 3 + 1); /* an invalid byte becomes 3 bytes of U+FFFD */
    if (!out)
        return NULL;
    size_t o = 0;
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        int k = layout_utf8_decode(s + i, n - i, &cp);
        if (cp == '\t' || cp == '\n' || (cp >= 0x20 && cp != 0x7f && !(cp >= 0x80 && cp < 0xa0)))
            o += cp == 0xFFFD ? (size_t)layout_utf8_encode(cp, out + o)
                              : (memcpy(out + o, s + i, (size_t)k), (size_t)k);
        i += (size_t)k;
    }
    out[o] = '\0';
    if (out_len)
        *out_len = o;
    return out;
}

char *clip_osc52(const char *s, size_t n, size_t *out_len) {
    static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    static const char head[] = "\033]52;c;";
    size_t cap = sizeof head + (n + 2) / 3 * 4 + 2;
    char *out = malloc(cap);
    if (!out)
        return NULL;
    memcpy(out, head, sizeof head - 1);
    size_t o = sizeof head - 1;
    const unsigned char *u = (const unsigned char *)s;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)u[i] << 16 | (i + 1 < n ? (uint32_t)u[i + 1] << 8 : 0) |
                     (i + 2 < n ? u[i + 2] : 0);
        out[o++] = b64[v >> 18 & 63];
        out[o++] = b64[v >> 12 & 63];
        out[o++] = i + 1 < n ? b64[v >> 6 & 63] : '=';
        out[o++] = i + 2 < n ? b64[v & 63] : '=';
    }
    out[o++] = '\a';
    out[o] = '\0';
    if (out_len)
        *out_len = o;
    return out;
}

/* OSC 52 can be used: not turned off, a terminal that may take it, text it can carry. */
static int osc52_usable(size_t n) {
    const char *mode = getenv("NATTER_CLIPBOARD");
    if (mode && !strcmp(mode, "file"))
        return 0;
    if (mode && !strcmp(mode, "osc52"))
        return 1;
    const char *term = getenv("TERM");
    if (!term || !strcmp(term, "dumb") || !strncmp(term, "linux", 5))
        return 0;
    return n <= CLIP_OSC52_MAX;
}

static int copy_to_file(const char *s, size_t n, char *msg, size_t msg_len, const char *why) {
    char dir[4096], path[4200];
    if (!paths_state_dir(dir, sizeof dir)) {
        snprintf(msg, msg_len, "cannot copy: no HOME or XDG_STATE_HOME for the clipboard file");
        return -1;
    }
    snprintf(path, sizeof path, "%s/clipboard.txt", dir);
    FILE *f = NULL;
    int e = 0;
    if (paths_mkdir_p(dir) != 0 || !(f = fopen(path, "w"))) {
        e = errno;
    } else {
        size_t w = fwrite(s, 1, n, f);
        e = w != n ? errno : 0;
        if (fclose(f) != 0 && !e) /* closed either way: never twice */
            e = errno;
        if (w != n && !e)
            e = EIO;
    }
    if (e) {
        snprintf(msg, msg_len, "cannot copy to %.200s: %s", path, strerror(e));
        return -1;
    }
    snprintf(msg, msg_len, "copied to %.200s (%s)", path, why);
    return 0;
}

int clip_copy(const char *s, size_t n, int fd, char *msg, size_t msg_len) {
    size_t cl;
    char *clean = clip_clean(s, n, &cl);
    if (!clean) {
        snprintf(msg, msg_len, "cannot copy: out of memory");
        return -1;
    }
    int lines = cl > 0;
    for (size_t i = 0; i + 1 < cl; i++)
        lines += clean[i] == '\n';
    int rc;
    if (osc52_usable(cl)) {
        size_t ol;
        char *seq = clip_osc52(clean, cl, &ol);
        rc = seq ? fdio_write_all(fd, seq, ol) : -1;
        free(seq);
        if (rc == 0)
            snprintf(msg, msg_len, "copied %d line%s to the clipboard (OSC 52)", lines,
                     lines == 1 ? "" : "s");
        else
            rc = copy_to_file(clean, cl, msg, msg_len, "the terminal could not be written");
    } else {
        rc = copy_to_file(clean, cl, msg, msg_len,
                          cl > CLIP_OSC52_MAX ? "too long for OSC 52"
                                              : "OSC 52 is off: NATTER_CLIPBOARD or TERM");
    }
    free(clean);
    return rc;
}
