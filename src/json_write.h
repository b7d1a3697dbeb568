/* src/json_write.h — building JSON text: a growing buffer, strings escaped as RFC 8259 asks
 * (control bytes and NUL as \u00XX, so a message holding NUL bytes survives; other bytes
 * copied, UTF-8 or not). Out of memory is sticky: check json_buf.oom at the end. Pure; any
 * thread (one buffer per thread). */
#ifndef NATTER_JSON_WRITE_H
#define NATTER_JSON_WRITE_H

#include <stddef.h>
#include <stdint.h>

struct json_buf {
    char *p;          /* NUL-terminated when len > 0 and !oom; caller frees */
    size_t len, cap;
    int oom;
};

/* n raw bytes (JSON syntax the caller writes itself: "{", ",", "\"key\":"...). */
void json_put(struct json_buf *b, const char *s, size_t n);
void json_puts(struct json_buf *b, const char *s);
/* A JSON string of the n bytes at s, quotes included. */
void json_put_str(struct json_buf *b, const char *s, size_t n);

/* JSON numbers. A double is written with the shortest text that reads back as it, and as a
 * float's shortest text when it is exactly a float (settings kept in floats: 0.8f gives 0.8,
 * not 0.800000011920929); NaN and infinities, which JSON lacks, as null. */
void json_put_int(struct json_buf *b, int64_t v);
void json_put_double(struct json_buf *b, double d);

#endif
