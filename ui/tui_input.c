/* ui/tui_input.c — the input line: GNU readline through its callback interface (one byte fed
 * per call, our own getc/redisplay hooks, readline's terminal and signal handling off; the
 * input area is painted by tui_draw.c from rl_line_buffer/rl_point), history kept across
 * sessions in $XDG_DATA_HOME/natter/history: read at start, and at exit only this session's
 * lines are appended, so two chats at once both keep theirs. UI thread only. */
#include <errno.h>
#include <curses.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <readline/history.h>
#include <readline/readline.h>

#include "cli.h"
#include "paths.h"
#include "tui.h"

static int input_byte;
static int input_pending;
static char *input_line;      /* accepted by readline, handed to the caller */
static int input_got_line;
static char input_hist[4096];
static FILE *input_null;
static const int input_hist_max = 1000;
static int input_hist_added;  /* lines added this session (appended to the file at exit) */

static int input_getc(FILE *f) {
    (void)f;
    input_pending = 0;
    return input_byte;
}

static int input_available(void) {
    return input_pending;
}

static void input_redisplay(void) {
    /* painted by tui_draw() from rl_line_buffer after each key */
}

static void input_on_line(char *line) {
    free(input_line);
    input_line = line; /* NULL on EOF (Ctrl-D on an empty line): ignored */
    input_got_line = 1;
}

static void input_noop_prep(int meta) {
    (void)meta;
}

static void input_noop_deprep(void) {
}

void tui_input_init(struct tui *t) {
    (void)t;
    char dir[4096];
    input_null = fopen("/dev/null", "w");
    rl_instream = stdin;
    rl_outstream = input_null ? input_null : stdout;
    rl_readline_name = "natter";
    rl_catch_signals = 0;
    rl_catch_sigwinch = 0;
    rl_change_environment = 0;
    rl_prep_term_function = input_noop_prep;
    rl_deprep_term_function = input_noop_deprep;
    rl_getc_function = input_getc;
    rl_input_available_hook = input_available;
    rl_redisplay_function = input_redisplay;
    rl_inhibit_completion = 1;
    using_history();
    stifle_history(input_hist_max);
    /* Timestamp lines ("#<time>") delimit the entries, so a multi-line message comes back as
     * one entry. A file without them (one entry a line) is read line by line. */
    history_write_timestamps = 1;
    if (paths_data_dir(dir, sizeof dir - 16) && paths_mkdir_p(dir) == 0) {
        snprintf(input_hist, sizeof input_hist, "%.4000s/history", dir);
        FILE *f = fopen(input_hist, "r");
        int c = f ? fgetc(f) : EOF;
        if (f)
            fclose(f);
        history_multiline_entries = c == '#';
        read_history(input_hist);
        history_multiline_entries = 1;
    }
    rl_callback_handler_install("", input_on_line);
}

int tui_input_shutdown(void) {
    int rc = 0;
    rl_callback_handler_remove();
    if (input_hist[0] && input_hist_added > 0) {
        int n = input_hist_added < history_length ? input_hist_added : history_length;
        /* append_history does not create the file; the cap counts lines (entries can have
         * several). Each returns 0 or an errno value. */
        int e = append_history(n, input_hist);
        if (e == ENOENT)
            e = write_history(input_hist);
        if (e == 0)
            e = history_truncate_file(input_hist, input_hist_max * 4);
        if (e != 0) {
            cli_error("%s: cannot save the input history: %s", input_hist, strerror(e));
            rc = -1;
        }
    }
    free(input_line);
    input_line = NULL;
    if (input_null)
        fclose(input_null);
    input_null = NULL;
    rl_outstream = NULL;
    return rc;
}

char *tui_input_feed(int byte) {
    input_byte = byte;
    input_pending = 1;
    input_got_line = 0;
    rl_callback_read_char();
    if (!input_got_line)
        return NULL;
    char *line = input_line;
    input_line = NULL;
    return line;
}

void tui_input_insert(const char *text) {
    rl_insert_text(text);
}

void tui_input_set(const char *text) {
    rl_replace_line(text, 0);
    rl_point = rl_end;
}

const char *tui_input_text(void) {
    return rl_line_buffer ? rl_line_buffer : "";
}

int tui_input_point(void) {
    return rl_point;
}

void tui_input_history_add(const char *line) {
    char ts[32];
    if (!*line)
        return;
    add_history(line);
    snprintf(ts, sizeof ts, "#%lld", (long long)time(NULL));
    add_history_time(ts);
    input_hist_added++;
    using_history(); /* Up starts from the newest entry; else readline edits an old one */
}

void tui_input_set_point(int point) {
    rl_point = point < 0 ? 0 : point > rl_end ? rl_end : point;
}

void tui_input_move(int key) {
    switch (key) {
    case KEY_LEFT: rl_backward_char(1, 0); break;
    case KEY_RIGHT: rl_forward_char(1, 0); break;
    case KEY_HOME: rl_beg_of_line(1, 0); break;
    case KEY_END: rl_end_of_line(1, 0); break;
    case KEY_DC: rl_delete(1, 0); break;
    case KEY_BACKSPACE: rl_rubout(1, 0); break;
    case KEY_UP: rl_get_previous_history(1, 0); break;
    case KEY_DOWN: rl_get_next_history(1, 0); break;
    default: break;
    }
}
