/* src/utf8.h — UTF-8 as RFC 3629 defines it: encoding a code point, and the length of a
 * well-formed sequence (no overlong forms, no surrogates, nothing above U+10FFFF). For the
 * JSON reader and the Jinja engine. Pure functions, any thread; no errors (a bad sequence has
 * length 0). */
#ifndef NATTER_UTF8_H
#define NATTER_UTF8_H

#include <stddef.h>
#include <stdint.h>

/* Writes cp (< 0x110000; a surrogate is written as its 3 bytes) into o; returns 1..4. */
size_t utf8_put(char *o, uint32_t cp);
/* The length (1..4) of the well-formed sequence at s[0..n), 0 when there is none (n == 0, a
 * stray continuation byte, a cut, overlong or surrogate sequence, a code point past U+10FFFF). */
size_t utf8_valid_len(const unsigned char *s, size_t n);

#endif
