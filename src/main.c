/* src/main.c — natter's entry point: global options (--help, --version), subcommand dispatch,
 * and with no subcommand the full-screen chat (ui_main). Main thread. */
#include <errno.h>
#include <locale.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "engine.h"
#include "ui.h"

static const char usage_text[] =
    "usage: natter [-m MODEL] [--remote URL|NAME] [-c | --conv ID] [-s SYSTEM] [sampling options]\n"
    "       natter COMMAND [ARGS...]\n"
    "\n"
    "With no command, natter opens the full-screen chat.\n"
    "\n"
    "Commands:\n"
    "  run       generate text from a prompt (stdout), stats on stderr\n"
    "  tokenize  print a text's token ids\n"
    "  eval      teacher-forced logits of a token sequence\n"
    "  models    list GGUF models (architecture, size, types)\n"
    "  bench     measure prompt processing and generation speed\n"
    "  ls        list saved conversations\n"
    "  show      print a conversation\n"
    "  rename    rename a conversation\n"
    "  rm        delete a conversation\n"
    "  search    full-text search over conversations\n"
    "  export    write a conversation as Markdown or JSON\n"
    "  import    read a conversation from JSON\n"
    "  template  list, show, render or detect chat templates\n"
    "  prompts   list system prompts\n"
    "  cache     list (ls) or clear the context snapshots on disk\n"
    "  serve     serve the model over an OpenAI-compatible HTTP API\n"
    "\n"
    "Options:\n"
    "  -h, --help     this help (natter COMMAND --help for a command's own)\n"
    "  -V, --version  print the version\n"
    "\n"
    "See natter(1) for everything else.\n";

struct command {
    const char *name;
    int (*fn)(int argc, char **argv);
};

static const struct command commands[] = {
    {"run", cmd_run},         {"tokenize", cmd_tokenize}, {"eval", cmd_eval},
    {"models", cmd_models},   {"bench", cmd_bench},       {"ls", cmd_ls},
    {"show", cmd_show},       {"rename", cmd_rename},     {"rm", cmd_rm},
    {"search", cmd_search},   {"export", cmd_export},     {"import", cmd_import},
    {"template", cmd_template}, {"prompts", cmd_prompts}, {"cache", cmd_cache},
    {"serve", cmd_serve},
};

void cli_error(const char *fmt, ...) {
    va_list ap;
    fputs("natter: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

void cli_error_file(const char *path, const char *detail) {
    size_t n = strlen(path);
    if (!strncmp(detail, path, n) && detail[n] == ':')
        cli_error("%s", detail);
    else
        cli_error("%s: %s", path, detail);
}

eng_model *cli_vocab_load(const char *path) {
    struct eng_model_params mp = eng_model_default_params();
    mp.vocab_only = 1;
    eng_model *m = NULL;
    if (eng_model_load(path, &mp, &m) != ENG_OK) {
        cli_error_file(path, eng_last_error());
        return NULL;
    }
    return m;
}

int cli_command_len(const char *usage) {
    int n = 0, end = 0;
    for (;;) {
        int w = n;
        while (usage[w] >= 'a' && usage[w] <= 'z')
            w++;
        if (w == n || (usage[w] && usage[w] != ' ') || !strncmp(usage + w, " |", 2))
            return end; /* "cache ls|clear", "template list | show NAME": alternatives */
        end = w;
        if (!usage[w])
            return end;
        n = w + 1;
    }
}

int cli_usage(const char *usage) {
    int n = cli_command_len(usage);
    fprintf(stderr, "usage: natter %s\nTry 'natter %.*s%s--help'.\n", usage, n, usage,
            n ? " " : "");
    return 2;
}

/* A command's status, or 1 when what it wrote to stdout did not all get there (a full disk,
 * /dev/full, a closed pipe's EPIPE with SIGPIPE ignored). */
static int out_status(int status) {
    int bad = ferror(stdout);
    errno = 0;
    if (fflush(stdout) == 0 && !bad)
        return status;
    cli_error("cannot write the output: %s", errno ? strerror(errno) : "write error");
    return 1;
}

int main(int argc, char **argv) {
    setlocale(LC_ALL, "");
    if (argc >= 2) {
        const char *a = argv[1];
        if (!strcmp(a, "-h") || !strcmp(a, "--help") || !strcmp(a, "help")) {
            fputs(usage_text, stdout);
            return out_status(0);
        }
        if (!strcmp(a, "-V") || !strcmp(a, "--version")) {
            printf("natter %s\n", NATTER_VERSION);
            return out_status(0);
        }
        if (a[0] != '-') {
            for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
                if (!strcmp(a, commands[i].name))
                    return out_status(commands[i].fn(argc - 1, argv + 1));
            cli_error("unknown command '%s'", a);
            return cli_usage("[OPTIONS] | COMMAND [ARGS...]");
        }
    }
    return ui_main(argc, argv);
}
