/* src/store_conv.c — conversations (store.h "conversations"): creating, resolving ids and
 * prefixes, reading, listing, the fields set one at a time, default titles. Main thread;
 * errors as store.h says. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <fcntl.h>
#include <unistd.h>

#include "json_syntax.h"
#include "store_impl.h"

#define CONV_COLS                                                                             \
    "c.id, c.title, c.created, c.updated, c.model, c.template, c.system_prompt, c.sampling, "  \
    "c.pinned, c.archived, (SELECT count(*) FROM messages m WHERE m.conv = c.n)"

static const char *const sql[ST_COUNT] = {
    [ST_CONV_INSERT] = "INSERT INTO conversations(id, title, title_set, created, updated, model, "
                       "template, system_prompt, sampling) VALUES (?1, ?2, ?3, ?4, ?4, ?5, ?6, "
                       "?7, ?8)",
    [ST_CONV_N] = "SELECT n FROM conversations WHERE id = ?1",
    [ST_CONV_GET] = "SELECT " CONV_COLS " FROM conversations c WHERE c.id = ?1",
    [ST_CONV_LIST] = "SELECT " CONV_COLS " FROM conversations c WHERE ?1 OR c.archived = 0 "
                     "ORDER BY c.updated DESC, c.n DESC",
    [ST_CONV_LAST] = "SELECT id FROM conversations WHERE archived = 0 "
                     "ORDER BY updated DESC, n DESC LIMIT 1",
    [ST_CONV_RESOLVE] = "SELECT id FROM conversations WHERE id >= ?1 AND id < ?1 || '~' "
                        "ORDER BY id LIMIT 11",
    [ST_CONV_RENAME] = "UPDATE conversations SET title = ?2, title_set = 1 WHERE id = ?1",
    [ST_CONV_DELETE] = "DELETE FROM conversations WHERE id = ?1",
    [ST_CONV_PINNED] = "UPDATE conversations SET pinned = ?2 WHERE id = ?1",
    [ST_CONV_ARCHIVED] = "UPDATE conversations SET archived = ?2 WHERE id = ?1",
    [ST_CONV_MODEL] = "UPDATE conversations SET model = ?2 WHERE id = ?1",
    [ST_CONV_TEMPLATE] = "UPDATE conversations SET template = ?2 WHERE id = ?1",
    [ST_CONV_SYSTEM] = "UPDATE conversations SET system_prompt = ?2 WHERE id = ?1",
    [ST_CONV_SAMPLING] = "UPDATE conversations SET sampling = ?2 WHERE id = ?1",
    [ST_CONV_AUTOTITLE] = "UPDATE conversations SET title = ?2 WHERE n = ?1 AND title_set = 0 "
                          "AND title = ''",
    [ST_LIST_JSON] = "SELECT json_group_array(json_object('id', c.id, 'title', c.title, "
                     "'created', c.created, 'updated', c.updated, 'model', c.model, 'template', "
                     "c.template, 'messages', (SELECT count(*) FROM messages m WHERE m.conv = "
                     "c.n), 'pinned', json(CASE WHEN c.pinned THEN 'true' ELSE 'false' END), "
                     "'archived', json(CASE WHEN c.archived THEN 'true' ELSE 'false' END))) "
                     "FROM (SELECT * FROM conversations WHERE ?1 OR archived = 0 "
                     "ORDER BY updated DESC, n DESC) c",
};

static sqlite3_stmt *stmt(store *s, enum stmt_id id) { return store_stmt(s, id, sql[id]); }

static void new_id(char *out) {
    unsigned char r[STORE_ID_LEN / 2];
    int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    if (fd < 0 || read(fd, r, sizeof r) != (ssize_t)sizeof r) {
        sqlite3_randomness(sizeof r, r);
        r[0] ^= (unsigned char)getpid();
    }
    if (fd >= 0)
        close(fd);
    for (size_t i = 0; i < sizeof r; i++)
        snprintf(out + 2 * i, 3, "%02x", r[i]);
}

/* The integer key of conversation id; STORE_E_NOTFOUND when there is none. */
int store_conv_n(store *s, const char *id, int64_t *n) {
    sqlite3_stmt *q = stmt(s, ST_CONV_N);
    if (!q)
        return STORE_E_SQL;
    store_bind_text(s, q, 1, id);
    int r = store_step_row(s, q, "find conversation", "no conversation '%s'", id);
    if (r == 0)
        *n = sqlite3_column_int64(q, 0);
    store_stmt_done(s, q);
    return r;
}

void store_conv_clear(struct store_conv *c) {
    if (!c)
        return;
    free(c->title);
    free(c->created);
    free(c->updated);
    free(c->model);
    free(c->template_name);
    free(c->system_prompt);
    free(c->sampling);
    memset(c, 0, sizeof *c);
}

/* Fills c from the current row of a CONV_COLS query: its strings borrowed (valid until the next
 * step) or, with copy, owned copies (store_conv_clear frees them). 0, or -1 out of memory. */
static int conv_from_row(sqlite3_stmt *q, struct store_conv *c, int copy) {
    char *(*get)(sqlite3_stmt *, int) = copy ? store_dup_col : store_col;
    memset(c, 0, sizeof *c);
    snprintf(c->id, sizeof c->id, "%s", store_col(q, 0) ? store_col(q, 0) : "");
    c->title = get(q, 1);
    c->created = get(q, 2);
    c->updated = get(q, 3);
    c->model = get(q, 4);
    c->template_name = get(q, 5);
    c->system_prompt = get(q, 6);
    c->sampling = get(q, 7);
    c->pinned = sqlite3_column_int(q, 8);
    c->archived = sqlite3_column_int(q, 9);
    c->n_messages = sqlite3_column_int(q, 10);
    if (copy && (!c->title || !c->created || !c->updated)) {
        store_conv_clear(c);
        return -1;
    }
    return 0;
}

static int sampling_ok(store *s, const char *json) {
    if (!json)
        return 1;
    size_t off, n = strlen(json);
    const char *why;
    int ok = json_syntax_check(json, n, &off, &why) == 0 && json_syntax_top(json, n) == '{';
    if (!ok)
        store_set_err(s, "sampling settings must be a JSON object");
    return ok;
}

/* Inserts a conversation row with a fresh id (retrying on the rare collision). */
int store_conv_insert(store *s, const struct store_conv_params *p, const char *created,
                       const char *want_id, char *id_out, int64_t *n_out) {
    sqlite3_stmt *q = stmt(s, ST_CONV_INSERT);
    if (!q)
        return STORE_E_SQL;
    for (int attempt = 0; attempt < 16; attempt++) {
        if (want_id && attempt == 0)
            snprintf(id_out, STORE_ID_LEN + 1, "%s", want_id);
        else
            new_id(id_out);
        store_bind_text(s, q, 1, id_out);
        store_bind_text(s, q, 2, p->title ? p->title : "");
        store_bind_int(s, q, 3, p->title && *p->title);
        store_bind_text(s, q, 4, created);
        store_bind_text(s, q, 5, p->model);
        store_bind_text(s, q, 6, p->template_name);
        store_bind_text(s, q, 7, p->system_prompt);
        store_bind_text(s, q, 8, p->sampling);
        int r = store_file_check(s);
        if (r) {
            store_stmt_done(s, q);
            return r;
        }
        int rc = store_step(s, q);
        store_stmt_done(s, q);
        if (rc == SQLITE_DONE) {
            if (n_out)
                *n_out = sqlite3_last_insert_rowid(s->db);
            return 0;
        }
        if (rc != SQLITE_CONSTRAINT_UNIQUE)
            return store_sql_err(s, "create conversation");
    }
    return store_sql_err(s, "create conversation");
}

int store_conv_new(store *s, const struct store_conv_params *p, char *id_out) {
    static const struct store_conv_params none;
    char now[32];
    if (!p)
        p = &none;
    if (!sampling_ok(s, p->sampling))
        return STORE_E_INVALID;
    store_now_iso(now, sizeof now);
    return store_conv_insert(s, p, now, NULL, id_out, NULL);
}

int store_conv_resolve(store *s, const char *prefix, char *id_out) {
    char low[STORE_ID_LEN + 1];
    size_t n = strlen(prefix);
    int valid = n > 0 && n <= STORE_ID_LEN;
    for (size_t i = 0; valid && i < n; i++) {
        char ch = prefix[i];
        if (ch >= 'A' && ch <= 'F')
            ch = (char)(ch - 'A' + 'a');
        valid = (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f');
        low[i] = ch;
    }
    if (!valid) {
        store_set_err(s, "no conversation '%s'", prefix);
        return STORE_E_NOTFOUND;
    }
    low[n] = 0;
    sqlite3_stmt *q = stmt(s, ST_CONV_RESOLVE);
    if (!q)
        return STORE_E_SQL;
    store_bind_text(s, q, 1, low);
    char list[200] = "";
    int n_found = 0, rc;
    while ((rc = store_step(s, q)) == SQLITE_ROW) {
        const char *id = store_col(q, 0);
        if (n_found == 0)
            snprintf(id_out, STORE_ID_LEN + 1, "%s", id);
        if (n_found < 10) {
            size_t l = strlen(list);
            snprintf(list + l, sizeof list - l, "%s%s", n_found ? ", " : "", id);
        } else {
            size_t l = strlen(list);
            snprintf(list + l, sizeof list - l, ", ...");
        }
        n_found++;
    }
    store_stmt_done(s, q);
    if (rc != SQLITE_DONE)
        return store_sql_err(s, "find conversation");
    if (n_found == 0) {
        store_set_err(s, "no conversation '%s'", prefix);
        return STORE_E_NOTFOUND;
    }
    if (n_found > 1) {
        store_set_err(s, "ambiguous id '%s': matches %s", prefix, list);
        return STORE_E_AMBIGUOUS;
    }
    return 0;
}

int store_conv_get(store *s, const char *id, struct store_conv *c) {
    int fr = store_reply_flush(s); /* a failed write keeps the reply's text to retry */
    if (fr)
        return fr;
    sqlite3_stmt *q = stmt(s, ST_CONV_GET);
    if (!q)
        return STORE_E_SQL;
    store_bind_text(s, q, 1, id);
    int r = store_step_row(s, q, "read conversation", "no conversation '%s'", id);
    if (r == 0 && conv_from_row(q, c, 1) != 0) {
        store_set_err(s, "out of memory");
        r = STORE_E_NOMEM;
    }
    store_stmt_done(s, q);
    return r;
}

int store_conv_list(store *s, int flags, int (*fn)(const struct store_conv *c, void *ud),
                    void *ud) {
    int fr = store_reply_flush(s); /* a failed write keeps the reply's text to retry */
    if (fr)
        return fr;
    sqlite3_stmt *q = stmt(s, ST_CONV_LIST);
    if (!q)
        return STORE_E_SQL;
    store_bind_int(s, q, 1, (flags & STORE_LIST_ARCHIVED) != 0);
    int rc, r = 0;
    while ((rc = store_step(s, q)) == SQLITE_ROW) {
        struct store_conv c;
        conv_from_row(q, &c, 0);
        if ((r = fn(&c, ud)) != 0)
            break;
    }
    if (r == 0 && rc != SQLITE_DONE)
        r = store_sql_err(s, "list conversations");
    store_stmt_done(s, q);
    return r;
}

int store_conv_last(store *s, char *id_out) {
    sqlite3_stmt *q = stmt(s, ST_CONV_LAST);
    if (!q)
        return STORE_E_SQL;
    int r = store_step_row(s, q, "find the last conversation", "no saved conversation%s", "");
    if (r == 0)
        snprintf(id_out, STORE_ID_LEN + 1, "%s", store_col(q, 0));
    store_stmt_done(s, q);
    return r;
}

/* UPDATE ... WHERE id = ?1 with ?2 as text (or an int when text is NULL and use_int). */
static int conv_update(store *s, enum stmt_id which, const char *id, const char *text, int ival,
                       int use_int, const char *what) {
    sqlite3_stmt *q = stmt(s, which);
    if (!q)
        return STORE_E_SQL;
    store_bind_text(s, q, 1, id);
    if (use_int)
        store_bind_int(s, q, 2, ival);
    else if (sqlite3_bind_parameter_count(q) >= 2) /* a delete has only the id */
        store_bind_text(s, q, 2, text);
    int r = store_exec(s, q, what);
    if (r == 0 && sqlite3_changes(s->db) == 0) {
        store_set_err(s, "no conversation '%s'", id);
        r = STORE_E_NOTFOUND;
    }
    return r;
}

int store_conv_rename(store *s, const char *id, const char *title) {
    if (!title || !*title) {
        store_set_err(s, "a title cannot be empty");
        return STORE_E_INVALID;
    }
    return conv_update(s, ST_CONV_RENAME, id, title, 0, 0, "rename");
}

int store_conv_delete(store *s, const char *id) {
    if (s->reply.msg_id) {
        int64_t n;
        if (store_conv_n(s, id, &n) == 0 && n == s->reply.conv_n)
            s->reply.msg_id = 0; /* its reply goes with it */
    }
    return conv_update(s, ST_CONV_DELETE, id, NULL, 0, 0, "delete");
}

int store_conv_set_pinned(store *s, const char *id, int pinned) {
    return conv_update(s, ST_CONV_PINNED, id, NULL, pinned != 0, 1, "pin");
}
int store_conv_set_archived(store *s, const char *id, int archived) {
    return conv_update(s, ST_CONV_ARCHIVED, id, NULL, archived != 0, 1, "archive");
}
int store_conv_set_model(store *s, const char *id, const char *model) {
    return conv_update(s, ST_CONV_MODEL, id, model, 0, 0, "set model");
}
int store_conv_set_template(store *s, const char *id, const char *template_name) {
    return conv_update(s, ST_CONV_TEMPLATE, id, template_name, 0, 0, "set template");
}
int store_conv_set_system(store *s, const char *id, const char *system_prompt) {
    return conv_update(s, ST_CONV_SYSTEM, id, system_prompt, 0, 0, "set system prompt");
}
int store_conv_set_sampling(store *s, const char *id, const char *sampling_json) {
    if (!sampling_ok(s, sampling_json))
        return STORE_E_INVALID;
    return conv_update(s, ST_CONV_SAMPLING, id, sampling_json, 0, 0, "set sampling");
}

void store_title_from_text(const char *text, char *buf, size_t len) {
    if (!len)
        return;
    buf[0] = 0;
    const unsigned char *p = (const unsigned char *)(text ? text : "");
    /* the first line that holds something other than blanks */
    for (;;) {
        while (*p == ' ' || *p == '\t' || *p == '\r')
            p++;
        if (*p != '\n')
            break;
        p++;
    }
    const unsigned char *end = p;
    while (*end && *end != '\n' && *end != '\r')
        end++;
    while (end > p && (end[-1] == ' ' || end[-1] == '\t'))
        end--;
    /* walk up to TITLE_MAX_CHARS characters, remembering the last space */
    const unsigned char *q = p, *cut = NULL, *last_space = NULL;
    int n_chars = 0;
    while (q < end) {
        if (n_chars == TITLE_MAX_CHARS) {
            cut = q;
            break;
        }
        if (*q == ' ')
            last_space = q;
        q++;
        while (q < end && (*q & 0xc0) == 0x80)
            q++; /* stay on a UTF-8 boundary */
        n_chars++;
    }
    const char *ellipsis = "";
    if (cut) {
        if (last_space && last_space - p >= TITLE_MAX_CHARS / 2)
            cut = last_space;
        while (cut > p && cut[-1] == ' ')
            cut--;
        end = cut;
        ellipsis = "…";
    }
    size_t n = (size_t)(end - p), e = strlen(ellipsis);
    while (n + e + 1 > len && n > 0) { /* shrink to fit, still on a boundary */
        n--;
        while (n > 0 && (p[n] & 0xc0) == 0x80)
            n--;
        e = 0;
    }
    memcpy(buf, p, n);
    memcpy(buf + n, ellipsis, e);
    buf[n + e] = 0;
}

int store_conv_autotitle(store *s, int64_t n, const char *text) {
    char title[4 * TITLE_MAX_CHARS + 8];
    store_title_from_text(text, title, sizeof title);
    if (!*title)
        return 0;
    sqlite3_stmt *q = stmt(s, ST_CONV_AUTOTITLE);
    if (!q)
        return STORE_E_SQL;
    store_bind_int64(s, q, 1, n);
    store_bind_text(s, q, 2, title);
    return store_exec(s, q, "set title");
}

int store_list_json(store *s, int flags, char **out) {
    int fr = store_reply_flush(s); /* a failed write keeps the reply's text to retry */
    if (fr)
        return fr;
    sqlite3_stmt *q = stmt(s, ST_LIST_JSON);
    if (!q)
        return STORE_E_SQL;
    store_bind_int(s, q, 1, (flags & STORE_LIST_ARCHIVED) != 0);
    return store_json_result(s, q, out, "list conversations");
}
