/* src/cmd_run.c — `natter run`: loads a model, tokenizes the prompt (-p TEXT, -f FILE or
 * stdin), generates on the engine's generation thread and streams the text from its frame
 * pipe as it comes (the prompt is not echoed): the answer to stdout, the reasoning split from
 * it (src/reasoning.h) to stderr, stdout or nowhere (--reasoning); a final line of figures on
 * stderr. --save [--conv ID] keeps the exchange in the store (src/run_save.h), the reasoning
 * apart, and resumes from / leaves a context snapshot on disk (src/kvcache.h). Main thread
 * only. */
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
#include "reasoning.h"
#include "run_save.h"

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
    struct app_settings set;
};

static const char *run_usage_text(void) {
    static char buf[1024];
    snprintf(buf, sizeof buf, "run -m MODEL [-p TEXT | -f FILE] [--save [--conv ID] [--db PATH]] "
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
           O_DRAFT };
    static const struct argv_opt opts[] = {
        {"--save", NULL, ARGV_FLAG, O_SAVE},       {"--model", "-m", ARGV_VALUE, O_MODEL},
        {"--prompt", "-p", ARGV_VALUE, O_PROMPT},  {"--file", "-f", ARGV_VALUE, O_FILE},
        {"--conv", NULL, ARGV_VALUE, O_CONV},      {"--db", NULL, ARGV_VALUE, O_DB},
        {"--reasoning", NULL, ARGV_VALUE, O_REASONING},
        {"--reasoning-markers", NULL, ARGV_VALUE, O_MARKERS},
        {"--draft", NULL, ARGV_VALUE, O_DRAFT},    {NULL, NULL, 0, 0},
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
    if (!a->model) {
        cli_error("run: no model (-m MODEL)");
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

/* Tokenizes text (BOS as the model asks, special tokens parsed as llama-cli does). Returns the
 * count and *out (caller frees), or -1 after a message. */
static int run_tokenize(const eng_model *m, const char *text, size_t len, int32_t **out) {
    int n = eng_tokenize(m, text, len, 1, 1, NULL, 0);
    if (n < 0) {
        cli_error("tokenize: %s", eng_last_error());
        return -1;
    }
    int32_t *toks = malloc(((size_t)n + 1) * sizeof *toks);
    if (!toks || eng_tokenize(m, text, len, 1, 1, toks, n) != n) {
        free(toks);
        cli_error("tokenize: %s", toks ? eng_last_error() : "out of memory");
        return -1;
    }
    *out = toks;
    return n;
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
    struct run_save *rs;
    int dim_out, dim_err;   /* SGR dim on stdout / stderr */
    int last_part;          /* the part written last, -1: none yet */
    int think_nl;           /* newlines at the end of the reasoning written so far */
    int think_written;      /* reasoning bytes written */
};

static void run_put(FILE *f, int dim, const char *s, size_t n) {
    if (dim)
        fputs("\033[2m", f);
    fwrite(s, 1, n, f);
    if (dim)
        fputs("\033[0m", f);
    fflush(f);
}

static void run_emit(void *ud, int part, const char *s, size_t n) {
    struct run_out *o = ud;
    if (part == REASONING_ANSWER) {
        if (o->mode == RUN_REASONING_SHOW && o->last_part == REASONING_THOUGHT)
            for (int i = o->think_nl; i < 2; i++) /* a blank line between the two */
                fputc('\n', stdout);
        run_put(stdout, 0, s, n);
        if (o->rs && run_save_append(o->rs, s, n) != 0)
            cli_error("%s", run_save_error(o->rs)); /* keep generating; the end retries */
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
        if (o->rs && run_save_append_reasoning(o->rs, s, n) != 0)
            cli_error("%s", run_save_error(o->rs));
    }
    o->last_part = part;
}

/* With --save: waits up to 200 ms for a frame; meanwhile saves the pending reply text and turns
 * Ctrl-C into a cancel (the reply is then saved as "stopped"). 1 when a frame is ready. */
static int run_save_wait(int fd, eng_gen *g, struct run_save *rs) {
    struct pollfd p = {.fd = fd, .events = POLLIN};
    if (run_interrupted)
        eng_gen_cancel(g); /* idempotent: the DONE frame that follows says "cancelled" */
    if (poll(&p, 1, 200) > 0)
        return 1;
    run_save_flush(rs);
    return 0;
}

/* Generates from toks on the generation thread, splitting the reply (TOKEN text and SPECIAL
 * control tokens) with sp into the answer and the reasoning as they arrive (run_emit). Fills
 * *st with the last STATS and *reason with DONE's. Returns 0, or 1 after a message. */
static int run_generate(eng_ctx *c, const int32_t *toks, int n, const struct eng_gen_params *gp,
                        struct run_save *rs, struct reasoning *sp, struct eng_stats *st,
                        int32_t *reason) {
    int pfd[2];
    if (pipe(pfd) != 0) {
        cli_error("pipe: %s", strerror(errno));
        return 1;
    }
    eng_gen *g = NULL;
    int rc = eng_gen_start(c, toks, n, gp, pfd[1], 1, &g);
    if (rc != ENG_OK) {
        cli_error("generate: %s", eng_strerror(rc));
        close(pfd[0]);
        close(pfd[1]);
        return 1;
    }
    int status = 1;
    struct eng_frame h;
    unsigned char payload[ENG_FRAME_MAX];
    for (;;) {
        if (rs && !run_save_wait(pfd[0], g, rs))
            continue;
        int r = eng_frame_read(pfd[0], &h, payload);
        if (r != 1) {
            cli_error("generate: the event pipe ended early");
            break;
        }
        if (h.type == ENG_EV_TOKEN) {
            reasoning_text(sp, (const char *)payload, h.len);
        } else if (h.type == ENG_EV_SPECIAL && h.len >= 4) {
            reasoning_special(sp, (const char *)payload + 4, h.len - 4u);
        } else if (h.type == ENG_EV_STATS && h.len == sizeof *st) {
            memcpy(st, payload, sizeof *st);
        } else if (h.type == ENG_EV_DONE) {
            if (h.len >= sizeof *reason)
                memcpy(reason, payload, sizeof *reason);
            reasoning_finish(sp);
            status = 0;
            break;
        } else if (h.type == ENG_EV_ERROR && h.len >= 4) {
            int32_t code;
            memcpy(&code, payload, sizeof code);
            if (code == ENG_E_CHANGED) /* the text so far is the reply (saved, finish error) */
                reasoning_finish(sp);
            cli_error("%s%.*s", code == ENG_E_CHANGED ? "" : "generate: ", (int)h.len - 4,
                      (const char *)payload + 4);
            break;
        }
    }
    eng_gen_join(g);
    close(pfd[0]);
    close(pfd[1]);
    return status;
}

static void run_cache_note(void *ud, const char *msg) {
    (void)ud;
    cli_error("%s", msg);
}

/* A conversation's context from the snapshots on disk: opens the cache for c and restores
 * the longest cached prefix of toks. Returns the milliseconds that took (part of the time to
 * the first token). */
static double run_cache_restore(const char *model_path, eng_model *m, eng_ctx *c,
                                const int32_t *toks, int n, kvcache **kc) {
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    kvcache_open(model_path, m, c, kc, run_cache_note, NULL);
    kvcache_restore(*kc, c, toks, n);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) * 1e-6;
}

int cmd_run(int argc, char **argv) {
    struct run_args a;
    int rc = run_parse_args(argc, argv, &a);
    if (rc) return rc < 0 ? 0 : rc; /* -1: --help */
    size_t len = 0;
    char *text = run_read_prompt(&a, &len);
    if (!text) return 1;

    struct eng_model_params mp = eng_model_default_params();
    struct eng_ctx_params cp = eng_ctx_default_params();
    struct eng_gen_params gp = eng_gen_default_params();
    opts_to_params(&a.set, &gp, &cp);
    eng_model *m = NULL, *dm = NULL;
    eng_ctx *c = NULL, *dc = NULL;
    int32_t *toks = NULL;
    int status = 1;
    struct run_save *rs = NULL;
    kvcache *kc = NULL;
    double restore_ms = 0;
    chat_prompt *cpr = NULL;
    char *chat = NULL, err[600];
    size_t chat_len = 0;
    if (a.save && run_save_open(a.db, a.conv, &rs, err, sizeof err) != 0) {
        cli_error("%s", err); /* before the model loads: a wrong id fails fast */
        goto out;
    }
    if (eng_model_load(a.model, &mp, &m) != ENG_OK) {
        cli_error("%s", eng_last_error());
        goto out;
    }
    const char *jinja = eng_model_meta_str(m, "tokenizer.chat_template");
    struct reasoning_markers mk;
    if (a.markers)
        reasoning_markers_parse(&mk, a.markers); /* checked with the arguments */
    else
        reasoning_markers_detect(&mk, jinja);
    reasoning_markers_vocab(&mk, m);
    struct run_save_prompt rp = {0};
    if (rs) { /* the conversation so far and the prompt, in the model's chat template */
        if (chat_prompt_new(m, NULL, &cpr, err, sizeof err)) {
            cli_error("run: %s", err);
            goto out;
        }
        if (*chat_prompt_notice(cpr))
            cli_error("%s: %s", a.model, chat_prompt_notice(cpr));
        const struct prompts_template *bt = chat_prompt_builtin(cpr);
        if (bt) {   /* a Jinja template's turns end on the vocabulary's EOG tokens */
            gp.stop = (const char *const *)bt->stop;
            gp.n_stop = bt->n_stop;
        }
        const int jinja_sw = chat_prompt_is_jinja(cpr) && chat_prompt_has_think_switch(cpr);
        rp = (struct run_save_prompt){cpr, {1, a.set.think ? 1 : 0},
                                      !a.set.think && !jinja_sw ? &mk : NULL,
                                      chat_prompt_is_jinja(cpr) ? 0
                                                                : reasoning_template_switch(jinja)};
    }
    int n;
    if (cpr) {
        if ((n = run_save_tokens(rs, &rp, text, len, &chat, &chat_len, &toks)) < 0)
            cli_error("%s", run_save_error(rs));
    } else {
        n = run_tokenize(m, text, len, &toks);
    }
    if (n < 0) goto out;
    if (n == 0) {
        cli_error("run: the prompt is empty");
        goto out;
    }
    if (eng_ctx_new(m, &cp, &c) != ENG_OK) {
        cli_error("%s", eng_last_error());
        goto out;
    }
    if (a.draft) {   /* the draft model: the same vocabulary, a context as long */
        struct eng_ctx_params dp = cp;
        dp.n_ctx = eng_ctx_n_ctx(c);
        if (eng_model_load(a.draft, &mp, &dm) != ENG_OK ||
            eng_draft_compatible(m, dm) != ENG_OK || eng_ctx_new(dm, &dp, &dc) != ENG_OK) {
            cli_error("--draft %s: %s", a.draft, eng_last_error());
            goto out;
        }
        gp.draft = dc;
    }
    if ((gp.lookup > 0 || gp.draft) && eng_ctx_rs_bytes(c, NULL) > 0)
        cli_error("%s: a model with recurrent layers cannot rewind its state: "
                  "speculative decoding is off", a.model);
    const int n_ctx = eng_ctx_n_ctx(c); /* too long: the oldest turns out, or refused */
    if (rs && (n = run_save_fit(rs, &rp, text, len, n_ctx,
                                app_reply_room(a.set.n_predict, n_ctx), n, &chat, &chat_len,
                                &toks)) < 0) {
        cli_error("%s", run_save_error(rs));
        goto out;
    }
    if (rs)
        restore_ms = run_cache_restore(a.model, m, c, toks, n, &kc);
    chat_prompt_log(toks, n);
    if (rs && run_save_begin(rs, a.model, chat_prompt_family(cpr), text, len) != 0) {
        cli_error("%s", run_save_error(rs));
        goto out;
    }
    struct sigaction sa = {.sa_handler = run_on_sigint}, old_sa;
    if (rs) /* no SA_RESTART: Ctrl-C wakes the poll in run_save_wait */
        sigaction(SIGINT, &sa, &old_sa);
    struct eng_stats st;
    memset(&st, 0, sizeof st);
    int32_t reason = -1;
    const char *nc = getenv("NO_COLOR");
    int color = !(nc && nc[0]);
    struct run_out ro = {a.reasoning, rs, color && isatty(STDOUT_FILENO),
                         color && isatty(STDERR_FILENO), -1, 0, 0};
    struct reasoning sp;
    reasoning_init(&sp, &mk, chat ? reasoning_prompt_inside(&mk, chat, chat_len)
                                  : reasoning_prompt_inside(&mk, text, len), run_emit, &ro);
    status = run_generate(c, toks, n, &gp, rs, &sp, &st, &reason);
    if (ro.think_written && a.reasoning == RUN_REASONING_STDERR && ro.think_nl == 0)
        fputc('\n', stderr); /* the figures start a line of their own */
    if (rs) {
        sigaction(SIGINT, &old_sa, NULL);
        struct store_reply_stats rst = {st.n_gen, st.prompt_tps, st.gen_tps};
        const char *why = status ? "error"
                        : reason == ENG_DONE_CANCELLED ? "stopped"
                        : reason == ENG_DONE_LENGTH || reason == ENG_DONE_CTX_FULL ? "length"
                        : "stop";
        if (run_save_finish(rs, why, &rst) != 0) {
            cli_error("%s", run_save_error(rs));
            status = 1;
        }
    }
    if (isatty(STDOUT_FILENO)) fputc('\n', stdout);
    fflush(stdout);
    if (status == 0)
        fprintf(stderr, "natter: prompt %d tokens (+%d cached), %.2f t/s; generated %d tokens, "
                "%.2f t/s; first token %.0f ms\n", st.n_prompt, st.n_reused,
                (double)st.prompt_tps, st.n_gen, (double)st.gen_tps,
                restore_ms + (double)st.ttft_ms);
    if (status == 0 && st.n_drafted > 0)
        fprintf(stderr, "natter: speculative: drafted %d tokens, kept %d (%.0f%%)\n",
                st.n_drafted, st.n_accepted, 100.0 * st.n_accepted / st.n_drafted);
    if (status == 0 && rs)
        fprintf(stderr, "natter: saved in conversation %s\n", run_save_id(rs));
    if (status == 0)
        kvcache_save(kc, c);
    if (status == 0 && run_interrupted)
        status = 130; /* stopped by Ctrl-C, as a shell reports SIGINT */
out:
    kvcache_close(kc);
    run_save_close(rs);
    free(chat);
    chat_prompt_free(cpr);
    eng_ctx_free(dc);
    eng_model_free(dm);
    eng_ctx_free(c);
    eng_model_free(m);
    free(toks);
    free(text);
    return status;
}
