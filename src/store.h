/* src/store.h — saved conversations in SQLite: one connection per process user, WAL,
 * busy_timeout, foreign keys, schema versioned by PRAGMA user_version with forward migrations at
 * open, a conversation's messages as a tree (parent links) with one active path (what is shown
 * and continued), FTS5 search, a streaming API that saves a reply as it grows, and a small
 * settings table.
 *
 * Threads: a store handle is single-threaded; the UI (main) thread alone touches it.
 * Errors (src/'s convention, README "Errors"): functions return 0 (or a count / id) on success
 * and a negative STORE_E_* code on failure; store_errmsg() then holds a one-line message that
 * names the file once (SQLite's own text included). Reads flush a reply in progress first and
 * return that write's error when it fails (the reply's text stays in memory to retry). */
#ifndef NATTER_STORE_H
#define NATTER_STORE_H

#include <stddef.h>
#include <stdint.h>

#define STORE_SCHEMA_VERSION 4
#define STORE_ID_LEN 8 /* conversation ids: 8 random lowercase hex digits */

enum {
    STORE_OK = 0,
    STORE_E_SQL = -1,      /* SQLite said no (locked, I/O, disk full, corrupt...) */
    STORE_E_NOTFOUND = -2, /* no conversation with that id / prefix */
    STORE_E_AMBIGUOUS = -3,/* the prefix matches several conversations (message lists them) */
    STORE_E_INVALID = -4,  /* bad argument or bad input data (import) */
    STORE_E_NOTDB = -5,    /* the file is not an SQLite database, or is corrupt: left untouched */
    STORE_E_NEWER = -6,    /* written by a newer natter: left untouched */
    STORE_E_IO = -7,       /* file system (mkdir, read, write of an export) */
    STORE_E_NOMEM = -8,
};

typedef struct store store;

/* Opens (creating it and its directory if needed) the database at path and brings its schema up
 * to STORE_SCHEMA_VERSION. A file that is not an SQLite database, is corrupt, belongs to another
 * application or comes from a newer natter is refused before anything is written to it.
 * On failure *out is NULL and err (if not NULL) holds a one-line message. Caller closes.
 * ":memory:" opens a private in-memory database (tests, fuzzing). */
int store_open(const char *path, store **out, char *err, size_t err_len);
/* Flushes any reply in progress and closes. Accepts NULL. A failed flush here cannot be
 * reported: call store_reply_flush (or finish) first to learn of it. */
void store_close(store *s);
/* The last error's one-line message (never NULL). */
const char *store_errmsg(const store *s);
/* "" or one line on what the last store_import_json changed in the text it imported
 * ("FILE: message 3: invalid UTF-8 replaced with U+FFFD"). Borrowed. */
const char *store_notice(const store *s);
/* The path given to store_open (borrowed). */
const char *store_path(const store *s);

/* ---- conversations ---- */

struct store_conv {
    char id[STORE_ID_LEN + 1];
    char *title;         /* "" until the first user message or a rename */
    char *created;       /* ISO 8601 UTC with milliseconds: 2026-11-21T14:34:10.123Z */
    char *updated;       /* changes with every message */
    char *model;         /* NULL when unknown */
    char *template_name; /* chat template name, NULL when unknown */
    char *system_prompt; /* NULL when none */
    char *sampling;      /* sampling settings as a JSON object text, NULL when none */
    int pinned, archived;
    int n_messages;
};
/* Frees the strings inside c (not c itself) and zeroes it. Accepts NULL. */
void store_conv_clear(struct store_conv *c);

/* Settings for a new conversation; every field may be NULL. sampling must be JSON text. */
struct store_conv_params {
    const char *title;
    const char *model;
    const char *template_name;
    const char *system_prompt;
    const char *sampling;
};
/* Creates a conversation; its id is written to id_out (STORE_ID_LEN + 1 bytes). */
int store_conv_new(store *s, const struct store_conv_params *p, char *id_out);

/* Resolves an id or a unique prefix of one into id_out (STORE_ID_LEN + 1 bytes).
 * STORE_E_NOTFOUND / STORE_E_AMBIGUOUS (the message lists the candidates). */
int store_conv_resolve(store *s, const char *prefix, char *id_out);

/* Fills *c (caller clears it with store_conv_clear) for an exact id. */
int store_conv_get(store *s, const char *id, struct store_conv *c);

enum { STORE_LIST_ARCHIVED = 1 }; /* include archived conversations */
/* Calls fn for each conversation, most recently updated first; fn's conv is borrowed for the
 * call. Stops when fn returns non-zero and returns that value; else 0 or an error. */
int store_conv_list(store *s, int flags, int (*fn)(const struct store_conv *c, void *ud), void *ud);

/* The most recently updated conversation that is not archived (for `natter -c`). NOTFOUND when
 * there is none. */
int store_conv_last(store *s, char *id_out);

/* Renames (the title then no longer follows the first message). An empty title is invalid. */
int store_conv_rename(store *s, const char *id, const char *title);
/* Deletes a conversation and its messages. */
int store_conv_delete(store *s, const char *id);
int store_conv_set_pinned(store *s, const char *id, int pinned);
int store_conv_set_archived(store *s, const char *id, int archived);
/* Set one text field; NULL clears it. sampling must be JSON text (STORE_E_INVALID otherwise). */
int store_conv_set_model(store *s, const char *id, const char *model);
int store_conv_set_template(store *s, const char *id, const char *template_name);
int store_conv_set_system(store *s, const char *id, const char *system_prompt);
int store_conv_set_sampling(store *s, const char *id, const char *sampling_json);

/* The default title for a first user message: its first non-blank line, at most 60 characters
 * (cut on a UTF-8 boundary, at a space when there is one late enough, with "…" added).
 * Writes a NUL-terminated string into buf (len >= 4 * 60 + 4 always fits). */
void store_title_from_text(const char *text, char *buf, size_t len);

/* ---- messages ---- */

struct store_msg {
    int64_t id;
    int64_t parent;      /* 0: none (a root of the conversation's tree) */
    char *role;          /* "system", "user", "assistant" or "tool" */
    char *content;
    char *created;
    char *model;         /* NULL when unknown */
    char *finish;        /* assistant replies: stop, length, stopped, error; NULL while streaming
                          * (or when the writer died mid-reply) */
    int n_tokens;        /* -1 when unknown */
    double prompt_tps;   /* < 0 when unknown */
    double gen_tps;      /* < 0 when unknown */
    char *reasoning;     /* assistant replies: the reasoning apart from the content (<think>...,
                          * harmony's analysis); NULL when there was none */
    int pinned;          /* never left out when the conversation outgrows the context */
    int sib, n_sibs;     /* its place (1-based) among the messages of the same parent, oldest
                          * first, and their count (1: no siblings) */
    int num;             /* its number in the conversation, 1 for the oldest (the JSON
                          * export's "id") */
    int depth;           /* 0 for a root */
    int active;          /* on the active path */
    size_t content_len;  /* the texts' lengths: content and reasoning may hold NUL bytes (an */
    size_t reasoning_len;/* import of "a\u0000b", a model's byte token); both NUL-terminated */
};

/* Calls fn for each message of the active path of conversation id, root first (what the
 * conversation shows, what the model is given); msg is borrowed for the call. Stops when fn
 * returns non-zero and returns that value. */
int store_msg_each(store *s, const char *id, int (*fn)(const struct store_msg *m, void *ud),
                   void *ud);

/* Appends a complete message (user, system, tool or an already-finished assistant reply)
 * under parent: 0 = the active path's last message, STORE_PARENT_ROOT = a new root, else a
 * message of the same conversation (a sibling branch starts there). The new message ends the
 * active path. The first user message sets the default title.
 * Returns the new message id (> 0) or an error. */
#define STORE_PARENT_ROOT (-1)
int64_t store_msg_add(store *s, const char *id, const char *role, const char *content,
                      int64_t parent);
/* The same with the message's reasoning (NULL: none), e.g. a finished reply copied into a new
 * conversation. */
int64_t store_msg_add_reasoning(store *s, const char *id, const char *role, const char *content,
                                const char *reasoning, int64_t parent);

/* The same with explicit lengths (content and reasoning may hold NUL bytes; reasoning NULL:
 * none). The two above call this with strlen. */
int64_t store_msg_add_len(store *s, const char *id, const char *role, const char *content,
                          size_t content_len, const char *reasoning, size_t reasoning_len,
                          int64_t parent);

/* ---- streaming replies ----
 * begin inserts an empty assistant message at once; append adds text as it arrives and writes
 * the content in a short transaction at most every STORE_REPLY_INTERVAL_MS (so a crash loses at
 * most that much); append_reasoning does the same for the reply's reasoning, kept apart (NULL
 * until the first call); flush writes what is pending now (call it when idle, e.g. on a poll
 * timeout); finish writes everything with the finish reason and stats and ends the reply. One
 * reply at a time per handle. */
#define STORE_REPLY_INTERVAL_MS 250

struct store_reply_stats {
    int n_tokens;      /* generated tokens, -1 unknown */
    double prompt_tps; /* -1 unknown */
    double gen_tps;    /* -1 unknown */
};
/* Returns the new message id (> 0) or an error. model may be NULL. The reply goes under the
 * active path's last message (store_reply_begin_at: under parent, as store_msg_add's). */
int64_t store_reply_begin(store *s, const char *id, const char *model);
int64_t store_reply_begin_at(store *s, const char *id, const char *model, int64_t parent);
int store_reply_append(store *s, const char *text, size_t len);
int store_reply_append_reasoning(store *s, const char *text, size_t len);
int store_reply_flush(store *s);
/* 1 while a reply begun with store_reply_begin is being saved (0 when begin failed). */
int store_reply_active(const store *s);
/* reason: "stop" (end of generation / stop string), "length", "stopped" (cancelled), "error".
 * st may be NULL. */
int store_reply_finish(store *s, const char *reason, const struct store_reply_stats *st);

/* ---- the tree: siblings, the active path, deleting a branch, pins ----
 * msg is a message id of conversation id (STORE_E_NOTFOUND otherwise). */

/* Calls fn for every message of conversation id, depth first (a parent before its children,
 * siblings oldest first), with depth and active set. */
int store_msg_tree(store *s, const char *id, int (*fn)(const struct store_msg *m, void *ud),
                   void *ud);
/* Makes msg part of the active path: the path goes on below it through the child it went
 * through last time at each step (the newest child where none was chosen yet), so switching a
 * version and back restores the whole path below it. */
int store_msg_activate(store *s, const char *id, int64_t msg);
/* The sibling delta places from msg (clamped to the first and last) into *out. */
int store_msg_sibling(store *s, const char *id, int64_t msg, int delta, int64_t *out);
/* Deletes msg and every message below it. When the active path went through it, the path
 * goes on from its parent (through the children chosen last, else the newest remaining). Returns the count deleted. */
int store_msg_delete(store *s, const char *id, int64_t msg);
int store_msg_set_pinned(store *s, const char *id, int64_t msg, int pinned);

/* ---- search ---- */

struct store_hit {
    const char *id;      /* conversation id */
    const char *title;
    const char *role;    /* message role, or NULL when the title matched */
    int64_t msg_id;      /* 0 when the title matched */
    const char *snippet; /* the match in context, matched terms between [ and ] */
    double rank;         /* bm25: lower is better */
    int active;          /* the message is on its conversation's active path (1 for a title) */
};
/* Full-text search (FTS5, best first). Each whitespace-separated word of query must match (a
 * word ending in * matches as a prefix); FTS5 operators are not interpreted. At most limit hits
 * (limit <= 0: 100). Returns 0 or an error; fn as in store_conv_list. */
int store_search(store *s, const char *query, int limit,
                 int (*fn)(const struct store_hit *h, void *ud), void *ud);

/* ---- settings (key/value text) ---- */

/* Copies the value into buf; STORE_E_NOTFOUND when unset, STORE_E_INVALID when it does not fit. */
int store_setting_get(store *s, const char *key, char *buf, size_t len);
/* NULL value deletes the key. */
int store_setting_set(store *s, const char *key, const char *value);
#define STORE_SETTING_LAST_MODEL "last_model"
#define STORE_SETTING_THINK "think"   /* "on" / "off": the chat's /think */
#define STORE_SETTING_MARKDOWN "markdown" /* "on" / "off": the chat's /set markdown */

/* ---- JSON export / import (natter's format; see README.md "Conversations") ---- */

/* Writes conversation id (or every conversation when id is NULL, as a JSON array) as JSON into
 * *out (NUL-terminated, caller frees with free()). */
int store_export_json(store *s, const char *id, char **out);
/* Imports natter's JSON export (one object, or an array of them from export --all) or a plain
 * [{"role": ..., "content": ...}] array, all in one transaction. Each new conversation's id is
 * passed to fn (may be NULL). Invalid JSON: STORE_E_INVALID with "line L, column C" in the
 * message (name, e.g. the file name, starts it). Nothing is written on any error. */
int store_import_json(store *s, const char *name, const char *json, size_t len,
                      void (*fn)(const char *id, int n_messages, void *ud), void *ud);

/* The conversation list (as store_conv_list, newest first) as a JSON array of objects with id,
 * title, created, updated, model, template, messages (count), pinned, archived. */
int store_list_json(store *s, int flags, char **out);
/* The search hits (as store_search) as a JSON array of objects with id, title, role, message,
 * snippet, rank. */
int store_search_json(store *s, const char *query, int limit, char **out);

/* ---- JSON for callers ---- */

/* One member of a flat JSON object: an integer (is_int) or a number (NaN/inf become null). */
struct store_json_field {
    const char *key;
    int is_int;
    int64_t i;
    double d;
};
/* Builds the JSON object text of n fields (1..32) through json_write.h (numbers as
 * json_put_double writes them: a float's shortest text), so callers never write JSON by hand
 * (e.g. a conversation's sampling settings). *out is the caller's to free. */
int store_json_object(store *s, const struct store_json_field *f, int n, char **out);

/* ---- test hook (fault injection, as SQLite's own tests do) ----
 * The nth statement that writes from now on fails with SQLite result code `code`
 * (SQLITE_FULL when 0) before it runs; with sticky, every write after it fails too, as on a
 * full disk. nth = 0 turns it off. Only tests call this. */
void store_test_fault(store *s, int nth, int code, int sticky);

#endif
