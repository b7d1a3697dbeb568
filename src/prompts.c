/* src/prompts.c — the chat-template and system-prompt registry (see prompts.h): reading
 * prompts/templates/NAME.tmpl (format in prompts/README.md) and prompts/system/NAME.md from the
 * installed and the user's directories, rendering conversations, detecting a template from a
 * model's Jinja chat template. Main/UI thread only (one process-wide registry). */
#include "prompts.h"
#include "json_write.h"

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "paths.h"

#define PROMPTS_FILE_MAX (1u << 20) /* a template or system prompt larger than 1 MiB is refused */

static const char *const role_names[PROMPTS_N_ROLES] = {"system", "user", "assistant", "tool"};

static struct {
    int loaded;
    struct prompts_template **tmpl;
    int n_tmpl;
    struct prompts_system **sys;
    int n_sys;
    char **err;
    int n_err;
} reg;

/* ---- errors: the last failure's one line, per thread (rendering runs on server threads) ---- */

static _Thread_local char prompts_err[512];

const char *prompts_errmsg(void) { return prompts_err; }

static int prompts_fail(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int prompts_fail(int code, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prompts_err, sizeof prompts_err, fmt, ap);
    va_end(ap);
    return code;
}

/* ---- reading whole files ---- */

int prompts_read_stream(FILE *f, size_t max, char **out, size_t *len) {
    struct json_buf b = {0};
    char chunk[8192];
    size_t n;
    *out = NULL;
    json_put(&b, "", 0); /* an empty stream still gives "" */
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        if (b.len + n > max) {
            free(b.p);
            if (max % (1u << 20) == 0)
                return prompts_fail(PROMPTS_E_TOOBIG, "larger than %zu MiB", max >> 20);
            return prompts_fail(PROMPTS_E_TOOBIG, "larger than %zu bytes", max);
        }
        json_put(&b, chunk, n);
    }
    if (ferror(f) || b.oom) {
        int e = errno;
        free(b.p);
        return b.oom ? prompts_fail(PROMPTS_E_NOMEM, "out of memory")
                     : prompts_fail(PROMPTS_E_IO, "%s", strerror(e ? e : EIO));
    }
    if (len)
        *len = b.len;
    *out = b.p;
    return PROMPTS_OK;
}

int prompts_read_file(const char *path, size_t max, char **out, size_t *len) {
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f)
        return prompts_fail(PROMPTS_E_IO, "%s", strerror(errno));
    int r = prompts_read_stream(f, max, out, len);
    fclose(f); /* read only: nothing a failed close could lose */
    return r;
}

static char *xstrdup(const char *s) {
    size_t n = strlen(s) + 1;
    char *p = malloc(n);
    if (p)
        memcpy(p, s, n);
    return p;
}

static int is_space(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

/* ---- errors ---- */

/* Makes room for element n of the array whose pointer is at pp (n elements of sz bytes so far),
 * growing it geometrically: capacity 4, then doubled when n reaches a power of two, so no
 * capacity is stored. 0, or -1 out of memory (the array as it was). */
static int arr_room(void *pp, int n, size_t sz) {
    if (n != 0 && (n < 4 || (n & (n - 1))))
        return 0;
    void *p;
    memcpy(&p, pp, sizeof p);
    void *q = realloc(p, (n ? 2 * (size_t)n : 4) * sz);
    if (!q)
        return -1;
    memcpy(pp, &q, sizeof q);
    return 0;
}

static void reg_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void reg_error(const char *fmt, ...) {
    char line[8192];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (arr_room(&reg.err, reg.n_err, sizeof *reg.err) != 0)
        return;
    if ((reg.err[reg.n_err] = xstrdup(line)))
        reg.n_err++;
}

int prompts_n_errors(void) { return reg.n_err; }

const char *prompts_error(int i) { return i >= 0 && i < reg.n_err ? reg.err[i] : NULL; }

/* ---- template files ---- */

void prompts_template_free(struct prompts_template *t) {
    if (!t)
        return;
    free(t->name);
    free(t->path);
    free(t->description);
    free(t->bos);
    free(t->generation);
    for (int r = 0; r < PROMPTS_N_ROLES; r++) {
        free(t->role[r].prefix);
        free(t->role[r].prefix_first);
        free(t->role[r].suffix);
    }
    for (int i = 0; i < t->n_stop; i++)
        free(t->stop[i]);
    free(t->stop);
    free(t);
}

static int hex_digit(char c) {
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Parses the quoted string starting at *pp (at the opening quote) into a new string; *pp ends
 * after the closing quote. NULL with a message in err on a syntax error (or out of memory). */
static char *tmpl_parse_string(const char **pp, const char *end, char *err, size_t err_len) {
    struct json_buf b = {0};
    const char *p = *pp + 1;
    json_put(&b, "", 0);
    for (;;) {
        if (p >= end) {
            snprintf(err, err_len, "unterminated string");
            goto fail;
        }
        char c = *p++;
        if (c == '"')
            break;
        if (c != '\\') {
            json_put(&b, &c, 1);
            continue;
        }
        if (p >= end) {
            snprintf(err, err_len, "unterminated string");
            goto fail;
        }
        char e = *p++, out;
        switch (e) {
        case 'n': out = '\n'; break;
        case 't': out = '\t'; break;
        case 'r': out = '\r'; break;
        case '\\': out = '\\'; break;
        case '"': out = '"'; break;
        case 'x': {
            int hi = p < end ? hex_digit(p[0]) : -1;
            int lo = p + 1 < end ? hex_digit(p[1]) : -1;
            if (hi < 0 || lo < 0) {
                snprintf(err, err_len, "\\x needs two hex digits");
                goto fail;
            }
            if (hi == 0 && lo == 0) {
                snprintf(err, err_len, "\\x00 is not allowed");
                goto fail;
            }
            out = (char)(hi * 16 + lo);
            p += 2;
            break;
        }
        default:
            snprintf(err, err_len, "unknown escape '\\%c' (use \\\\ \\\" \\n \\t \\r \\xHH)", e);
            goto fail;
        }
        json_put(&b, &out, 1);
    }
    if (b.oom) {
        snprintf(err, err_len, "out of memory");
        goto fail;
    }
    *pp = p;
    return b.p;
fail:
    free(b.p);
    return NULL;
}

/* The single string-valued field a key names, or NULL. */
static char **tmpl_string_field(struct prompts_template *t, const char *key, size_t n) {
    if (n == 11 && !memcmp(key, "description", n))
        return &t->description;
    if (n == 3 && !memcmp(key, "bos", n))
        return &t->bos;
    if (n == 10 && !memcmp(key, "generation", n))
        return &t->generation;
    for (int r = 0; r < PROMPTS_N_ROLES; r++) {
        size_t rl = strlen(role_names[r]);
        if (n <= rl + 1 || memcmp(key, role_names[r], rl) || key[rl] != '.')
            continue;
        const char *f = key + rl + 1;
        size_t fl = n - rl - 1;
        if (fl == 6 && !memcmp(f, "prefix", fl))
            return &t->role[r].prefix;
        if (fl == 12 && !memcmp(f, "prefix_first", fl))
            return &t->role[r].prefix_first;
        if (fl == 6 && !memcmp(f, "suffix", fl))
            return &t->role[r].suffix;
    }
    return NULL;
}

/* `trim = WORD...`: none, all, or role names. */
static int tmpl_parse_trim(struct prompts_template *t, const char *v, size_t n, char *err,
                           size_t err_len) {
    const char *p = v, *end = v + n;
    while (p < end) {
        while (p < end && is_space(*p))
            p++;
        const char *w = p;
        while (p < end && !is_space(*p))
            p++;
        size_t wl = (size_t)(p - w);
        if (!wl)
            break;
        int r, ok = 0;
        for (r = 0; r < PROMPTS_N_ROLES; r++)
            if (wl == strlen(role_names[r]) && !memcmp(w, role_names[r], wl))
                t->role[r].trim = ok = 1;
        if (wl == 3 && !memcmp(w, "all", 3))
            for (r = 0; r < PROMPTS_N_ROLES; r++)
                t->role[r].trim = ok = 1;
        if (wl == 4 && !memcmp(w, "none", 4))
            ok = 1;
        if (!ok) {
            snprintf(err, err_len, "trim: unknown word '%.*s' (use none, all, system, user, "
                     "assistant, tool)", (int)(wl > 40 ? 40 : wl), w);
            return -1;
        }
    }
    return 0;
}

/* One `key = value` line (comments and blank lines already skipped). */
static int tmpl_parse_line(struct prompts_template *t, const char *p, const char *end,
                           int *seen_system, int *seen_trim, char *err, size_t err_len) {
    const char *key = p;
    while (p < end && ((*p >= 'a' && *p <= 'z') || *p == '_' || *p == '.'))
        p++;
    size_t key_len = (size_t)(p - key);
    if (!key_len) {
        snprintf(err, err_len, "expected a key (e.g. user.prefix = \"...\")");
        return -1;
    }
    int kl = key_len > 40 ? 40 : (int)key_len;
    while (p < end && (*p == ' ' || *p == '\t'))
        p++;
    if (p >= end || *p != '=') {
        snprintf(err, err_len, "expected '=' after '%.*s'", kl, key);
        return -1;
    }
    p++;
    while (p < end && (*p == ' ' || *p == '\t'))
        p++;

    int is_stop = key_len == 4 && !memcmp(key, "stop", 4);
    char **field = tmpl_string_field(t, key, key_len);
    if (field || is_stop) {
        if (p >= end || *p != '"') {
            snprintf(err, err_len, "%.*s: expected a quoted string", kl, key);
            return -1;
        }
        char *v = tmpl_parse_string(&p, end, err, err_len);
        if (!v)
            return -1;
        while (p < end && (*p == ' ' || *p == '\t'))
            p++;
        if (p < end && *p != '#') {
            free(v);
            snprintf(err, err_len, "unexpected text after the string");
            return -1;
        }
        if (is_stop) {
            if (!v[0] || arr_room(&t->stop, t->n_stop, sizeof *t->stop) != 0) {
                snprintf(err, err_len, v[0] ? "out of memory" : "stop: empty string");
                free(v);
                return -1;
            }
            t->stop[t->n_stop++] = v;
        } else if (*field) {
            free(v);
            snprintf(err, err_len, "duplicate key '%.*s'", kl, key);
            return -1;
        } else {
            *field = v;
        }
        return 0;
    }

    /* word values: up to a comment */
    const char *v = p, *ve = p;
    while (ve < end && *ve != '#')
        ve++;
    while (ve > v && is_space(ve[-1]))
        ve--;
    size_t vl = (size_t)(ve - v);
    if (key_len == 6 && !memcmp(key, "system", 6)) {
        if (*seen_system) {
            snprintf(err, err_len, "duplicate key 'system'");
            return -1;
        }
        *seen_system = 1;
        if (vl == 3 && !memcmp(v, "own", 3))
            t->system_merge = 0;
        else if (vl == 5 && !memcmp(v, "merge", 5))
            t->system_merge = 1;
        else {
            snprintf(err, err_len, "system: expected 'own' or 'merge'");
            return -1;
        }
        return 0;
    }
    if (key_len == 4 && !memcmp(key, "trim", 4)) {
        if (*seen_trim) {
            snprintf(err, err_len, "duplicate key 'trim'");
            return -1;
        }
        *seen_trim = 1;
        return tmpl_parse_trim(t, v, vl, err, err_len);
    }
    snprintf(err, err_len, "unknown key '%.*s'", kl, key);
    return -1;
}

struct prompts_template *prompts_template_parse(const char *name, const char *path,
                                                const char *text, size_t len, char *err,
                                                size_t err_len) {
    struct prompts_template *t = calloc(1, sizeof *t);
    char msg[512];
    int line = 0, seen_system = 0, seen_trim = 0;
    if (!t || !(t->name = xstrdup(name)) || !(t->path = xstrdup(path))) {
        snprintf(err, err_len, "%s: out of memory", path);
        prompts_template_free(t);
        return NULL;
    }
    const char *p = text, *end = text + len;
    while (p < end) {
        const char *e = memchr(p, '\n', (size_t)(end - p));
        const char *le = e ? e : end;
        line++;
        if (memchr(p, 0, (size_t)(le - p))) {
            snprintf(err, err_len, "%s:%d: NUL byte in the file", path, line);
            goto fail;
        }
        if (le > p && le[-1] == '\r')
            le--;
        const char *q = p;
        while (q < le && (*q == ' ' || *q == '\t'))
            q++;
        if (q < le && *q != '#' &&
            tmpl_parse_line(t, q, le, &seen_system, &seen_trim, msg, sizeof msg) < 0) {
            snprintf(err, err_len, "%s:%d: %s", path, line, msg);
            goto fail;
        }
        p = e ? e + 1 : end;
    }
    struct prompts_role_fmt *tool = &t->role[PROMPTS_TOOL];
    t->tool_own = tool->prefix || tool->prefix_first || tool->suffix;
    char **defaults[3 + 2 * PROMPTS_N_ROLES] = {&t->description, &t->bos, &t->generation};
    for (int r = 0; r < PROMPTS_N_ROLES; r++) {
        defaults[3 + 2 * r] = &t->role[r].prefix;
        defaults[4 + 2 * r] = &t->role[r].suffix;
    }
    for (size_t i = 0; i < sizeof defaults / sizeof defaults[0]; i++)
        if (!*defaults[i] && !(*defaults[i] = xstrdup(""))) {
            snprintf(err, err_len, "%s: out of memory", path);
            goto fail;
        }
    return t;
fail:
    prompts_template_free(t);
    return NULL;
}

/* ---- system prompt files ---- */

static void sys_free(struct prompts_system *s) {
    if (!s)
        return;
    free(s->name);
    free(s->path);
    free(s->title);
    free(s->text);
    free(s);
}

static char *dup_span(const char *p, const char *e) {
    while (p < e && is_space(*p))
        p++;
    while (e > p && is_space(e[-1]))
        e--;
    char *s = malloc((size_t)(e - p) + 1);
    if (s) {
        memcpy(s, p, (size_t)(e - p));
        s[e - p] = 0;
    }
    return s;
}

/* Line kinds for prompts_text_unwrap: a blank line, paragraph text, a line that starts a block
 * (list item, quote) and may continue on the next, and one that stands alone (heading, table
 * row, rule, code). */
enum { UW_BLANK, UW_TEXT, UW_OPENS, UW_ALONE };

static int uw_blank(char c) { return c == ' ' || c == '\t' || c == '\r'; }

static int uw_kind(const char *p, const char *e) {
    const char *q = p;
    while (q < e && uw_blank(*q))
        q++;
    if (q == e)
        return UW_BLANK;
    if (*q == '#' || *q == '|')
        return UW_ALONE;
    if ((*q == '-' || *q == '*' || *q == '_') && e - q >= 3 && q[1] == *q && q[2] == *q)
        return UW_ALONE; /* a rule ("---") */
    if (*q == '>')
        return UW_OPENS;
    if ((*q == '-' || *q == '*' || *q == '+') && (q + 1 == e || uw_blank(q[1])))
        return UW_OPENS; /* a bullet */
    const char *d = q;
    while (d < e && *d >= '0' && *d <= '9' && d - q < 9)
        d++;
    if (d > q && d < e && (*d == '.' || *d == ')') && (d + 1 == e || uw_blank(d[1])))
        return UW_OPENS; /* "1. " */
    return UW_TEXT;
}

static int uw_fence(const char *p, const char *e) {
    int ind = 0;
    while (p < e && *p == ' ' && ind < 4)
        p++, ind++;
    return ind < 4 && e - p >= 3 && (!memcmp(p, "```", 3) || !memcmp(p, "~~~", 3));
}

char *prompts_text_unwrap(const char *text, size_t len) {
    char *out = malloc(len + 1);
    if (!out)
        return NULL;
    size_t o = 0;
    const char *p = text, *end = text + len;
    int prev = UW_BLANK; /* what the previous line lets the next do: UW_TEXT joins it */
    int fence = 0, icode = 0, first = 1;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;
        int kind = uw_kind(p, le), is_fence = !icode && uw_fence(p, le);
        int indented = le > p && (*p == '\t' || (le - p >= 4 && !memcmp(p, "    ", 4)));
        icode = !fence && !is_fence && indented && (icode || prev == UW_BLANK);
        if (!fence && !is_fence && !icode && kind == UW_TEXT && prev == UW_TEXT) {
            while (o > 0 && uw_blank(out[o - 1]))
                o--; /* the previous line's trailing blanks */
            out[o++] = ' ';
            while (p < le && uw_blank(*p))
                p++; /* this line's indentation */
        } else if (!first) {
            out[o++] = '\n';
        }
        memcpy(out + o, p, (size_t)(le - p));
        o += (size_t)(le - p);
        int hard = le - p >= 1 && (le[-1] == '\\' || (le - p >= 2 && le[-1] == ' ' &&
                                                     le[-2] == ' '));
        if (is_fence)
            fence = !fence;
        prev = is_fence || fence || icode || hard ? UW_ALONE
             : kind == UW_OPENS ? UW_TEXT /* a list item's or quote's next line continues it */
             : kind;
        first = 0;
        p = nl ? nl + 1 : end;
    }
    out[o] = 0;
    return out;
}

/* The text of a system prompt file after its title: trimmed, its paragraphs unwrapped. */
static char *sys_text(const char *p, const char *e) {
    char *span = dup_span(p, e);
    char *text = span ? prompts_text_unwrap(span, strlen(span)) : NULL;
    free(span);
    return text;
}

static struct prompts_system *sys_parse(const char *name, const char *path, const char *text,
                                        size_t len, char *err, size_t err_len) {
    if (strlen(text) != len) {
        snprintf(err, err_len, "%s: NUL byte in the file", path);
        return NULL;
    }
    const char *nl = memchr(text, '\n', len), *end = text + len;
    const char *title = text, *title_end = nl ? nl : end;
    if (title_end - title >= 2 && title[0] == '#' && title[1] == ' ')
        title += 2; /* a Markdown heading is fine too */
    struct prompts_system *s = calloc(1, sizeof *s);
    if (!s || !(s->name = xstrdup(name)) || !(s->path = xstrdup(path)) ||
        !(s->title = dup_span(title, title_end)) || !(s->text = sys_text(nl ? nl : end, end))) {
        snprintf(err, err_len, "%s: out of memory", path);
        sys_free(s);
        return NULL;
    }
    if (!s->title[0] || !s->text[0]) {
        snprintf(err, err_len, "%s:%d: %s", path, s->title[0] ? 2 : 1,
                 s->title[0] ? "no text after the title line"
                             : "the first line must be the title");
        sys_free(s);
        return NULL;
    }
    return s;
}

/* ---- loading ---- */

int prompts_name_valid(const char *s, size_t n) {
    if (!n || s[0] == '.')
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
              (s[i] >= '0' && s[i] <= '9') || s[i] == '-' || s[i] == '_' || s[i] == '.'))
            return 0;
    return 1;
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Adds item (a template or system prompt, whose first member is its name) to *arr, replacing
 * one of the same name. */
static int reg_put(void ***arr, int *n, void *item, void (*free_fn)(void *)) {
    const char *name = *(char **)item;
    for (int i = 0; i < *n; i++)
        if (!strcmp(*(char **)(*arr)[i], name)) {
            free_fn((*arr)[i]);
            (*arr)[i] = item;
            return 0;
        }
    if (arr_room(arr, *n, sizeof **arr) != 0)
        return -1;
    (*arr)[(*n)++] = item;
    return 0;
}

static void free_tmpl_v(void *p) { prompts_template_free(p); }
static void free_sys_v(void *p) { sys_free(p); }

/* Loads DIR/SUB/NAME.EXT files in name order. */
static void load_dir(const char *dir, const char *sub, const char *ext, int from_user,
                     int required) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, sub);
    DIR *d = opendir(path);
    if (!d) {
        if (required || errno != ENOENT)
            reg_error("%s: %s", path, strerror(errno));
        return;
    }
    char **names = NULL;
    int n = 0;
    struct dirent *de;
    size_t ext_len = strlen(ext);
    while ((de = readdir(d))) {
        size_t l = strlen(de->d_name);
        if (l <= ext_len || strcmp(de->d_name + l - ext_len, ext) ||
            !prompts_name_valid(de->d_name, l - ext_len))
            continue;
        if (arr_room(&names, n, sizeof *names) != 0)
            break;
        if ((names[n] = xstrdup(de->d_name)))
            n++;
    }
    closedir(d);
    if (n)
        qsort(names, (size_t)n, sizeof *names, cmp_str);
    for (int i = 0; i < n; i++) {
        char file[4096 + 256], err[8192], name[256];
        size_t len;
        snprintf(file, sizeof file, "%s/%s", path, names[i]);
        snprintf(name, sizeof name, "%.*s", (int)(strlen(names[i]) - ext_len), names[i]);
        free(names[i]);
        char *text;
        if (prompts_read_file(file, PROMPTS_FILE_MAX, &text, &len) != 0) {
            reg_error("%s: %s", file, prompts_errmsg());
            continue;
        }
        int is_tmpl = !strcmp(sub, "templates");
        void *item = is_tmpl
                         ? (void *)prompts_template_parse(name, file, text, len, err, sizeof err)
                         : (void *)sys_parse(name, file, text, len, err, sizeof err);
        free(text);
        if (!item) {
            reg_error("%s", err);
            continue;
        }
        if (is_tmpl) {
            ((struct prompts_template *)item)->from_user = from_user;
            if (reg_put((void ***)&reg.tmpl, &reg.n_tmpl, item, free_tmpl_v) < 0)
                prompts_template_free(item);
        } else {
            ((struct prompts_system *)item)->from_user = from_user;
            if (reg_put((void ***)&reg.sys, &reg.n_sys, item, free_sys_v) < 0)
                sys_free(item);
        }
    }
    free(names);
}

static int cmp_tmpl(const void *a, const void *b) {
    return strcmp((*(struct prompts_template *const *)a)->name,
                  (*(struct prompts_template *const *)b)->name);
}

static int cmp_sys(const void *a, const void *b) {
    return strcmp((*(struct prompts_system *const *)a)->name,
                  (*(struct prompts_system *const *)b)->name);
}

void prompts_free(void) {
    for (int i = 0; i < reg.n_tmpl; i++)
        prompts_template_free(reg.tmpl[i]);
    for (int i = 0; i < reg.n_sys; i++)
        sys_free(reg.sys[i]);
    for (int i = 0; i < reg.n_err; i++)
        free(reg.err[i]);
    free(reg.tmpl);
    free(reg.sys);
    free(reg.err);
    memset(&reg, 0, sizeof reg);
}

int prompts_load_dirs(const char *installed_dir, const char *user_dir) {
    prompts_free();
    reg.loaded = 1;
    const char *dirs[2] = {installed_dir, user_dir};
    for (int i = 0; i < 2; i++) {
        if (!dirs[i])
            continue;
        load_dir(dirs[i], "templates", ".tmpl", i == 1, i == 0);
        load_dir(dirs[i], "system", ".md", i == 1, i == 0);
    }
    if (reg.n_tmpl)
        qsort(reg.tmpl, (size_t)reg.n_tmpl, sizeof *reg.tmpl, cmp_tmpl);
    if (reg.n_sys)
        qsort(reg.sys, (size_t)reg.n_sys, sizeof *reg.sys, cmp_sys);
    return reg.n_err;
}

int prompts_load(void) {
    char installed[4096], conf[4096], user[4200];
    const char *inst = paths_prompts_dir(installed, sizeof installed);
    const char *usr = NULL;
    if (paths_config_dir(conf, sizeof conf)) {
        snprintf(user, sizeof user, "%s/prompts", conf);
        usr = user;
    }
    return prompts_load_dirs(inst, usr);
}

static void reg_ensure(void) {
    if (!reg.loaded)
        prompts_load();
}

int prompts_template_count(void) {
    reg_ensure();
    return reg.n_tmpl;
}

const struct prompts_template *prompts_template_at(int i) {
    reg_ensure();
    return i >= 0 && i < reg.n_tmpl ? reg.tmpl[i] : NULL;
}

const struct prompts_template *prompts_template_find(const char *name) {
    reg_ensure();
    for (int i = 0; name && i < reg.n_tmpl; i++)
        if (!strcmp(reg.tmpl[i]->name, name))
            return reg.tmpl[i];
    return NULL;
}

int prompts_system_count(void) {
    reg_ensure();
    return reg.n_sys;
}

const struct prompts_system *prompts_system_at(int i) {
    reg_ensure();
    return i >= 0 && i < reg.n_sys ? reg.sys[i] : NULL;
}

const struct prompts_system *prompts_system_find(const char *name) {
    reg_ensure();
    for (int i = 0; name && i < reg.n_sys; i++)
        if (!strcmp(reg.sys[i]->name, name))
            return reg.sys[i];
    return NULL;
}

/* ---- rendering ---- */

int prompts_role_parse(const char *role) {
    for (int r = 0; role && r < PROMPTS_N_ROLES; r++)
        if (!strcmp(role, role_names[r]))
            return r;
    return -1;
}

/* n bytes of s into b and, when m is not NULL, n bytes of `plain` into m (the origin mask). */
static void sb_put_o(struct json_buf *b, struct json_buf *m, const char *s, size_t n, int plain) {
    json_put(b, s, n);
    if (!m)
        return;
    char chunk[256];
    memset(chunk, plain, sizeof chunk);
    for (size_t done = 0; done < n;) {
        const size_t k = n - done < sizeof chunk ? n - done : sizeof chunk;
        json_put(m, chunk, k);
        done += k;
    }
}

static void sb_puts_o(struct json_buf *b, struct json_buf *m, const char *s) {
    if (s)
        sb_put_o(b, m, s, strlen(s), 0);
}

long prompts_render(const struct prompts_template *t, const struct prompts_msg *msgs, int n,
                    int add_assistant, char **out) {
    return prompts_render_masked(t, msgs, n, add_assistant, out, NULL);
}

long prompts_render_masked(const struct prompts_template *t, const struct prompts_msg *msgs,
                           int n, int add_assistant, char **out, unsigned char **mask) {
    struct json_buf b = {0}, sys = {0}, bm = {0}, sm = {0};
    struct json_buf *bmp = mask ? &bm : NULL, *smp = mask ? &sm : NULL;
    int first = 1;
    *out = NULL;
    if (mask)
        *mask = NULL;
    if (!t || (n > 0 && !msgs))
        return prompts_fail(PROMPTS_E_INVALID, t ? "no messages" : "no template");
    sb_puts_o(&b, bmp, t->bos);
    json_put(&b, "", 0);
    if (bmp)
        json_put(bmp, "", 0);
    for (int i = 0; i < n; i++) {
        int r = prompts_role_parse(msgs[i].role);
        if (r < 0 || !msgs[i].content) {
            free(b.p), free(sys.p), free(bm.p), free(sm.p);
            if (r < 0)
                return prompts_fail(PROMPTS_E_INVALID, "message %d: unknown role '%.32s'",
                                    i + 1, msgs[i].role ? msgs[i].role : "(none)");
            return prompts_fail(PROMPTS_E_INVALID, "message %d: no content", i + 1);
        }
        if (r == PROMPTS_TOOL && !t->tool_own)
            r = PROMPTS_USER;
        const struct prompts_role_fmt *f = &t->role[r];
        const char *c = msgs[i].content;
        const char *ce = c + (msgs[i].content_len ? msgs[i].content_len : strlen(c));
        if (f->trim) {
            while (c < ce && is_space(*c))
                c++;
            while (ce > c && is_space(ce[-1]))
                ce--;
        }
        if (r == PROMPTS_SYSTEM && t->system_merge) {
            sb_puts_o(&sys, smp, f->prefix);
            sb_put_o(&sys, smp, c, (size_t)(ce - c), 1);
            sb_puts_o(&sys, smp, f->suffix);
            continue;
        }
        sb_puts_o(&b, bmp, first && f->prefix_first ? f->prefix_first : f->prefix);
        first = 0;
        if (r == PROMPTS_USER && sys.len) {
            json_put(&b, sys.p, sys.len);
            if (bmp)
                json_put(bmp, sm.p, sm.len);
            sys.len = sm.len = 0;
        }
        sb_put_o(&b, bmp, c, (size_t)(ce - c), 1);
        sb_puts_o(&b, bmp, f->suffix);
    }
    if (sys.len) { /* merged system text with no user turn after it: a user turn of its own */
        const struct prompts_role_fmt *u = &t->role[PROMPTS_USER];
        sb_puts_o(&b, bmp, first && u->prefix_first ? u->prefix_first : u->prefix);
        json_put(&b, sys.p, sys.len);
        if (bmp)
            json_put(bmp, sm.p, sm.len);
        sb_puts_o(&b, bmp, u->suffix);
    }
    if (add_assistant)
        sb_puts_o(&b, bmp, t->generation);
    int oom = b.oom || sys.oom || bm.oom || sm.oom;
    free(sys.p);
    free(sm.p);
    if (oom) {
        free(b.p);
        free(bm.p);
        return prompts_fail(PROMPTS_E_NOMEM, "out of memory");
    }
    *out = b.p;
    if (mask)
        *mask = (unsigned char *)bm.p;
    return (long)b.len;
}

/* ---- detection ---- */

/* Ordered rules: the first whose markers all occur in the Jinja text wins.
 * Specific markers come before the generic ones they contain (phi4 before chatml, the GLM
 * families before the <|user|>/<|assistant|> ones). */
static const struct detect_rule {
    const char *name;
    const char *all[3];
} detect_rules[] = {
    {"phi4", {"<|im_start|>", "<|im_sep|>"}},
    {"chatml", {"<|im_start|>"}},
    {"chatglm3", {"[gMASK]sop"}},
    {"chatglm4", {"[gMASK]<sop>"}},
    {"mistral-v7", {"[INST]", "[SYSTEM_PROMPT]"}},
    {"mistral-v1", {"' [INST] ' + system_message"}},
    {"mistral-v1", {"[INST]", "[AVAILABLE_TOOLS]", " [INST]"}},
    {"mistral-v3-tekken", {"[INST]", "[AVAILABLE_TOOLS]", "\"[INST]\""}},
    {"mistral-v3", {"[INST]", "[AVAILABLE_TOOLS]"}},
    {"llama2-sys-strip", {"[INST]", "content.strip()"}},
    {"llama2-sys-bos", {"[INST]", "bos_token + '[INST]"}},
    {"llama2-sys", {"[INST]", "<<SYS>>"}},
    {"llama2", {"[INST]"}},
    {"phi3", {"<|assistant|>", "<|end|>"}},
    {"falcon3", {"<|assistant|>", "<|user|>", "</s>"}},
    {"glmedge", {"<|assistant|>", "<|user|>"}},
    {"zephyr", {"<|user|>", "<|endoftext|>"}},
    {"monarch", {"bos_token + message['role']"}},
    {"gemma", {"<start_of_turn>"}},
    {"orion", {"'\\n\\nAssistant: ' + eos_token"}},
    {"openchat", {"GPT4 Correct "}},
    {"vicuna-orca", {"USER: ", "ASSISTANT: ", "SYSTEM: "}},
    {"vicuna", {"USER: ", "ASSISTANT: "}},
    {"deepseek", {"### Instruction:", "<|EOT|>"}},
    {"command-r", {"<|START_OF_TURN_TOKEN|>", "<|USER_TOKEN|>"}},
    {"llama3", {"<|start_header_id|>", "<|end_header_id|>"}},
    {"minicpm", {"<用户>"}},
    {"deepseek2", {"'Assistant: ' + message['content'] + eos_token"}},
    {"deepseek3", {"<｜Assistant｜>", "<｜User｜>", "<｜end▁of▁sentence｜>"}},
    {"exaone3", {"[|system|]", "[|assistant|]", "[|endofturn|]"}},
    {"rwkv-world", {"rwkv-world"}},
    {"granite", {"<|start_of_role|>"}},
    {"gigachat", {"additional_special_tokens[0] + message['content']"}},
    {"megrez", {"<|role_start|>"}},
};

const char *prompts_detect(const char *jinja, int *recognized) {
    if (recognized)
        *recognized = 1;
    const char *p = jinja, *e = jinja ? jinja + strlen(jinja) : NULL;
    while (p && p < e && is_space(*p))
        p++;
    while (e && e > p && is_space(e[-1]))
        e--;
    if (!p || p == e)
        return "completion";
    /* the text is a template's name (as llama.cpp allows for built-in templates) */
    char name[64];
    if ((size_t)(e - p) < sizeof name && prompts_name_valid(p, (size_t)(e - p))) {
        snprintf(name, sizeof name, "%.*s", (int)(e - p), p);
        const struct prompts_template *t = prompts_template_find(name);
        if (t)
            return t->name;
    }
    for (size_t i = 0; i < sizeof detect_rules / sizeof detect_rules[0]; i++) {
        const struct detect_rule *r = &detect_rules[i];
        int ok = 1;
        for (int k = 0; ok && k < 3 && r->all[k]; k++)
            ok = strstr(jinja, r->all[k]) != NULL;
        if (ok)
            return r->name;
    }
    if (recognized)
        *recognized = 0;
    return "chatml";
}

const struct prompts_template *prompts_template_for(const char *jinja) {
    const struct prompts_template *t = prompts_template_find(prompts_detect(jinja, NULL));
    if (!t)
        t = prompts_template_find("completion");
    return t ? t : prompts_template_at(0);
}
