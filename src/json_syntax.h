/* src/json_syntax.h — a strict RFC 8259 syntax check of JSON text, run before any untrusted
 * JSON reaches SQLite's JSON functions. SQLite 3.40's json_valid() accepts some invalid text
 * (an array or object where an object key belongs, when its last value is a string) and its
 * other JSON functions then read past their parse tree and crash; this check is the gate. Also
 * the diagnostic: where the first error is. Pure function, any thread. */
#ifndef NATTER_JSON_SYNTAX_H
#define NATTER_JSON_SYNTAX_H

#include <stddef.h>

enum { JSON_SYNTAX_DEPTH_MAX = 1000 }; /* arrays and objects nested deeper are refused */

/* 0 when p[0..n) is exactly one JSON value (whitespace around it allowed, no NUL byte);
 * otherwise -1 with *off the byte offset of the first error and *why a short reason ("nested
 * deeper than 1000 levels") or NULL for a plain syntax error. */
int json_syntax_check(const char *p, size_t n, size_t *off, const char **why);

/* The same check as a message: 0 when valid, else -1 with msg (size bytes) holding
 * "invalid JSON at line L, column C" (1-based, columns in UTF-8 characters) and ": why" when
 * there is a reason. */
int json_syntax_error(const char *p, size_t n, char *msg, size_t size);

/* The kind of the value in text that passed the check: its first byte after whitespace ('{'
 * object, '[' array, '"' string, 't'/'f' boolean, 'n' null, else a number). */
char json_syntax_top(const char *p, size_t n);

/* Decoding of one JSON string literal p[0..n) (quotes included, as SQLite's `->` operator returns
 * a string member of checked text) into the exact bytes it stands for: escapes decoded, \u0000
 * kept as a NUL byte (SQLite 3.40's `->>` and json_extract() stop at it), and every byte that is
 * not well-formed UTF-8 (a raw invalid byte, an overlong or surrogate sequence, a lone \uD800
 * escape) replaced by U+FFFD. out must hold 3 * n bytes; *out_len gets the length. Returns the
 * JSON_TEXT_* flags of what was found, or -1 when p is not a string literal. */
enum { JSON_TEXT_NUL = 1, JSON_TEXT_BAD_UTF8 = 2 };
int json_text_decode(const char *p, size_t n, char *out, size_t *out_len);

#endif
