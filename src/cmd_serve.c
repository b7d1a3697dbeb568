/* src/cmd_serve.c — `natter serve`: its options, the model and its chat template loaded, the
 * server (src/serve.h) started, then the main thread waits for SIGINT or SIGTERM (blocked in
 * every thread, taken with sigwait) and stops it gracefully: exit status 0. Main thread. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "argv.h"
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

static const char *serve_base_name(const char *path) {
    const char *b = strrchr(path, '/');
    return b ? b + 1 : path;
}

/* The options into set, p and *model. 0, -1 after --help, or 2 after a usage error. */
static int serve_parse_args(int argc, char **argv, struct app_settings *set,
                            struct serve_params *p, const char **model) {
    enum { O_MODEL = ARGV_ID, O_HOST, O_PORT, O_KEY, O_PARALLEL, O_QUEUE, O_MAX_BODY };
    static const struct argv_opt opts[] = {
        {"--model", "-m", ARGV_VALUE, O_MODEL},     {"--host", NULL, ARGV_VALUE, O_HOST},
        {"--port", NULL, ARGV_VALUE, O_PORT},       {"--api-key", NULL, ARGV_VALUE, O_KEY},
        {"--parallel", NULL, ARGV_VALUE, O_PARALLEL}, {"--queue", NULL, ARGV_VALUE, O_QUEUE},
        {"--max-body", NULL, ARGV_VALUE, O_MAX_BODY}, {NULL, NULL, 0, 0},
    };
    struct argv_state st;
    argv_init(&st, argc, argv, serve_usage_line(), NULL);
    int o;
    while ((o = argv_next(&st, opts)) > ARGV_END) {
        char err[256];
        long n = 0;
        int r;
        switch (o) {
        case O_MODEL: *model = st.val; break;
        case O_HOST: p->host = st.val; break;
        case O_KEY: p->api_key = st.val; break;
        case O_PORT:
            if (argv_int(&st, 0, 65535, &n)) return 2;
            p->port = (int)n;
            break;
        case O_PARALLEL:
            if (argv_int(&st, 1, 64, &n)) return 2;
            p->parallel = (int)n;
            break;
        case O_QUEUE:
            if (argv_int(&st, 1, 4096, &n)) return 2;
            p->queue_max = (int)n;
            break;
        case O_MAX_BODY:
            if (argv_int(&st, 1024, 1L << 32, &n)) return 2;
            p->max_body = (size_t)n;
            break;
        case ARGV_UNKNOWN: /* the sampling flags, shared with run and the chat (opts.h) */
            r = opts_apply(set, argc, argv, &st.i, err, sizeof err);
            if (r < 0)
                return argv_error(&st, "%s", err);
            if (r == 0)
                return argv_unknown(&st);
            break;
        default: return argv_error(&st, "unexpected argument '%s'", st.val);
        }
    }
    return o < ARGV_END ? (o == ARGV_HELP ? -1 : 2) : 0;
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
    int rc = serve_parse_args(argc, argv, &set, &p, &model);
    if (rc)
        return rc < 0 ? 0 : rc;
    char path[4096];
    if (!model && !(model = paths_first_model(path, sizeof path))) {
        cli_error("serve: no model (-m MODEL), and none in the model search path");
        return cli_usage(serve_usage_line());
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
