/* tests/fuzz/fuzz_import.c — libFuzzer target for conversation import: any bytes given to
 * store_import_json (an in-memory database) give an import or a one-line error, never a crash;
 * what was imported exports again and is deleted so the database stays small. Single-threaded. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "store.h"

struct ids {
    char id[16][STORE_ID_LEN + 1];
    int n;
};

static void keep_id(const char *id, int n_messages, void *ud) {
    struct ids *ids = ud;
    (void)n_messages;
    if (ids->n < 16)
        memcpy(ids->id[ids->n++], id, STORE_ID_LEN + 1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static store *s;
    if (!s && store_open(":memory:", &s, NULL, 0) != 0)
        abort();
    struct ids ids = {.n = 0};
    if (store_import_json(s, "fuzz", (const char *)data, size, keep_id, &ids) == 0) {
        for (int i = 0; i < ids.n; i++) {
            char *json = NULL;
            if (store_export_json(s, ids.id[i], &json) != 0)
                abort(); /* what was just imported must export */
            free(json);
            store_conv_delete(s, ids.id[i]);
        }
    }
    return 0;
}
