/* src/opts.h — the sampling/generation command-line flags shared by `natter run` and the
 * full-screen chat (--temp --top-k --top-p --min-p --repeat-penalty --repeat-last-n
 * --frequency-penalty --presence-penalty --seed -n/--n-predict --ctx -t/--threads --think
 * --lookup --draft-max --draft-p-min --kv). Values are
 * parsed and range-checked by app_settings_set (one table of settings for flags and /set).
 * Main/UI thread only; no state. Errors: opts_apply's -1 with one line in err (the caller
 * prints it and exits 2). */
#ifndef NATTER_OPTS_H
#define NATTER_OPTS_H

#include <stddef.h>

#include "app.h"
#include "engine.h"

struct opts_flag {
    const char *name;     /* "--temp" */
    const char *alt;      /* "-n", or NULL */
    const char *setting;  /* the app_settings_set name: "temp" */
    const char *arg;      /* the value's placeholder in usage lines: "T" */
};
/* The flags, ended by an entry whose name is NULL. */
extern const struct opts_flag opts_flags[];

/* If argv[*i] is one of the flags ("--temp 0.7" or "--temp=0.7"), applies it to s and moves *i
 * to the flag's last argument. Returns 1 if applied, 0 if argv[*i] is not one of these flags,
 * -1 if its value is missing or bad (a one-line message in err). */
int opts_apply(struct app_settings *s, int argc, char **argv, int *i, char *err, size_t err_len);

/* The engine parameters for settings s (gen: sampling and length; ctx: context and threads). */
void opts_to_params(const struct app_settings *s, struct eng_gen_params *gen,
                    struct eng_ctx_params *ctx);

/* "[--temp T] [--top-k K] ..." for usage lines. */
const char *opts_usage(void);

#endif
