/* tests/test_gen_text.c — the generation thread's text holding: UTF-8 sequences split across
 * tokens are held back until complete, invalid bytes become U+FFFD, stop strings (also split
 * across tokens) are never emitted, text that only looked like a stop string is released. */
#include <stdlib.h>

#include "gen_text.h"
#include "harness.h"

struct gen_text_sink {
    char buf[4096];
    size_t n;
    int n_chunks, bad_chunk;
};

static void gen_text_test_emit(void *ud, const char *s, size_t n) {
    struct gen_text_sink *k = ud;
    if (n == 0 || n > GEN_TEXT_CHUNK) k->bad_chunk = 1;
    if (k->n + n < sizeof k->buf) {
        memcpy(k->buf + k->n, s, n);
        k->n += n;
        k->buf[k->n] = 0;
    }
    k->n_chunks++;
}

TEST(gen_text_utf8_held_until_complete) {
    struct gen_text t;
    struct gen_text_sink k = {{0}, 0, 0, 0};
    CHECK_EQ_INT(gen_text_init(&t, NULL, 0, gen_text_test_emit, &k), 0);
    /* "é" = c3 a9, "€" = e2 82 ac, "😀" = f0 9f 98 80, each cut across pushes */
    CHECK_EQ_INT(gen_text_push(&t, "a\xc3", 2), 0);
    CHECK_STR_EQ(k.buf, "a");
    CHECK_EQ_INT(gen_text_push(&t, "\xa9\xe2", 2), 0);
    CHECK_STR_EQ(k.buf, "a\xc3\xa9");
    CHECK_EQ_INT(gen_text_push(&t, "\x82", 1), 0);
    CHECK_STR_EQ(k.buf, "a\xc3\xa9");
    CHECK_EQ_INT(gen_text_push(&t, "\xac\xf0\x9f", 3), 0);
    CHECK_STR_EQ(k.buf, "a\xc3\xa9\xe2\x82\xac");
    CHECK_EQ_INT(gen_text_push(&t, "\x98\x80!", 3), 0);
    CHECK_STR_EQ(k.buf, "a\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80!");
    /* invalid bytes: a stray continuation, an overlong, a surrogate -> U+FFFD each byte */
    k.n = 0;
    k.buf[0] = 0;
    CHECK_EQ_INT(gen_text_push(&t, "\x80x\xc0\xafy\xed\xa0\x80", 9), 0);
    CHECK_STR_EQ(k.buf, "\xef\xbf\xbdx\xef\xbf\xbd\xef\xbf\xbdy\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
    /* a sequence broken by an ASCII byte: the lead is invalid, the ASCII passes */
    k.n = 0;
    k.buf[0] = 0;
    CHECK_EQ_INT(gen_text_push(&t, "\xe2\x82", 2), 0);
    CHECK_EQ_INT((int)k.n, 0);
    CHECK_EQ_INT(gen_text_push(&t, "z", 1), 0);
    CHECK_STR_EQ(k.buf, "\xef\xbf\xbd\xef\xbf\xbdz");
    /* flush: an unfinished sequence at the end becomes one U+FFFD */
    k.n = 0;
    k.buf[0] = 0;
    CHECK_EQ_INT(gen_text_push(&t, "q\xf0\x9f\x98", 4), 0);
    CHECK_STR_EQ(k.buf, "q");
    gen_text_flush(&t);
    CHECK_STR_EQ(k.buf, "q\xef\xbf\xbd");
    CHECK(!k.bad_chunk);
    gen_text_free(&t);
}

TEST(gen_text_stop_strings) {
    const char *stops[] = {"User:", "", NULL, "\n\n"};
    struct gen_text t;
    struct gen_text_sink k = {{0}, 0, 0, 0};
    CHECK_EQ_INT(gen_text_init(&t, stops, 4, gen_text_test_emit, &k), 0);
    CHECK_EQ_INT(t.n_stop, 2);
    CHECK_EQ_INT(gen_text_push(&t, "Hello Us", 8), 0);
    CHECK_STR_EQ(k.buf, "Hello ");              /* "Us" could begin "User:" */
    CHECK_EQ_INT(gen_text_push(&t, "ually\n", 6), 0);
    CHECK_STR_EQ(k.buf, "Hello Usually");       /* released; "\n" could begin "\n\n" */
    CHECK_EQ_INT(gen_text_push(&t, "U", 1), 0);
    CHECK_STR_EQ(k.buf, "Hello Usually\n");
    CHECK_EQ_INT(gen_text_push(&t, "se", 2), 0);
    CHECK_EQ_INT(gen_text_push(&t, "r: hi", 5), 1);  /* complete: nothing of it is emitted */
    CHECK_STR_EQ(k.buf, "Hello Usually\n");
    gen_text_flush(&t);
    CHECK_STR_EQ(k.buf, "Hello Usually\n");
    gen_text_free(&t);

    /* the stop string inside one piece, text before it emitted */
    struct gen_text_sink k2 = {{0}, 0, 0, 0};
    CHECK_EQ_INT(gen_text_init(&t, stops, 4, gen_text_test_emit, &k2), 0);
    CHECK_EQ_INT(gen_text_push(&t, "ab\n\ncd", 6), 1);
    CHECK_STR_EQ(k2.buf, "ab");
    gen_text_free(&t);

    /* a multibyte stop string cut inside a character */
    const char *st2[] = {"\xe2\x80\x94" "end"}; /* "—end" */
    struct gen_text_sink k3 = {{0}, 0, 0, 0};
    CHECK_EQ_INT(gen_text_init(&t, st2, 1, gen_text_test_emit, &k3), 0);
    CHECK_EQ_INT(gen_text_push(&t, "x\xe2\x80", 3), 0);
    CHECK_STR_EQ(k3.buf, "x");
    CHECK_EQ_INT(gen_text_push(&t, "\x94", 1), 0);
    CHECK_STR_EQ(k3.buf, "x");
    CHECK_EQ_INT(gen_text_push(&t, "e!", 2), 0);
    CHECK_STR_EQ(k3.buf, "x\xe2\x80\x94" "e!");
    gen_text_free(&t);
}

TEST(gen_text_long_text_in_chunks) {
    struct gen_text t;
    struct gen_text_sink k = {{0}, 0, 0, 0};
    CHECK_EQ_INT(gen_text_init(&t, NULL, 0, gen_text_test_emit, &k), 0);
    char piece[1000];
    for (int i = 0; i < 1000; i += 2) memcpy(piece + i, "\xc3\xa9", 2);
    CHECK_EQ_INT(gen_text_push(&t, piece, sizeof piece), 0);
    CHECK_EQ_INT((int)k.n, 1000);
    CHECK(k.n_chunks >= 2);
    CHECK(!k.bad_chunk);
    CHECK(memcmp(k.buf, piece, 1000) == 0);
    gen_text_free(&t);
}

/* Stop strings carry tags: the earliest match's tag is returned; one added later may be longer
 * than any given at init (the held text grows with it); gen_text_stop_tag matches exactly. */
TEST(gen_text_stop_tags) {
    struct gen_text t;
    struct gen_text_sink k = {{0}, 0, 0, 0};
    const char *stops[] = {"END"};
    CHECK_EQ_INT(gen_text_init(&t, stops, 1, gen_text_test_emit, &k), 0);
    char longer[1200];
    memset(longer, 'x', sizeof longer);
    longer[0] = '<';
    CHECK_EQ_INT(gen_text_add_stop(&t, longer, sizeof longer, 2), 0);
    CHECK_EQ_INT(gen_text_add_stop(&t, "<|end_story|>", 13, 2), 0);
    CHECK_EQ_INT(gen_text_add_stop(&t, "", 0, 2), -1);
    CHECK_EQ_INT(gen_text_add_stop(&t, "a", 1, 0), -1);
    CHECK_EQ_INT(gen_text_stop_tag(&t, "END", 3), 1);
    CHECK_EQ_INT(gen_text_stop_tag(&t, "<|end_story|>", 13), 2);
    CHECK_EQ_INT(gen_text_stop_tag(&t, "<|end_story|", 12), 0);
    CHECK_EQ_INT(gen_text_push(&t, "hugged her.<|", 13), 0);
    CHECK_STR_EQ(k.buf, "hugged her.");
    CHECK_EQ_INT(gen_text_push(&t, "end", 3), 0);
    CHECK_EQ_INT(gen_text_push(&t, "_story|>", 8), 2);
    CHECK_STR_EQ(k.buf, "hugged her.");
    gen_text_free(&t);
    /* the earliest of two matches wins, whatever its tag */
    k.n = 0;
    k.buf[0] = 0;
    CHECK_EQ_INT(gen_text_init(&t, stops, 1, gen_text_test_emit, &k), 0);
    CHECK_EQ_INT(gen_text_add_stop(&t, "<|end|>", 7, 2), 0);
    CHECK_EQ_INT(gen_text_push(&t, "a END <|end|>", 13), 1);
    CHECK_STR_EQ(k.buf, "a ");
    /* held text that is no stop after all is released, the long stop string too */
    gen_text_free(&t);
    k.n = 0;
    k.buf[0] = 0;
    CHECK_EQ_INT(gen_text_init(&t, NULL, 0, gen_text_test_emit, &k), 0);
    CHECK_EQ_INT(gen_text_add_stop(&t, longer, sizeof longer, 2), 0);
    CHECK_EQ_INT(gen_text_push(&t, longer, 1000), 0);
    CHECK_EQ_INT(gen_text_push(&t, "y", 1), 0);
    CHECK_EQ_INT((int)k.n, 1001);
    CHECK(!k.bad_chunk);
    gen_text_free(&t);
}
