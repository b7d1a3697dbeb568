/* tests/fuzz/fuzz_import.c — libFuzzer target for conversation import: any bytes given to
 * store_import_json (an in-memory database) give an import or a one-line error, never a crash;
 * what was imported exports again, that export imports again and exports to the same bytes
 * (round trip), and everything is deleted so the database stays small. Single-threaded. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store.h"

struct ids {
    char id[32][STORE_ID_LEN + 1];
    int n;
};

static void keep_id(const char *id, int n_messages, void *ud) {
    struct ids *ids = ud;
    (void)n_messages;
    if (ids->n < 32)
        memcpy(ids->id[ids->n++], id, STORE_ID_LEN + 1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static store *s;
    if (!s && store_open(":memory:", &s, NULL, 0) != 0)
        abort();
    struct ids ids = {.n = 0};
    if (store_import_json(s, "fuzz", (const char *)data, size, keep_id, &ids) != 0) {
        const char *e = store_errmsg(s);
        if (!e || !*e || strchr(e, '\n'))
            abort(); /* a refusal says why, in one line */
        return 0;
    }
    int n_first = ids.n < 16 ? ids.n : 16;
    for (int i = 0; i < n_first; i++) {
        /* the export imports again, keeping its id once the original is gone, and exports to
         * the same bytes */
        char *json = NULL, *again = NULL;
        struct ids back = {.n = 0};
        if (store_export_json(s, ids.id[i], &json) != 0)
            abort(); /* what was just imported must export */
        if (store_conv_delete(s, ids.id[i]) != 0 ||
            store_import_json(s, "again", json, strlen(json), keep_id, &back) != 0) {
            fprintf(stderr, "re-import: %s\n%s\n", store_errmsg(s), json);
            abort(); /* ... and that export must import again */
        }
        if (back.n != 1 || strcmp(back.id[0], ids.id[i]) != 0 ||
            store_export_json(s, ids.id[i], &again) != 0 || strcmp(json, again) != 0) {
            fprintf(stderr, "round trip differs:\n%s\n%s\n", json, again ? again : "");
            abort();
        }
        free(json);
        free(again);
    }
    for (int i = 0; i < ids.n; i++)
        store_conv_delete(s, ids.id[i]);
    return 0;
}
