/* src/cmd_eval.c — `natter eval` (teacher-forced logits of a token sequence, in the format of
 * ../shared/reference) and `natter models` (one summary line per GGUF file). Main thread. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "argv.h"
#include "cli.h"
#include "units.h"
#include "engine.h"
#include "paths.h"

#define EVAL_USAGE \
    "eval -m MODEL --tokens \"ID ID ...\" [--top K] [--full POS] [-t N] [--ctx N] [--kv TYPE]"

/* Parses a non-negative int (whole string); -1 if it is not one. */
/* Parses space/comma separated ids into a new array; returns the count or -1. */
static int eval_parse_tokens(const char *s, int32_t **out) {
    size_t cap = 16, n = 0;
    int32_t *v = malloc(cap * sizeof *v);
    if (!v)
        return -1;
    while (*s) {
        while (*s == ' ' || *s == ',' || *s == '\t' || *s == '\n')
            s++;
        if (!*s)
            break;
        char *end;
        errno = 0;
        long id = strtol(s, &end, 10);
        if (errno || end == s || id < 0 || id > INT32_MAX ||
            (*end && *end != ' ' && *end != ',' && *end != '\t' && *end != '\n')) {
            free(v);
            return -1;
        }
        if (n == cap) {
            int32_t *nv = realloc(v, (cap *= 2) * sizeof *v);
            if (!nv) {
                free(v);
                return -1;
            }
            v = nv;
        }
        v[n++] = (int32_t)id;
        s = end;
    }
    *out = v;
    return (int)n;
}

/* The k largest logits, best first (ties: lower id first). */
static void eval_print_top(int pos, const float *lg, int n_vocab, int k, int *idx) {
    int n = 0;
    for (int i = 0; i < n_vocab; i++) {
        if (n == k && lg[i] <= lg[idx[n - 1]])
            continue;
        int j = n < k ? n++ : n - 1;
        while (j > 0 && lg[idx[j - 1]] < lg[i]) {
            idx[j] = idx[j - 1];
            j--;
        }
        idx[j] = i;
    }
    printf("top %d", pos);
    for (int i = 0; i < n; i++)
        printf(" %d:%g", idx[i], (double)lg[idx[i]]);
    putchar('\n');
}

int cmd_eval(int argc, char **argv) {
    const char *model = NULL, *toks_s = NULL;
    long top = 10, full = -1, threads = 0, ctx = 0;
    int kv = ENG_KV_F16;
    enum { O_MODEL = ARGV_ID, O_TOKENS, O_TOP, O_FULL, O_THREADS, O_CTX, O_KV };
    static const struct argv_opt opts[] = {
        {"--model", "-m", ARGV_VALUE, O_MODEL},     {"--tokens", NULL, ARGV_VALUE, O_TOKENS},
        {"--top", NULL, ARGV_VALUE, O_TOP},         {"--full", NULL, ARGV_VALUE, O_FULL},
        {"--threads", "-t", ARGV_VALUE, O_THREADS}, {"--ctx", "-c", ARGV_VALUE, O_CTX},
        {"--kv", NULL, ARGV_VALUE, O_KV},           {NULL, NULL, 0, 0},
    };
    struct argv_state st;
    argv_init(&st, argc, argv, EVAL_USAGE, NULL);
    int o, bad = 0;
    while (!bad && (o = argv_next(&st, opts)) > ARGV_END) {
        switch (o) {
        case O_MODEL: model = st.val; break;
        case O_TOKENS: toks_s = st.val; break;
        case O_TOP: bad = argv_int(&st, 0, 1000000, &top); break;
        case O_FULL: bad = argv_int(&st, 0, 1L << 30, &full); break;
        case O_THREADS: bad = argv_int(&st, 0, 256, &threads); break;
        case O_CTX: bad = argv_int(&st, 0, 1L << 22, &ctx); break;
        case O_KV:
            if ((kv = eng_kv_type_parse(st.val)) < 0)
                return argv_error(&st, "--kv wants f16, f32, q8_0 or q4_0, not '%s'", st.val);
            break;
        case ARGV_POS: return argv_error(&st, "unexpected argument '%s'", st.val);
        default: return argv_unknown(&st);
        }
    }
    if (bad)
        return bad;
    if (o < ARGV_END)
        return argv_status(o);
    if (!model || !toks_s)
        return cli_usage(EVAL_USAGE);
    int32_t *toks = NULL;
    int n = eval_parse_tokens(toks_s, &toks);
    if (n < 0)
        return cli_usage(EVAL_USAGE);
    if (n == 0) {
        free(toks);
        cli_error("eval: --tokens is empty");
        return 1;
    }
    int n_eval = n;   /* logits after each token, the last one's included */
    if (ctx && ctx < n_eval) {
        free(toks);
        cli_error("eval: %d tokens do not fit a context of %ld", n_eval, ctx);
        return 1;
    }
    if (full >= n_eval) {
        free(toks);
        cli_error("eval: --full %ld is past the last position (%d)", full, n_eval - 1);
        return 1;
    }
    eng_model *m = NULL;
    eng_ctx *c = NULL;
    int rc = eng_model_load(model, NULL, &m);
    if (rc) {
        cli_error_file(model, eng_last_error());
        free(toks);
        return 1;
    }
    struct eng_ctx_params cp = eng_ctx_default_params();
    cp.n_ctx = ctx ? (int)ctx : n_eval;   /* it matters where RoPE depends on it (LongRoPE) */
    cp.n_threads = (int)threads;
    cp.kv_type = kv;
    if ((rc = eng_ctx_new(m, &cp, &c)) || (rc = eng_decode(c, toks, n_eval, 1))) {
        cli_error("eval: %s", eng_last_error());
        eng_ctx_free(c);
        eng_model_free(m);
        free(toks);
        return 1;
    }
    struct eng_model_info info;
    eng_model_info_get(m, &info);
    int *idx = malloc((size_t)(top ? top : 1) * sizeof *idx);
    for (int p = 0; idx && p < n_eval; p++) {
        const float *lg = eng_logits(c, p);
        if (top > 0)
            eval_print_top(p, lg, info.n_vocab, (int)(top < info.n_vocab ? top : info.n_vocab),
                           idx);
        if (p == full) {
            printf("full %d", p);
            for (int i = 0; i < info.n_vocab; i++)
                printf(" %g", (double)lg[i]);
            putchar('\n');
        }
    }
    free(idx);
    eng_ctx_free(c);
    eng_model_free(m);
    free(toks);
    return fflush(stdout) == 0 ? 0 : 1;
}

/* ---- natter models ---- */

static int models_one(const char *path, void *ud) {
    int *n_err = ud;
    n_err[1]++;
    struct eng_model_params mp = eng_model_default_params();
    eng_model *m;
    if (eng_model_load(path, &mp, &m) != ENG_OK) {
        cli_error_file(path, eng_last_error());
        (*n_err)++;
        return 0;
    }
    struct eng_model_info in;
    eng_model_info_get(m, &in);
    char params[32], size[32];
    units_count((double)in.n_params, params, sizeof params);
    units_bytes(in.file_size, 2, size, sizeof size);
    int ft = in.ftype[0] && strcmp(in.ftype, in.types) != 0;   /* "Q4_K_M = Q4_K,Q6_K,F32" */
    char ctx[96];   /* the context it was trained for, and what RoPE scaling extends */
    if (in.rope_scaling[0] && in.n_ctx_orig != in.n_ctx_train)
        snprintf(ctx, sizeof ctx, "ctx %d (%s from %d)", in.n_ctx_train, in.rope_scaling,
                 in.n_ctx_orig);
    else
        snprintf(ctx, sizeof ctx, "ctx %d", in.n_ctx_train);
    if (in.n_swa)
        snprintf(ctx + strlen(ctx), sizeof ctx - strlen(ctx), ", window %d", in.n_swa);
    printf("%s: %s (%s, %s params, %s%s%s%s, %s, %s, chat template %s)\n", path, in.name,
           in.arch, params, ft ? in.ftype : "", ft ? " " : "", ft ? "= " : "", in.types, size,
           ctx, in.has_chat_template ? "yes" : "no");
    eng_model_free(m);
    return 0;
}

int cmd_models(int argc, char **argv) {
    int n_err[2] = {0, 0};
    struct argv_state st;
    argv_init(&st, argc, argv, "models [PATH...]", NULL);
    int o, n_paths = 0;
    while ((o = argv_next(&st, NULL)) > ARGV_END) {
        if (o != ARGV_POS)
            return argv_unknown(&st);
        argv[1 + n_paths++] = (char *)st.val; /* the operands, in place ("--" left out) */
    }
    if (o < ARGV_END)
        return argv_status(o);
    for (int i = 0; i < n_paths; i++)
        models_one(argv[1 + i], n_err);
    if (!n_paths)
        paths_models_each(models_one, n_err);
    if (!n_paths && !n_err[1])
        cli_error("no models found: put .gguf files in $NATTER_MODELS or "
                  "$XDG_DATA_HOME/natter/models (see natter(1), 'Models')");
    return n_err[0] ? 1 : 0;
}
