/* src/paths.c — XDG directories, the model search path and the database path (see paths.h).
 * Main/UI thread. */
#include "paths.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef NATTER_DATADIR
#define NATTER_DATADIR "/usr/local/share/natter"
#endif

static char *xdg_dir(const char *env, const char *fallback, char *buf, size_t len) {
    const char *base = getenv(env);
    int n;
    if (base && base[0] == '/') {
        n = snprintf(buf, len, "%s/natter", base);
    } else {
        const char *home = getenv("HOME");
        if (!home || !*home)
            return NULL;
        n = snprintf(buf, len, "%s/%s/natter", home, fallback);
    }
    return n > 0 && (size_t)n < len ? buf : NULL;
}

char *paths_data_dir(char *buf, size_t len) {
    return xdg_dir("XDG_DATA_HOME", ".local/share", buf, len);
}

char *paths_config_dir(char *buf, size_t len) {
    return xdg_dir("XDG_CONFIG_HOME", ".config", buf, len);
}

char *paths_cache_dir(char *buf, size_t len) {
    return xdg_dir("XDG_CACHE_HOME", ".cache", buf, len);
}

char *paths_state_dir(char *buf, size_t len) {
    return xdg_dir("XDG_STATE_HOME", ".local/state", buf, len);
}

char *paths_db(const char *override, char *buf, size_t len) {
    const char *env = getenv("NATTER_DB");
    const char *p = override && *override ? override : env && *env ? env : NULL;
    if (p) {
        int n = snprintf(buf, len, "%s", p);
        return n > 0 && (size_t)n < len ? buf : NULL;
    }
    char dir[4096];
    if (!paths_data_dir(dir, sizeof dir))
        return NULL;
    int n = snprintf(buf, len, "%s/natter.db", dir);
    return n > 0 && (size_t)n < len ? buf : NULL;
}

static int is_dir(const char *p) {
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Directory of the running executable into buf (no trailing slash); NULL if unknown. */
static char *exe_dir(char *buf, size_t len) {
    ssize_t n = readlink("/proc/self/exe", buf, len - 1);
    if (n <= 0 || (size_t)n >= len - 1)
        return NULL;
    buf[n] = 0;
    char *slash = strrchr(buf, '/');
    if (!slash)
        return NULL;
    *slash = 0;
    return buf;
}

char *paths_prompts_dir(char *buf, size_t len) {
    const char *env = getenv("NATTER_PROMPTS");
    char exe[4096], cand[4200];
    int n;
    if (env && *env) {
        n = snprintf(buf, len, "%s", env);
    } else if (is_dir("prompts/templates")) {
        n = snprintf(buf, len, "prompts");
    } else if (exe_dir(exe, sizeof exe)) {
        /* build/natter in a source tree, then PREFIX/bin/natter beside PREFIX/share/natter */
        snprintf(cand, sizeof cand, "%s/../prompts/templates", exe);
        if (is_dir(cand))
            n = snprintf(buf, len, "%s/../prompts", exe);
        else if (snprintf(cand, sizeof cand, "%s/../share/natter/prompts/templates", exe),
                 is_dir(cand))
            n = snprintf(buf, len, "%s/../share/natter/prompts", exe);
        else
            n = snprintf(buf, len, "%s/prompts", NATTER_DATADIR);
    } else {
        n = snprintf(buf, len, "%s/prompts", NATTER_DATADIR);
    }
    return n > 0 && (size_t)n < len ? buf : NULL;
}

int paths_mkdir_p(const char *dir) {
    char tmp[4096];
    size_t l = strlen(dir);
    if (l == 0 || l >= sizeof tmp) {
        errno = ENAMETOOLONG;
        return -1;
    }
    memcpy(tmp, dir, l + 1);
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = 0;
        if (mkdir(tmp, 0700) != 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    if (mkdir(tmp, 0700) != 0 && errno != EEXIST)
        return -1;
    return is_dir(tmp) ? 0 : (errno = ENOTDIR, -1);
}

int paths_model_dirs(int (*fn)(const char *dir, void *ud), void *ud) {
    const char *env = getenv("NATTER_MODELS");
    int rc;
    if (env && *env) {
        char *copy = strdup(env), *save = NULL;
        if (!copy)
            return -1;
        for (char *d = strtok_r(copy, ":", &save); d; d = strtok_r(NULL, ":", &save))
            if (is_dir(d) && (rc = fn(d, ud)) != 0) {
                free(copy);
                return rc;
            }
        free(copy);
    }
    char dir[4096];
    if (paths_data_dir(dir, sizeof dir) && strlen(dir) + 8 < sizeof dir) {
        strcat(dir, "/models");
        if (is_dir(dir) && (rc = fn(dir, ud)) != 0)
            return rc;
    }
    if (is_dir("../shared/models") && (rc = fn("../shared/models", ud)) != 0)
        return rc;
    return 0;
}

struct each_ctx {
    int (*fn)(const char *path, void *ud);
    void *ud;
};

static int name_cmp(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int dir_each_gguf(const char *dir, void *ud) {
    struct each_ctx *e = ud;
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        size_t l = strlen(de->d_name);
        if (l < 6 || strcmp(de->d_name + l - 5, ".gguf") != 0)
            continue;
        if (n == cap) {
            char **nn = realloc(names, (cap = cap ? cap * 2 : 16) * sizeof *names);
            if (!nn)
                break;
            names = nn;
        }
        if (!(names[n] = strdup(de->d_name)))
            break;
        n++;
    }
    closedir(d);
    if (n)
        qsort(names, n, sizeof *names, name_cmp);
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        char path[4096];
        if (rc == 0 && snprintf(path, sizeof path, "%s/%s", dir, names[i]) < (int)sizeof path)
            rc = e->fn(path, e->ud);
        free(names[i]);
    }
    free(names);
    return rc;
}

int paths_models_each(int (*fn)(const char *path, void *ud), void *ud) {
    struct each_ctx e = {fn, ud};
    return paths_model_dirs(dir_each_gguf, &e);
}

struct first_ctx {
    char *buf;
    size_t len;
};

static int take_first(const char *path, void *ud) {
    struct first_ctx *f = ud;
    return snprintf(f->buf, f->len, "%s", path) < (int)f->len ? 1 : 0;
}

char *paths_first_model(char *buf, size_t len) {
    struct first_ctx f = {buf, len};
    return paths_models_each(take_first, &f) == 1 ? buf : NULL;
}

struct find_ctx {
    const char *name;
    size_t n;
    int exact;            /* found by its whole name */
    int n_prefix;         /* base names the name starts */
    char path[4096], list[256];
};

/* 1 when list ("a, b, c") holds name: a file of the same name in a later directory of the
 * search path is the same model as far as names go (the first one wins). */
static int find_listed(const char *list, const char *name) {
    const size_t n = strlen(name);
    for (const char *p = list; (p = strstr(p, name)); p += n)
        if ((p == list || p[-1] == ' ') && (p[n] == ',' || p[n] == 0))
            return 1;
    return 0;
}

static int find_model(const char *path, void *ud) {
    struct find_ctx *f = ud;
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    if (!strcmp(base, f->name) || (!strncmp(base, f->name, f->n) && !strcmp(base + f->n, ".gguf"))) {
        snprintf(f->path, sizeof f->path, "%s", path);
        f->exact = 1;
        return 1;
    }
    if (strncasecmp(base, f->name, f->n) == 0 && !find_listed(f->list, base)) {
        if (f->n_prefix++ == 0)
            snprintf(f->path, sizeof f->path, "%s", path);
        size_t o = strlen(f->list);
        if (o + strlen(base) + 8 < sizeof f->list)
            snprintf(f->list + o, sizeof f->list - o, "%s%s", o ? ", " : "", base);
        else if (o < 4 || strcmp(f->list + o - 3, "..."))
            snprintf(f->list + o, sizeof f->list - o, ", ...");
    }
    return 0;
}

int paths_model_find(const char *name, char *buf, size_t len, char *err, size_t err_len) {
    struct find_ctx f = {.name = name, .n = strlen(name)};
    if (!f.n) {
        snprintf(err, err_len, "no model named ''");
        return -1;
    }
    if (access(name, R_OK) == 0 || strchr(name, '/')) {
        if (access(name, R_OK) != 0) {
            snprintf(err, err_len, "%s: %s", name, strerror(errno));
            return -1;
        }
        snprintf(buf, len, "%s", name);
        return 0;
    }
    paths_models_each(find_model, &f);
    if (f.exact || f.n_prefix == 1) {
        snprintf(buf, len, "%s", f.path);
        return 0;
    }
    if (f.n_prefix > 1)
        snprintf(err, err_len, "'%s' names %d models: %s", name, f.n_prefix, f.list);
    else
        snprintf(err, err_len, "no model '%s' (a file, or a name in the model search path: "
                 "natter models lists them)", name);
    return -1;
}
