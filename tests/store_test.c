/* tests/store_test.c — the store tests' helpers (store_test.h). */
#include "store_test.h"

#include <sqlite3.h>
#include <stdio.h>

#include "harness.h"

const char *store_test_path(const char *name) {
    static char buf[1024];
    snprintf(buf, sizeof buf, "%s/%s", test_tmpdir(), name);
    return buf;
}

store *store_test_open(const char *path) {
    store *s = NULL;
    char err[512];
    if (store_open(path, &s, err, sizeof err) != 0)
        fprintf(stderr, "store_open: %s\n", err);
    return s;
}

long long store_test_int(const char *path, const char *sql) {
    sqlite3 *db;
    sqlite3_stmt *q;
    long long v = -1;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
        sqlite3_prepare_v2(db, sql, -1, &q, NULL) == SQLITE_OK) {
        if (sqlite3_step(q) == SQLITE_ROW)
            v = sqlite3_column_int64(q, 0);
        sqlite3_finalize(q);
    }
    sqlite3_close(db);
    return v;
}
