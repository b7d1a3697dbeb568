/* src/argv.h — the subcommands' argument parser: one table of options per command, long
 * options with their value after a space or '=' ("--db x", "--db=x"), one short alias each,
 * "--" ending the options, and the same answers everywhere: -h/--help prints "usage: natter
 * USAGE" (and the command's help text) to stdout and the command exits 0; an unknown option,
 * a missing or unwanted value or a bad number prints one line "natter: CMD: ..." and the
 * usage hint to stderr and the command exits 2. Main thread; no state beyond the parser's. */
#ifndef NATTER_ARGV_H
#define NATTER_ARGV_H

enum {
    ARGV_END = 0,      /* no more arguments */
    ARGV_POS = 1,      /* an operand, in st->val */
    ARGV_UNKNOWN = 2,  /* an option not in the table, in st->arg (the caller may know it, as
                        * run knows the sampling flags; else argv_unknown) */
    ARGV_HELP = -1,    /* --help was printed: exit 0 */
    ARGV_ERROR = -2,   /* a usage error was printed: exit 2 */
    ARGV_ID = 16,      /* the first id a command gives its options */
};

enum { ARGV_FLAG = 0, ARGV_VALUE = 1 };

struct argv_opt {
    const char *name;  /* "--model" (NULL ends the table) */
    const char *alias; /* "-m", or NULL */
    int kind;          /* ARGV_FLAG or ARGV_VALUE */
    int id;            /* >= ARGV_ID, returned by argv_next */
};

struct argv_state {
    int argc;
    char **argv;
    int i;             /* the argument being looked at */
    const char *usage; /* "export ID [--format md|json] ..." (the command name first) */
    const char *help;  /* more lines for --help, or NULL */
    const char *arg;   /* the option as written */
    const char *val;   /* its value (ARGV_VALUE), or the operand (ARGV_POS) */
    int opts_done;     /* after "--" */
};

void argv_init(struct argv_state *st, int argc, char **argv, const char *usage,
               const char *help);
/* The next argument: an option's id (st->val its value), ARGV_POS, ARGV_UNKNOWN, ARGV_END,
 * or ARGV_HELP / ARGV_ERROR after printing. */
int argv_next(struct argv_state *st, const struct argv_opt *opts);
/* What a command returns for argv_next's ARGV_HELP (0) or ARGV_ERROR (2). */
int argv_status(int r);
/* Prints "natter: CMD: MESSAGE" and the usage hint to stderr; returns 2. */
int argv_error(const struct argv_state *st, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* argv_error for st->arg, an option the command does not take. */
int argv_unknown(const struct argv_state *st);
/* st->val as an integer in [min, max]: 0, or argv_error's 2. */
int argv_int(const struct argv_state *st, long min, long max, long *out);

#endif
