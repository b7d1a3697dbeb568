/* src/cmd_run.c — `natter run`: loads a model (a path or a name, src/paths.h), reads the
 * prompt (-p TEXT, -f FILE or stdin) and has the chat-session core (src/session.h) generate a
 * reply with the engine backend (or, with --remote URL|NAME, an OpenAI-compatible server's:
 * src/backend_remote.c): the text as a user message through the model's chat template
 * (-s the system prompt; a model without one gets the built-in completion format, the text as
 * is), or with --raw the text as is. The reply streams from the frame pipe as it comes (the
 * prompt is not echoed): the answer to stdout, the reasoning split from it to stderr, stdout or
 * nowhere (--reasoning); a final line of figures on stderr. --save [--conv ID] keeps the
 * exchange in the store as it streams (the conversation's history is the context, its own model
 * when -m is not given) and resumes from / leaves a context snapshot on disk (src/kvcache.h).
 * Errors: one line on stderr, exit status 1 (a failed save and a failed write to stdout too).
 * Main thread only. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "chat_prompt.h"
#include "cli.h"
#include "argv.h"
#include "engine.h"
#include "kvcache.h"
#include "opts.h"
#include "paths.h"
#include "prompts.h"
#include "config.h"
#include "reasoning.h"
#include "remote.h"
#include "session.h"
#include "store.h"

enum { RUN_REASONING_STDERR = 0, RUN_REASONING_SHOW, RUN_REASONING_HIDE };

struct run_args {
    const char *model;
    const char *prompt;   /* -p */
    const char *file;     /* -f */
    int save;             /* --save, or implied by --conv */
    const char *conv;     /* --conv ID: continue that conversation */
    const char *db;       /* --db PATH */
    int reasoning;        /* --reasoning: RUN_REASONING_* */
    const char *markers;  /* --reasoning-markers FAMILY|"OPEN CLOSE", NULL: from the template */
    const char *draft;    /* --draft MODEL: speculative decoding with a smaller model */
    const char *system;   /* -s NAME|TEXT: the system prompt */
    const char *remote;   /* --remote URL|NAME: an OpenAI-compatible server instead */
    int raw;              /* --raw: the prompt as is, no chat template */
    struct app_settings set;
};

static const char *run_usage_text(void) {
    static char buf[1024];
    snprintf(buf, sizeof buf, "run -m MODEL [--remote URL|NAME] [-p TEXT | -f FILE] "
             "[-s SYSTEM | --raw] "
             "[--save [--conv ID] [--db PATH]] "
             "[--reasoning stderr|show|hide] [--reasoning-markers FAMILY|'OPEN CLOSE'] "
             "[--draft MODEL] %s",
             opts_usage());
    return buf;
}

static int run_usage(void) { return cli_usage(run_usage_text()); }

/* Returns 0, -1 after --help, or the exit status of a usage error. */
static int run_parse_args(int argc, char **argv, struct run_args *a) {
    memset(a, 0, sizeof *a);
    struct eng_sample_params sp = eng_sample_default_params();
    app_settings_default(&a->set, &sp);
    a->set.n_predict = -1; /* until end of generation or a full context, as llama-cli */
    enum { O_SAVE = ARGV_ID, O_MODEL, O_PROMPT, O_FILE, O_CONV, O_DB, O_REASONING, O_MARKERS,
           O_DRAFT, O_RAW, O_SYSTEM, O_REMOTE };
    static const struct argv_opt opts[] = {
        {"--save", NULL, ARGV_FLAG, O_SAVE},       {"--model", "-m", ARGV_VALUE, O_MODEL},
        {"--prompt", "-p", ARGV_VALUE, O_PROMPT},  {"--file", "-f", ARGV_VALUE, O_FILE},
        {"--conv", NULL, ARGV_VALUE, O_CONV},      {"--db", NULL, ARGV_VALUE, O_DB},
        {"--reasoning", NULL, ARGV_VALUE, O_REASONING},
        {"--reasoning-markers", NULL, ARGV_VALUE, O_MARKERS},
        {"--draft", NULL, ARGV_VALUE, O_DRAFT},    {"--raw", NULL, ARGV_FLAG, O_RAW},
        {"--system", "-s", ARGV_VALUE, O_SYSTEM},  {"--remote", NULL, ARGV_VALUE, O_REMOTE},
        {NULL, NULL, 0, 0},
    };
    struct argv_state st;
    argv_init(&st, argc, argv, run_usage_text(), NULL);
    int o;
    while ((o = argv_next(&st, opts)) > ARGV_END) {
        char err[256];
        int r;
        switch (o) {
        case O_SAVE: a->save = 1; break;
        case O_MODEL: a->model = st.val; break;
        case O_PROMPT: a->prompt = st.val; break;
        case O_FILE: a->file = st.val; break;
        case O_CONV: a->conv = st.val; break;
        case O_DB: a->db = st.val; break;
        case O_MARKERS: a->markers = st.val; break;
        case O_DRAFT: a->draft = st.val; break;
        case O_RAW: a->raw = 1; break;
        case O_SYSTEM: a->system = st.val; break;
        case O_REMOTE: a->remote = st.val; break;
        case O_REASONING:
            if (!strcmp(st.val, "stderr"))
                a->reasoning = RUN_REASONING_STDERR;
            else if (!strcmp(st.val, "show"))
                a->reasoning = RUN_REASONING_SHOW;
            else if (!strcmp(st.val, "hide"))
                a->reasoning = RUN_REASONING_HIDE;
            else
                return argv_error(&st, "--reasoning takes stderr, show or hide, not '%s'",
                                  st.val);
            break;
        case ARGV_UNKNOWN: /* the sampling flags, shared with the chat (opts.h) */
            r = opts_apply(&a->set, argc, argv, &st.i, err, sizeof err);
            if (r < 0)
                return argv_error(&st, "%s", err);
            if (r == 0)
                return argv_unknown(&st);
            break;
        default: return argv_error(&st, "unexpected argument '%s' (the prompt goes after -p)",
                                   st.val);
        }
    }
    if (o < ARGV_END)
        return o == ARGV_HELP ? -1 : 2;
    struct reasoning_markers mk;
    if (a->markers && reasoning_markers_parse(&mk, a->markers) != 0) {
        cli_error("run: --reasoning-markers: '%s' is not a family (think, harmony, mistral, "
                  "thought, seed, kimi, cohere, gemma4, none) or 'OPEN CLOSE'", a->markers);
        return run_usage();
    }
    if (!a->model && !a->conv && !a->remote) {
        cli_error("run: no model (-m MODEL)");
        return run_usage();
    }
    if (a->raw && a->system) {
        cli_error("run: -s and --raw cannot be used together (--raw sends the text as is)");
        return run_usage();
    }
    if (a->prompt && a->file) {
        cli_error("run: -p and -f cannot be used together");
        return run_usage();
    }
    if (a->conv)
        a->save = 1;
    return 0;
}

/* Reads all of fd (NUL-terminated, caller frees); NULL on error. */
static char *run_read_all(int fd, size_t *len) {
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        if (n + 1 >= cap) {
            char *nb = realloc(buf, cap * 2);
            if (!nb) break;
            buf = nb;
            cap *= 2;
        }
        ssize_t r = read(fd, buf + n, cap - n - 1);
        if (r == 0) {
            buf[n] = 0;
            *len = n;
            return buf;
        }
        if (r < 0 && errno != EINTR) break;
        if (r > 0) n += (size_t)r;
    }
    free(buf);
    return NULL;
}

static char *run_read_prompt(const struct run_args *a, size_t *len) {
    if (a->prompt) {
        *len = strlen(a->prompt);
        return strdup(a->prompt);
    }
    int fd = a->file ? open(a->file, O_RDONLY) : STDIN_FILENO;
    if (fd < 0) {
        cli_error("%s: %s", a->file, strerror(errno));
        return NULL;
    }
    char *text = run_read_all(fd, len);
    if (!text) cli_error("%s: %s", a->file ? a->file : "stdin", strerror(errno));
    if (a->file) close(fd);
    return text;
}

static volatile sig_atomic_t run_interrupted;
static void run_on_sigint(int sig) {
    (void)sig;
    run_interrupted = 1;
}

/* Where the reply's parts go: the answer to stdout, the reasoning as --reasoning says (dimmed
 * on a terminal unless NO_COLOR is set), both to the store with --save. */
struct run_out {
    int mode;               /* RUN_REASONING_* */
    int dim_out, dim_err;   /* SGR dim on stdout / stderr */
    int last_part;          /* the part written last, -1: none yet */
    int think_nl;           /* newlines at the end of the reasoning written so far */
    int think_written;      /* reasoning bytes written */
    int save_said;          /* a failed save was said */
};

static int run_stdout_errno; /* the first failed write to stdout (0: none) */

static void run_put(FILE *f, int dim, const char *s, size_t n) {
    if (dim)
        fputs("\033[2m", f);
    fwrite(s, 1, n, f);
    if (dim)
        fputs("\033[0m", f);
    if (fflush(f) != 0 && f == stdout && !run_stdout_errno)
        run_stdout_errno = errno ? errno : EIO;
}

static void run_emit(void *ud, int part, const char *s, size_t n) {
    struct run_out *o = ud;
    if (part == REASONING_ANSWER) {
        if (o->mode == RUN_REASONING_SHOW && o->last_part == REASONING_THOUGHT)
            for (int i = o->think_nl; i < 2; i++) /* a blank line between the two */
                fputc('\n', stdout);
        run_put(stdout, 0, s, n);
    } else {
        if (o->mode != RUN_REASONING_HIDE) {
            int to_err = o->mode == RUN_REASONING_STDERR;
            run_put(to_err ? stderr : stdout, to_err ? o->dim_err : o->dim_out, s, n);
            int nl = 0;
            while (nl < (int)n && nl < 2 && s[n - 1 - (size_t)nl] == '\n')
                nl++;
            o->think_nl = nl == (int)n ? o->think_nl + nl : nl;
            o->think_written = 1;
        }
    }
    o->last_part = part;
}

/* A failed write to the store: said once per kind, the reply goes on (kept in memory). */
static void run_save_failed(void *ud, const char *what, const char *msg) {
    struct run_out *o = ud;
    if (!o->save_said)
        cli_error("not saved (%s): %s", what, msg);
    o->save_said = 1;
}

static void run_cache_note(void *ud, const char *msg) {
    (void)ud;
    cli_error("%s", msg);
}

/* Streams the reply from the pipe through the session until it ends; meanwhile saves the
 * pending text every 200 ms and turns Ctrl-C into a cancel (the reply then ends "stopped").
 * Returns 0 at DONE, 1 after an error (said). */
static int run_stream(struct session *s, int rfd) {
    struct eng_frame h;
    unsigned char payload[ENG_FRAME_MAX];
    int cancelled = 0;
    while (session_live(s)->running) {
        if (run_interrupted && !cancelled) {
            session_cancel(s); /* the DONE frame that follows says "cancelled" */
            cancelled = 1;
        }
        struct pollfd p = {.fd = rfd, .events = POLLIN};
        if (poll(&p, 1, 200) <= 0) {
            session_flush(s);
            continue;
        }
        if (eng_frame_read(rfd, &h, payload) != 1) {
            cli_error("generate: the event pipe ended early");
            session_cancel(s);
            return 1;
        }
        int ev = session_frame(s, &h, payload);
        if (ev == SESSION_EV_ERROR) {
            const struct session_end *e = session_ended(s);
            cli_error("%s%s", e->code == ENG_E_CHANGED ? "" : "generate: ", e->error);
            return 1;
        }
    }
    return 0;
}

/* The system prompt -s names (a prompts/system file), else its text; a single word that names
 * none is taken as text with a note. */
static const char *run_system_text(const char *arg) {
    const struct prompts_system *ps = prompts_system_find(arg);
    if (ps)
        return ps->text;
    if (!strpbrk(arg, " \t\n"))
        cli_error("-s: no system prompt named '%s' (natter prompts lists them): sending the "
                  "word itself", arg);
    return arg;
}

/* The model to load: -m (a path or a name in the search path), else the conversation's own. */
static int run_model_path(const struct run_args *a, const char *conv_model, char *path,
                          size_t len) {
    char err[512];
    if (!a->model && !conv_model[0]) {
        cli_error("run: conversation %s records no model: give one with -m", a->conv);
        return -1;
    }
    if (paths_model_find(a->model ? a->model : conv_model, path, len, err, sizeof err) != 0) {
        cli_error("%s", err);
        return -1;
    }
    return 0;
}

/* The engine's side of a run: the model, its context, the draft model, the template, the
 * snapshot cache. */
struct run_engine {
    eng_model *m, *dm;
    eng_ctx *c, *dc;
    chat_prompt *cp;
    kvcache *kc;
    struct reasoning_markers mk;
};

/* Loads model (a path) and what goes with it, then the engine backend on it into *be.
 * 0, or -1 after a message. */
static int run_engine_open(struct run_engine *e, const struct run_args *a, const char *model,
                           int cache, struct backend **be) {
    struct eng_model_params mp = eng_model_default_params();
    struct eng_ctx_params cp = eng_ctx_default_params();
    char err[600];
    opts_to_params(&a->set, NULL, &cp);
    if (eng_model_load(model, &mp, &e->m) != ENG_OK) {
        cli_error("%s", eng_last_error());
        return -1;
    }
    if (a->markers)
        reasoning_markers_parse(&e->mk, a->markers); /* checked with the arguments */
    else
        reasoning_markers_detect(&e->mk, eng_model_meta_str(e->m, "tokenizer.chat_template"));
    reasoning_markers_vocab(&e->mk, e->m);
    if (!a->raw) { /* the text as a user message, in the model's chat template */
        if (chat_prompt_new(e->m, NULL, &e->cp, err, sizeof err)) {
            cli_error("run: %s", err);
            return -1;
        }
        if (*chat_prompt_notice(e->cp))
            cli_error("%s: %s", model, chat_prompt_notice(e->cp));
    }
    if (eng_ctx_new(e->m, &cp, &e->c) != ENG_OK) {
        cli_error("%s", eng_last_error());
        return -1;
    }
    if (a->draft) {   /* the draft model: the same vocabulary, a context as long */
        struct eng_ctx_params dp = cp;
        dp.n_ctx = eng_ctx_n_ctx(e->c);
        if (eng_model_load(a->draft, &mp, &e->dm) != ENG_OK ||
            eng_draft_compatible(e->m, e->dm) != ENG_OK ||
            eng_ctx_new(e->dm, &dp, &e->dc) != ENG_OK) {
            cli_error("--draft %s: %s", a->draft, eng_last_error());
            return -1;
        }
    }
    if ((a->set.lookup > 0 || e->dc) && eng_ctx_rs_bytes(e->c, NULL) > 0)
        cli_error("%s: a model with recurrent layers cannot rewind its state: "
                  "speculative decoding is off", model);
    if (cache)
        kvcache_open(model, e->m, e->c, &e->kc, run_cache_note, NULL);
    struct backend_engine_params bp = {e->m, e->c, e->dc, e->cp, e->kc, &e->mk};
    if (backend_engine_new(&bp, be, err, sizeof err) != 0) {
        cli_error("run: %s", err);
        return -1;
    }
    return 0;
}

static void run_engine_close(struct run_engine *e) {
    kvcache_close(e->kc);  /* waits for the snapshot the reply left */
    chat_prompt_free(e->cp);
    eng_ctx_free(e->dc);
    eng_model_free(e->dm);
    eng_ctx_free(e->c);
    eng_model_free(e->m);
}

/* The remote backend: --remote URL|NAME (an endpoint of the config file), -m the model to ask
 * for; or a conversation recorded as "MODEL@URL" continued without -m. The author's record
 * into rec. 0, or -1 after a message. */
static int run_remote_open(const struct run_args *a, const char *conv_model, char *rec,
                           size_t rec_len, struct backend **be) {
    struct config cfg;
    struct remote_endpoint ep;
    char err[600], url[4096] = "", name[512] = "";
    int rc = -1;
    memset(&cfg, 0, sizeof cfg);
    if (a->remote) {
        if (config_load(&cfg, NULL, err, sizeof err) != 0 ||
            config_remote_resolve(&cfg, a->remote, &ep, err, sizeof err) != 0) {
            cli_error("--remote: %s", err);
            goto out;
        }
    } else { /* "MODEL@URL" */
        const char *at = strstr(conv_model, "@http");
        snprintf(name, sizeof name, "%.*s", (int)(at - conv_model), conv_model);
        snprintf(url, sizeof url, "%s", at + 1);
        const char *key = getenv("NATTER_API_KEY");
        ep = (struct remote_endpoint){url, strcmp(name, "default") ? name : NULL,
                                      key && *key ? key : NULL, 0};
    }
    if (a->model)
        ep.model = a->model;
    if (backend_remote_new(&ep, be, err, sizeof err) != 0) {
        cli_error("run: %s", err);
        goto out;
    }
    backend_remote_record(*be, rec, rec_len);
    rc = 0;
out:
    config_free(&cfg);
    return rc;
}

/* The last line on stderr: the figures, those the backend did not know left out. */
static void run_figures(const struct eng_stats *es, int have, double restore_ms) {
    if (!have) {
        fprintf(stderr, "natter: done (no figures from the server)\n");
        return;
    }
    if (es->n_prompt >= 0)
        fprintf(stderr, "natter: prompt %d tokens (+%d cached), %.2f t/s; ", es->n_prompt,
                es->n_reused > 0 ? es->n_reused : 0, (double)es->prompt_tps);
    else
        fputs("natter: ", stderr);
    fprintf(stderr, "generated %d tokens, %.2f t/s", es->n_gen, (double)es->gen_tps);
    if (es->ttft_ms >= 0)
        fprintf(stderr, "; first token %.0f ms", restore_ms + (double)es->ttft_ms);
    fputc('\n', stderr);
    if (es->n_drafted > 0)
        fprintf(stderr, "natter: speculative: drafted %d tokens, kept %d (%.0f%%)\n",
                es->n_drafted, es->n_accepted, 100.0 * es->n_accepted / es->n_drafted);
}

int cmd_run(int argc, char **argv) {
    struct run_args a;
    int rc = run_parse_args(argc, argv, &a);
    if (rc) return rc < 0 ? 0 : rc; /* -1: --help */
    size_t len = 0;
    char *text = run_read_prompt(&a, &len);
    if (!text) return 1;

    int status = 1, pfd[2] = {-1, -1};
    store *db = NULL;
    struct run_engine e;
    memset(&e, 0, sizeof e);
    struct backend *be = NULL;
    struct session *ss = NULL;
    struct app_conv conv;
    memset(&conv, 0, sizeof conv);
    char err[600], conv_model[4096] = "", model[4096];
    if (a.save) { /* before the model loads: a wrong id fails fast */
        char dbp[4096];
        if (!paths_db(a.db, dbp, sizeof dbp)) {
            cli_error("cannot find the database path: set --db, NATTER_DB or HOME");
            goto out;
        }
        if (store_open(dbp, &db, err, sizeof err) != 0 ||
            (a.conv && session_conv_load(db, a.conv, &conv, conv_model, sizeof conv_model, err,
                                         sizeof err) != 0)) {
            cli_error("%s", err);
            goto out;
        }
    }
    const int remote = a.remote || (!a.model && strstr(conv_model, "@http"));
    if (remote ? run_remote_open(&a, conv_model, model, sizeof model, &be) != 0
               : run_model_path(&a, conv_model, model, sizeof model) != 0 ||
                 run_engine_open(&e, &a, model, db != NULL, &be) != 0)
        goto out;
    if (pipe(pfd) != 0) {
        cli_error("run: pipe: %s", strerror(errno));
        goto out;
    }
    const char *tmpl = remote ? NULL : e.cp ? chat_prompt_family(e.cp) : "completion";
    /* the conversation: its system prompt (-s replaces it), its history, the new message */
    const char *sys = a.system ? run_system_text(a.system) : NULL;
    if (sys && conv.n_msgs > 0 && conv.msgs[0].role == APP_ROLE_SYSTEM)
        app_msg_set(&conv.msgs[0], sys, strlen(sys));
    else if (sys && !app_conv_add(&conv, APP_ROLE_SYSTEM, sys, strlen(sys)))
        goto nomem;
    if (!app_conv_add(&conv, APP_ROLE_USER, text, len))
        goto nomem;
    if (db && conv.id[0] && (store_conv_set_model(db, conv.id, model) != 0 ||
                             (tmpl && store_conv_set_template(db, conv.id, tmpl) != 0) ||
                             (sys && store_conv_set_system(db, conv.id, sys) != 0))) {
        cli_error("%s", store_errmsg(db));
        goto out;
    }
    const char *nc = getenv("NO_COLOR");
    int color = !(nc && nc[0]);
    struct run_out ro = {a.reasoning, color && isatty(STDOUT_FILENO),
                         color && isatty(STDERR_FILENO), -1, 0, 0, 0};
    struct session_params sp = {.backend = be, .db = db, .conv = &conv, .set = &a.set,
                                .fd = pfd[1], .model = model, .emit = run_emit,
                                .save_failed = run_save_failed, .ud = &ro};
    if (session_new(&sp, &ss) != 0)
        goto nomem;
    struct store_conv_params create = {.model = model, .template_name = tmpl,
                                       .system_prompt = sys};
    struct session_turn turn = {.save_user = 1, .create = &create,
                                .raw = a.raw ? text : NULL, .raw_len = len};
    struct session_started st;
    if (session_start(ss, &turn, &st, err, sizeof err) != 0) {
        const int u = app_conv_last(&conv, APP_ROLE_USER);
        cli_error("run: %s%s", err, db && u >= 0 && !conv.msgs[u].id ? "; nothing saved" : "");
        goto out;
    }
    if (st.dropped > 0)
        fprintf(stderr, "natter: %d oldest message%s left out of the context\n", st.dropped,
                st.dropped == 1 ? "" : "s");
    struct sigaction sa = {.sa_handler = run_on_sigint}, old_sa;
    sigaction(SIGINT, &sa, &old_sa); /* no SA_RESTART: Ctrl-C wakes the poll */
    status = run_stream(ss, pfd[0]);
    sigaction(SIGINT, &old_sa, NULL);
    if (ro.think_written && a.reasoning == RUN_REASONING_STDERR && ro.think_nl == 0)
        fputc('\n', stderr); /* the figures start a line of their own */
    if (isatty(STDOUT_FILENO)) fputc('\n', stdout);
    if ((fflush(stdout) != 0 && !run_stdout_errno) || ferror(stdout)) {
        cli_error("stdout: %s", strerror(run_stdout_errno ? run_stdout_errno : errno));
        status = 1;
    }
    if (status == 0)
        run_figures(&session_live(ss)->stats, session_live(ss)->have_stats, st.b.restore_ms);
    if (db && session_ended(ss)->save_failures == 0 && session_flush(ss) == 0 && status == 0)
        fprintf(stderr, "natter: saved in conversation %s\n", conv.id);
    if (session_ended(ss)->save_failures > 0) {
        cli_error("the reply was not saved completely (it is above)");
        status = 1;
    }
    if (status == 0 && run_interrupted)
        status = 130; /* stopped by Ctrl-C, as a shell reports SIGINT */
    goto out;
nomem:
    cli_error("out of memory");
out:
    session_free(ss);
    backend_free(be);
    if (pfd[0] >= 0) close(pfd[0]);
    if (pfd[1] >= 0) close(pfd[1]);
    run_engine_close(&e);
    store_close(db);
    app_conv_clear(&conv);
    free(text);
    return status;
}
