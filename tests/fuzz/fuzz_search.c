/* tests/fuzz/fuzz_search.c — libFuzzer target for search: the input is a message text, a NUL
 * byte, then a query (both any bytes: invalid UTF-8, NUL bytes in the text, CJK, FTS5 syntax).
 * The text is saved in an in-memory store and searched for with store_search and
 * store_search_json (the FTS5 path or the substring scan, natter_search_count/_snippet): a
 * hit list or a one-line error, never a crash; a query that is a word of the text finds it.
 * Single-threaded. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store.h"

static int count_hit(const struct store_hit *h, void *ud) {
    if (!h->id || !h->snippet)
        abort();
    ++*(int *)ud;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static store *s;
    static char id[STORE_ID_LEN + 1];
    if (!s && (store_open(":memory:", &s, NULL, 0) != 0 || store_conv_new(s, NULL, id) != 0))
        abort();
    const uint8_t *nul = memchr(data, 0, size);
    size_t tlen = nul ? (size_t)(nul - data) : size;
    char *query = malloc(size - tlen + 1);
    if (!query)
        return 0;
    size_t qlen = nul ? size - tlen - 1 : 0;
    memcpy(query, nul ? (const char *)nul + 1 : "", qlen);
    query[qlen] = 0;
    int64_t m = store_msg_add_len(s, id, "user", (const char *)data, tlen, NULL, 0, 0);
    if (m <= 0)
        abort();
    int n = 0;
    int r = store_search(s, query, 10, count_hit, &n);
    const char *e = store_errmsg(s);
    if (r != 0 && (!e || !*e || strchr(e, '\n')))
        abort(); /* a refusal says why, in one line */
    char *json = NULL;
    r = store_search_json(s, query, 10, &json);
    if (r == 0 && (!json || json[0] != '['))
        abort();
    free(json);
    /* the first word of the text, searched for, finds the message (ASCII letters only: the
     * FTS5 tokenizer's own notion of a word is the reference for anything else) */
    size_t w = 0;
    while (w < tlen && w < 16 && ((data[w] | 32) >= 'a' && (data[w] | 32) <= 'z'))
        w++;
    if (w >= 1) {
        char word[17];
        memcpy(word, data, w);
        word[w] = 0;
        n = 0;
        if (store_search(s, word, 10, count_hit, &n) != 0 || n == 0) {
            fprintf(stderr, "'%s' not found\n", word);
            abort();
        }
    }
    store_msg_delete(s, id, m);
    free(query);
    return 0;
}
