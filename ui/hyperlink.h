/* ui/hyperlink.h — OSC 8 hyperlinks over the transcript's link text: whether to send them
 * (NATTER_HYPERLINKS=1 or 0 decides; otherwise on only in terminals known to support them:
 * $TERM_PROGRAM iTerm.app, WezTerm, vscode or ghostty, $VTE_VERSION >= 5000, $KITTY_WINDOW_ID,
 * $WT_SESSION, and never inside tmux or screen, which may not pass them on), and the bytes
 * that repaint a link's text as a hyperlink. ncurses cannot write OSC 8 itself, so tui_draw.c
 * writes these after each refresh(), with the cursor saved and restored around them.
 * Pure but hyper_enabled (reads the environment); UI thread. Output goes into the caller's
 * buffer, cut to fit; nothing here fails or allocates. */
#ifndef NATTER_UI_HYPERLINK_H
#define NATTER_UI_HYPERLINK_H

#include <stddef.h>

#define HYPER_URL_MAX 2048 /* longer targets stay plain text */

/* 1: send OSC 8 hyperlinks, 0: do not. */
int hyper_enabled(void);
/* Appends to out (cap bytes, NUL-terminated) the bytes that write text[0..len) at row y,
 * column x (0-based) with the SGR parameters sgr ("0;4;34") as a hyperlink to url, then reset
 * the attributes. url must be printable ASCII (no spaces) of at most HYPER_URL_MAX bytes, text
 * sanitized. Returns the new length of out, or the old one when it does not fit or url is
 * not acceptable. */
size_t hyper_append(char *out, size_t cap, size_t used, int y, int x, const char *url,
                    const char *sgr, const char *text, size_t len);

#endif
