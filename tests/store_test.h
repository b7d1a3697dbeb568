/* tests/store_test.h — what the store's tests share (tests/store_test.c): a scratch database
 * path, opening a store with its error on stderr, one integer read straight from SQLite. */
#ifndef NATTER_STORE_TEST_H
#define NATTER_STORE_TEST_H

#include "store.h"

/* NAME in the case's scratch directory (a static buffer: the next call overwrites it). */
const char *store_test_path(const char *name);
/* store_open, the message on stderr when it fails; NULL then. */
store *store_test_open(const char *path);
/* The first column of the first row of sql on the database at path (read-only), -1 if none. */
long long store_test_int(const char *path, const char *sql);

#endif
