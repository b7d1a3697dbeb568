/* ui/highlight.h — a small table-driven syntax highlighter for the transcript's code blocks:
 * one table row per language (names, keywords, types, comment and string syntax) classifies
 * each byte of a line of code. Languages: C/C++, Python, shell, JSON, JavaScript/TypeScript,
 * diff, Rust, Go. Pure; any thread; no errors (unknown languages get no colours). */
#ifndef NATTER_UI_HIGHLIGHT_H
#define NATTER_UI_HIGHLIGHT_H

#include <stddef.h>

enum hl_class {
    HL_NONE = 0,
    HL_KEYWORD,
    HL_TYPE,    /* built-in types; JSON object keys */
    HL_STRING,
    HL_COMMENT,
    HL_NUMBER,
    HL_META,    /* preprocessor lines, shell variables, diff headers and hunks */
    HL_ADD,     /* diff: added line */
    HL_DEL,     /* diff: removed line */
    HL_COUNT
};

/* The language named name[0..len) (a fence's info word: "c", "py", "bash", "json", "js",
 * "diff", ... case-insensitive), or -1 when unknown. */
int hl_lang_find(const char *name, size_t len);

/* What carries over from one line to the next (an open block comment or triple-quoted
 * string). Zero it before the first line. */
struct hl_state {
    int open; /* 0: none, else 1 + index of the open delimiter in the language's table */
};

/* Writes the class of each of the len bytes of one line (no '\n') into cls. lang < 0: all
 * HL_NONE. */
void hl_line(int lang, struct hl_state *st, const char *s, size_t len, unsigned char *cls);

#endif
