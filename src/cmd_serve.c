/* src/cmd_serve.c — `natter serve`: its options, the model and its chat template loaded, the
 * server (src/serve.h) started, then the main thread waits for SIGINT or SIGTERM (blocked in
 * every thread, taken with sigwait) and stops it gracefully: exit status 0. Main thread. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chat_prompt.h"
#include "cli.h"
#include "engine.h"
#include "opts.h"
#include "paths.h"
#include "serve.h"

enum { SERVE_GRACE_MS = 5000, SERVE_QUEUE_DEFAULT = 16 };

static const char *serve_usage_line(void) {
    static char buf[1024];
    snprintf(buf, sizeof buf, "serve [-m MODEL] [--host ADDR] [--port N] [--api-key KEY] "
             "[--parallel N] [--queue N] [--max-body BYTES] %s", opts_usage());
    return buf;
}

static int serve_usage(void) { return cli_usage(serve_usage_line()); }

/* A whole decimal number in [lo, hi] into *out. 0 or -1. */
static int serve_parse_num(const char *s, long long lo, long long hi, long long *out) {
    char *end;
    long long v = strtoll(s, &end, 10);
    if (!*s || *end || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

static const char *serve_base_name(const char *path) {
    const char *b = strrchr(path, '/');
    return b ? b + 1 : path;
}

int cmd_serve(int argc, char **argv) {
    struct app_settings set;
    struct eng_sample_params sp = eng_sample_default_params();
    app_settings_default(&set, &sp);
    set.n_predict = -1; /* until the end of generation, as llama-server */
    struct serve_params p = {.host = "127.0.0.1", .port = 8080, .parallel = 1,
                             .queue_max = SERVE_QUEUE_DEFAULT, .max_body = 8u << 20};
    const char *model = NULL;
    p.api_key = getenv("NATTER_API_KEY");
    for (int i = 1; i < argc; i++) {
        char err[256];
        int r = opts_apply(&set, argc, argv, &i, err, sizeof err);
        if (r < 0) {
            cli_error("%s", err);
            return serve_usage();
        }
        if (r > 0)
            continue;
        const char *f = argv[i];
        if (!strcmp(f, "-h") || !strcmp(f, "--help")) {
            printf("usage: natter %s\n", serve_usage_line());
            return 0;
        }
        static const struct { const char *name; long long lo, hi; } nums[] = {
            {"--port", 0, 65535}, {"--parallel", 1, 64}, {"--queue", 1, 4096},
            {"--max-body", 1024, 1LL << 32}};
        int is_num = -1;
        for (int k = 0; k < 4; k++)
            if (!strcmp(f, nums[k].name))
                is_num = k;
        if (is_num < 0 && strcmp(f, "-m") && strcmp(f, "--model") && strcmp(f, "--host") &&
            strcmp(f, "--api-key")) {
            cli_error("serve: unknown option '%s'", f);
            return serve_usage();
        }
        if (i + 1 >= argc) {
            cli_error("serve: %s needs a value", f);
            return serve_usage();
        }
        const char *v = argv[++i];
        long long n;
        if (is_num >= 0) {
            if (serve_parse_num(v, nums[is_num].lo, nums[is_num].hi, &n) != 0) {
                cli_error("serve: %s takes a number from %lld to %lld, not '%s'", f,
                          nums[is_num].lo, nums[is_num].hi, v);
                return serve_usage();
            }
            if (is_num == 0) p.port = (int)n;
            else if (is_num == 1) p.parallel = (int)n;
            else if (is_num == 2) p.queue_max = (int)n;
            else p.max_body = (size_t)n;
        } else if (!strcmp(f, "--host")) {
            p.host = v;
        } else if (!strcmp(f, "--api-key")) {
            p.api_key = v;
        } else {
            model = v;
        }
    }
    char path[4096];
    if (!model && !(model = paths_first_model(path, sizeof path))) {
        cli_error("serve: no model (-m MODEL), and none in the model search path");
        return serve_usage();
    }
    p.set = set;
    p.model_name = serve_base_name(model);

    struct eng_model_params mp = eng_model_default_params();
    eng_model *m = NULL;
    chat_prompt *cp = NULL;
    struct serve *s = NULL;
    int status = 1;
    char err[600];
    if (eng_model_load(model, &mp, &m) != ENG_OK) {
        cli_error("%s", eng_last_error());
        goto out;
    }
    if (chat_prompt_new(m, NULL, &cp, err, sizeof err) != 0) {
        cli_error("serve: %s", err);
        goto out;
    }
    if (*chat_prompt_notice(cp))
        cli_error("%s: %s", model, chat_prompt_notice(cp));
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL); /* before any thread starts: all inherit it */
    signal(SIGPIPE, SIG_IGN);
    if (serve_start(m, cp, &p, &s, err, sizeof err) != 0) {
        cli_error("serve: %s", err);
        goto out;
    }
    fprintf(stderr, "natter: serving %s on http://%s%s%s:%d/v1 (%d context%s, template %s, "
            "queue %d)\n", p.model_name, strchr(p.host, ':') ? "[" : "", p.host,
            strchr(p.host, ':') ? "]" : "", serve_port(s), p.parallel,
            p.parallel == 1 ? "" : "s", chat_prompt_family(cp), p.queue_max);
    int sig = 0;
    sigwait(&sigs, &sig);
    fprintf(stderr, "natter: %s: stopping (running requests get %d s to finish)\n",
            sig == SIGINT ? "SIGINT" : "SIGTERM", SERVE_GRACE_MS / 1000);
    serve_stop(s, SERVE_GRACE_MS);
    status = 0;
out:
    chat_prompt_free(cp);
    eng_model_free(m);
    return status;
}
