/* ui/tui.c — the full-screen chat (natter with no subcommand): start options, the terminal
 * (ncursesw, bracketed paste, mouse), signals (a self-pipe; fatal signals restore the terminal
 * before dying), the poll() loop over the keyboard, the engine's event pipe, the model loader's
 * wake pipe and the signal pipe, and the key and slash-command dispatch. Main (UI) thread only;
 * the signal handlers only write() a byte or restore the terminal. */
#include <curses.h>
#include <errno.h>
#include <fcntl.h>
#include <langinfo.h>
#include <locale.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include "clipboard.h"
#include "cli.h" /* cli_error, cli_usage */
#include "config.h"
#include "fdio.h"
#include "hyperlink.h"
#include "layout.h"
#include "opts.h"
#include "paths.h"
#include "prompts.h"
#include "store.h"
#include "theme.h"
#include "tui.h"
#include "ui.h"

enum { KEY_PASTE_BEGIN = KEY_MAX + 1, KEY_PASTE_END = KEY_MAX + 2 };
/* Alt-arrows: their codes come from the terminal's description (kUP3...), ERR when it has
 * none; Shift-arrows (KEY_SR, KEY_SF, KEY_SLEFT, KEY_SRIGHT) do the same. */
static int key_alt_up = ERR, key_alt_down = ERR, key_alt_left = ERR, key_alt_right = ERR;

static int term_key_code(const char *cap) {
    char *seq = tigetstr(cap);
    if (!seq || seq == (char *)-1)
        return ERR;
    int k = key_defined(seq);
    return k > 0 ? k : ERR;
}
#undef CTRL
#define CTRL(c) ((c) & 0x1f)

/* ---- signals ---- */

static int sig_fd = -1;              /* the self-pipe's write end */
static struct termios tui_saved_tio; /* the terminal as we found it */
static volatile sig_atomic_t tui_term_active;

static void on_signal(int sig) {
    int saved = errno;
    unsigned char b = (unsigned char)sig;
    if (sig_fd >= 0) {
        ssize_t w = write(sig_fd, &b, 1);
        (void)w;
    }
    errno = saved;
}

/* A crash: put the terminal back (async-signal-safe calls only), then die of the signal. */
static void on_fatal(int sig) {
    static const char restore[] = "\033[?2004l\033[?1000l\033[?1002l\033[?1006l\033[?1l\033>"
                                  "\033[0m\033[?25h\033[?1049l\r\n";
    if (tui_term_active) {
        ssize_t w = write(STDOUT_FILENO, restore, sizeof restore - 1);
        (void)w;
        tcsetattr(STDIN_FILENO, TCSANOW, &tui_saved_tio);
    }
    signal(sig, SIG_DFL);
    raise(sig);
}

static int signals_install(int fd) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sigemptyset(&sa.sa_mask);
    sa.sa_handler = on_signal;
    sig_fd = fd;
    int sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGWINCH, SIGTSTP};
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
        if (sigaction(sigs[i], &sa, NULL) != 0)
            return -1;
    sa.sa_handler = on_fatal;
    sa.sa_flags = SA_RESETHAND;
    int fatal[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT};
    for (size_t i = 0; i < sizeof fatal / sizeof fatal[0]; i++)
        sigaction(fatal[i], &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    return 0;
}

/* ---- the terminal ---- */

static void term_start(struct tui *t) {
    tcgetattr(STDIN_FILENO, &tui_saved_tio);
    set_escdelay(25);
    initscr();
    tui_term_active = 1;
    raw();
    noecho();
    nonl();
    keypad(stdscr, TRUE);
    nodelay(stdscr, TRUE);
    theme_init(t->no_color);
    mousemask(BUTTON1_CLICKED | BUTTON4_PRESSED | BUTTON5_PRESSED, NULL);
    mouseinterval(0);
    define_key("\033[200~", KEY_PASTE_BEGIN);
    define_key("\033[201~", KEY_PASTE_END);
    key_alt_up = term_key_code("kUP3");
    key_alt_down = term_key_code("kDN3");
    key_alt_left = term_key_code("kLFT3");
    key_alt_right = term_key_code("kRIT3");
    fputs("\033[?2004h", stdout); /* bracketed paste on */
    fflush(stdout);
}

static void term_end(void) {
    if (!tui_term_active)
        return;
    fputs("\033[?2004l", stdout);
    fflush(stdout);
    endwin();
    tui_term_active = 0;
}

/* Ctrl-Z or SIGTSTP: give the terminal back, stop, and take it again on SIGCONT. */
static void term_suspend(void) {
    struct sigaction sa, old;
    term_end();
    memset(&sa, 0, sizeof sa);
    sigemptyset(&sa.sa_mask);
    sa.sa_handler = SIG_DFL;
    sigaction(SIGTSTP, &sa, &old);
    raise(SIGTSTP); /* stops here until SIGCONT */
    sigaction(SIGTSTP, &old, NULL);
    tcgetattr(STDIN_FILENO, &tui_saved_tio); /* the shell may have changed it meanwhile */
    refresh();                               /* back into curses mode */
    tui_term_active = 1;
    fputs("\033[?2004h", stdout);
    fflush(stdout);
    clearok(curscr, TRUE);
}

static void term_resize(void) {
    struct winsize ws;
    if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_row > 0 && ws.ws_col > 0)
        resizeterm(ws.ws_row, ws.ws_col);
}

/* ---- overlays ---- */

/* A setting as F4 and its notice show it (desc: app_settings_describe's "name value"): a
 * context size or thread count of 0 says it is automatic and what that is now, "ctx auto
 * (2048)", "threads auto (2)". Returns label. */
static const char *setting_label(const struct tui *t, const char *desc, char *label,
                                 size_t cap) {
    if (!strcmp(desc, "ctx 0") && t->model)
        snprintf(label, cap, "ctx auto (%d)", eng_ctx_n_ctx(t->ctx));
    else if (!strcmp(desc, "ctx 0"))
        snprintf(label, cap, "ctx auto (the model's)");
    else if (!strcmp(desc, "threads 0"))
        snprintf(label, cap, "threads auto (%d)", eng_cpu_physical_cores());
    else
        snprintf(label, cap, "%s", desc);
    return label;
}

static void overlay_open(struct tui *t, int ov) {
    t->overlay = ov;
    t->ov_sel = t->ov_top = 0;
    t->ov_len = 0;
    t->ov_buf[0] = '\0';
    t->ov_editing = 0;
    if (ov == OV_MODELS)
        tui_chat_models(t, 0);
    else if (ov == OV_SYSTEM)
        tui_chat_systems(t);
    else if (ov == OV_SETTINGS || ov == OV_SEARCH)
        tui_items_clear(t);
    if (ov == OV_SETTINGS) {
        char buf[128], label[160];
        for (int i = 0; app_settings_describe(&t->set, i, buf, sizeof buf) == 0; i++)
            tui_items_add(t, buf, setting_label(t, buf, label, sizeof label));
    }
}

static void settings_refresh(struct tui *t) {
    char buf[128];
    for (int i = 0; i < t->n_items && app_settings_describe(&t->set, i, buf, sizeof buf) == 0;
         i++) {
        snprintf(t->items[i].key, sizeof t->items[i].key, "%s", buf);
        setting_label(t, buf, t->items[i].label, sizeof t->items[i].label);
    }
}

/* After a setting changed: the context size, threads and KV type take a new context, so the
 * model is loaded again (in the background) with them. */
static void setting_changed(struct tui *t, const char *name) {
    char buf[128];
    char label[160];
    for (int i = 0; app_settings_describe(&t->set, i, buf, sizeof buf) == 0; i++)
        if (!strncmp(buf, name, strlen(name)) && buf[strlen(name)] == ' ')
            tui_chat_notice(t, "%s", setting_label(t, buf, label, sizeof label));
    if (!strcmp(name, "think"))
        tui_chat_think_changed(t);
    if (!strcmp(name, "markdown") && t->db) /* kept for the next start */
        store_setting_set(t->db, STORE_SETTING_MARKDOWN, t->set.markdown ? "on" : "off");
    if (t->db && t->conv.id[0]) { /* a saved conversation reopens with them */
        char *json = app_settings_json(&t->set);
        if (!json || store_conv_set_sampling(t->db, t->conv.id, json) < 0)
            tui_chat_notice(t, "not saved: this conversation's settings: %s",
                            json ? store_errmsg(t->db) : "out of memory");
        free(json);
    }
    if ((!strcmp(name, "ctx") || !strcmp(name, "threads") || !strcmp(name, "kv")) && t->model &&
        !t->load) {
        char path[sizeof t->model_path];
        tui_copy(path, sizeof path, t->model_path);
        tui_chat_model_load(t, path);
    }
}

static void field_set(struct tui *t, const char *s) {
    tui_copy(t->ov_buf, sizeof t->ov_buf, s);
    t->ov_len = strlen(t->ov_buf);
}

/* Edits the overlay's text field; returns 1 if the key was one for the field. */
static int field_key(struct tui *t, int ch) {
    if (ch == KEY_BACKSPACE || ch == 127 || ch == 8) {
        while (t->ov_len > 0) { /* a whole UTF-8 character */
            unsigned char c = (unsigned char)t->ov_buf[--t->ov_len];
            if ((c & 0xC0) != 0x80)
                break;
        }
        t->ov_buf[t->ov_len] = '\0';
        return 1;
    }
    if (ch == CTRL('u')) {
        t->ov_len = 0;
        t->ov_buf[0] = '\0';
        return 1;
    }
    if (ch >= 0x20 && ch < 0x100 && ch != 0x7f && t->ov_len + 1 < sizeof t->ov_buf) {
        t->ov_buf[t->ov_len++] = (char)ch;
        t->ov_buf[t->ov_len] = '\0';
        return 1;
    }
    return 0;
}

static int list_nav(int ch, int *sel, int n, int page) {
    switch (ch) {
    case KEY_UP: *sel -= 1; break;
    case KEY_DOWN: *sel += 1; break;
    case KEY_PPAGE: *sel -= page; break;
    case KEY_NPAGE: *sel += page; break;
    case KEY_HOME: *sel = 0; break;
    case KEY_END: *sel = n - 1; break;
    default: return 0;
    }
    if (*sel >= n)
        *sel = n - 1;
    if (*sel < 0)
        *sel = 0;
    return 1;
}

/* /system ARG or F3's choice: a saved conversation's prompt is replaced only after y (its old
 * text is not kept anywhere); a new chat's, or the same text again, at once. */
static void system_choose(struct tui *t, const char *arg) {
    const struct prompts_system *s = app_system_is_none(arg) ? NULL : prompts_system_find(arg);
    const char *text = app_system_is_none(arg) ? "" : s ? s->text : arg;
    int saved = t->conv.id[0] && app_conv_last(&t->conv, APP_ROLE_USER) >= 0;
    if (!saved || !strcmp(text, t->system_prompt ? t->system_prompt : "")) {
        tui_chat_set_system(t, arg);
        return;
    }
    free(t->ov_system);
    if (!(t->ov_system = strdup(arg))) {
        tui_chat_notice(t, "out of memory");
        return;
    }
    t->overlay = OV_CONFIRM_SYSTEM;
}

static int overlay_key(struct tui *t, int ch) {
    int enter = ch == '\r' || ch == '\n' || ch == KEY_ENTER;
    int page = t->rows / 2 > 1 ? t->rows / 2 : 1;
    switch (t->overlay) {
    case OV_HELP:
        if (ch == 27 || ch == KEY_F(1) || ch == 'q' || ch == '?' || enter)
            t->overlay = OV_NONE;
        else /* Up/Down scroll; the drawing clamps the top row */
            list_nav(ch, &t->ov_top, 1000, page);
        return TUI_REDRAW;
    case OV_CONFIRM_DELETE:
        if (ch == 'y' || ch == 'Y')
            tui_chat_delete(t, t->ov_target);
        t->overlay = OV_NONE;
        return TUI_REDRAW;
    case OV_CONFIRM_DELETE_MSG:
        t->overlay = OV_NONE;
        if (ch == 'y' || ch == 'Y')
            tui_chat_delete_msg(t, t->ov_msg);
        return TUI_REDRAW;
    case OV_CONFIRM_SYSTEM:
        t->overlay = OV_NONE;
        if ((ch == 'y' || ch == 'Y') && t->ov_system)
            tui_chat_set_system(t, t->ov_system);
        else
            tui_chat_notice(t, "system prompt kept");
        free(t->ov_system);
        t->ov_system = NULL;
        return TUI_REDRAW;
    case OV_RENAME:
        if (ch == 27) {
            t->overlay = OV_NONE;
        } else if (enter) {
            if (t->ov_len)
                tui_chat_rename(t, t->ov_target, t->ov_buf);
            t->overlay = OV_NONE;
        } else {
            field_key(t, ch);
        }
        return TUI_REDRAW;
    case OV_SEARCH:
        if (ch == 27) {
            t->overlay = OV_NONE;
        } else if (enter) {
            if (t->ov_sel < t->n_items) {
                char id[64];
                tui_copy(id, sizeof id, t->items[t->ov_sel].key);
                t->overlay = OV_NONE;
                tui_chat_open_hit(t, id);
            }
        } else if (!list_nav(ch, &t->ov_sel, t->n_items, page) && field_key(t, ch)) {
            tui_chat_search(t, t->ov_buf);
        }
        return TUI_REDRAW;
    case OV_SETTINGS:
        if (t->ov_editing) {
            if (ch == 27) {
                t->ov_editing = 0;
            } else if (enter) {
                char name[64], err[256];
                tui_copy(name, sizeof name, t->items[t->ov_sel].key);
                char *sp = strchr(name, ' ');
                if (sp)
                    *sp = '\0';
                if (app_settings_set(&t->set, name, t->ov_buf, err, sizeof err) != 0)
                    tui_chat_notice(t, "%s", err);
                else
                    setting_changed(t, name);
                t->ov_editing = 0;
                settings_refresh(t);
            } else {
                field_key(t, ch);
            }
            return TUI_REDRAW;
        }
        if (ch == 27 || ch == KEY_F(4) || ch == 'q') {
            t->overlay = OV_NONE;
        } else if (enter && t->n_items) {
            const char *sp = strchr(t->items[t->ov_sel].key, ' ');
            field_set(t, sp ? sp + 1 : "");
            t->ov_editing = 1;
        } else {
            list_nav(ch, &t->ov_sel, t->n_items, page);
        }
        return TUI_REDRAW;
    case OV_MODELS:
    case OV_SYSTEM:
        if (t->overlay == OV_MODELS && ch == 'r') {
            tui_chat_models(t, 1);
        } else if (ch == 27 || ch == 'q' || ch == KEY_F(2) || ch == KEY_F(3)) {
            t->overlay = OV_NONE;
        } else if (enter && t->n_items) {
            char key[4096];
            tui_copy(key, sizeof key, t->items[t->ov_sel].key);
            int ov = t->overlay;
            t->overlay = OV_NONE;
            if (ov == OV_MODELS)
                tui_chat_model_load(t, key);
            else
                system_choose(t, key);
        } else {
            list_nav(ch, &t->ov_sel, t->n_items, page);
        }
        return TUI_REDRAW;
    default:
        t->overlay = OV_NONE;
        return TUI_REDRAW;
    }
}

/* ---- commands ---- */

static void scroll_by(struct tui *t, int delta) {
    if (t->trans_w > 2)
        layout_scroll_by(&t->scroll, delta, tui_transcript_rows(t, t->trans_w), t->view_rows);
}

/* ---- copying ---- */

/* Copies message i, or its code block `block` (1-based; 0: the whole message). */
static void copy_msg(struct tui *t, int i, int block) {
    if (i < 0 || i >= t->conv.n_msgs) {
        tui_chat_notice(t, "nothing to copy yet");
        return;
    }
    const struct app_msg *m = &t->conv.msgs[i];
    char msg[256];
    if (block > 0) {
        size_t n;
        char *code = md_code_block(m->text, m->len, block - 1, &n);
        if (!code) {
            tui_chat_notice(t, "this message has no code block %d", block);
            return;
        }
        clip_copy(code, n, STDOUT_FILENO, msg, sizeof msg);
        free(code);
    } else {
        clip_copy(m->text, m->len, STDOUT_FILENO, msg, sizeof msg);
    }
    tui_chat_notice(t, "%s", msg);
}

/* Shows the selected message: the view scrolls to its first row. */
static void select_show(struct tui *t) {
    if (t->sel_msg < 0 || t->trans_w <= 2)
        return;
    int total = tui_transcript_rows(t, t->trans_w);
    t->scroll.top = tui_msg_top(t, t->sel_msg, t->trans_w);
    t->scroll.follow = 0;
    layout_scroll_fix(&t->scroll, total, t->view_rows);
}

/* F8: selects the last reply (else the last message). */
static int key_select(struct tui *t) {
    if (t->sel_msg >= 0 && t->sel_copy) {
        t->sel_msg = -1;
        t->sel_copy = 0;
        return TUI_REDRAW;
    }
    int i = t->sel_msg >= 0 ? t->sel_msg : app_conv_last(&t->conv, APP_ROLE_ASSISTANT);
    t->sel_msg = i >= 0 ? i : t->conv.n_msgs - 1;
    t->sel_copy = t->sel_msg >= 0;
    if (t->sel_msg < 0)
        tui_chat_notice(t, "no message to select yet");
    select_show(t);
    return TUI_REDRAW;
}

/* Keys while a message is selected; TUI_PASS for a key that ends the selection and goes on
 * as usual. */
static int select_key(struct tui *t, int ch) {
    int step = ch == KEY_UP || ch == 'k' ? -1 : ch == KEY_DOWN || ch == 'j' ? 1 : 0;
    if (step) {
        int i = t->sel_msg + step;
        while (i >= 0 && i < t->conv.n_msgs && t->conv.msgs[i].role == APP_ROLE_NOTICE)
            i += step;
        if (i >= 0 && i < t->conv.n_msgs)
            t->sel_msg = i;
        select_show(t);
        return TUI_REDRAW;
    }
    if (ch == 'y' || ch == '\r' || ch == KEY_ENTER || (ch >= '1' && ch <= '9')) {
        int i = t->sel_msg;
        t->sel_msg = -1;
        t->sel_copy = 0;
        copy_msg(t, i, ch >= '1' && ch <= '9' ? ch - '0' : 0);
        return TUI_REDRAW;
    }
    if (ch == KEY_PPAGE || ch == KEY_NPAGE || ch == KEY_RESIZE || ch == KEY_MOUSE)
        return TUI_PASS; /* scrolling keeps the selection */
    t->sel_msg = -1;
    t->sel_copy = 0;
    return ch == 'q' || ch == KEY_F(8) ? TUI_REDRAW : TUI_PASS;
}

static int run_command(struct tui *t, const struct app_cmd *c) {
    char arg[1024];
    snprintf(arg, sizeof arg, "%.*s", (int)c->arg_len, c->arg);
    switch (c->id) {
    case APP_CMD_NEW: tui_chat_new(t); break;
    case APP_CMD_MODEL:
        if (arg[0])
            tui_chat_model_load(t, arg);
        else if (t->model && eng_model_check(t->model) != ENG_OK) { /* changed on disk */
            char path[sizeof t->model_path];
            tui_copy(path, sizeof path, t->model_path);
            tui_chat_model_load(t, path);
        } else
            overlay_open(t, OV_MODELS);
        break;
    case APP_CMD_SYSTEM:
        if (arg[0])
            system_choose(t, arg);
        else
            overlay_open(t, OV_SYSTEM);
        break;
    case APP_CMD_TEMPLATE: tui_chat_set_template(t, arg); break;
    case APP_CMD_SET: {
        char *sp = strchr(arg, ' '), err[256];
        if (!arg[0]) {
            overlay_open(t, OV_SETTINGS);
            break;
        }
        if (sp)
            *sp++ = '\0';
        if (app_settings_set(&t->set, arg, sp ? sp : "", err, sizeof err) != 0)
            tui_chat_notice(t, "%s", err);
        else
            setting_changed(t, arg);
        break;
    }
    case APP_CMD_REGEN: tui_chat_regen(t); break;
    case APP_CMD_THINK: {
        char err[256];
        if (!arg[0])
            tui_chat_notice(t, "thinking %s (/think on or /think off)", t->set.think ? "on" : "off");
        else if (app_settings_set(&t->set, "think", arg, err, sizeof err) != 0)
            tui_chat_notice(t, "%s", err);
        else
            setting_changed(t, "think");
        break;
    }
    case APP_CMD_RENAME:
        if (!arg[0])
            tui_chat_notice(t, "usage: /rename TITLE");
        else
            tui_chat_rename(t, t->conv.id, arg);
        break;
    case APP_CMD_DELETE:
        if (!t->conv.id[0]) {
            tui_chat_notice(t, "this chat is not saved yet");
            break;
        }
        tui_copy(t->ov_target, sizeof t->ov_target, t->conv.id);
        t->overlay = OV_CONFIRM_DELETE;
        break;
    case APP_CMD_EXPORT: tui_chat_export(t, arg); break;
    case APP_CMD_SEARCH:
        overlay_open(t, OV_SEARCH);
        field_set(t, arg);
        tui_chat_search(t, arg);
        break;
    case APP_CMD_COPY: {
        char *end;
        long n = arg[0] ? strtol(arg, &end, 10) : 0;
        int i = t->sel_msg >= 0 ? t->sel_msg : app_conv_last(&t->conv, APP_ROLE_ASSISTANT);
        t->sel_msg = -1;
        if (arg[0] && (*end || n < 1 || n > 1000))
            tui_chat_notice(t, "usage: /copy [N] (N: the reply's code block, 1 the first)");
        else
            copy_msg(t, i, (int)n);
        break;
    }
    case APP_CMD_HELP: t->overlay = OV_HELP, t->ov_top = 0; break;
    case APP_CMD_QUIT: return TUI_QUIT;
    default: tui_chat_notice(t, "unknown command /%s (try /help)", arg); break;
    }
    return TUI_REDRAW;
}

static int on_line(struct tui *t, char *line) {
    struct app_cmd c;
    int res = TUI_REDRAW;
    app_cmd_parse(line, &c);
    if (strspn(line, " \t\n\r") < strlen(line))
        tui_input_history_add(line);
    if (c.id != APP_CMD_NONE) {
        res = run_command(t, &c);
    } else if (c.arg_len > 0 && strspn(c.arg, " \t\n\r") < c.arg_len) {
        char *msg = strndup(c.arg, c.arg_len);
        if (msg) {
            if (tui_chat_send(t, msg) != 0 && !t->backend) /* not sent: kept in the input */
                tui_input_set(line);
            free(msg);
        }
    }
    free(line);
    return res;
}

/* ---- keys ---- */

static int list_key(struct tui *t, int ch) {
    int page = t->rows / 2 > 1 ? t->rows / 2 : 1;
    if (ch == 27) { /* Tab: key_tab */
        t->focus = FOCUS_INPUT;
    } else if ((ch == '\r' || ch == '\n' || ch == KEY_ENTER) && t->n_convs > 0) {
        char id[64];
        tui_copy(id, sizeof id, t->convs[t->conv_sel].key);
        tui_chat_open(t, id);
        t->focus = FOCUS_INPUT;
    } else if (ch == 'r' && t->n_convs > 0) {
        tui_copy(t->ov_target, sizeof t->ov_target, t->convs[t->conv_sel].key);
        t->overlay = OV_RENAME;
        field_set(t, t->convs[t->conv_sel].label);
    } else if ((ch == 'd' || ch == KEY_DC) && t->n_convs > 0) {
        tui_copy(t->ov_target, sizeof t->ov_target, t->convs[t->conv_sel].key);
        t->overlay = OV_CONFIRM_DELETE;
    } else {
        list_nav(ch, &t->conv_sel, t->n_convs, page);
    }
    return TUI_REDRAW;
}

static int mouse_key(struct tui *t) {
    MEVENT ev;
    if (getmouse(&ev) != OK)
        return TUI_OK;
    if (ev.bstate & BUTTON4_PRESSED)
        scroll_by(t, -3);
    else if (ev.bstate & BUTTON5_PRESSED)
        scroll_by(t, 3);
    else if ((ev.bstate & BUTTON1_CLICKED) && t->list_w && ev.x < t->list_w && ev.y >= 1) {
        int k = t->conv_top + ev.y - 1;
        if (k < t->n_convs) {
            char id[64];
            tui_copy(id, sizeof id, t->convs[k].key);
            t->conv_sel = k;
            tui_chat_open(t, id);
        }
    }
    return TUI_REDRAW;
}

/* Edit message i (any message of the transcript): its text into the input; Enter sends the
 * edit as a new version beside it. */
static int edit_start(struct tui *t, int i) {
    if (tui_chat_streaming(t) || i < 0 || i >= t->conv.n_msgs ||
        (t->conv.msgs[i].role != APP_ROLE_USER && t->conv.msgs[i].role != APP_ROLE_ASSISTANT))
        return TUI_OK;
    t->edit_msg = i;
    tui_input_set(t->conv.msgs[i].text);
    tui_chat_notice(t, "editing %s: Enter saves it as a new version beside it, Esc cancels",
                    t->conv.msgs[i].role == APP_ROLE_USER ? "your message" : "the reply");
    return TUI_REDRAW;
}

/* Alt-Up/Down: the message the tree keys act on, moved by delta (past the last: none). */
static int select_move(struct tui *t, int delta) {
    int i = t->sel_msg < 0 ? (delta < 0 ? t->conv.n_msgs : -1) : t->sel_msg;
    for (i += delta; i >= 0 && i < t->conv.n_msgs; i += delta)
        if (t->conv.msgs[i].role == APP_ROLE_USER || t->conv.msgs[i].role == APP_ROLE_ASSISTANT)
            break;
    if (i < 0)
        return TUI_OK; /* stays on the first */
    t->sel_msg = i < t->conv.n_msgs ? i : -1;
    t->sel_copy = 0;
    t->sel_scroll = 1;
    if (t->sel_msg >= 0)
        tui_chat_notice(t, "Enter edits · Delete deletes (and what follows) · Alt-Left/Right "
                        "versions · Alt-p pins · Esc unselects");
    return TUI_REDRAW;
}

static int delete_ask(struct tui *t) {
    int i = tui_chat_target(t);
    if (tui_chat_streaming(t) || i < 0 || !t->conv.msgs[i].id) {
        tui_chat_notice(t, tui_chat_streaming(t) ? "a reply is streaming: Esc stops it first"
                                  : "no saved message there");
        return TUI_REDRAW;
    }
    t->ov_msg = t->conv.msgs[i].id;
    t->overlay = OV_CONFIRM_DELETE_MSG;
    return TUI_REDRAW;
}

/* Tab completion's candidates: names copied into a small pool. */
enum { CAND_MAX = 96, CAND_LEN = 64 };
struct cands {
    char name[CAND_MAX][CAND_LEN];
    int n;
};

static void cands_add(struct cands *c, const char *name) {
    if (c->n < CAND_MAX && strlen(name) < CAND_LEN)
        memcpy(c->name[c->n++], name, strlen(name) + 1);
}

static int cands_add_model(const char *path, void *ud) {
    char name[CAND_LEN];
    cands_add(ud, layout_model_name(path, 0, name, sizeof name)); /* as /model NAME finds it */
    return 0;
}

/* The names a command's argument can be: system prompts (and none), templates, models of the
 * search path, settings, on/off. 0 when the command takes no name. */
static int cands_for(int cmd, struct cands *c) {
    c->n = 0;
    char buf[128];
    switch (cmd) {
    case APP_CMD_SYSTEM:
        cands_add(c, "none");
        for (int i = 0; i < prompts_system_count(); i++)
            cands_add(c, prompts_system_at(i)->name);
        return 1;
    case APP_CMD_TEMPLATE:
        for (int i = 0; i < prompts_template_count(); i++)
            cands_add(c, prompts_template_at(i)->name);
        return 1;
    case APP_CMD_MODEL: paths_models_each(cands_add_model, c); return 1;
    case APP_CMD_SET: {
        struct app_settings s;
        app_settings_default(&s, NULL);
        for (int i = 0; app_settings_describe(&s, i, buf, sizeof buf) == 0; i++) {
            *strchr(buf, ' ') = '\0';
            cands_add(c, buf);
        }
        return 1;
    }
    case APP_CMD_THINK: cands_add(c, "on"); cands_add(c, "off"); return 1;
    default: return 0;
    }
}

/* Tab in the input: completes a slash command's name, or the name its argument is (a system
 * prompt, template, model, setting); the candidates in a notice when there are several. */
static int input_complete(struct tui *t, const char *text) {
    size_t len = strlen(text);
    const char *sp = strchr(text, ' ');
    struct cands c;
    struct app_cmd cmd;
    app_cmd_parse(text, &cmd);
    if (text[0] != '/' || text[1] == '/' || strpbrk(sp ? sp + 1 : text, " \t\n") ||
        (sp && !cands_for(cmd.id, &c))) {
        tui_chat_notice(t, "Tab completes /commands and their names; Ctrl-O opens the "
                        "conversation list");
        return TUI_REDRAW;
    }
    const char *head = sp ? text : "/", *word = sp ? sp + 1 : text + 1;
    size_t head_len = sp ? (size_t)(sp + 1 - text) : 1, wlen = strlen(word);
    const char *names[CAND_MAX];
    int n = 0;
    if (!sp) {
        n = app_cmd_complete(word, wlen, names, CAND_MAX);
    } else {
        for (int i = 0; i < c.n; i++)
            if (!strncmp(c.name[i], word, wlen))
                names[n++] = c.name[i];
    }
    if (n == 0) {
        tui_chat_notice(t, sp ? "no name starts with %.60s" : "no command starts with %.60s",
                        sp ? word : text);
        return TUI_REDRAW;
    }
    size_t common = strlen(names[0]); /* the candidates' common prefix */
    for (int i = 1; i < n && i < CAND_MAX; i++)
        while (common && strncmp(names[0], names[i], common))
            common--;
    char buf[256];
    snprintf(buf, sizeof buf, "%.*s%.*s%s", (int)head_len, head, (int)common, names[0],
             n == 1 && !sp ? " " : "");
    if (strlen(buf) > len)
        tui_input_set(buf);
    if (n > 1) {
        char list[768];
        size_t o = 0;
        for (int i = 0; i < n && i < CAND_MAX && o < sizeof list; i++)
            o += (size_t)snprintf(list + o, sizeof list - o, "%s%s%s", i ? " " : "",
                                  sp ? "" : "/", names[i]);
        tui_chat_notice(t, "%s", list);
    }
    return TUI_REDRAW;
}

/* Up or Down inside a draft of several lines: the cursor moves a line (to the same column, or
 * the line's end). Returns 0 when it is on the first (Up) or last (Down) line already. */
static int input_line_move(const char *text, int point, int up) {
    int start = point;
    while (start > 0 && text[start - 1] != '\n')
        start--;
    int col = point - start, target;
    if (up) {
        if (start == 0)
            return 0;
        int prev = start - 1;
        while (prev > 0 && text[prev - 1] != '\n')
            prev--;
        target = prev + col < start - 1 ? prev + col : start - 1;
    } else {
        const char *nl = strchr(text + point, '\n');
        if (!nl)
            return 0;
        int next = (int)(nl - text) + 1;
        const char *end = strchr(text + next, '\n');
        int next_end = end ? (int)(end - text) : (int)strlen(text);
        target = next + col < next_end ? next + col : next_end;
    }
    while (target > 0 && ((unsigned char)text[target] & 0xC0) == 0x80)
        target--; /* not inside a UTF-8 sequence */
    tui_input_set_point(target);
    return 1;
}

static char *draft_cleared; /* the draft Ctrl-C cleared (Ctrl-C on the empty input restores it) */

static int input_key(struct tui *t, int ch) {
    const char *text = tui_input_text();
    if ((ch == KEY_UP || ch == KEY_DOWN) && strchr(text, '\n') &&
        input_line_move(text, tui_input_point(), ch == KEY_UP))
        return TUI_REDRAW;
    switch (ch) {
    case '\r':
    case KEY_ENTER:
        if (!text[0] && t->sel_msg >= 0 && t->edit_msg < 0)
            return edit_start(t, t->sel_msg);
        if (tui_chat_streaming(t) && text[0] && text[0] != '/') {
            tui_chat_notice(t, "a reply is streaming: Esc stops it");
            return TUI_REDRAW;
        }
        break; /* readline accepts the line */
    case '\n': /* Ctrl-J */
        tui_input_insert("\n");
        return TUI_REDRAW;
    case '?':
        if (!text[0]) {
            t->overlay = OV_HELP, t->ov_top = 0;
            return TUI_REDRAW;
        }
        break;
    case KEY_UP:
        if (!text[0] && t->edit_msg < 0) {
            int u = app_conv_last(&t->conv, APP_ROLE_USER);
            if (u >= 0 && !tui_chat_streaming(t))
                return edit_start(t, u);
        }
        tui_input_move(ch);
        return TUI_REDRAW;
    case KEY_DC:
        if (!text[0] && t->sel_msg >= 0)
            return delete_ask(t);
        tui_input_move(ch);
        return TUI_REDRAW;
    case CTRL('c'): /* stop the reply, else clear the input (undone by Ctrl-C again) */
        if (tui_chat_streaming(t)) {
            tui_chat_stop(t);
        } else if (text[0]) {
            free(draft_cleared);
            draft_cleared = strdup(text);
            tui_input_set("");
            tui_chat_notice(t, "input cleared (Ctrl-C again brings it back)");
        } else if (draft_cleared) {
            tui_input_set(draft_cleared);
            free(draft_cleared);
            draft_cleared = NULL;
        }
        t->edit_msg = -1;
        return TUI_REDRAW;
    case CTRL('d'): /* on an empty input: quit, as a shell does */
        if (!text[0])
            return TUI_QUIT;
        tui_input_move(KEY_DC);
        return TUI_REDRAW;

    case KEY_DOWN: case KEY_LEFT: case KEY_RIGHT: case KEY_HOME: case KEY_END:
    case KEY_BACKSPACE:
        tui_input_move(ch);
        return TUI_REDRAW;
    default:
        if (ch >= 0x100)
            return TUI_OK; /* another function key */
    }
    char *line = tui_input_feed(ch);
    return line ? on_line(t, line) : TUI_REDRAW;
}

/* Esc alone stops the reply; Esc followed at once by a key is Alt+key. */
static int escape_key(struct tui *t) {
    int next = getch();
    if (next != ERR && (next >= 0x100 || t->overlay != OV_NONE || t->focus == FOCUS_LIST)) {
        ungetch(next); /* Esc, then a key of its own (keys sent in one burst) */
        next = ERR;
    }
    if (next == ERR) {
        if (t->sel_msg >= 0) {
            t->sel_msg = -1;
            return TUI_REDRAW;
        }
        if (t->overlay != OV_NONE)
            return overlay_key(t, 27);
        if (t->focus == FOCUS_LIST)
            return list_key(t, 27);
        if (tui_chat_streaming(t)) {
            tui_chat_stop(t);
        } else if (t->edit_msg >= 0) {
            t->edit_msg = -1;
            tui_input_set("");
        } else {
            t->sel_msg = -1;
        }
        return TUI_REDRAW;
    }
    if ((next == 'p' || next == 'd') && t->overlay == OV_NONE && t->focus == FOCUS_INPUT) {
        if (next == 'd') /* Alt-d: delete the message (the selected one, else the last) */
            return delete_ask(t);
        tui_chat_pin(t); /* Alt-p: pin or unpin it */
        return TUI_REDRAW;
    }
    if (next == '\r' || next == '\n') { /* Alt-Enter: a new line */
        tui_input_insert("\n");
        return TUI_REDRAW;
    }
    tui_input_feed(27);
    char *line = tui_input_feed(next);
    return line ? on_line(t, line) : TUI_REDRAW;
}

static int paste_active;

/* ---- the keys that work everywhere but in overlays (see help_lines in tui_draw.c) ---- */

static int key_help(struct tui *t) { t->overlay = OV_HELP, t->ov_top = 0; return TUI_REDRAW; }
static int key_models(struct tui *t) { overlay_open(t, OV_MODELS); return TUI_REDRAW; }
static int key_systems(struct tui *t) { overlay_open(t, OV_SYSTEM); return TUI_REDRAW; }
static int key_settings(struct tui *t) { overlay_open(t, OV_SETTINGS); return TUI_REDRAW; }
static int key_search(struct tui *t) { overlay_open(t, OV_SEARCH); return TUI_REDRAW; }
static int key_list_toggle(struct tui *t) { t->show_list = !t->show_list; return TUI_REDRAW; }
static int key_regen(struct tui *t) { tui_chat_regen(t); return TUI_REDRAW; }
static int key_think_end(struct tui *t) { tui_chat_end_thinking(t); return TUI_REDRAW; }
static int key_sel_up(struct tui *t) { return select_move(t, -1) | TUI_REDRAW; }
static int key_sel_down(struct tui *t) { return select_move(t, 1) | TUI_REDRAW; }
static int key_sib_prev(struct tui *t) { tui_chat_sibling(t, -1); return TUI_REDRAW; }
static int key_sib_next(struct tui *t) { tui_chat_sibling(t, 1); return TUI_REDRAW; }

static int key_think_fold(struct tui *t) {
    t->show_think = !t->show_think;
    tui_chat_notice(t, "reasoning %s (F6)", t->show_think ? "shown" : "folded");
    return TUI_REDRAW;
}

static int key_new(struct tui *t) {
    tui_chat_new(t);
    t->focus = FOCUS_INPUT;
    return TUI_REDRAW;
}

static int key_list(struct tui *t) {
    t->show_list = 1;
    t->focus = FOCUS_LIST;
    tui_chat_list_refresh(t);
    return TUI_REDRAW;
}

static int key_tab(struct tui *t) {
    if (t->focus == FOCUS_INPUT && tui_input_text()[0])
        return input_complete(t, tui_input_text());
    if (t->focus == FOCUS_LIST)
        t->focus = FOCUS_INPUT;
    else
        t->show_list = 1, t->focus = FOCUS_LIST;
    return TUI_REDRAW;
}

static int key_page_up(struct tui *t) {
    scroll_by(t, -(t->view_rows > 3 ? t->view_rows - 2 : 1));
    return TUI_REDRAW;
}

static int key_page_down(struct tui *t) {
    scroll_by(t, t->view_rows > 3 ? t->view_rows - 2 : 1);
    return TUI_REDRAW;
}

static const struct {
    int key;
    int (*fn)(struct tui *t);
} key_table[] = {
    {KEY_F(1), key_help},      {KEY_F(2), key_models},     {KEY_F(3), key_systems},
    {KEY_F(4), key_settings},  {KEY_F(5), key_list_toggle}, {CTRL('n'), key_new},
    {CTRL('o'), key_list},     {CTRL('f'), key_search},    {CTRL('r'), key_regen},
    {KEY_PPAGE, key_page_up},  {KEY_NPAGE, key_page_down}, {'\t', key_tab},
    {KEY_F(6), key_think_fold}, {KEY_F(7), key_think_end}, {KEY_F(8), key_select},
    {KEY_SR, key_sel_up},      {KEY_SF, key_sel_down},
    {KEY_SLEFT, key_sib_prev}, {KEY_SRIGHT, key_sib_next},
};

/* The Alt-arrows, whose codes are known only once the terminal is (see term_key_code). */
static int alt_arrow_key(struct tui *t, int ch) {
    if (ch == ERR)
        return TUI_PASS;
    if (ch == key_alt_up)
        return key_sel_up(t);
    if (ch == key_alt_down)
        return key_sel_down(t);
    if (ch == key_alt_left)
        return key_sib_prev(t);
    if (ch == key_alt_right)
        return key_sib_next(t);
    return TUI_PASS;
}

static int handle_key(struct tui *t, int ch) {
    if (paste_active) {
        if (ch == KEY_PASTE_END) {
            paste_active = 0;
        } else if (ch < 0x100 && t->overlay == OV_NONE && t->focus == FOCUS_INPUT) {
            char c[2] = {(char)(ch == '\r' ? '\n' : ch), 0};
            tui_input_insert(c);
        } else if (ch < 0x100 && t->overlay != OV_NONE && ch != '\r' && ch != '\n') {
            field_key(t, ch);
        }
        return TUI_REDRAW;
    }
    if (ch != KEY_RESIZE && ch != KEY_MOUSE)
        t->notice[0] = '\0';
    switch (ch) {
    case KEY_PASTE_BEGIN: paste_active = 1; return TUI_OK;
    case KEY_PASTE_END: return TUI_OK;
    case KEY_RESIZE: return TUI_REDRAW;
    case KEY_MOUSE: return mouse_key(t);
    case CTRL('q'): return TUI_QUIT;
    case CTRL('l'): clearok(curscr, TRUE); return TUI_REDRAW;
    case CTRL('z'): term_suspend(); term_resize(); return TUI_REDRAW;
    case 27: return escape_key(t);
    }
    if (t->overlay != OV_NONE)
        return overlay_key(t, ch);
    if (t->sel_msg >= 0 && t->sel_copy) {
        int r = select_key(t, ch);
        if (!(r & TUI_PASS))
            return r;
    }
    for (size_t i = 0; i < sizeof key_table / sizeof key_table[0]; i++)
        if (key_table[i].key == ch)
            return key_table[i].fn(t);
    int r = alt_arrow_key(t, ch);
    if (!(r & TUI_PASS))
        return r;
    if (t->focus == FOCUS_LIST)
        return list_key(t, ch);
    return input_key(t, ch);
}

/* ---- the loop ---- */

static void on_signal_byte(struct tui *t) {
    unsigned char b[16];
    ssize_t n;
    while ((n = read(t->sig_pipe[0], b, sizeof b)) > 0) {
        for (ssize_t i = 0; i < n; i++) {
            if (b[i] == SIGWINCH) {
                term_resize();
            } else if (b[i] == SIGTSTP) {
                term_suspend();
                term_resize();
            } else {
                t->quit = 1;
                t->quit_signal = b[i];
            }
        }
    }
}

static void tui_loop(struct tui *t) {
    int dirty = 1;
    while (!t->quit) {
        if (dirty) {
            tui_draw(t);
            dirty = 0;
        }
        struct pollfd fds[4] = {
            {STDIN_FILENO, POLLIN, 0},
            {t->ev_pipe[0], POLLIN, 0},
            {t->load_pipe[0], POLLIN, 0},
            {t->sig_pipe[0], POLLIN, 0},
        };
        /* a second's tick refreshes RSS and saves a streaming reply's tail; the context
         * ledger counts after a short pause in the typing, and a resting draft wakes the loop
         * sooner (type-ahead prefill) */
        tui_chat_prefill_tick(t, t->overlay == OV_NONE ? tui_input_text() : NULL);
        int wait = tui_chat_prefill_wait_ms(t);
        if (wait < 0 || wait > 1000)
            wait = 1000;
        const int stale = tui_chat_ledger_stale(t);
        if (stale && wait > 300)
            wait = 300;
        int n = poll(fds, 4, wait);
        if (n < 0 && errno != EINTR)
            break;
        if (n <= 0) {
            tui_chat_flush(t);
            if (stale)
                tui_chat_ledger(t);
            dirty = 1;
            continue;
        }
        if (fds[3].revents & POLLIN) {
            on_signal_byte(t);
            dirty = 1;
        }
        if (fds[1].revents & POLLIN)
            dirty |= tui_chat_on_event(t) & TUI_REDRAW;
        if (fds[2].revents & POLLIN)
            dirty |= tui_chat_on_load(t) & TUI_REDRAW;
        if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) {
            int ch, got = 0;
            while (!t->quit && (ch = getch()) != ERR) {
                int r = handle_key(t, ch);
                got = 1;
                if (r & TUI_QUIT)
                    t->quit = 1;
                dirty |= r & TUI_REDRAW;
            }
            if (!got && (fds[0].revents & (POLLHUP | POLLERR)))
                t->quit = 1; /* the terminal went away */
        }
    }
}

/* ---- start ---- */

static int tui_usage(void) {
    static char buf[1024];
    snprintf(buf, sizeof buf, "[-m MODEL] [--remote URL|NAME] [-c | --conv ID] [-s SYSTEM] "
             "[--db PATH] [--draft MODEL] %s",
             opts_usage());
    return cli_usage(buf);
}

static int parse_args(struct tui *t, int argc, char **argv, const char **model, int *cont,
                      const char **conv, const char **system) {
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        char err[256];
        int r = opts_apply(&t->set, argc, argv, &i, err, sizeof err);
        if (r < 0) {
            cli_error("%s", err);
            return tui_usage();
        }
        if (r > 0) {
            if (!strncmp(a, "--think", 7))
                t->think_flag = 1;
            continue;
        }
        if (!strcmp(a, "-c") || !strcmp(a, "--continue")) {
            *cont = 1;
            continue;
        }
        const char **slot = !strcmp(a, "-m") || !strcmp(a, "--model") ? model
                          : !strcmp(a, "--conv") ? conv
                          : !strcmp(a, "-s") || !strcmp(a, "--system") ? system
                          : !strcmp(a, "--db") ? &t->db_path
                          : !strcmp(a, "--draft") ? &t->draft_path
                          : !strcmp(a, "--remote") ? &t->remote_arg : NULL;
        if (!slot) {
            cli_error("unknown option '%s'", a);
            return tui_usage();
        }
        if (!v) {
            cli_error("%s needs a value", a);
            return tui_usage();
        }
        *slot = v;
        i++;
    }
    if (*cont && *conv) {
        cli_error("-c and --conv cannot be used together");
        return tui_usage();
    }
    return 0;
}

/* Makes sure LC_CTYPE is a UTF-8 locale (wcwidth and ncursesw need one). */
static void locale_utf8(void) {
    setlocale(LC_ALL, "");
    const char *cs = nl_langinfo(CODESET);
    if (cs && (!strcmp(cs, "UTF-8") || !strcmp(cs, "utf8")))
        return;
    if (!setlocale(LC_CTYPE, "C.UTF-8"))
        setlocale(LC_CTYPE, "en_US.UTF-8");
}

int ui_main(int argc, char **argv) {
    static struct tui t; /* static: large (item buffers), one per process */
    const char *model = NULL, *conv = NULL, *system = NULL;
    int cont = 0, rc;
    memset(&t, 0, sizeof t);
    struct eng_sample_params sp = eng_sample_default_params();
    app_settings_default(&t.set, &sp);
    char cerr[600];
    if (config_defaults_apply(&t.set, cerr, sizeof cerr) != 0) { /* the options win */
        cli_error("%s", cerr);
        return 1;
    }
    t.edit_msg = -1;
    t.sel_msg = -1;
    t.sel_msg = -1;
    t.scroll.follow = 1;
    t.show_list = 1;
    if ((rc = parse_args(&t, argc, argv, &model, &cont, &conv, &system)) != 0)
        return rc;
    if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
        cli_error("the chat needs a terminal (see 'natter --help' for the scripting commands)");
        return 1;
    }
    locale_utf8();
    const char *nc = getenv("NO_COLOR");
    t.no_color = nc && nc[0];
    t.hyperlinks = hyper_enabled();
    if (fdio_pipe_nonblock(t.sig_pipe) != 0 || fdio_pipe_nonblock(t.load_pipe) != 0 ||
        pipe(t.ev_pipe) != 0) {
        cli_error("pipe: %s", strerror(errno));
        return 1;
    }
    fcntl(t.ev_pipe[0], F_SETFD, FD_CLOEXEC);
    fcntl(t.ev_pipe[1], F_SETFD, FD_CLOEXEC);
    signals_install(t.sig_pipe[1]);

    tui_chat_init(&t);
    char md[8], md_err[128];
    if (t.db && store_setting_get(t.db, STORE_SETTING_MARKDOWN, md, sizeof md) == 0)
        app_settings_set(&t.set, "markdown", md, md_err, sizeof md_err); /* the last /set */
    t.system_arg = system;
    tui_chat_new(&t); /* with -s's prompt */
    if (cont || conv) {
        char id[64];
        if (conv) {
            tui_copy(id, sizeof id, conv);
        } else if (!t.db || store_conv_last(t.db, id) < 0) {
            id[0] = '\0';
            tui_chat_notice(&t, "no conversation to continue");
        }
        if (id[0] && tui_chat_open(&t, id) != 0 && conv) {
            cli_error("conversation '%s': %s", conv, t.notice);
            tui_chat_shutdown(&t);
            return 1;
        }
        if (system && t.conv.id[0]) /* -s overrides the saved conversation's prompt */
            tui_chat_set_system(&t, system);
        /* the command line's sampling flags win over the conversation's own */
        char *before = app_settings_json(&t.set);
        parse_args(&t, argc, argv, &model, &cont, &conv, &system);
        char *after = app_settings_json(&t.set);
        if (before && after && strcmp(before, after) && t.notice[0] &&
            strlen(t.notice) + 40 < sizeof t.notice)
            strcat(t.notice, "; the command line's flags win");
        free(before);
        free(after);
    }
    char path[4096];
    if (!model && !t.remote_arg && t.db && t.conv.id[0]) { /* the conversation's own model */
        struct store_conv c;
        memset(&c, 0, sizeof c);
        if (store_conv_get(t.db, t.conv.id, &c) == 0 && c.model && strstr(c.model, "@http")) {
            tui_chat_remote_open(&t, NULL, c.model); /* a remote's "MODEL@URL" */
        } else if (c.model && c.model[0]) {
            struct stat st; /* a path from the store (an import may have set it): a readable file */
            const char *why = stat(c.model, &st) != 0 ? strerror(errno)
                            : !S_ISREG(st.st_mode) ? "not a regular file"
                            : access(c.model, R_OK) != 0 ? strerror(errno) : NULL;
            if (!why) {
                tui_copy(path, sizeof path, c.model);
                model = path;
            } else {
                tui_chat_notice(&t, "this conversation's model %s is not there (%s): loading "
                                "the last one used", c.model, why);
            }
        }
        store_conv_clear(&c);
    }
    if (t.remote_arg) {
        tui_chat_remote_open(&t, t.remote_arg, model);
        model = NULL;
    } else if (t.remote) {
        model = NULL;
    } else if (!model) {
        if (t.db && store_setting_get(t.db, STORE_SETTING_LAST_MODEL, path, sizeof path) == 0 &&
            access(path, R_OK) == 0)
            model = path;
        else if (paths_first_model(path, sizeof path))
            model = path;
    }
    if (model)
        tui_chat_model_load(&t, model);

    tui_input_init(&t);
    term_start(&t);
    tui_loop(&t);
    if (tui_chat_streaming(&t) && t.quit_signal) /* keep what was said so far */
        tui_chat_stop_sync(&t);
    term_end();
    int hist_failed = tui_input_shutdown() != 0; /* said on stderr */
    tui_chat_shutdown(&t);
    tui_wrap_free(&t);
    tui_items_clear(&t);
    free(t.convs);
    free(t.models);
    free(t.system_prompt);
    free(t.ov_system);
    free(t.set_session);
    free(draft_cleared);
    app_conv_clear(&t.conv);
    return t.quit_signal ? 128 + t.quit_signal : hist_failed ? 1 : 0;
}
