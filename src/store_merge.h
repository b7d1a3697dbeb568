/* src/store_merge.h — the store's migration to schema 4 merges the copies older natters made
 * when a message was edited ("continues as a new conversation"): a conversation with the same
 * title and system prompt as an earlier one, whose first messages repeat a path of the
 * earlier one exactly (role and text) and then go on with a user message where the earlier
 * one had another, written before the copy, becomes a sibling branch of the earlier one (the
 * shared messages once, the edit and what followed as the new version) and the copy goes.
 * Anything else is left as it is. Main thread, inside the caller's write transaction; errors
 * are SQLite's (sqlite3_errmsg(db)). */
#ifndef NATTER_STORE_MERGE_H
#define NATTER_STORE_MERGE_H

#include <sqlite3.h>

/* Runs on a schema 3 database (conversations.leaf, parent links). 0 with the count of copies
 * merged in *n_merged, or -1. */
int store_merge_edit_copies(sqlite3 *db, int *n_merged);

#endif
