/* src/cmd_store.c — the conversation commands over src/store: natter ls, show, rename, rm,
 * search, export, import (each accepts --db PATH). JSON comes from the store, which builds it
 * with SQLite's JSON functions. Main thread. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "argv.h"
#include "cli.h"
#include "paths.h"
#include "prompts.h"
#include "export.h"
#include "store.h"

/* ---- arguments ---- */

enum { OPT_JSON = 1, OPT_ALL = 2, OPT_FORMAT = 4, OPT_OUT = 8, OPT_TREE = 16 };

struct args {
    const char *db;
    int json, all, tree;
    const char *format, *out;
    char *pos[8];
    int n_pos;
    int create;  /* import: the database is made when there is none */
    int missing; /* set by open_db: there was no database, none was made */
};

/* Parses argv[1..] against the options a command allows (--db always) and min_pos..max_pos
 * operands. Returns 0, -1 after printing --help, or the usage error's exit status (2). */
static int args_parse(int argc, char **argv, int allowed, int min_pos, int max_pos,
                      const char *usage, struct args *a) {
    enum { O_DB = ARGV_ID, O_JSON, O_ALL, O_TREE, O_FORMAT, O_OUT };
    static const struct argv_opt opts[] = {
        {"--db", NULL, ARGV_VALUE, O_DB},         {"--json", NULL, ARGV_FLAG, O_JSON},
        {"--all", NULL, ARGV_FLAG, O_ALL},        {"--tree", NULL, ARGV_FLAG, O_TREE},
        {"--format", NULL, ARGV_VALUE, O_FORMAT}, {"--output", "-o", ARGV_VALUE, O_OUT},
        {NULL, NULL, 0, 0},
    };
    static const int need[] = {[O_JSON - O_DB] = OPT_JSON, [O_ALL - O_DB] = OPT_ALL,
                               [O_TREE - O_DB] = OPT_TREE, [O_FORMAT - O_DB] = OPT_FORMAT,
                               [O_OUT - O_DB] = OPT_OUT};
    memset(a, 0, sizeof *a);
    struct argv_state st;
    argv_init(&st, argc, argv, usage, NULL);
    int o;
    while ((o = argv_next(&st, opts)) > ARGV_END) {
        if (o >= O_DB && need[o - O_DB] && !(allowed & need[o - O_DB]))
            o = ARGV_UNKNOWN;
        switch (o) {
        case O_DB: a->db = st.val; break;
        case O_JSON: a->json = 1; break;
        case O_ALL: a->all = 1; break;
        case O_TREE: a->tree = 1; break;
        case O_FORMAT: a->format = st.val; break;
        case O_OUT: a->out = st.val; break;
        case ARGV_POS:
            if (a->n_pos >= max_pos || a->n_pos >= (int)(sizeof a->pos / sizeof a->pos[0]))
                return argv_error(&st, "unexpected argument '%s'", st.val);
            a->pos[a->n_pos++] = (char *)st.val;
            break;
        default: return argv_unknown(&st);
        }
    }
    if (o == ARGV_HELP)
        return -1;
    if (o == ARGV_ERROR)
        return 2;
    if (a->n_pos < min_pos)
        return cli_usage(usage);
    return 0;
}

/* Opens the database; NULL (message printed) on failure. Only import creates it (and its
 * directory): for the others a missing one sets a->missing, and ls and search say there is
 * nothing saved, the rest that there is no such conversation. */
static store *open_db(struct args *a) {
    char path[4096], err[600];
    if (!paths_db(a->db, path, sizeof path)) {
        cli_error("cannot find the database path: set --db, NATTER_DB or HOME");
        return NULL;
    }
    struct stat st;
    if (!a->create && stat(path, &st) != 0 && errno == ENOENT) {
        a->missing = 1;
        return NULL;
    }
    store *s;
    if (store_open(path, &s, err, sizeof err) != 0) {
        cli_error("%s", err);
        return NULL;
    }
    return s;
}

/* Resolves a user-typed id or prefix; prints the error. */
static int resolve(store *s, const char *prefix, char *id) {
    if (store_conv_resolve(s, prefix, id) != 0) {
        cli_error("%s", store_errmsg(s));
        return -1;
    }
    return 0;
}

/* Opens the database and resolves prefix into id; NULL (message printed) on failure. */
static store *open_conv(struct args *a, const char *prefix, char *id) {
    store *s = open_db(a);
    if (!s && a->missing)
        cli_error("no conversation '%s' (nothing is saved yet)", prefix);
    if (s && resolve(s, prefix, id)) {
        store_close(s);
        return NULL;
    }
    return s;
}

static int fail(store *s) {
    cli_error("%s", store_errmsg(s));
    store_close(s);
    return 1;
}

/* Writes len bytes of text for a terminal: control characters, C0 (NUL included) and C1 (but
 * newline and tab when keep_lines), become '?', so stored text cannot drive the terminal. */
static void put_clean_n(FILE *f, const char *t, size_t len, int keep_lines) {
    const unsigned char *p = (const unsigned char *)(t ? t : ""), *end = p + (t ? len : 0);
    for (; p < end; p++) {
        int c = *p;
        if (c == '\n' || c == '\t')
            c = keep_lines ? c : ' ';
        else if (c < 0x20 || c == 0x7f)
            c = '?';
        else if (c == 0xc2 && p + 1 < end && p[1] >= 0x80 && p[1] <= 0x9f) { /* C1: U+0080..9F */
            c = '?';
            p++;
        }
        fputc(c, f);
    }
}

static void put_clean(FILE *f, const char *t, int keep_lines) {
    put_clean_n(f, t, t ? strlen(t) : 0, keep_lines);
}

/* Writes len bytes of text into a Markdown export: as they are, but a NUL byte becomes U+2400
 * "␀" (CommonMark readers replace NUL with U+FFFD; the JSON export keeps it as \u0000). */
static void put_md(FILE *f, const char *t, size_t len) {
    const char *end = t + len;
    while (t < end) {
        const char *z = memchr(t, 0, (size_t)(end - t));
        size_t n = z ? (size_t)(z - t) : (size_t)(end - t);
        fwrite(t, 1, n, f);
        if (z)
            fputs("\xe2\x90\x80", f);
        t += n + (z ? 1 : 0);
    }
}

/* "2026-11-21T14:34:10.123Z" -> "2026-11-21 14:34" */
static const char *short_time(const char *iso, char *buf, size_t len) {
    snprintf(buf, len, "%.16s", iso ? iso : "");
    char *t = strchr(buf, 'T');
    if (t)
        *t = ' ';
    return buf;
}

/* The model's file name without directory and .gguf, for tables. */
static const char *short_model(const char *model, char *buf, size_t len) {
    if (!model)
        return "-";
    const char *b = strrchr(model, '/');
    snprintf(buf, len, "%s", b ? b + 1 : model);
    size_t n = strlen(buf);
    if (n > 5 && !strcmp(buf + n - 5, ".gguf"))
        buf[n - 5] = 0;
    return buf;
}

static int print_json(store *s, char *json, int r) {
    if (r != 0)
        return fail(s);
    puts(json);
    free(json);
    store_close(s);
    return 0;
}

/* ---- natter ls ---- */

static int ls_row(const struct store_conv *c, void *ud) {
    char t[32], m[256];
    if (!*(int *)ud) {
        printf("%-8s  %-16s  %5s  %-20s  %s\n", "ID", "UPDATED (UTC)", "MSGS", "MODEL", "TITLE");
        *(int *)ud = 1;
    }
    printf("%-8s  %-16s  %5d  %-20.20s  ", c->id, short_time(c->updated, t, sizeof t),
           c->n_messages, short_model(c->model, m, sizeof m));
    if (c->pinned)
        fputs("* ", stdout);
    put_clean(stdout, *c->title ? c->title : "(untitled)", 0);
    if (c->archived)
        fputs(" [archived]", stdout);
    putchar('\n');
    return 0;
}

int cmd_ls(int argc, char **argv) {
    static const char usage[] = "ls [--all] [--json] [--db PATH]";
    struct args a;
    int r = args_parse(argc, argv, OPT_JSON | OPT_ALL, 0, 0, usage, &a);
    if (r)
        return r < 0 ? 0 : r;
    store *s = open_db(&a);
    if (!s && !a.missing)
        return 1;
    int flags = a.all ? STORE_LIST_ARCHIVED : 0;
    if (a.json && !s) {
        puts("[]");
        return 0;
    }
    if (a.json) {
        char *json = NULL;
        r = store_list_json(s, flags, &json);
        return print_json(s, json, r);
    }
    int header = 0;
    if (s && store_conv_list(s, flags, ls_row, &header) != 0)
        return fail(s);
    store_close(s);
    if (!header) /* said on stderr: stdout stays empty for scripts */
        cli_error("no saved conversations%s", a.all ? "" : " (ls --all shows archived ones)");
    return 0;
}

/* ---- natter show / export --format md ---- */

struct transcript {
    FILE *f;
    int md;
};

/* The reasoning of a reply for `natter show`: each line after "┆ " (so it reads apart from the
 * answer), sanitized like the rest. */
static void put_reasoning(FILE *f, const char *r, size_t n) {
    while (n > 0 && (r[n - 1] == '\n' || r[n - 1] == ' ' || r[n - 1] == '\r'))
        n--;
    const char *p = r, *end = r + n;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
        fputs("\xe2\x94\x86 ", f);
        put_clean_n(f, p, len, 0);
        fputc('\n', f);
        p += len + (nl ? 1 : 0);
    }
}

static int transcript_msg(const struct store_msg *m, void *ud) {
    struct transcript *t = ud;
    char tm[32], mb[256];
    if (t->md) {
        char role[16];
        snprintf(role, sizeof role, "%s", m->role);
        role[0] = (char)(role[0] - 'a' + 'A');
        fprintf(t->f, "## %s\n\n", role);
        if (m->reasoning) { /* folded where Markdown renders HTML (GitHub, most viewers) */
            fputs("<details>\n<summary>Reasoning</summary>\n\n", t->f);
            put_md(t->f, m->reasoning, m->reasoning_len);
            fputs("\n\n</details>\n\n", t->f);
        }
        put_md(t->f, m->content, m->content_len);
        fputs("\n\n", t->f);
        return 0;
    }
    fprintf(t->f, "── %s · %s", m->role, short_time(m->created, tm, sizeof tm));
    if (m->model)
        fprintf(t->f, " · %s", short_model(m->model, mb, sizeof mb));
    if (m->n_tokens >= 0)
        fprintf(t->f, " · %d tokens", m->n_tokens);
    if (m->prompt_tps >= 0)
        fprintf(t->f, " · prompt %.1f t/s", m->prompt_tps);
    if (m->gen_tps >= 0)
        fprintf(t->f, " · %.1f t/s", m->gen_tps);
    if (m->finish)
        fprintf(t->f, " · %s", m->finish);
    if (m->n_sibs > 1) /* one of several versions (regenerated, edited) */
        fprintf(t->f, " · \xe2\x80\xb9%d/%d\xe2\x80\xba", m->sib, m->n_sibs);
    if (m->pinned)
        fputs(" · pinned", t->f);
    fputs(" ──\n", t->f);
    if (m->reasoning && m->reasoning_len)
        put_reasoning(t->f, m->reasoning, m->reasoning_len);
    put_clean_n(t->f, m->content, m->content_len, 1);
    fputs("\n\n", t->f);
    return 0;
}

/* One line of `natter show --tree`: indented by depth, * on the active path, the message's
 * number, role, version among its siblings, and the start of its first line. */
static int tree_line(const struct store_msg *m, void *ud) {
    FILE *f = ((struct transcript *)ud)->f;
    fprintf(f, "%*s%s %d %s", 2 * m->depth, "", m->active ? "*" : "-", m->num, m->role);
    if (m->n_sibs > 1)
        fprintf(f, " \xe2\x80\xb9%d/%d\xe2\x80\xba", m->sib, m->n_sibs);
    if (m->pinned)
        fputs(" pinned", f);
    const char *c = m->content;
    size_t n = strcspn(c, "\n"), cut = n > 60 ? 60 : n;
    while (cut < n && cut > 0 && ((unsigned char)c[cut] & 0xc0) == 0x80)
        cut--; /* on a UTF-8 boundary */
    char *line = strndup(c, cut);
    fputs(": ", f);
    put_clean(f, line ? line : "", 0);
    fputs(cut < strlen(c) ? "…\n" : "\n", f);
    free(line);
    return 0;
}

/* Writes conversation id as text (show), its tree as an outline (show --tree) or Markdown
 * (export: the active path). */
static int transcript_write(store *s, const char *id, FILE *f, int md, int tree) {
    struct store_conv c;
    int r = store_conv_get(s, id, &c);
    if (r)
        return r;
    char tm[32];
    struct transcript t = {f, md};
    if (md) {
        fprintf(f, "# %s\n\n- id: `%s`\n- created: %s\n- updated: %s\n",
                *c.title ? c.title : "(untitled)", c.id, c.created, c.updated);
        if (c.model)
            fprintf(f, "- model: %s\n", c.model);
        if (c.template_name)
            fprintf(f, "- template: %s\n", c.template_name);
        fputc('\n', f);
        if (c.system_prompt)
            fprintf(f, "## System\n\n%s\n\n", c.system_prompt);
    } else {
        put_clean(f, *c.title ? c.title : "(untitled)", 0);
        fprintf(f, "\nid %s · created %s UTC · %d messages", c.id,
                short_time(c.created, tm, sizeof tm), c.n_messages);
        if (c.model) {
            fputs(" · model ", f);
            put_clean(f, c.model, 0);
        }
        if (c.template_name) {
            fputs(" · template ", f);
            put_clean(f, c.template_name, 0);
        }
        fputs(c.pinned ? " · pinned" : "", f);
        fputs(c.archived ? " · archived" : "", f);
        fputs("\n\n", f);
        if (c.system_prompt) {
            fputs("── system prompt ──\n", f);
            put_clean(f, c.system_prompt, 1);
            fputs("\n\n", f);
        }
    }
    store_conv_clear(&c);
    if (tree) {
        fputs("── messages (* the active path, ‹version/versions›) ──\n", f);
        return store_msg_tree(s, id, tree_line, &t);
    }
    return store_msg_each(s, id, transcript_msg, &t);
}

int cmd_show(int argc, char **argv) {
    static const char usage[] = "show ID [--tree] [--db PATH]";
    struct args a;
    int r = args_parse(argc, argv, OPT_TREE, 1, 1, usage, &a);
    if (r)
        return r < 0 ? 0 : r;
    char id[STORE_ID_LEN + 1];
    store *s = open_conv(&a, a.pos[0], id);
    if (!s)
        return 1;
    if (transcript_write(s, id, stdout, 0, a.tree) != 0)
        return fail(s);
    store_close(s);
    return 0;
}

/* ---- natter rename / rm ---- */

int cmd_rename(int argc, char **argv) {
    static const char usage[] = "rename ID TITLE [--db PATH]";
    struct args a;
    int r = args_parse(argc, argv, 0, 2, 8, usage, &a);
    if (r)
        return r < 0 ? 0 : r;
    char title[1024] = "";
    for (int i = 1; i < a.n_pos; i++) { /* natter rename ID a new title: the words joined */
        size_t l = strlen(title);
        snprintf(title + l, sizeof title - l, "%s%s", i > 1 ? " " : "", a.pos[i]);
    }
    char id[STORE_ID_LEN + 1];
    store *s = open_conv(&a, a.pos[0], id);
    if (!s)
        return 1;
    if (store_conv_rename(s, id, title) != 0)
        return fail(s);
    store_close(s);
    return 0;
}

int cmd_rm(int argc, char **argv) {
    static const char usage[] = "rm ID... [--db PATH]";
    struct args a;
    int r = args_parse(argc, argv, 0, 1, 8, usage, &a);
    if (r)
        return r < 0 ? 0 : r;
    store *s = open_db(&a);
    if (!s && a.missing)
        cli_error("no conversation '%s' (nothing is saved yet)", a.pos[0]);
    if (!s)
        return 1;
    /* resolve every id first: a typo deletes nothing */
    char ids[8][STORE_ID_LEN + 1];
    for (int i = 0; i < a.n_pos; i++)
        if (resolve(s, a.pos[i], ids[i])) {
            store_close(s);
            return 1;
        }
    for (int i = 0; i < a.n_pos; i++) {
        int dup = 0;
        for (int j = 0; j < i; j++)
            dup |= !strcmp(ids[i], ids[j]);
        if (dup)
            continue;
        if (store_conv_delete(s, ids[i]) != 0)
            return fail(s);
        printf("deleted %s\n", ids[i]);
    }
    store_close(s);
    return 0;
}

/* ---- natter search ---- */

static int search_row(const struct store_hit *h, void *ud) {
    ++*(int *)ud;
    printf("%s  ", h->id);
    put_clean(stdout, *h->title ? h->title : "(untitled)", 0);
    printf("\n    %s%s: ", h->role ? h->role : "title", h->active ? "" : " (another version)");
    put_clean(stdout, h->snippet, 0);
    putchar('\n');
    return 0;
}

int cmd_search(int argc, char **argv) {
    static const char usage[] = "search QUERY... [--json] [--db PATH]";
    struct args a;
    int r = args_parse(argc, argv, OPT_JSON, 1, 8, usage, &a);
    if (r)
        return r < 0 ? 0 : r;
    char query[2048] = "";
    for (int i = 0; i < a.n_pos; i++) {
        size_t l = strlen(query);
        snprintf(query + l, sizeof query - l, "%s%s", i ? " " : "", a.pos[i]);
    }
    store *s = open_db(&a);
    if (!s && !a.missing)
        return 1;
    if (a.json && !s) {
        puts("[]");
        return 0;
    }
    if (a.json) {
        char *json = NULL;
        r = store_search_json(s, query, 0, &json);
        return print_json(s, json, r);
    }
    int n_hits = 0;
    if (s && store_search(s, query, 0, search_row, &n_hits) != 0)
        return fail(s);
    if (!n_hits)
        cli_error("no matches for '%s'", query);
    store_close(s);
    return 0;
}

/* ---- natter export ---- */

int cmd_export(int argc, char **argv) {
    static const char usage[] =
        "export ID [--format md|json] [-o FILE] [--db PATH] | export --all --format json [-o FILE]";
    struct args a;
    int r = args_parse(argc, argv, OPT_ALL | OPT_FORMAT | OPT_OUT, 0, 1, usage, &a);
    if (r)
        return r < 0 ? 0 : r;
    const char *fmt = a.format ? a.format : (a.all ? "json" : "md");
    if (strcmp(fmt, "md") && strcmp(fmt, "json")) {
        cli_error("export: unknown format '%s' (md or json)", fmt);
        return cli_usage(usage);
    }
    if ((a.all && a.n_pos) || (!a.all && a.n_pos != 1))
        return cli_usage(usage);
    if (a.all && strcmp(fmt, "json")) {
        cli_error("export --all writes JSON only");
        return cli_usage(usage);
    }
    char id[STORE_ID_LEN + 1];
    store *s = a.all ? open_db(&a) : open_conv(&a, a.pos[0], id);
    if (!s && a.all && a.missing)
        cli_error("nothing to export (nothing is saved yet)");
    if (!s)
        return 1;
    char err[4400];
    int rc = 0;
    if (a.out && strcmp(a.out, "-")) {
        struct export_file x;
        if (!strcmp(fmt, "json"))
            rc = export_json_file(s, a.all ? NULL : id, a.out, err, sizeof err);
        else if ((rc = export_file_open(&x, a.out, err, sizeof err)) == 0 &&
                 transcript_write(s, id, x.f, 1, 0) != 0) {
            snprintf(err, sizeof err, "%s", store_errmsg(s));
            export_file_abort(&x);
            rc = -1;
        } else if (rc == 0) {
            rc = export_file_commit(&x, err, sizeof err);
        }
        if (rc)
            cli_error("%s", err);
        store_close(s);
        return rc ? 1 : 0;
    }
    char *json = NULL; /* built first, so a failure writes nothing */
    if (!strcmp(fmt, "json") && store_export_json(s, a.all ? NULL : id, &json) != 0)
        return fail(s);
    if (json) {
        fputs(json, stdout);
        fputc('\n', stdout);
        free(json);
    } else if (transcript_write(s, id, stdout, 1, 0) != 0) {
        cli_error("%s", store_errmsg(s));
        store_close(s);
        return 1;
    }
    store_close(s);
    return fflush(stdout) == 0 && !ferror(stdout) ? 0 : 1;
}

/* ---- natter import ---- */

static void imported(const char *id, int n_messages, void *ud) {
    (void)ud;
    printf("imported %s (%d messages)\n", id, n_messages);
}

int cmd_import(int argc, char **argv) {
    static const char usage[] = "import FILE [--db PATH]";
    struct args a;
    int r = args_parse(argc, argv, 0, 1, 1, usage, &a);
    if (r)
        return r < 0 ? 0 : r;
    a.create = 1;
    size_t len = 0;
    char *json;
    int rr = strcmp(a.pos[0], "-") ? prompts_read_file(a.pos[0], (size_t)1 << 30, &json, &len)
                                   : prompts_read_stream(stdin, (size_t)1 << 30, &json, &len);
    if (rr != 0) {
        cli_error("%s: %s", a.pos[0], prompts_errmsg());
        return 1;
    }
    store *s = open_db(&a);
    if (!s) {
        free(json);
        return 1;
    }
    r = store_import_json(s, a.pos[0], json, len, imported, NULL);
    free(json);
    if (r != 0)
        return fail(s);
    if (*store_notice(s))
        cli_error("%s", store_notice(s));
    store_close(s);
    return 0;
}
