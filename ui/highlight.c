/* ui/highlight.c — the code blocks' highlighter (see highlight.h): one row per language in
 * hl_langs, one scanner for all of them. Pure; any thread. */
#include "highlight.h"

#include <string.h>
#include <strings.h>

enum {
    F_PREPROC = 1,   /* a line starting with '#' is a preprocessor line (C) */
    F_DOLLAR = 2,    /* $NAME and ${...} are variables (shell) */
    F_JSON_KEYS = 4, /* a string followed by ':' is a key */
    F_DIFF = 8,      /* whole lines by their first character */
    F_HASH_WORD = 16 /* '#' starts a comment only at a word's start (shell: a#b is a word) */
};

struct hl_lang {
    const char *names;    /* space-separated, lower case */
    const char *keywords; /* space-separated */
    const char *types;
    const char *line_comment;
    const char *block[2][2]; /* open/close delimiters spanning lines */
    unsigned char block_cls[2];
    const char *quotes; /* string delimiters (backslash escapes) */
    int flags;
};

static const struct hl_lang hl_langs[] = {
    {"c h cpp c++ cc cxx hpp objc",
     "if else for while do switch case default break continue return goto sizeof typedef "
     "struct union enum static extern const volatile inline restrict register auto "
     "class namespace template typename public private protected virtual override new delete "
     "using this nullptr true false NULL try catch throw operator constexpr",
     "void char short int long float double signed unsigned bool size_t ssize_t int8_t "
     "int16_t int32_t int64_t uint8_t uint16_t uint32_t uint64_t uintptr_t FILE std string",
     "//", {{"/*", "*/"}, {0, 0}}, {HL_COMMENT, 0}, "\"'", F_PREPROC},
    {"python py python3 py3",
     "and as assert async await break class continue def del elif else except finally for "
     "from global if import in is lambda nonlocal not or pass raise return try while with "
     "yield match case None True False self",
     "int float str bytes bool list dict set tuple object type print len range",
     "#", {{"\"\"\"", "\"\"\""}, {"'''", "'''"}}, {HL_STRING, HL_STRING}, "\"'", 0},
    {"sh bash shell zsh console shellsession ksh",
     "if then else elif fi for while until do done case esac in function return exit local "
     "export readonly set unset shift break continue source alias",
     "echo printf cd ls grep sed awk cat test read eval exec trap make git sudo apt-get",
     "#", {{0, 0}, {0, 0}}, {0, 0}, "\"'", F_DOLLAR | F_HASH_WORD},
    {"json jsonc json5 geojson",
     "true false null", "", NULL, {{0, 0}, {0, 0}}, {0, 0}, "\"", F_JSON_KEYS},
    {"javascript js jsx mjs cjs typescript ts tsx node",
     "break case catch class const continue debugger default delete do else export extends "
     "finally for function if import in instanceof let new return super switch this throw "
     "try typeof var void while with yield async await of static get set true false null "
     "undefined interface type enum implements",
     "Array Object String Number Boolean Promise Map Set JSON Math console number string "
     "boolean any unknown never",
     "//", {{"/*", "*/"}, {0, 0}}, {HL_COMMENT, 0}, "\"'`", 0},
    {"diff patch udiff", "", "", NULL, {{0, 0}, {0, 0}}, {0, 0}, "", F_DIFF},
    {"rust rs",
     "as break const continue crate else enum extern false fn for if impl in let loop match "
     "mod move mut pub ref return self Self static struct super trait true type unsafe use "
     "where while async await dyn",
     "i8 i16 i32 i64 i128 isize u8 u16 u32 u64 u128 usize f32 f64 bool char str String Vec "
     "Option Result Box",
     "//", {{"/*", "*/"}, {0, 0}}, {HL_COMMENT, 0}, "\"", 0},
    {"go golang",
     "break case chan const continue default defer else fallthrough for func go goto if "
     "import interface map package range return select struct switch type var true false nil",
     "int int8 int16 int32 int64 uint uint8 uint16 uint32 uint64 uintptr float32 float64 "
     "string byte rune bool error any",
     "//", {{"/*", "*/"}, {0, 0}}, {HL_COMMENT, 0}, "\"'`", 0},
};
#define HL_N_LANGS ((int)(sizeof hl_langs / sizeof hl_langs[0]))

/* word[0..len) is one of the space-separated words of list (case-sensitive unless fold). */
static int word_in(const char *list, const char *word, size_t len, int fold) {
    const char *p = list;
    while (p && *p) {
        const char *e = strchr(p, ' ');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        if (n == len && (fold ? !strncasecmp(p, word, len) : !strncmp(p, word, len)))
            return 1;
        p = e ? e + 1 : NULL;
    }
    return 0;
}

int hl_lang_find(const char *name, size_t len) {
    if (!name || len == 0 || len > 32)
        return -1;
    for (int i = 0; i < HL_N_LANGS; i++)
        if (word_in(hl_langs[i].names, name, len, 1))
            return i;
    return -1;
}

static int is_ident(unsigned char c) {
    return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

static int starts(const char *s, size_t len, size_t i, const char *lit) {
    size_t n = lit ? strlen(lit) : 0;
    return n && i + n <= len && !memcmp(s + i, lit, n);
}

static void diff_line(const char *s, size_t len, unsigned char *cls) {
    unsigned char c = HL_NONE;
    if (starts(s, len, 0, "+++") || starts(s, len, 0, "---") || starts(s, len, 0, "@@") ||
        starts(s, len, 0, "diff ") || starts(s, len, 0, "index "))
        c = HL_META;
    else if (len && s[0] == '+')
        c = HL_ADD;
    else if (len && s[0] == '-')
        c = HL_DEL;
    memset(cls, c, len);
}

void hl_line(int lang, struct hl_state *st, const char *s, size_t len, unsigned char *cls) {
    memset(cls, HL_NONE, len);
    if (lang < 0 || lang >= HL_N_LANGS)
        return;
    const struct hl_lang *L = &hl_langs[lang];
    if (L->flags & F_DIFF) {
        diff_line(s, len, cls);
        return;
    }
    size_t i = 0;
    if (L->flags & F_PREPROC) {
        size_t k = 0;
        while (k < len && (s[k] == ' ' || s[k] == '\t'))
            k++;
        if (!st->open && k < len && s[k] == '#') {
            memset(cls, HL_META, len);
            return;
        }
    }
    while (i < len) {
        if (st->open) { /* inside a block comment or triple-quoted string */
            int b = st->open - 1;
            const char *close = L->block[b][1];
            size_t j = i;
            while (j < len && !starts(s, len, j, close))
                j++;
            if (j < len) {
                j += strlen(close);
                st->open = 0;
            }
            memset(cls + i, L->block_cls[b], j - i);
            i = j;
            continue;
        }
        unsigned char c = (unsigned char)s[i];
        int opened = 0;
        for (int b = 0; b < 2 && !opened; b++)
            if (starts(s, len, i, L->block[b][0])) {
                st->open = b + 1;
                memset(cls + i, L->block_cls[b], strlen(L->block[b][0]));
                i += strlen(L->block[b][0]);
                opened = 1;
            }
        if (opened)
            continue;
        if (starts(s, len, i, L->line_comment) &&
            (!(L->flags & F_HASH_WORD) || i == 0 || s[i - 1] == ' ' || s[i - 1] == '\t')) {
            memset(cls + i, HL_COMMENT, len - i);
            return;
        }
        if (c && L->quotes && strchr(L->quotes, c)) {
            size_t j = i + 1;
            while (j < len && (unsigned char)s[j] != c)
                j += s[j] == '\\' && j + 1 < len ? 2 : 1;
            j = j < len ? j + 1 : len;
            unsigned char k = HL_STRING;
            if (L->flags & F_JSON_KEYS) {
                size_t m = j;
                while (m < len && (s[m] == ' ' || s[m] == '\t'))
                    m++;
                if (m < len && s[m] == ':')
                    k = HL_TYPE;
            }
            memset(cls + i, k, j - i);
            i = j;
            continue;
        }
        if ((L->flags & F_DOLLAR) && c == '$' && i + 1 < len) {
            size_t j = i + 1;
            if (s[j] == '{') {
                while (j < len && s[j] != '}')
                    j++;
                j = j < len ? j + 1 : len;
            } else {
                while (j < len && is_ident((unsigned char)s[j]))
                    j++;
                if (j == i + 1 && strchr("?#@*!$0123456789", s[j]))
                    j++;
            }
            memset(cls + i, HL_META, j - i);
            i = j;
            continue;
        }
        if (c >= '0' && c <= '9' && (i == 0 || !is_ident((unsigned char)s[i - 1]))) {
            size_t j = i;
            while (j < len && (is_ident((unsigned char)s[j]) || s[j] == '.'))
                j++;
            memset(cls + i, HL_NUMBER, j - i);
            i = j;
            continue;
        }
        if (is_ident(c)) {
            size_t j = i;
            while (j < len && (is_ident((unsigned char)s[j]) ||
                               ((L->flags & F_HASH_WORD) && s[j] == '-')))
                j++;
            unsigned char k = word_in(L->keywords, s + i, j - i, 0) ? HL_KEYWORD
                            : word_in(L->types, s + i, j - i, 0)    ? HL_TYPE
                                                                     : HL_NONE;
            memset(cls + i, k, j - i);
            i = j;
            continue;
        }
        i++;
    }
}
