/* src/cmd_cache.c — `natter cache ls|clear`: the context snapshots kept under
 * paths_cache_dir() (src/kvcache.h), listed most recently used first with their size, token
 * count, context and model, or all removed. Main thread only. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "argv.h"
#include "cli.h"
#include "kvcache.h"
#include "paths.h"

struct cache_ls {
    uint64_t bytes;
};

static int cache_ls_one(const struct kvcache_entry *e, void *ud) {
    struct cache_ls *ls = ud;
    char when[32] = "?";
    time_t t = (time_t)e->used;
    struct tm tm;
    if (localtime_r(&t, &tm))
        strftime(when, sizeof when, "%Y-%m-%d %H:%M", &tm);
    const char *kv = eng_kv_type_name(e->kv_type);
    printf("%8.1f MiB  %6d tokens  ctx %-6d %-4s  %s  %s\n", (double)e->bytes / 1048576.0,
           e->n_tokens, e->n_ctx, kv ? kv : "?", when, e->model);
    ls->bytes += e->bytes;
    return 0;
}

int cmd_cache(int argc, char **argv) {
    static const char usage[] = "cache ls|clear";
    struct argv_state st;
    argv_init(&st, argc, argv, usage, NULL);
    const char *what = NULL;
    int o;
    while ((o = argv_next(&st, NULL)) > ARGV_END) {
        if (o != ARGV_POS)
            return argv_unknown(&st);
        if (what || (strcmp(st.val, "ls") && strcmp(st.val, "clear")))
            return argv_error(&st, "unexpected argument '%s'", st.val);
        what = st.val;
    }
    if (o < ARGV_END)
        return argv_status(o);
    if (!what)
        return cli_usage(usage);
    char dir[4096];
    if (!paths_cache_dir(dir, sizeof dir)) {
        cli_error("cache: no cache directory (set XDG_CACHE_HOME or HOME)");
        return 1;
    }
    char err[300];
    const uint64_t limit = kvcache_limit(err, sizeof err);
    if (err[0])
        cli_error("%s", err);
    if (!strcmp(what, "clear")) {
        uint64_t bytes = 0;
        int n = kvcache_clear(dir, &bytes);
        if (n < 0) {
            cli_error("cache: cannot clear %s", dir);
            return 1;
        }
        printf("removed %d snapshot%s (%.1f MiB) from %s\n", n, n == 1 ? "" : "s",
               (double)bytes / 1048576.0, dir);
        return 0;
    }
    struct cache_ls ls = {0};
    int n = kvcache_each(dir, cache_ls_one, &ls);
    if (n < 0) {
        cli_error("cache: cannot read %s", dir);
        return 1;
    }
    printf("%d snapshot%s, %.1f MiB of %.1f MiB in %s\n", n, n == 1 ? "" : "s",
           (double)ls.bytes / 1048576.0, (double)limit / 1048576.0, dir);
    return 0;
}
