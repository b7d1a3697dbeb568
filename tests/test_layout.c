/* tests/test_layout.c — the chat's pure layout code: UTF-8, widths (CJK, combining, emoji),
 * sanitizing of control characters, wrapping, cursor and scrolling maths. No terminal. */
#include <locale.h>
#include <stdlib.h>

#include "harness.h"
#include "layout.h"

static int utf8_locale(void) {
    return setlocale(LC_CTYPE, "C.UTF-8") || setlocale(LC_CTYPE, "en_US.UTF-8");
}

/* Wraps s and writes the lines joined by '|' into out. Returns the line count. */
static int wrap_join(const char *s, int width, int mode, char *out, size_t cap) {
    struct layout_line lines[64];
    int n = layout_wrap(s, strlen(s), width, mode, lines, 64);
    size_t o = 0;
    for (int i = 0; i < n && i < 64; i++) {
        o += (size_t)snprintf(out + o, cap - o, "%s%.*s", i ? "|" : "", lines[i].len,
                              s + lines[i].off);
    }
    return n;
}

TEST(layout_utf8_decode_valid_and_invalid) {
    uint32_t cp;
    CHECK_EQ_INT(layout_utf8_decode("A", 1, &cp), 1);
    CHECK_EQ_INT(cp, 'A');
    CHECK_EQ_INT(layout_utf8_decode("\xc3\xa9", 2, &cp), 2);
    CHECK_EQ_INT(cp, 0xE9);
    CHECK_EQ_INT(layout_utf8_decode("\xe4\xb8\xad", 3, &cp), 3);
    CHECK_EQ_INT(cp, 0x4E2D);
    CHECK_EQ_INT(layout_utf8_decode("\xf0\x9f\x98\x80", 4, &cp), 4);
    CHECK_EQ_INT(cp, 0x1F600);
    /* truncated, overlong, surrogate, stray continuation, out of range */
    CHECK_EQ_INT(layout_utf8_decode("\xe4\xb8", 2, &cp), 1);
    CHECK_EQ_INT(cp, 0xFFFD);
    CHECK_EQ_INT(layout_utf8_decode("\xc0\xaf", 2, &cp), 1);
    CHECK_EQ_INT(cp, 0xFFFD);
    CHECK_EQ_INT(layout_utf8_decode("\xe0\x80\xaf", 3, &cp), 1);
    CHECK_EQ_INT(cp, 0xFFFD);
    CHECK_EQ_INT(layout_utf8_decode("\xed\xa0\x80", 3, &cp), 1);
    CHECK_EQ_INT(cp, 0xFFFD);
    CHECK_EQ_INT(layout_utf8_decode("\x80", 1, &cp), 1);
    CHECK_EQ_INT(cp, 0xFFFD);
    CHECK_EQ_INT(layout_utf8_decode("\xf4\x90\x80\x80", 4, &cp), 1);
    CHECK_EQ_INT(cp, 0xFFFD);
    char buf[4];
    CHECK_EQ_INT(layout_utf8_encode(0x1F600, buf), 4);
    CHECK(memcmp(buf, "\xf0\x9f\x98\x80", 4) == 0);
    CHECK_EQ_INT(layout_utf8_encode(0xD800, buf), 3);
    CHECK(memcmp(buf, "\xef\xbf\xbd", 3) == 0);
}

TEST(layout_utf8_complete_len_holds_split_sequences) {
    CHECK_EQ_INT(layout_utf8_complete_len("ab", 2), 2);
    CHECK_EQ_INT(layout_utf8_complete_len("a\xe4\xb8", 3), 1);
    CHECK_EQ_INT(layout_utf8_complete_len("a\xe4", 2), 1);
    CHECK_EQ_INT(layout_utf8_complete_len("a\xe4\xb8\xad", 4), 4);
    CHECK_EQ_INT(layout_utf8_complete_len("\xf0\x9f\x98", 3), 0);
    CHECK_EQ_INT(layout_utf8_complete_len("\xf0\x9f\x98\x80", 4), 4);
    CHECK_EQ_INT(layout_utf8_complete_len("x\x80", 2), 2); /* stray byte: not "incomplete" */
    CHECK_EQ_INT(layout_utf8_complete_len("", 0), 0);
}

TEST(layout_widths_cjk_combining_emoji) {
    if (!utf8_locale())
        SKIP("no UTF-8 locale");
    CHECK_EQ_INT(layout_cp_width('a'), 1);
    CHECK_EQ_INT(layout_cp_width(0x4E2D), 2);  /* 中 */
    CHECK_EQ_INT(layout_cp_width(0x0301), 0);  /* combining acute */
    CHECK_EQ_INT(layout_cp_width(0x1F600), 2); /* 😀 */
    CHECK_EQ_INT(layout_cp_width(0x1B), -1);
    CHECK_EQ_INT(layout_cp_width(0x9B), -1);
    CHECK_EQ_INT(layout_str_width("e\xcc\x81t\xc3\xa9", 6), 3);          /* é (e + U+0301), t, é */
    CHECK_EQ_INT(layout_str_width("\xe4\xb8\xad\xe6\x96\x87", 6), 4);   /* 中文 */
    CHECK_EQ_INT(layout_str_width("\xf0\x9f\x98\x80!", 5), 3);
}

TEST(layout_fit_whole_characters) {
    if (!utf8_locale())
        SKIP("no UTF-8 locale");
    int w;
    const char *s = "\xe4\xb8\xad\xe6\x96\x87" "ab"; /* 中文ab */
    CHECK_EQ_INT(layout_fit(s, strlen(s), 3, &w), 3); /* 中 fits, 文 would straddle */
    CHECK_EQ_INT(w, 2);
    CHECK_EQ_INT(layout_fit(s, strlen(s), 5, &w), 7);
    CHECK_EQ_INT(w, 5);
    CHECK_EQ_INT(layout_fit(s, strlen(s), 100, &w), strlen(s));
    CHECK_EQ_INT(layout_fit("e\xcc\x81x", 4, 1, &w), 3); /* the combining mark stays */
    CHECK_EQ_INT(layout_fit(s, strlen(s), 0, NULL), 0);
}

TEST(layout_sanitize_escapes_and_controls) {
    if (!utf8_locale())
        SKIP("no UTF-8 locale");
    size_t n;
    const char *in = "a\x1b[31mred\x1b[0m\x07\tb\nc\x7f";
    char *s = layout_sanitize(in, strlen(in), &n);
    CHECK(s);
    CHECK_STR_EQ(s, "a^[[31mred^[[0m^G    b\nc^?");
    CHECK_EQ_INT(n, strlen(s));
    free(s);
    s = layout_sanitize("x\xc2\x9b" "2J\r\xff\xe4\xb8\xad", 10, NULL); /* C1 CSI, CR, bad byte */
    CHECK_STR_EQ(s, "x<U+009B>2J^M\xef\xbf\xbd\xe4\xb8\xad");
    free(s);
    /* nothing that survives sanitizing is a control character */
    char all[256];
    for (int i = 0; i < 256; i++)
        all[i] = (char)(i == 0 ? 1 : i);
    s = layout_sanitize(all, 256, &n);
    for (size_t i = 0; i < n; i++)
        CHECK_MSG(s[i] == '\n' || ((unsigned char)s[i] >= 0x20 && s[i] != 0x7f),
                  "byte %zu is 0x%02x", i, (unsigned char)s[i]);
    free(s);
}

TEST(layout_wrap_words) {
    if (!utf8_locale())
        SKIP("no UTF-8 locale");
    char out[512];
    CHECK_EQ_INT(wrap_join("the quick brown fox", 10, LAYOUT_WRAP_WORD, out, sizeof out), 2);
    CHECK_STR_EQ(out, "the quick|brown fox");
    CHECK_EQ_INT(wrap_join("abcdefghijkl", 5, LAYOUT_WRAP_WORD, out, sizeof out), 3);
    CHECK_STR_EQ(out, "abcde|fghij|kl");
    CHECK_EQ_INT(wrap_join("one\n\ntwo", 10, LAYOUT_WRAP_WORD, out, sizeof out), 3);
    CHECK_STR_EQ(out, "one||two");
    CHECK_EQ_INT(wrap_join("", 10, LAYOUT_WRAP_WORD, out, sizeof out), 1);
    CHECK_STR_EQ(out, "");
    CHECK_EQ_INT(wrap_join("aaaa bbbb", 4, LAYOUT_WRAP_WORD, out, sizeof out), 2);
    CHECK_STR_EQ(out, "aaaa|bbbb");
    CHECK_EQ_INT(wrap_join("a   b", 2, LAYOUT_WRAP_WORD, out, sizeof out), 2);
    CHECK_STR_EQ(out, "a|b");
    CHECK_EQ_INT(wrap_join("  indented text", 9, LAYOUT_WRAP_WORD, out, sizeof out), 2);
    CHECK_STR_EQ(out, "  indente|d text"); /* leading indent is no break point */
}

TEST(layout_wrap_wide_and_combining) {
    if (!utf8_locale())
        SKIP("no UTF-8 locale");
    char out[512];
    struct layout_line l[16];
    /* 中文字符 = 4 wide chars (8 columns) in 5 columns: 2 per line, never split */
    const char *cjk = "\xe4\xb8\xad\xe6\x96\x87\xe5\xad\x97\xe7\xac\xa6";
    CHECK_EQ_INT(layout_wrap(cjk, strlen(cjk), 5, LAYOUT_WRAP_WORD, l, 16), 2);
    CHECK_EQ_INT(l[0].width, 4);
    CHECK_EQ_INT(l[0].len, 6);
    CHECK_EQ_INT(l[1].off, 6);
    /* a combining mark stays on its base character's line */
    CHECK_EQ_INT(wrap_join("abce\xcc\x81" "fg", 4, LAYOUT_WRAP_CHAR, out, sizeof out), 2);
    CHECK_STR_EQ(out, "abce\xcc\x81|fg");
    /* emoji are 2 columns */
    CHECK_EQ_INT(layout_wrap("\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80", 12, 3,
                             LAYOUT_WRAP_CHAR, l, 16), 3);
    /* width 1 still places a wide character (alone on its line) */
    CHECK_EQ_INT(layout_wrap(cjk, 6, 1, LAYOUT_WRAP_CHAR, l, 16), 2);
    /* cap smaller than needed: the count is still right */
    CHECK_EQ_INT(layout_wrap("a b c d e f", 11, 1, LAYOUT_WRAP_WORD, l, 2), 6);
}

TEST(layout_cursor_positions) {
    if (!utf8_locale())
        SKIP("no UTF-8 locale");
    struct layout_line l[16];
    int row, col;
    const char *s = "abcdef\n\xe4\xb8\xad" "x";
    int n = layout_wrap(s, strlen(s), 4, LAYOUT_WRAP_CHAR, l, 16);
    CHECK_EQ_INT(n, 3); /* abcd | ef | 中x */
    layout_cursor(s, l, n, 4, 0, &row, &col);
    CHECK(row == 0 && col == 0);
    layout_cursor(s, l, n, 4, 4, &row, &col); /* after "abcd": start of the next row */
    CHECK(row == 1 && col == 0);
    layout_cursor(s, l, n, 4, 6, &row, &col); /* before the newline */
    CHECK(row == 1 && col == 2);
    layout_cursor(s, l, n, 4, 10, &row, &col); /* after 中 */
    CHECK(row == 2 && col == 2);
    layout_cursor(s, l, n, 4, 11, &row, &col);
    CHECK(row == 2 && col == 3);
    n = layout_wrap("abcd", 4, 4, LAYOUT_WRAP_CHAR, l, 16);
    layout_cursor("abcd", l, n, 4, 4, &row, &col); /* full last line: cursor below it */
    CHECK(n == 1 && row == 1 && col == 0);
}

TEST(layout_scroll_follow_and_read_back) {
    struct layout_scroll s = {0, 1};
    layout_scroll_fix(&s, 100, 20);
    CHECK_EQ_INT(s.top, 80);
    layout_scroll_by(&s, -10, 100, 20); /* the user reads back */
    CHECK(s.top == 70 && !s.follow);
    layout_scroll_fix(&s, 130, 20);     /* new tokens arrive: the view stays */
    CHECK(s.top == 70 && !s.follow);
    layout_scroll_by(&s, 1000, 130, 20); /* back to the bottom: follows again */
    CHECK(s.top == 110 && s.follow);
    layout_scroll_fix(&s, 150, 20);
    CHECK_EQ_INT(s.top, 130);
    layout_scroll_by(&s, -1000, 150, 20);
    CHECK(s.top == 0 && !s.follow);
    layout_scroll_fix(&s, 10, 20);      /* everything fits */
    CHECK(s.top == 0 && s.follow);
}

TEST(layout_model_name_shortens_in_the_middle) {
    CHECK(utf8_locale());
    char out[64];
    CHECK_STR_EQ(layout_model_name("/m/stories260K.gguf", 0, out, sizeof out), "stories260K");
    CHECK_STR_EQ(layout_model_name("syn-llama-Q4_K_M.gguf", 40, out, sizeof out),
                 "syn-llama-Q4_K_M");
    CHECK_STR_EQ(layout_model_name("/a/b/model.bin", 0, out, sizeof out), "model.bin");
    CHECK_STR_EQ(layout_model_name(".gguf", 0, out, sizeof out), ".gguf");
    /* 32 columns into 20: 10 of the start, "…", 9 of the end */
    CHECK_STR_EQ(layout_model_name("/x/Qwen2.5-Coder-7B-Instruct-Q4_K_M.gguf", 20, out,
                                   sizeof out), "Qwen2.5-Co\xe2\x80\xa6" "ct-Q4_K_M");
    CHECK_EQ_INT(layout_str_width(out, strlen(out)), 20);
    CHECK_STR_EQ(layout_model_name("abcdefghij", 2, out, sizeof out), "ab\xe2\x80\xa6ij");
    /* wide characters are never split and the result fits */
    CHECK_STR_EQ(layout_model_name("\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e\xe3\x83\xa2"
                                   "\xe3\x83\x87\xe3\x83\xab.gguf", 7, out, sizeof out),
                 "\xe6\x97\xa5\xe2\x80\xa6\xe3\x83\xab");
    CHECK(layout_str_width(out, strlen(out)) <= 7);
    /* escapes in a file name are shown, not sent */
    CHECK_STR_EQ(layout_model_name("a\x1b]0;x\x07" "b.gguf", 0, out, sizeof out), "a^[]0;x^Gb");
    /* a small buffer cuts on a character boundary */
    char small[5];
    CHECK_STR_EQ(layout_model_name("ab\xe6\x97\xa5\xe6\x9c\xac", 0, small, sizeof small),
                 "ab");
}
