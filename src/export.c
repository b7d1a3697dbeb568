/* src/export.c — an export written whole or not at all (export.h). */
#include "export.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int export_fail(const char *path, int e, char *err, size_t err_len) {
    snprintf(err, err_len, "%s: %s", path, strerror(e ? e : EIO));
    return -1;
}

int export_file_open(struct export_file *x, const char *path, char *err, size_t err_len) {
    x->f = NULL;
    x->path = path;
    if (snprintf(x->tmp, sizeof x->tmp, "%s.XXXXXX", path) >= (int)sizeof x->tmp)
        return export_fail(path, ENAMETOOLONG, err, err_len);
    int fd = mkstemp(x->tmp);
    if (fd < 0)
        return export_fail(path, errno, err, err_len);
    mode_t um = umask(0); /* mkstemp makes it 0600: give it the mode a new file would have */
    umask(um);
    if (fchmod(fd, 0666 & ~um) != 0 || !(x->f = fdopen(fd, "w"))) {
        int e = errno;
        close(fd);
        unlink(x->tmp);
        return export_fail(path, e, err, err_len);
    }
    return 0;
}

int export_file_commit(struct export_file *x, char *err, size_t err_len) {
    int e = 0;
    if (fflush(x->f) != 0 || ferror(x->f) || fsync(fileno(x->f)) != 0)
        e = errno ? errno : EIO;
    if (fclose(x->f) != 0 && !e)
        e = errno;
    x->f = NULL;
    if (!e && rename(x->tmp, x->path) != 0)
        e = errno;
    if (e) {
        unlink(x->tmp);
        return export_fail(x->path, e, err, err_len);
    }
    return 0;
}

void export_file_abort(struct export_file *x) {
    if (x->f)
        fclose(x->f);
    x->f = NULL;
    unlink(x->tmp);
}

int export_json_file(store *s, const char *id, const char *path, char *err, size_t err_len) {
    char *json = NULL;
    if (store_export_json(s, id, &json) != 0) { /* built first: a failure writes nothing */
        snprintf(err, err_len, "%s", store_errmsg(s));
        return -1;
    }
    struct export_file x;
    int rc = export_file_open(&x, path, err, err_len);
    if (rc == 0) {
        fputs(json, x.f);
        fputc('\n', x.f);
        rc = export_file_commit(&x, err, err_len);
    }
    free(json);
    return rc;
}
