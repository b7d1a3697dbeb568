/* src/argv.c — the subcommands' argument parser (argv.h). Main thread. */
#include "argv.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

void argv_init(struct argv_state *st, int argc, char **argv, const char *usage,
               const char *help) {
    memset(st, 0, sizeof *st);
    st->argc = argc;
    st->argv = argv;
    st->usage = usage;
    st->help = help;
}

int argv_status(int r) { return r == ARGV_HELP ? 0 : 2; }

int argv_error(const struct argv_state *st, const char *fmt, ...) {
    va_list ap;
    fprintf(stderr, "natter: %.*s: ", cli_command_len(st->usage), st->usage);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return cli_usage(st->usage);
}

int argv_unknown(const struct argv_state *st) {
    return argv_error(st, "unknown option '%s'", st->arg);
}

int argv_int(const struct argv_state *st, long min, long max, long *out) {
    char *end;
    errno = 0;
    long v = strtol(st->val, &end, 10);
    if (errno || end == st->val || *end || v < min || v > max)
        return argv_error(st, "%s: '%s' is not a whole number from %ld to %ld", st->arg,
                          st->val, min, max);
    *out = v;
    return 0;
}

int argv_next(struct argv_state *st, const struct argv_opt *opts) {
    if (++st->i >= st->argc)
        return ARGV_END;
    const char *a = st->argv[st->i];
    st->arg = a;
    st->val = NULL;
    if (st->opts_done || a[0] != '-' || !a[1]) {
        st->val = a;
        return ARGV_POS;
    }
    if (!strcmp(a, "--")) {
        st->opts_done = 1;
        return argv_next(st, opts);
    }
    if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
        printf("usage: natter %s\n", st->usage);
        if (st->help)
            fputs(st->help, stdout);
        return ARGV_HELP;
    }
    const char *eq = !strncmp(a, "--", 2) ? strchr(a, '=') : NULL;
    size_t n = eq ? (size_t)(eq - a) : strlen(a);
    for (const struct argv_opt *o = opts; o && o->name; o++) {
        int hit = (strlen(o->name) == n && !strncmp(o->name, a, n)) ||
                  (!eq && o->alias && !strcmp(o->alias, a));
        if (!hit)
            continue;
        if (o->kind == ARGV_FLAG) {
            if (eq)
                return argv_error(st, "option %s takes no value", o->name), ARGV_ERROR;
            return o->id;
        }
        if (eq)
            st->val = eq + 1;
        else if (st->i + 1 < st->argc)
            st->val = st->argv[++st->i];
        else
            return argv_error(st, "option %s needs a value", a), ARGV_ERROR;
        return o->id;
    }
    return ARGV_UNKNOWN;
}
