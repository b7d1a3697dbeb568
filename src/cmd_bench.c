/* src/cmd_bench.c — `natter bench`: prompt processing of p tokens (one batched eng_decode) and
 * generation of n tokens (one eng_decode each), r times each after a warm-up, on random token
 * ids from a fixed seed, after d tokens already in the context (-d, as llama-bench's depth); prints a llama-bench-like table (model, size, params, types, threads,
 * test, t/s mean ± sd) and the peak RSS, or with --json an array with one object per test
 * (n_prompt, n_gen, avg_ts, stddev_ts, ... as `llama-bench -o json`). Main thread only. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "argv.h"
#include "cli.h"
#include "engine.h"

struct bench_args {
    const char *model;
    int n_prompt, n_gen, reps, n_threads, json, no_repack, n_depth, kv_type;
};

struct bench_result {
    int n_prompt, n_gen, n_depth;
    double samples_ts[64];
    double avg_ts, stddev_ts, avg_ns, stddev_ns;
    int n;
};

static double bench_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* argv_int into an int. */
static int bench_int(const struct argv_state *st, int min, int max, int *out) {
    long v;
    int r = argv_int(st, min, max, &v);
    if (r == 0)
        *out = (int)v;
    return r;
}

/* 0, -1 after --help, or the usage error's exit status (2). */
static int bench_parse(int argc, char **argv, struct bench_args *a) {
    static const char usage[] =
        "bench -m MODEL [-p N] [-n N] [-d N] [-r N] [-t N] [--kv f16|q8_0|q4_0] [--no-repack] "
        "[--json]";
    *a = (struct bench_args){NULL, 512, 128, 5, 0, 0, 0, 0, ENG_KV_F16};
    enum { O_MODEL = ARGV_ID, O_P, O_N, O_D, O_R, O_T, O_KV, O_CTK, O_NO_REPACK, O_JSON };
    static const struct argv_opt opts[] = {
        {"--model", "-m", ARGV_VALUE, O_MODEL},   {"--n-prompt", "-p", ARGV_VALUE, O_P},
        {"--n-gen", "-n", ARGV_VALUE, O_N},       {"--n-depth", "-d", ARGV_VALUE, O_D},
        {"--repetitions", "-r", ARGV_VALUE, O_R}, {"--threads", "-t", ARGV_VALUE, O_T},
        {"--kv", NULL, ARGV_VALUE, O_KV},         {"-ctk", NULL, ARGV_VALUE, O_CTK},
        {"--no-repack", NULL, ARGV_FLAG, O_NO_REPACK}, {"--json", NULL, ARGV_FLAG, O_JSON},
        {NULL, NULL, 0, 0},
    };
    struct argv_state st;
    argv_init(&st, argc, argv, usage, NULL);
    int o, rc = 0;
    while (!rc && (o = argv_next(&st, opts)) > ARGV_END) {
        switch (o) {
        case O_MODEL: a->model = st.val; break;
        case O_P: rc = bench_int(&st, 0, 1 << 16, &a->n_prompt); break;
        case O_N: rc = bench_int(&st, 0, 1 << 16, &a->n_gen); break;
        case O_D: rc = bench_int(&st, 0, 1 << 20, &a->n_depth); break;
        case O_R: rc = bench_int(&st, 1, 64, &a->reps); break;
        case O_T: rc = bench_int(&st, 0, 1024, &a->n_threads); break;
        case O_KV:
        case O_CTK: /* llama-bench's name too */
            if ((a->kv_type = eng_kv_type_parse(st.val)) < 0)
                return argv_error(&st, "%s wants f16, f32, q8_0 or q4_0", st.arg);
            break;
        case O_NO_REPACK: a->no_repack = 1; break;
        case O_JSON: a->json = 1; break;
        case ARGV_POS: return argv_error(&st, "unexpected argument '%s'", st.val);
        default: return argv_unknown(&st);
        }
    }
    if (rc)
        return rc;
    if (o == ARGV_HELP)
        return -1;
    if (o == ARGV_ERROR)
        return 2;
    if (!a->model) {
        cli_error("bench: no model (-m MODEL)");
        return cli_usage(usage);
    }
    if (a->n_prompt == 0 && a->n_gen == 0) {
        cli_error("bench: nothing to measure (-p 0 and -n 0)");
        return cli_usage(usage);
    }
    return 0;
}

/* Random token ids (fixed seed), the first one BOS as llama-bench does. */
static void bench_tokens(const eng_model *m, int32_t *toks, int n) {
    uint64_t x = 0x5eed;
    int n_vocab = eng_vocab_size(m);
    for (int i = 0; i < n; i++) {
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        toks[i] = (int32_t)((x >> 33) % (uint64_t)n_vocab);
    }
    int32_t bos = eng_token_bos(m);
    if (n > 0 && bos >= 0) toks[0] = bos;
}

/* One run after the n_depth tokens the context holds: n_prompt tokens in one call, or n_gen
 * tokens one by one. Seconds, or < 0. */
static double bench_once(eng_ctx *c, const int32_t *toks, int n_depth, int n_prompt, int n_gen) {
    eng_ctx_truncate(c, n_depth);
    double t0 = bench_now();
    if (n_prompt > 0 && eng_decode(c, toks, n_prompt, 0) != ENG_OK) return -1;
    for (int i = 0; i < n_gen; i++)
        if (eng_decode(c, toks + i, 1, 0) != ENG_OK) return -1;
    return bench_now() - t0;
}

static int bench_test(eng_ctx *c, const int32_t *toks, int reps, struct bench_result *r) {
    int n_tok = r->n_prompt + r->n_gen;
    /* warm-up: pages in the weights, wakes the pool */
    if (bench_once(c, toks, r->n_depth, r->n_prompt, r->n_gen > 0 ? 1 : 0) < 0) return -1;
    double sum = 0, sum_ns = 0;
    for (int i = 0; i < reps; i++) {
        double t = bench_once(c, toks, r->n_depth, r->n_prompt, r->n_gen);
        if (t < 0) return -1;
        r->samples_ts[i] = t > 0 ? n_tok / t : 0;
        sum += r->samples_ts[i];
        sum_ns += t * 1e9;
    }
    r->n = reps;
    r->avg_ts = sum / reps;
    r->avg_ns = sum_ns / reps;
    double v = 0, v_ns = 0;
    for (int i = 0; i < reps; i++) {
        v += (r->samples_ts[i] - r->avg_ts) * (r->samples_ts[i] - r->avg_ts);
        double ns = n_tok / (r->samples_ts[i] > 0 ? r->samples_ts[i] : 1) * 1e9;
        v_ns += (ns - r->avg_ns) * (ns - r->avg_ns);
    }
    r->stddev_ts = reps > 1 ? sqrt(v / (reps - 1)) : 0;
    r->stddev_ns = reps > 1 ? sqrt(v_ns / (reps - 1)) : 0;
    return 0;
}

static void bench_json_str(const char *s) {
    putchar('"');
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\') printf("\\%c", ch);
        else if (ch < 0x20) printf("\\u%04x", ch);
        else putchar(ch);
    }
    putchar('"');
}

static void bench_print_json(const struct bench_args *a, const struct eng_model_info *mi,
                             int n_threads, const struct bench_result *res, int n_res) {
    printf("[\n");
    for (int i = 0; i < n_res; i++) {
        const struct bench_result *r = &res[i];
        printf("  {\n    \"model_filename\": ");
        bench_json_str(a->model);
        printf(",\n    \"model_type\": ");
        bench_json_str(mi->ftype[0] ? mi->ftype : mi->types);
        printf(",\n    \"model_size\": %llu,\n    \"model_n_params\": %lld,\n"
               "    \"n_threads\": %d,\n    \"simd\": ",
               (unsigned long long)mi->file_size, (long long)mi->n_params, n_threads);
        bench_json_str(eng_simd_name());
        printf(",\n    \"n_prompt\": %d,\n    \"n_gen\": %d,\n    \"n_depth\": %d,\n"
               "    \"avg_ns\": %.0f,\n"
               "    \"stddev_ns\": %.0f,\n    \"avg_ts\": %.6f,\n    \"stddev_ts\": %.6f,\n"
               "    \"samples_ts\": [",
               r->n_prompt, r->n_gen, r->n_depth, r->avg_ns, r->stddev_ns, r->avg_ts, r->stddev_ts);
        for (int k = 0; k < r->n; k++) printf("%s%.4f", k ? ", " : "", r->samples_ts[k]);
        printf("],\n    \"peak_rss_bytes\": %llu,\n    \"repacked_bytes\": %llu,\n"
               "    \"repack_ms\": %.1f\n  }%s\n",
               (unsigned long long)eng_rss_peak_bytes(), (unsigned long long)mi->repacked_bytes,
               mi->repack_ms, i + 1 < n_res ? "," : "");
    }
    printf("]\n");
}

static void bench_print_table(const struct eng_model_info *mi, int n_threads,
                              const struct bench_result *res, int n_res) {
    char size[32], params[32];
    snprintf(size, sizeof size, "%.2f MiB", (double)mi->file_size / (1024.0 * 1024.0));
    if (mi->n_params >= 1000000000) snprintf(params, sizeof params, "%.2f B", mi->n_params / 1e9);
    else snprintf(params, sizeof params, "%.2f M", mi->n_params / 1e6);
    printf("| %-24s | %12s | %8s | %-16s | %7s | %14s | %20s |\n", "model", "size", "params",
           "types", "threads", "test", "t/s");
    printf("| %.24s | %.12s | %.8s | %.16s | %.7s | %.14s | %.20s |\n",
           "------------------------", "-----------:", "-------:", "----------------",
           "------:", "-------------:", "-------------------:");
    for (int i = 0; i < n_res; i++) {
        char test[32], ts[48];
        int w = res[i].n_prompt ? snprintf(test, sizeof test, "pp%d", res[i].n_prompt)
                                : snprintf(test, sizeof test, "tg%d", res[i].n_gen);
        if (res[i].n_depth && w > 0 && (size_t)w < sizeof test)
            snprintf(test + w, sizeof test - (size_t)w, " @ d%d", res[i].n_depth);
        snprintf(ts, sizeof ts, "%.2f ± %.2f", res[i].avg_ts, res[i].stddev_ts);
        printf("| %-24.24s | %12s | %8s | %-16.16s | %7d | %14s | %21s |\n", mi->name, size,
               params, mi->types, n_threads, test, ts);
    }
    printf("\npeak RSS: %.1f MiB (file %.1f MiB), kernels: %s",
           (double)eng_rss_peak_bytes() / (1024.0 * 1024.0),
           (double)mi->file_size / (1024.0 * 1024.0), eng_simd_name());
    if (mi->repacked_bytes)
        printf(", repacked at load: %.1f MiB in %.0f ms",
               (double)mi->repacked_bytes / (1024.0 * 1024.0), mi->repack_ms);
    printf("\n");
}

int cmd_bench(int argc, char **argv) {
    struct bench_args a;
    int rc = bench_parse(argc, argv, &a);
    if (rc) return rc < 0 ? 0 : rc; /* -1: --help */
    struct eng_model_params mp = eng_model_default_params();
    mp.no_repack = a.no_repack;
    eng_model *m = NULL;
    eng_ctx *c = NULL;
    int32_t *toks = NULL;
    int status = 1;
    if (eng_model_load(a.model, &mp, &m) != ENG_OK) {
        cli_error("%s", eng_last_error());
        return 1;
    }
    struct eng_model_info mi;
    eng_model_info_get(m, &mi);
    struct eng_ctx_params cp = eng_ctx_default_params();
    cp.n_ctx = a.n_depth + a.n_prompt + a.n_gen;
    cp.n_threads = a.n_threads;
    cp.kv_type = a.kv_type;
    int n_tok = a.n_depth + (a.n_prompt > a.n_gen ? a.n_prompt : a.n_gen);
    toks = malloc((size_t)n_tok * sizeof *toks);
    if (!toks) {
        cli_error("bench: out of memory");
        goto out;
    }
    if (eng_ctx_new(m, &cp, &c) != ENG_OK) {
        cli_error("%s", eng_last_error());
        goto out;
    }
    bench_tokens(m, toks, n_tok);
    int n_threads = a.n_threads > 0 ? a.n_threads : eng_cpu_physical_cores();
    struct bench_result res[2];
    int n_res = 0;
    if (a.n_prompt > 0)
        res[n_res++] = (struct bench_result){.n_prompt = a.n_prompt, .n_depth = a.n_depth};
    if (a.n_gen > 0) res[n_res++] = (struct bench_result){.n_gen = a.n_gen, .n_depth = a.n_depth};
    /* the depth once (untimed): each run goes back to it */
    if (a.n_depth > 0 && eng_decode(c, toks, a.n_depth, 0) != ENG_OK) {
        cli_error("bench: %s", eng_last_error());
        goto out;
    }
    for (int i = 0; i < n_res; i++)
        if (bench_test(c, toks + a.n_depth, a.reps, &res[i]) != 0) {
            cli_error("bench: %s", eng_last_error());
            goto out;
        }
    if (a.json) bench_print_json(&a, &mi, n_threads, res, n_res);
    else bench_print_table(&mi, n_threads, res, n_res);
    status = 0;
out:
    eng_ctx_free(c);
    eng_model_free(m);
    free(toks);
    return status;
}
