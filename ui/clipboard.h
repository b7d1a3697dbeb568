/* ui/clipboard.h — copying text out of the chat to the system clipboard: an OSC 52 sequence
 * written to the terminal (terminals, tmux with set-clipboard on, and ssh sessions pass it on),
 * or, when OSC 52 cannot carry it (NATTER_CLIPBOARD=file, TERM linux or dumb, more than
 * CLIP_OSC52_MAX bytes), a file: $XDG_STATE_HOME/natter/clipboard.txt. Copied text loses its
 * control characters but tabs and newlines, so a paste carries no escape sequence.
 * UI thread (writes to the terminal). Errors: -1 with a one-line message. */
#ifndef NATTER_UI_CLIPBOARD_H
#define NATTER_UI_CLIPBOARD_H

#include <stddef.h>

#define CLIP_OSC52_MAX 74994 /* bytes of text: 100000 of base64, what xterm and tmux take */

/* s[0..n) without control characters (C0 but tab and newline, DEL, C1) and with invalid UTF-8
 * as U+FFFD: malloc'd, NUL-terminated, *out_len its length. NULL if out of memory. */
char *clip_clean(const char *s, size_t n, size_t *out_len);
/* The OSC 52 sequence that puts s[0..n) on the clipboard: ESC ] 52 ; c ; base64 BEL.
 * malloc'd, NUL-terminated; NULL if out of memory. */
char *clip_osc52(const char *s, size_t n, size_t *out_len);
/* Copies s[0..n) (cleaned) by OSC 52 to fd, or to the file; msg gets the notice that says
 * where it went ("copied 3 lines to the clipboard (OSC 52)"). 0, or -1 (msg says why). */
int clip_copy(const char *s, size_t n, int fd, char *msg, size_t msg_len);

#endif
