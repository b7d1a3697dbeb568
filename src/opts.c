/* src/opts.c — the sampling/generation flags (see opts.h): a table from flag to setting name,
 * the values going through app_settings_set so that flags and the chat's /set agree on names,
 * types and ranges. Main/UI thread only. */
#include "opts.h"

#include <stdio.h>
#include <string.h>

const struct opts_flag opts_flags[] = {
    {"--temp", NULL, "temp", "T"},
    {"--top-k", NULL, "top-k", "K"},
    {"--top-p", NULL, "top-p", "P"},
    {"--min-p", NULL, "min-p", "P"},
    {"--repeat-penalty", NULL, "repeat-penalty", "R"},
    {"--repeat-last-n", NULL, "repeat-last-n", "N"},
    {"--frequency-penalty", NULL, "frequency-penalty", "F"},
    {"--presence-penalty", NULL, "presence-penalty", "F"},
    {"--seed", NULL, "seed", "S"},
    {"--n-predict", "-n", "n-predict", "N"},
    {"--ctx", NULL, "ctx", "N"},
    {"--threads", "-t", "threads", "N"},
    {"--think", NULL, "think", "on|off"},
    {"--lookup", NULL, "lookup", "N"},
    {"--draft-max", NULL, "draft-max", "N"},
    {"--draft-p-min", NULL, "draft-p-min", "P"},
    {"--kv", NULL, "kv", "f16|q8_0|q4_0"},
    {NULL, NULL, NULL, NULL},
};

int opts_apply(struct app_settings *s, int argc, char **argv, int *i, char *err, size_t err_len) {
    const char *a = argv[*i];
    for (const struct opts_flag *f = opts_flags; f->name; f++) {
        size_t nl = strlen(f->name);
        const char *val;
        int used = 0;
        if (!strcmp(a, f->name) || (f->alt && !strcmp(a, f->alt))) {
            if (*i + 1 >= argc) {
                snprintf(err, err_len, "%s needs a value", a);
                return -1;
            }
            val = argv[*i + 1];
            used = 1;
        } else if (!strncmp(a, f->name, nl) && a[nl] == '=') {
            val = a + nl + 1;
        } else {
            continue;
        }
        char e[200];
        if (app_settings_set(s, f->setting, val, e, sizeof e) != 0) {
            snprintf(err, err_len, "%s: %s", f->name, e);
            return -1;
        }
        *i += used;
        return 1;
    }
    return 0;
}

void opts_to_params(const struct app_settings *s, struct eng_gen_params *gen,
                    struct eng_ctx_params *ctx) {
    if (gen) {
        gen->sample = s->sample;
        gen->n_predict = s->n_predict;
        gen->lookup = s->lookup;
        gen->n_draft = s->draft_max;
        gen->draft_p_min = s->draft_p_min;
    }
    if (ctx) {
        ctx->n_ctx = s->n_ctx;
        ctx->n_threads = s->n_threads;
        ctx->kv_type = s->kv_type;
    }
}

const char *opts_usage(void) {
    static char buf[512];
    if (buf[0]) return buf;
    size_t o = 0;
    for (const struct opts_flag *f = opts_flags; f->name && o < sizeof buf; f++) {
        int n = snprintf(buf + o, sizeof buf - o, "%s[%s%s%s %s]", o ? " " : "",
                         f->alt ? f->alt : "", f->alt ? "|" : "", f->name, f->arg);
        if (n < 0) break;
        o += (size_t)n;
    }
    return buf;
}
