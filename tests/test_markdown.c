/* tests/test_markdown.c — the transcript's Markdown renderer (ui/markdown.c) and code
 * highlighter (ui/highlight.c): the exact styled lines of each construct (md_dump.h's notation),
 * partial input as it streams, widths with CJK text, escape bytes in text and link targets,
 * code blocks taken out for copying. No terminal. */
#include <locale.h>
#include <stdlib.h>

#include "harness.h"
#include "highlight.h"
#include "md_dump.h"

static int utf8_locale(void) {
    return setlocale(LC_CTYPE, "C.UTF-8") || setlocale(LC_CTYPE, "en_US.UTF-8");
}

/* Renders src at width and compares the dump with want. */
#define CHECK_MD(src, wcols, want)                                                  \
    do {                                                                            \
        struct md_doc d_ = {0};                                                     \
        CHECK_EQ_INT(md_render(src, strlen(src), wcols, &d_), 0);                   \
        char *got_ = md_dump(&d_);                                                  \
        for (int i_ = 0; i_ < d_.n_lines; i_++)                                     \
            CHECK_MSG(d_.lines[i_].width <= (wcols), "line %d: %d columns", i_,     \
                      d_.lines[i_].width);                                          \
        md_doc_free(&d_);                                                           \
        CHECK_STR_EQ(got_, want);                                                   \
        free(got_);                                                                 \
    } while (0)

TEST(markdown_headings_and_emphasis) {
    CHECK(utf8_locale());
    CHECK_MD("# H1\n\n### H3 *it*", 24, "{H bu:H1}\n\n{H b:H3 }{H bi:it}");
    CHECK_MD("a **b** *c* ~~d~~ `e`", 24, "a { b:b} { i:c} { s:d} {C:e}");
    CHECK_MD("line one  \nline two\nthree", 24, "line one\nline two three");
    CHECK_MD("", 24, "");
}

TEST(markdown_links_show_their_target) {
    CHECK(utf8_locale());
    CHECK_MD("[t](http://u.v/w) <http://a.b> [m](mailto:x@y.z)", 24,
             "{L u:t}{U: <}{U:http://u.v/w}{U:>}\n{L u:http://a.b} {L u:m}\n"
             "{U:<}{U:mailto:x@y.z}{U:>}");
    CHECK_MD("![alt](i.png)", 24, "{U:[image: }{L u:alt}{U:] <}{U:i.png}{U:>}");
    struct md_doc d = {0};
    const char *s = "[a](http://x.y/a) [b](http://x.y/b c)";
    CHECK_EQ_INT(md_render(s, strlen(s), 80, &d), 0);
    CHECK_EQ_INT(d.n_links, 2); /* the second is no link (a space in its target), its URL is */
    CHECK_STR_EQ(d.links[0].url, "http://x.y/a");
    CHECK_EQ_INT(d.links[0].clean, 1);
    CHECK_STR_EQ(d.links[1].url, "http://x.y/b");
    md_doc_free(&d);
}

TEST(markdown_lists_quotes_rules) {
    CHECK(utf8_locale());
    CHECK_MD("- a\n- b\n  - c\n    - d\n\n1. x\n1. y", 24,
             "{M:\xe2\x80\xa2 }a\n{M:\xe2\x80\xa2 }b\n  {M:\xe2\x97\xa6 }c\n"
             "    {M:\xe2\x96\xaa }d\n\n{M:1. }x\n{M:2. }y");
    CHECK_MD("3. three\n4. four", 24, "{M:3. }three\n{M:4. }four");
    CHECK_MD("- [ ] t\n- [x] u", 24, "{M:\xe2\x98\x90 }t\n{M:\xe2\x98\x91 }u");
    CHECK_MD("- a\n\n- b", 24, "{M:\xe2\x80\xa2 }a\n\n{M:\xe2\x80\xa2 }b"); /* loose */
    /* a long item wraps under its text, not under its bullet */
    CHECK_MD("- one two three four", 10, "{M:\xe2\x80\xa2 }one two\n  three\n  four");
    CHECK_MD("> q1\n>\n> q2\n>> deep", 24,
             "{Q:\xe2\x94\x82 q1}\n{Q:\xe2\x94\x82}\n{Q:\xe2\x94\x82 q2}\n{Q:\xe2\x94\x82}\n"
             "{Q:\xe2\x94\x82 \xe2\x94\x82 deep}");
    CHECK_MD("x\n\n---\n\ny", 6,
             "x\n\n{M:\xe2\x94\x80\xe2\x94\x80\xe2\x94\x80\xe2\x94\x80\xe2\x94\x80\xe2\x94\x80}"
             "\n\ny");
}

TEST(markdown_tables_fit_the_width) {
    CHECK(utf8_locale());
    CHECK_MD("| a | b |\n|:-:|--:|\n| x | y |", 24,
             "{ b:a}{M: \xe2\x94\x82 }{ b:b}\n{M:\xe2\x94\x80\xe2\x94\x80\xe2\x94\xbc\xe2\x94\x80"
             "\xe2\x94\x80}\nx{M: \xe2\x94\x82 }y");
    CHECK_MD("| col | value |\n|-----|------:|\n| a | 1 |\n| b | 22 |", 40,
             "{ b:col}{M: \xe2\x94\x82 }{ b:value}\n"
             "{M:\xe2\x94\x80\xe2\x94\x80\xe2\x94\x80\xe2\x94\x80\xe2\x94\xbc\xe2\x94\x80\xe2\x94"
             "\x80\xe2\x94\x80\xe2\x94\x80\xe2\x94\x80\xe2\x94\x80}\n"
             "a  {M: \xe2\x94\x82 }    1\nb  {M: \xe2\x94\x82 }   22");
    /* too wide: the widest column narrows and its cells wrap */
    CHECK_MD("| a | b |\n|---|---|\n| a long cell that wraps | b |", 12,
             "{ b:a}       {M: \xe2\x94\x82 }{ b:b}\n"
             "{M:\xe2\x94\x80\xe2\x94\x80\xe2\x94\x80\xe2\x94\x80\xe2\x94\x80\xe2\x94\x80\xe2\x94"
             "\x80\xe2\x94\x80\xe2\x94\x80\xe2\x94\xbc\xe2\x94\x80\xe2\x94\x80}\n"
             "a long  {M: \xe2\x94\x82 }b\ncell    {M: \xe2\x94\x82}\nthat    {M: \xe2\x94\x82}"
             "\nwraps   {M: \xe2\x94\x82}");
}

#define BOX_TOP "{B:\xe2\x94\x8c\xe2\x94\x80 }"
#define BAR "{B:\xe2\x94\x82 }"
#define R3 "\xe2\x94\x80\xe2\x94\x80\xe2\x94\x80"

TEST(markdown_code_blocks_boxed_and_coloured) {
    CHECK(utf8_locale());
    CHECK_MD("```c\nint x = 0x1F; /* c */\n#define A 1\nreturn \"s\\\"q\";\n```", 24,
             BOX_TOP "{N:c}{B: " R3 R3 R3 R3 R3 R3 "\xe2\x94\x80}\n"
             BAR "{t:int} x = {n:0x1F}; {c:/* c */}\n" BAR "{m:#define A 1}\n"
             BAR "{k:return} {s:\"s\\\"q\"};\n{B:\xe2\x94\x94" R3 R3 R3 R3 R3 R3 R3 "\xe2\x94\x80"
             "\xe2\x94\x80}");
    /* no language: no name, no colours; blank lines and indentation kept */
    CHECK_MD("```\nplain\n\n  two\n```", 8,
             "{B:\xe2\x94\x8c" R3 R3 "\xe2\x94\x80}\n" BAR "plain\n{B:\xe2\x94\x82}\n" BAR
             "  two\n{B:\xe2\x94\x94" R3 R3 "\xe2\x94\x80}");
    /* a long code line wraps at any character inside the box */
    CHECK_MD("```js\nconst f = (a) => a * 2.5; // x\n```", 24,
             BOX_TOP "{N:js}{B: " R3 R3 R3 R3 R3 R3 "}\n"
             BAR "{k:const} f = (a) => a * {n:2}\n" BAR "{n:.5}; {c:// x}\n"
             "{B:\xe2\x94\x94" R3 R3 R3 R3 R3 R3 R3 "\xe2\x94\x80\xe2\x94\x80}");
}

/* The highlight classes of one line as a string of digits (enum hl_class). */
static void hl_digits(int lang, struct hl_state *st, const char *s, char *out) {
    unsigned char cls[256];
    size_t n = strlen(s);
    hl_line(lang, st, s, n, cls);
    for (size_t i = 0; i < n; i++)
        out[i] = (char)('0' + cls[i]);
    out[n] = '\0';
}

TEST(highlight_languages) {
    char out[256];
    struct hl_state st = {0};
    CHECK_EQ_INT(hl_lang_find("Python", 6), hl_lang_find("py", 2));
    CHECK(hl_lang_find("bash", 4) >= 0 && hl_lang_find("json", 4) >= 0);
    CHECK(hl_lang_find("javascript", 10) >= 0 && hl_lang_find("diff", 4) >= 0);
    CHECK_EQ_INT(hl_lang_find("cobol", 5), -1);
    CHECK_EQ_INT(hl_lang_find(NULL, 0), -1);
    /* 1 keyword 2 type 3 string 4 comment 5 number 6 meta 7 add 8 del */
    hl_digits(hl_lang_find("json", 4), &st, "{\"k\": [1, true, \"v\"]}", out);
    CHECK_STR_EQ(out, "022200050011110033300");
    hl_digits(hl_lang_find("sh", 2), &st, "echo $HOME a#b # c", out);
    CHECK_STR_EQ(out, "222206666600000444");
    hl_digits(hl_lang_find("diff", 4), &st, "-a", out);
    CHECK_STR_EQ(out, "88");
    hl_digits(hl_lang_find("diff", 4), &st, "+++ b", out);
    CHECK_STR_EQ(out, "66666");
    /* a block comment and a triple-quoted string carry over to the next line */
    int c = hl_lang_find("c", 1), py = hl_lang_find("python", 6);
    hl_digits(c, &st, "x /* a", out);
    CHECK_STR_EQ(out, "004444");
    hl_digits(c, &st, "b */ if", out);
    CHECK_STR_EQ(out, "4444011");
    CHECK_EQ_INT(st.open, 0);
    hl_digits(py, &st, "s = '''x", out);
    CHECK_STR_EQ(out, "00003333");
    hl_digits(py, &st, "''' # c", out);
    CHECK_STR_EQ(out, "3330444");
    hl_digits(-1, &st, "int", out);
    CHECK_STR_EQ(out, "000");
}

TEST(markdown_wide_characters_wrap_by_columns) {
    CHECK(utf8_locale());
    /* 11 double-width characters at 12 columns: six, then five */
    CHECK_MD("\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e\xe3\x81\xae\xe6\x96\x87\xe7\xab\xa0\xe3\x82"
             "\x92\xe6\x8a\x98\xe3\x82\x8a\xe8\xbf\x94\xe3\x81\x99", 12,
             "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e\xe3\x81\xae\xe6\x96\x87\xe7\xab\xa0\n\xe3\x82"
             "\x92\xe6\x8a\x98\xe3\x82\x8a\xe8\xbf\x94\xe3\x81\x99");
    /* in a table cell: the column is measured in columns */
    CHECK_MD("| \xe6\x97\xa5\xe6\x9c\xac | x |\n|---|---|\n| a | b |", 20,
             "{ b:\xe6\x97\xa5\xe6\x9c\xac}{M: \xe2\x94\x82 }{ b:x}\n"
             "{M:\xe2\x94\x80\xe2\x94\x80\xe2\x94\x80\xe2\x94\x80\xe2\x94\x80\xe2\x94\xbc\xe2\x94"
             "\x80\xe2\x94\x80}\na   {M: \xe2\x94\x82 }b");
    /* width 1: every line still fits, nothing is lost */
    struct md_doc d = {0};
    const char *s = "> - **\xe6\x97\xa5** `code` [l](http://x)\n\n```c\nint\n```\n|a|b|\n|-|-|\n|c|d|";
    CHECK_EQ_INT(md_render(s, strlen(s), 1, &d), 0);
    CHECK(d.n_lines > 5);
    md_doc_free(&d);
}

/* No byte below 0x20 but '\n'-free lines' text, and no DEL or C1 control, in the whole doc. */
static int doc_has_control(const struct md_doc *d) {
    for (size_t i = 0; i < d->len; i++) {
        unsigned char c = (unsigned char)d->text[i];
        if (c < 0x20 || c == 0x7f || (c == 0xc2 && i + 1 < d->len &&
                                      (unsigned char)d->text[i + 1] >= 0x80 &&
                                      (unsigned char)d->text[i + 1] < 0xa0))
            return 1;
    }
    for (int k = 0; k < d->n_links; k++)
        for (const char *p = d->links[k].url; *p; p++)
            if ((unsigned char)*p < 0x20 || *p == 0x7f)
                return 1;
    return 0;
}

TEST(markdown_escape_bytes_never_pass) {
    CHECK(utf8_locale());
    CHECK_MD("\033[2J **x\033]8;;h\007y**", 40, "^[[2J { b:x^[]8;;h^Gy}");
    const char *cases[] = {
        "[l](http://a/\033[31m) [m](<http://b/\007>) <http://c/\23331m>",
        "```\033]52;c;QUFB\007\n\033[2J\ttab\n```",
        "| \033[1m | b |\n|---|---|\n| \x1b\\ | \xc2\x9b |",
        "&#27; &#x9b; &#0; &#x7f; &#xd800; &#1114112;",
        "`\033c` ![\033x](\033y) # \033[H",
        "- [\033](http://x) \r\n\r\n> \x01\x02\x03\x04\x05\x06\x0e\x1f",
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct md_doc d = {0};
        CHECK_EQ_INT(md_render(cases[i], strlen(cases[i]), 30, &d), 0);
        CHECK_MSG(!doc_has_control(&d), "case %zu lets a control byte through", i);
        for (int k = 0; k < d.n_links; k++)
            CHECK_MSG(!d.links[k].clean || !strpbrk(d.links[k].url, "\033\007"),
                      "case %zu: link %d", i, k);
        md_doc_free(&d);
    }
    /* entities: printable ones decoded, control ones left as written */
    CHECK_MD("&amp; &lt;b&gt; &#65; &#x1F600; &#27; &bogus;", 40,
             "& <b> A \xf0\x9f\x98\x80 &#27; &bogus;");
}

TEST(markdown_partial_input_streams_sensibly) {
    CHECK(utf8_locale());
    /* an unclosed fence is already a code block: its lines do not move when it closes */
    CHECK_MD("Here:\n\n```py\nx = 1\n", 16,
             "Here:\n\n" BOX_TOP "{N:py}{B: " R3 R3 R3 "\xe2\x94\x80}\n"
             BAR "x = {n:1}\n{B:\xe2\x94\x94" R3 R3 R3 R3 R3 "}");
    CHECK_MD("Here:\n\n```py\nx = 1\n```\n", 16,
             "Here:\n\n" BOX_TOP "{N:py}{B: " R3 R3 R3 "\xe2\x94\x80}\n"
             BAR "x = {n:1}\n{B:\xe2\x94\x94" R3 R3 R3 R3 R3 "}");
    /* unclosed emphasis stays literal text until it closes */
    CHECK_MD("**bold not closed", 24, "**bold not closed");
    CHECK_MD("- a\n- ", 24, "{M:\xe2\x80\xa2 }a");
    /* every prefix of a reply renders (no failure, lines within the width) */
    const char *s = "# T\n\n1. **a** `b`\n2. [c](http://d)\n\n| x | y |\n|---|---|\n| 1 | 2 |"
                    "\n\n```sh\necho $X\n```\n> q\n";
    for (size_t n = 0; n <= strlen(s); n++) {
        struct md_doc d = {0};
        CHECK_EQ_INT(md_render(s, n, 20, &d), 0);
        for (int i = 0; i < d.n_lines; i++)
            CHECK_MSG(d.lines[i].width <= 20, "prefix %zu line %d", n, i);
        md_doc_free(&d);
    }
}

TEST(markdown_code_block_for_copying) {
    const char *s = "a `inline`\n\n```c\nint\tx;\n\033y\n```\n\n    indented\n\n~~~\nlast\n";
    size_t n;
    char *c = md_code_block(s, strlen(s), 0, &n);
    CHECK_STR_EQ(c, "int\tx;\n\033y"); /* as written: the copy's sanitizing is the caller's */
    CHECK_EQ_INT(n, 9);
    free(c);
    c = md_code_block(s, strlen(s), 1, &n);
    CHECK_STR_EQ(c, "indented");
    free(c);
    c = md_code_block(s, strlen(s), 2, &n);
    CHECK_STR_EQ(c, "last");
    free(c);
    CHECK(md_code_block(s, strlen(s), 3, &n) == NULL);
    CHECK(md_code_block(s, strlen(s), -1, &n) == NULL);
    struct md_doc d = {0};
    CHECK_EQ_INT(md_render(s, strlen(s), 30, &d), 0);
    CHECK_EQ_INT(d.n_codes, 3);
    int boxed = 0;
    for (int i = 0; i < d.n_lines; i++)
        boxed += d.lines[i].code == 0;
    CHECK_EQ_INT(boxed, 4); /* the first box: top, two lines, bottom */
    md_doc_free(&d);
}

TEST(markdown_stream_tail_closes_open_spans) {
    char tail[4];
    CHECK_EQ_INT(md_stream_tail("a **bold", 8, tail), 2);
    CHECK_STR_EQ(tail, "**");
    CHECK_EQ_INT(md_stream_tail("a **bold** b", 12, tail), 0);
    CHECK_EQ_INT(md_stream_tail("a `co", 5, tail), 1);
    CHECK_STR_EQ(tail, "`");
    CHECK_EQ_INT(md_stream_tail("`a ** b", 7, tail), 1); /* stars inside code do not count */
    CHECK_STR_EQ(tail, "`");
    CHECK_EQ_INT(md_stream_tail("**a `b", 6, tail), 3);
    CHECK_STR_EQ(tail, "`**");
    CHECK_EQ_INT(md_stream_tail("**a\n\nb", 7, tail), 0); /* an earlier paragraph's */
    CHECK_EQ_INT(md_stream_tail("```\n**a", 8, tail), 0);  /* inside a fence */
    CHECK_EQ_INT(md_stream_tail("```\nx\n```\n**a", 14, tail), 2);
    CHECK_EQ_INT(md_stream_tail("a \\**b", 7, tail), 0);  /* escaped */
    CHECK_EQ_INT(md_stream_tail("a **", 4, tail), 0);       /* nothing to make bold yet */
    CHECK_EQ_INT(md_stream_tail("", 0, tail), 0);
    /* with the tail, the growing text keeps its lines: bold as it arrives, then closed */
    CHECK(utf8_locale());
    CHECK_MD("a **bol**", 24, "a { b:bol}");
    CHECK_MD("a **bold**", 24, "a { b:bold}");
}
