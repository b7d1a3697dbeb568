/* engine/unicode.c — code point category lookup over the generated range table, UTF-8 decoding
 * with llama.cpp's error rule, and GPT-2's byte<->code point alphabet. Pure functions over
 * read-only data: any thread. */
#include "unicode.h"

unsigned unicode_flags(uint32_t cp) {
    size_t lo = 0, hi = unicode_n_ranges;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (cp < unicode_ranges[mid].lo)
            hi = mid;
        else if (cp > unicode_ranges[mid].hi)
            lo = mid + 1;
        else
            return unicode_ranges[mid].flags;
    }
    return UNICODE_UNDEFINED;
}

size_t unicode_len_utf8(unsigned char lead) {
    static const unsigned char lens[16] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 3, 4};
    return lens[lead >> 4];
}

uint32_t unicode_decode(const char *s, size_t len, size_t *pos) {
    const unsigned char *u = (const unsigned char *)s + *pos;
    size_t left = len - *pos;
    unsigned char c = u[0];
    if (c < 0x80) {
        *pos += 1;
        return c;
    }
    size_t n = 0;
    uint32_t cp = 0;
    if ((c & 0xE0) == 0xC0) {
        n = 2;
        cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
        n = 3;
        cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
        n = 4;
        cp = c & 0x07;
    }
    if (n == 0 || left < n) {
        *pos += 1;
        return 0xFFFD;
    }
    for (size_t i = 1; i < n; i++) {
        if ((u[i] & 0xC0) != 0x80) {
            *pos += 1;
            return 0xFFFD;
        }
        cp = (cp << 6) | (u[i] & 0x3F);
    }
    *pos += n;
    return cp;
}

size_t unicode_encode(uint32_t cp, char *out) {
    unsigned char *o = (unsigned char *)out;
    if (cp < 0x80) {
        o[0] = (unsigned char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (unsigned char)(0xC0 | (cp >> 6));
        o[1] = (unsigned char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (unsigned char)(0xE0 | (cp >> 12));
        o[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        o[2] = (unsigned char)(0x80 | (cp & 0x3F));
        return 3;
    }
    o[0] = (unsigned char)(0xF0 | ((cp >> 18) & 0x07));
    o[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
    o[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
    o[3] = (unsigned char)(0x80 | (cp & 0x3F));
    return 4;
}

/* Printable Latin-1 bytes stand for themselves; the other 68 take 256, 257, ... in byte order. */
static int unicode_byte_is_self(unsigned b) {
    return (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
}

uint32_t unicode_byte_to_cp(unsigned char b) {
    if (unicode_byte_is_self(b))
        return b;
    uint32_t n = 0;
    for (unsigned i = 0; i < b; i++)
        n += !unicode_byte_is_self(i);
    return 256 + n;
}

int unicode_cp_to_byte(uint32_t cp) {
    if (cp < 256)
        return unicode_byte_is_self(cp) ? (int)cp : -1;
    if (cp >= 256 + 68)
        return -1;
    uint32_t n = cp - 256;
    for (unsigned b = 0; b < 256; b++) {
        if (!unicode_byte_is_self(b) && n-- == 0)
            return (int)b;
    }
    return -1;
}
