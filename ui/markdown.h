/* ui/markdown.h — a reply's Markdown as styled display lines for the transcript, parsed with
 * md4c (CommonMark plus GitHub's tables, strikethrough and task lists): headings, emphasis,
 * inline code, links (text, then the URL), lists, block quotes, tables fitted to the width,
 * rules, and fenced code in a box named by its language and coloured by highlight.h. No
 * terminal: the lines are data, painted by tui_draw.c and compared exactly by the tests.
 * Every piece of text, link targets included, goes through layout_sanitize() before it is
 * laid out, so no control byte of the model's output reaches the result; wrapping is
 * layout_wrap()'s (wide characters, word breaks). Partial input (a reply still streaming)
 * renders as md4c reads it: an unclosed fence is a code block to the end.
 * Any thread (pure). md_render returns -1 only when out of memory (the doc is then empty). */
#ifndef NATTER_UI_MARKDOWN_H
#define NATTER_UI_MARKDOWN_H

#include <stddef.h>

/* What a span is (the painter picks colours by role, theme.c). */
enum md_role {
    MD_R_TEXT = 0,
    MD_R_HEADING,
    MD_R_CODE,   /* inline code */
    MD_R_LINK,   /* a link's text */
    MD_R_URL,    /* a link's target, shown after its text */
    MD_R_QUOTE,  /* a block quote's bar and text */
    MD_R_MARK,   /* list bullets and numbers, rules, table borders */
    MD_R_BOX,    /* a code block's box */
    MD_R_LANG,   /* the language named on the box */
    MD_R_HL,     /* MD_R_HL + enum hl_class (highlight.h): code inside a box */
    MD_R_COUNT = MD_R_HL + 9
};
enum md_attr { MD_A_BOLD = 1, MD_A_ITALIC = 2, MD_A_UNDERLINE = 4, MD_A_STRIKE = 8 };

/* Bytes [off, off + len) of the doc's text, drawn as role with attrs; link >= 0: the index in
 * links[] of the hyperlink it belongs to. */
struct md_span {
    int off, len;
    unsigned char role, attr;
    int link;
};
/* One display line: spans [span, span + n_spans), width columns; code: the index of the code
 * block the line belongs to (its box included), -1 outside code. */
struct md_line {
    int span, n_spans, width, code;
};
struct md_link {
    char *url;  /* sanitized */
    int clean;  /* the target was printable ASCII as written (it may become an OSC 8 link) */
};
struct md_doc {
    char *text;
    size_t len, cap;
    struct md_span *spans;
    int n_spans, cap_spans;
    struct md_line *lines;
    int n_lines, cap_lines;
    struct md_link *links;
    int n_links, cap_links;
    int n_codes; /* code blocks */
};

/* Renders src[0..len) (untrusted UTF-8) for width columns (>= 1) into doc (zeroed or used
 * before: it is reset). Empty input gives no lines. 0, or -1 when out of memory. */
int md_render(const char *src, size_t len, int width, struct md_doc *doc);
void md_doc_free(struct md_doc *doc);

/* For a reply still streaming: the markers that close what its last paragraph opened and
 * has not closed yet (an inline code span's backtick, then "**"), written into tail (>= 4
 * bytes, NUL-terminated), so that bold text shows bold while it arrives instead of showing
 * its stars until they close. Nothing inside an open fence. Returns the tail's length. */
size_t md_stream_tail(const char *src, size_t len, char *tail);

/* The text of code block n (0-based, fenced or indented, in the order md_render numbers
 * them) of src as written, without its fences or final newline: malloc'd, *out_len its length;
 * NULL when there is no such block or out of memory. */
char *md_code_block(const char *src, size_t len, int n, size_t *out_len);

#endif
