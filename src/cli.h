/* src/cli.h — the subcommands main() dispatches to (the chat's entry point is ui/ui.h's
 * ui_main: src/ reaches ui/ only there, from main.c). Each cmd_* takes the subcommand's own
 * argv (argv[0] is the subcommand name) and returns the process exit status: 0 success,
 * 1 failure (a one-line "natter: ..." message on stderr), 2 usage error. Main thread only. */
#ifndef NATTER_CLI_H
#define NATTER_CLI_H

int cmd_run(int argc, char **argv);       /* src/cmd_run.c */
int cmd_tokenize(int argc, char **argv);  /* src/cmd_tokenize.c */
int cmd_eval(int argc, char **argv);      /* src/cmd_eval.c */
int cmd_models(int argc, char **argv);    /* src/cmd_eval.c */
int cmd_bench(int argc, char **argv);     /* src/cmd_bench.c */
int cmd_ls(int argc, char **argv);        /* src/cmd_store.c */
int cmd_show(int argc, char **argv);
int cmd_rename(int argc, char **argv);
int cmd_rm(int argc, char **argv);
int cmd_search(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_import(int argc, char **argv);
int cmd_template(int argc, char **argv);  /* src/cmd_template.c */
int cmd_prompts(int argc, char **argv);
int cmd_cache(int argc, char **argv);     /* src/cmd_cache.c: ls | clear */
int cmd_serve(int argc, char **argv);     /* src/cmd_serve.c: the OpenAI-compatible server */
int cmd_template_render_jinja(int argc, char **argv); /* src/cmd_jinja.c: render --jinja/-m */

/* Prints "natter: " + message + newline to stderr (printf-style). */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* cli_error of "PATH: detail", naming the file once when detail starts with it already
 * (the engine's messages name the file for some errors and not for others). */
void cli_error_file(const char *path, const char *detail);
/* A model's vocabulary and metadata only (no weights): the model (caller frees with
 * eng_model_free), or NULL after the one line naming the file (cli_error_file). */
struct eng_model *cli_vocab_load(const char *path);
/* Prints "usage: natter USAGE" and "Try 'natter COMMAND --help'." to stderr; returns 2. */
int cli_usage(const char *usage);
/* The length of the command's name at the start of a usage line: its lowercase words
 * ("template render" in "template render NAME ..."), 0 for none. */
int cli_command_len(const char *usage);

#endif
