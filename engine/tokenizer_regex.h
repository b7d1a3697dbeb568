/* engine/tokenizer_regex.h — the regular expressions of the pre-tokenizers (internal to the
 * engine): a small backtracking matcher with the semantics of std::regex in ECMAScript mode,
 * which is what llama.cpp runs its non-custom pre-tokenizer regexes with (llama-vocab.cpp's
 * regex lists, unicode.cpp's unicode_regex_split).
 *
 * Supported syntax: alternation, groups ( ) (?: ), lookahead (?= ) (?! ), greedy and lazy
 * quantifiers * + ? {n} {n,} {n,m}, classes [...] [^...] with ranges, . ^ $ \b \B, the escapes
 * \d \D \s \S \w \W \t \n \r \f \v \0 \xHH \uHHHH and identity escapes, and the categories
 * \p{N} \p{L} \p{P} \p{M} \p{S} \p{Lu} \p{Ll} \p{Lt} \p{Lm} \p{Lo}.
 *
 * Like llama.cpp, a regex that names a category runs over "collapsed" text: every code point
 * below 128 stands for itself, every other one becomes one unit for its category (0xD1 number,
 * 0xD2 letter, 0xD3 punctuation, 0xD4 mark, 0xD5 symbol, 0xD0 anything else, 0x0B whitespace),
 * and \p{X} is that unit plus the ASCII characters of the category. So \p{Lu} is every letter,
 * [^a-z] is true for every non-ASCII letter, and a regex that names a category may not hold a
 * non-ASCII literal. A regex without categories runs over the code points, with non-ASCII
 * whitespace as 0x0B. \s, \d, \w are ASCII (the "C" locale). See tre_unit().
 *
 * A compiled regex is read-only: any number of threads may match with it at once, each with
 * its own struct tre_scratch. */
#ifndef NATTER_TOKENIZER_REGEX_H
#define NATTER_TOKENIZER_REGEX_H

#include <stddef.h>
#include <stdint.h>

struct tre;

/* Per-thread matching memory; zero-initialize, free with tre_scratch_free. Besides the
 * backtrack stack it holds tre_split's memo of (instruction, position) choices known to fail,
 * which tre_split turns on when a piece costs many steps (see tokenizer_regex.c). */
struct tre_scratch {
    void *stack;
    size_t cap;
    uint64_t *memo;     /* open addressing, key + 1 (0: empty) */
    size_t memo_cap, memo_n;
    int memo_on;
    size_t memo_span;   /* positions per instruction in a key (hi - lo + 1) */
    size_t memo_lo;
    size_t steps;
};

/* Compiles src (UTF-8, NUL-terminated). Returns 0, or -1 with one line in err (bad syntax, a
 * category beside a non-ASCII literal, a repeated group that can match empty, or no memory). */
int tre_compile(const char *src, struct tre **out, char *err, size_t err_len);
void tre_free(struct tre *re);
void tre_scratch_free(struct tre_scratch *s);

/* 1 if re runs over collapsed text (it names a category), 0 if over code points. */
int tre_is_collapsed(const struct tre *re);

/* The unit that code point cp (with its unicode_flags fl) is in the text re runs over. */
uint32_t tre_unit(uint32_t cp, unsigned fl, int collapsed);

/* The leftmost-first match starting exactly at pos, within u[lo..hi) (lookaheads see up to hi;
 * ^, \b look back no further than lo). Returns the match's end, -1 if none, -2 if out of
 * memory. not_null refuses an empty match. */
long tre_match(const struct tre *re, const uint32_t *u, size_t lo, size_t hi, size_t pos,
               int not_null, struct tre_scratch *s);

/* Splits u[lo..hi) as std::regex_iterator walks it (llama.cpp's unicode_regex_split_stl):
 * each match is a piece and so is each run of text between matches; empty pieces are dropped.
 * Calls emit(ud, length) for every piece in order. Returns 0, or -1 if out of memory. */
int tre_split(const struct tre *re, const uint32_t *u, size_t lo, size_t hi,
              struct tre_scratch *s, int (*emit)(void *ud, size_t len), void *ud);

#endif
