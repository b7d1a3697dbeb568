/* engine/unicode.h — code point categories (from the generated table engine/unicode_data.c) and
 * the UTF-8 decoding/encoding the tokenizer uses. Pure functions over read-only data: any thread. */
#ifndef NATTER_UNICODE_H
#define NATTER_UNICODE_H

#include <stddef.h>
#include <stdint.h>

enum unicode_flag {
    UNICODE_UNDEFINED = 0x0001,  /* unassigned (Cn), or past U+10FFFF */
    UNICODE_NUMBER = 0x0002,     /* \p{N} */
    UNICODE_LETTER = 0x0004,     /* \p{L} */
    UNICODE_SEPARATOR = 0x0008,  /* \p{Z} */
    UNICODE_MARK = 0x0010,       /* \p{M} */
    UNICODE_PUNCT = 0x0020,      /* \p{P} */
    UNICODE_SYMBOL = 0x0040,     /* \p{S} */
    UNICODE_CONTROL = 0x0080,    /* \p{C} except Cn */
    UNICODE_WHITESPACE = 0x0100, /* \s: the White_Space property */
};

struct unicode_range {
    uint32_t lo, hi;
    uint16_t flags;
};
extern const struct unicode_range unicode_ranges[];
extern const size_t unicode_n_ranges;

/* The flags of a code point (never 0). */
unsigned unicode_flags(uint32_t cp);

/* Bytes in the UTF-8 sequence a lead byte announces (1 for continuation/invalid bytes). */
size_t unicode_len_utf8(unsigned char lead);

/* Decodes the code point at s[*pos] (len bytes in s) and advances *pos. A malformed or
 * truncated sequence gives U+FFFD and advances one byte (as llama.cpp does). */
uint32_t unicode_decode(const char *s, size_t len, size_t *pos);

/* Encodes cp as UTF-8 into out (4 bytes room); returns the byte count. */
size_t unicode_encode(uint32_t cp, char *out);

/* GPT-2's byte-level BPE alphabet: the code point a byte is written as, and back (-1 if the
 * code point is none of the 256). */
uint32_t unicode_byte_to_cp(unsigned char b);
int unicode_cp_to_byte(uint32_t cp);

#endif
