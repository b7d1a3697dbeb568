/* ui/layout.h — the chat's pure text layout: UTF-8 decoding, display widths (wcwidth, so CJK,
 * combining marks and emoji measure right), making untrusted text safe to show, word wrapping,
 * cursor placement and scrolling maths, the name a model file is shown by. No terminal, no
 * allocation except layout_sanitize() (layout_model_name frees its own).
 * Widths follow the current LC_CTYPE locale (the UI makes sure it is a UTF-8 one).
 * Any thread (pure functions). Nothing fails but layout_sanitize (NULL when out of memory, its
 * result the caller's to free); bad input (invalid UTF-8, control bytes) is shown, not
 * refused. Text pointers given in are borrowed for the call only. */
#ifndef NATTER_UI_LAYOUT_H
#define NATTER_UI_LAYOUT_H

#include <stddef.h>
#include <stdint.h>

/* Decodes one code point from s (len > 0 bytes). Returns the bytes it spans (>= 1). Invalid,
 * overlong, surrogate or truncated sequences give *cp = 0xFFFD and span 1 byte. */
int layout_utf8_decode(const char *s, size_t len, uint32_t *cp);
/* Encodes cp into out (>= 4 bytes); returns the byte count (invalid cp -> U+FFFD). */
int layout_utf8_encode(uint32_t cp, char *out);
/* The length of s's longest prefix that does not end inside a multibyte sequence which is still
 * incomplete (the rest may be completed by bytes that have not arrived yet). */
size_t layout_utf8_complete_len(const char *s, size_t len);

/* Columns a code point takes: 0 (combining, zero-width), 1 or 2 (wide: CJK, most emoji).
 * Non-printable code points give -1 (layout_sanitize replaces them). */
int layout_cp_width(uint32_t cp);
/* Columns taken by len bytes of sanitized text (no newlines). */
int layout_str_width(const char *s, size_t len);

/* The bytes of s's longest prefix of whole characters that fits in maxw columns (a zero-width
 * character stays with the one before it); *width (may be NULL) gets its columns. */
size_t layout_fit(const char *s, size_t len, int maxw, int *width);

/* Returns a malloc'd NUL-terminated copy of len bytes of untrusted text that is safe to write to
 * a terminal: newlines kept; tab -> 4 spaces; other C0 controls and DEL in caret notation (ESC
 * -> "^[", BEL -> "^G"); C1 controls and other non-printable code points as "<U+XXXX>";
 * invalid UTF-8 bytes as U+FFFD. *out_len (may be NULL) gets the length. NULL if out of memory. */
char *layout_sanitize(const char *s, size_t len, size_t *out_len);

/* The name a model file is shown by (status bar, reply labels): app_model_short_name (the
 * base name without ".gguf", a remote's MODEL), sanitized, and when wider than max_w columns
 * (> 0; at least 5 are kept) cut in the middle with "…" so that both its start (the model) and its end (the quantization: Q4_K_M)
 * stay; max_w <= 0 never cuts. Into out (cap > 0 bytes, NUL-terminated, cut on a character
 * boundary when it does not fit). Returns out. */
char *layout_model_name(const char *path, int max_w, char *out, size_t cap);

/* One display line of wrapped text: bytes [off, off + len) of the text, width columns. */
struct layout_line {
    int off, len, width;
};
enum layout_wrap_mode {
    LAYOUT_WRAP_WORD = 0, /* break after spaces when a word does not fit (hard break if none) */
    LAYOUT_WRAP_CHAR = 1, /* break at any character (the input area: cursor maths stay simple) */
};
/* Wraps sanitized text to width columns (>= 1); '\n' ends a line. Spaces at a word break are
 * dropped from the line's end. Zero-width code points stay with the character before them; a
 * wide character never straddles two lines. Writes at most cap lines and returns the number
 * needed (>= 1: empty text is one empty line). */
int layout_wrap(const char *s, size_t len, int width, int mode, struct layout_line *lines,
                int cap);

/* Where the cursor goes for byte offset point in text wrapped (LAYOUT_WRAP_CHAR) into lines:
 * *row and *col (a cursor after a full line moves to the start of the next row). */
void layout_cursor(const char *s, const struct layout_line *lines, int n_lines, int width,
                   int point, int *row, int *col);

/* A view of `view` rows on `total` rows of content. top is the first row shown; follow means
 * "stay at the bottom as content grows" (the user has not scrolled back). */
struct layout_scroll {
    int top;
    int follow;
};
/* Re-clamps after content or view size changed; a following view moves to the bottom. */
void layout_scroll_fix(struct layout_scroll *s, int total, int view);
/* Scrolls by delta rows (negative: back); reaching the bottom turns follow on again. */
void layout_scroll_by(struct layout_scroll *s, int delta, int total, int view);

#endif
