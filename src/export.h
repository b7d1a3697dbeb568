/* src/export.h — writing an exported conversation to a file whole or not at all: a temporary
 * file beside the target (with the mode a new file would get), flushed, fsync'd and renamed
 * over it, so a reader never sees half a file and a failure leaves the old one. `natter export`
 * and the chat's /export both write through it. Main/UI thread (it reads the store).
 * Errors: -1 with one line in err ("PATH: reason"); nothing is left behind. */
#ifndef NATTER_EXPORT_H
#define NATTER_EXPORT_H

#include <stddef.h>
#include <stdio.h>

#include "store.h"

struct export_file {
    FILE *f;            /* write the contents here */
    char tmp[4200];
    const char *path;   /* borrowed */
};
/* Opens the temporary file for path. 0, or -1 with err. */
int export_file_open(struct export_file *x, const char *path, char *err, size_t err_len);
/* Flushes, fsyncs, closes and renames it over path. 0, or -1 with err (the temp removed). */
int export_file_commit(struct export_file *x, char *err, size_t err_len);
/* Closes and removes the temporary file (a failure before commit). */
void export_file_abort(struct export_file *x);

/* Conversation id (NULL: all of them) as natter's JSON into path. 0, or -1 with err. */
int export_json_file(store *s, const char *id, const char *path, char *err, size_t err_len);

#endif
