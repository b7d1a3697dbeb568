/* tests/tools/gen_unicode.c — generates engine/unicode_data.c (the code point category table the
 * pre-tokenizers use) from Debian's unicode-data package:
 *   build/tools/gen_unicode [/usr/share/unicode] > engine/unicode_data.c
 * Reads UnicodeData.txt (general categories, "<..., First>"/"<..., Last>" ranges) and PropList.txt
 * (White_Space). Consecutive code points with the same flags become one range. Single-threaded.
 *
 * Debian's newest unicode-data is 15.0, while llama.cpp's table (which natter's tokenizers must
 * agree with) is Unicode 15.1: the code points 15.1 assigned are added from gen_unicode_15_1
 * when the data read is older (they are all that differ, checked against llama.cpp's
 * unicode-data.cpp of 2026-09-28). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unicode.h"

#define GEN_N_CP 0x110000

static uint16_t gen_flags_of_category(const char *cat) {
    switch (cat[0]) {
    case 'L': return UNICODE_LETTER;
    case 'N': return UNICODE_NUMBER;
    case 'P': return UNICODE_PUNCT;
    case 'S': return UNICODE_SYMBOL;
    case 'M': return UNICODE_MARK;
    case 'Z': return UNICODE_SEPARATOR;
    case 'C': return cat[1] == 'n' ? UNICODE_UNDEFINED : UNICODE_CONTROL;
    default: return UNICODE_UNDEFINED;
    }
}

/* The code points Unicode 15.1 assigned (all of them So or Lo). */
static const struct {
    unsigned long lo, hi;
    uint16_t flags;
} gen_unicode_15_1[] = {
    {0x2FFC, 0x2FFF, UNICODE_SYMBOL},   /* ideographic description characters */
    {0x31EF, 0x31EF, UNICODE_SYMBOL},   /* CJK stroke HXG */
    {0x2EBF0, 0x2EE5D, UNICODE_LETTER}, /* CJK unified ideographs extension I */
};

static FILE *gen_open(const char *dir, const char *name) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "gen_unicode: cannot open %s\n", path);
        exit(1);
    }
    return f;
}

static const char *gen_flags_name(uint16_t fl, char *buf, size_t cap) {
    static const struct { uint16_t bit; const char *name; } names[] = {
        {UNICODE_NUMBER, "UNICODE_NUMBER"}, {UNICODE_LETTER, "UNICODE_LETTER"},
        {UNICODE_SEPARATOR, "UNICODE_SEPARATOR"}, {UNICODE_MARK, "UNICODE_MARK"},
        {UNICODE_PUNCT, "UNICODE_PUNCT"}, {UNICODE_SYMBOL, "UNICODE_SYMBOL"},
        {UNICODE_CONTROL, "UNICODE_CONTROL"}, {UNICODE_WHITESPACE, "UNICODE_WHITESPACE"},
        {UNICODE_UNDEFINED, "UNICODE_UNDEFINED"},
    };
    buf[0] = 0;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (fl & names[i].bit) {
            if (buf[0])
                strncat(buf, "|", cap - strlen(buf) - 1);
            strncat(buf, names[i].name, cap - strlen(buf) - 1);
        }
    }
    return buf;
}

int main(int argc, char **argv) {
    const char *dir = argc > 1 ? argv[1] : "/usr/share/unicode";
    uint16_t *fl = calloc(GEN_N_CP, sizeof *fl);
    if (!fl)
        return 1;
    for (size_t i = 0; i < GEN_N_CP; i++)
        fl[i] = UNICODE_UNDEFINED;

    char line[1024], version[64] = "?";
    FILE *f = gen_open(dir, "ReadMe.txt");
    while (fgets(line, sizeof line, f)) {
        char *p = strstr(line, "/Unicode");
        if (p && sscanf(p, "/Unicode%63[0-9.]", version) == 1)
            break;
    }
    fclose(f);
    size_t vl = strlen(version);
    if (vl && version[vl - 1] == '.')
        version[vl - 1] = 0;

    f = gen_open(dir, "UnicodeData.txt");
    unsigned long first = 0;
    int in_range = 0;
    while (fgets(line, sizeof line, f)) {
        char *fields[4] = {0};
        char *s = line;
        for (int i = 0; i < 4 && s; i++) {
            fields[i] = s;
            s = strchr(s, ';');
            if (s)
                *s++ = 0;
        }
        if (!fields[2])
            continue;
        unsigned long cp = strtoul(fields[0], NULL, 16);
        if (cp >= GEN_N_CP)
            continue;
        uint16_t v = gen_flags_of_category(fields[2]);
        if (strstr(fields[1], ", First>")) {
            first = cp;
            in_range = 1;
            continue;
        }
        unsigned long lo = in_range && strstr(fields[1], ", Last>") ? first : cp;
        in_range = 0;
        for (unsigned long c = lo; c <= cp; c++)
            fl[c] = v;
    }
    fclose(f);

    int major = 0, minor = 0;
    if (sscanf(version, "%d.%d", &major, &minor) == 2 && (major < 15 || (major == 15 && minor < 1))) {
        for (size_t i = 0; i < sizeof gen_unicode_15_1 / sizeof gen_unicode_15_1[0]; i++)
            for (unsigned long c = gen_unicode_15_1[i].lo; c <= gen_unicode_15_1[i].hi; c++)
                if (fl[c] == UNICODE_UNDEFINED)
                    fl[c] = gen_unicode_15_1[i].flags;
        snprintf(version + strlen(version), sizeof version - strlen(version), " + 15.1");
    }

    f = gen_open(dir, "PropList.txt");
    while (fgets(line, sizeof line, f)) {
        unsigned long lo, hi;
        char prop[64];
        if (line[0] == '#' || !strstr(line, "White_Space"))
            continue;
        if (sscanf(line, "%lx..%lx ; %63s", &lo, &hi, prop) == 3) {
        } else if (sscanf(line, "%lx ; %63s", &lo, prop) == 2) {
            hi = lo;
        } else {
            continue;
        }
        if (strcmp(prop, "White_Space") != 0 || hi >= GEN_N_CP)
            continue;
        for (unsigned long c = lo; c <= hi; c++)
            fl[c] |= UNICODE_WHITESPACE;
    }
    fclose(f);

    printf("/* engine/unicode_data.c — GENERATED by tests/tools/gen_unicode.c from Debian's unicode-data\n"
           " * (Unicode %s: UnicodeData.txt general categories, PropList.txt White_Space). Do not edit;\n"
           " * regenerate with: build/tools/gen_unicode > engine/unicode_data.c\n"
           " * Sorted, non-overlapping ranges; code points in no range are UNICODE_UNDEFINED.\n"
           " * Read-only data, any thread. */\n", version);
    printf("#include \"unicode.h\"\n\nconst struct unicode_range unicode_ranges[] = {\n");
    size_t n = 0;
    for (unsigned long c = 0; c < GEN_N_CP;) {
        unsigned long e = c;
        while (e + 1 < GEN_N_CP && fl[e + 1] == fl[c])
            e++;
        if (fl[c] != UNICODE_UNDEFINED) {
            char name[256];
            printf("    {0x%04lX, 0x%04lX, %s},\n", c, e, gen_flags_name(fl[c], name, sizeof name));
            n++;
        }
        c = e + 1;
    }
    printf("};\n\nconst size_t unicode_n_ranges = %zu;\n", n);
    free(fl);
    return 0;
}
