/* src/store_io.c — natter's JSON export and import (store.h "JSON export / import") through
 * SQLite's JSON functions; untrusted JSON reaches them only after json_syntax_check, and an
 * import is checked whole before one transaction writes it. Main thread; errors as store.h
 * says. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_syntax.h"
#include "json_write.h"

#include "store_impl.h"

/* One conversation as natter's JSON export object (c is the conversations row). The system
 * prompt comes first as a message; message fields that are NULL are left out. "chosen" is the
 * number of the child a message shows (messages.chosen) when that is not its newest child (the
 * default), on the active path or off it, so a round trip keeps every branch's version. */
#define EXPORT_OBJ                                                                            \
    "json_object('natter', 1, 'id', c.id, 'title', c.title, 'model', c.model, "               \
    "'template', c.template, 'created', c.created, 'updated', c.updated, "                    \
    "'pinned', json(CASE WHEN c.pinned THEN 'true' ELSE 'false' END), "                       \
    "'archived', json(CASE WHEN c.archived THEN 'true' ELSE 'false' END), "                   \
    "'sampling', json(CASE WHEN natter_json_ok(c.sampling) THEN c.sampling END), "            \
    "'leaf', (SELECT count(*) FROM messages x WHERE x.conv = c.n AND x.id <= " LEAF_OF_C     \
    "HAVING count(*) > 0), "                                                                  \
    "'messages', json((SELECT json_group_array(json(x)) FROM ("                                \
    "SELECT json_object('role', 'system', 'content', c.system_prompt, 'created', c.created) "  \
    "AS x, 0 AS o WHERE c.system_prompt IS NOT NULL UNION ALL "                               \
    "SELECT json_patch('{}', json_object('id', m.k, 'parent', coalesce(pm.k, 0), "            \
    "'role', m.role, 'content', m.content, "                                                  \
    "'reasoning_content', m.reasoning_content, 'created', m.created, 'model', m.model, 'tokens', m.tokens, 'prompt_tps', m.prompt_tps, " \
    "'gen_tps', m.gen_tps, 'finish', m.finish, "                                              \
    "'pinned', CASE WHEN m.pinned THEN json('true') END, "                                   \
    "'chosen', CASE WHEN cm.id < (SELECT max(y.id) FROM messages y WHERE y.parent = m.id) "   \
    "THEN cm.k END)), m.k "                                                                   \
    "FROM (SELECT *, row_number() OVER (ORDER BY id) AS k FROM messages WHERE conv = c.n) m "  \
    "LEFT JOIN (SELECT id, row_number() OVER (ORDER BY id) AS k FROM messages "               \
    "WHERE conv = c.n) pm ON pm.id = m.parent "                                               \
    "LEFT JOIN (SELECT id, parent, row_number() OVER (ORDER BY id) AS k FROM messages "       \
    "WHERE conv = c.n) cm ON cm.id = m.chosen AND cm.parent = m.id "                          \
    "ORDER BY o))))"

static const char *const sql[ST_COUNT] = {
    [ST_EXPORT_ONE] = "SELECT " EXPORT_OBJ " FROM conversations c WHERE c.id = ?1",
    [ST_EXPORT_ALL] = "SELECT json_group_array(json(o)) FROM (SELECT " EXPORT_OBJ " AS o "
                      "FROM conversations c ORDER BY c.created, c.n)",
    /* import: ?1 is always the whole document */
    /* is the document an array of natter conversation objects (export --all)? */
    [ST_IMP_IS_LIST] = "SELECT count(*) > 0 AND count(*) = sum(type = 'object' AND "
                       "json_type(value, '$.messages') IS NOT NULL) FROM json_each(?1)",
    /* the conversation objects: the document itself, the elements of a natter array (?2), or
     * a plain message array wrapped as {"messages": [...]} */
    [ST_IMP_ITEMS] = "SELECT json(?1) WHERE json_type(?1) = 'object' "
                     "UNION ALL SELECT value FROM json_each(?1) WHERE json_type(?1) = 'array' "
                     "AND ?2 UNION ALL SELECT json_object('messages', json(?1)) "
                     "WHERE json_type(?1) = 'array' AND NOT ?2",
    [ST_IMP_CONV] = "SELECT json_type(?1, '$.messages'), json_type(?1, '$.title'), "
                    "natter_text(?1 -> '$.title'), json_type(?1, '$.model'), "
                    "natter_text(?1 -> '$.model'), json_type(?1, '$.template'), "
                    "natter_text(?1 -> '$.template'), "
                    "json_type(?1, '$.created'), strftime('%Y-%m-%dT%H:%M:%fZ', ?1 ->> '$.created'), "
                    "json_type(?1, '$.updated'), strftime('%Y-%m-%dT%H:%M:%fZ', ?1 ->> '$.updated'), "
                    "json_type(?1, '$.sampling'), json(?1 -> '$.sampling'), "
                    "json_type(?1, '$.pinned'), json_type(?1, '$.archived'), "
                    "json_type(?1, '$.id'), natter_text(?1 -> '$.id'), "
                    "json_type(?1, '$.messages[0].role') = 'text' AND "
                    "natter_text(?1 -> '$.messages[0].role') = 'system', "
                    "natter_text(?1 -> '$.messages[0].content'), "
                    /* 19: what the short fields hold (JSON_TEXT_* flags), 20: the same for
                     * the system prompt, which a conversation keeps as a C string */
                    "natter_text_flags(?1 -> '$.title') | natter_text_flags(?1 -> '$.model') | "
                    "natter_text_flags(?1 -> '$.template') | natter_text_flags(?1 -> '$.id'), "
                    "natter_text_flags(?1 -> '$.messages[0].content'), "
                    /* 21-23: the tree's active end, the messages' count */
                    "json_type(?1, '$.leaf'), ?1 ->> '$.leaf', json_array_length(?1, '$.messages')",
    [ST_IMP_MSGS] = "SELECT key, type, json_type(value, '$.role'), natter_text(value -> '$.role'), "
                    "json_type(value, '$.content'), json_type(value, '$.created'), "
                    "strftime('%Y-%m-%dT%H:%M:%fZ', value ->> '$.created'), "
                    "json_type(value, '$.model'), "
                    /* an integer too big for 64 bits, or a speed of 1e300 or more, is
                     * reported as a wrong type: it would not export as it came in */
                    "CASE WHEN typeof(value ->> '$.tokens') = 'real' THEN 'big' "
                    "ELSE json_type(value, '$.tokens') END, "
                    "CASE WHEN abs(value ->> '$.prompt_tps' + 0.0) >= 1e300 THEN 'big' "
                    "ELSE json_type(value, '$.prompt_tps') END, "
                    "CASE WHEN abs(value ->> '$.gen_tps' + 0.0) >= 1e300 THEN 'big' "
                    "ELSE json_type(value, '$.gen_tps') END, "
                    "json_type(value, '$.finish'), json_type(value, '$.reasoning_content'), "
                    /* 13: what the texts hold (JSON_TEXT_* flags), 14: the short fields */
                    "natter_text_flags(value -> '$.content') | "
                    "natter_text_flags(value -> '$.reasoning_content'), "
                    "natter_text_flags(value -> '$.role') | natter_text_flags(value -> '$.model') | "
                    "natter_text_flags(value -> '$.finish'), "
                    /* 15-19: the message's number and its parent's, pinned */
                    "json_type(value, '$.id'), value ->> '$.id', json_type(value, '$.parent'), "
                    "value ->> '$.parent', json_type(value, '$.pinned'), "
                    /* 20-21: "chosen": its type, and whether it names a later message whose
                     * parent this one is (?2: 1 when a system prompt leads the array) */
                    "json_type(value, '$.chosen'), EXISTS (SELECT 1 FROM json_each(?1, "
                    "'$.messages') b WHERE a.key >= ?2 AND "
                    "b.key = ?2 + (a.value ->> '$.chosen') - 1 AND b.key > a.key AND "
                    "coalesce(b.value ->> '$.parent', b.key - ?2) = a.key + 1 - ?2) "
                    "FROM json_each(?1, '$.messages') a ORDER BY key",
    [ST_IMP_ID_FREE] = "SELECT NOT EXISTS (SELECT 1 FROM conversations WHERE id = ?1)",
    /* message k of the array (1-based, the leading system message not counted) gets id
     * ?5 + k - 1, so the parent links ("parent": k, 0 for a root, none: the message before)
     * become ids; the check made sure each parent comes before its child */
    [ST_IMP_INSERT] = "INSERT INTO messages(id, parent, pinned, conv, role, content, created, "
                      "model, tokens, prompt_tps, gen_tps, finish, reasoning_content) SELECT "
                      "?5 + key - ?4, CASE WHEN value ->> '$.parent' IS NULL THEN "
                      "CASE WHEN key > ?4 THEN ?5 + key - ?4 - 1 END "
                      "WHEN value ->> '$.parent' = 0 THEN NULL "
                      "ELSE ?5 + (value ->> '$.parent') - 1 END, "
                      "coalesce(value ->> '$.pinned', 0), ?2, "
                      "natter_text(value -> '$.role'), natter_text(value -> '$.content'), "
                      "coalesce(strftime('%Y-%m-%dT%H:%M:%fZ', value ->> '$.created'), ?3), "
                      "natter_text(value -> '$.model'), value ->> '$.tokens', "
                      "value ->> '$.prompt_tps', value ->> '$.gen_tps', "
                      "natter_text(value -> '$.finish'), "
                      "natter_text(value -> '$.reasoning_content') "
                      "FROM json_each(?1, '$.messages') WHERE key >= ?4 ORDER BY key",
    /* the children chosen (checked: each a child of its message), before the active path's;
     * ST_IMP_INSERT's parameters (?2, conversation n, and ?3, now, unused here) */
    [ST_IMP_CHOSEN] = "UPDATE messages SET chosen = ?5 + (j.value ->> '$.chosen') - 1 FROM "
                      "json_each(?1, '$.messages') j WHERE j.key >= ?4 AND ?2 = messages.conv "
                      "AND ?3 IS NOT NULL AND j.value ->> '$.chosen' IS NOT NULL AND "
                      "messages.id = ?5 + j.key - ?4",
    [ST_IMP_BASE] = "SELECT coalesce(max(id), 0) + 1 FROM messages",
    [ST_IMP_FIRST_USER] = "SELECT content FROM messages WHERE conv = ?1 AND role = 'user' "
                          "ORDER BY id LIMIT 1",
    [ST_IMP_FINISH] = "UPDATE conversations SET updated = coalesce(?2, updated), pinned = ?3, "
                      "archived = ?4 WHERE n = ?1",
};

static sqlite3_stmt *stmt(store *s, enum stmt_id id) { return store_stmt(s, id, sql[id]); }

/* natter_json_ok(X) in SQL: 1 when X is text that passes json_syntax_check, else 0. Stored JSON
 * (the sampling settings) goes through it before SQLite's json() renders it: another program
 * may have written text that SQLite 3.40's json_valid() (the column's CHECK) lets through. */
static void sql_json_ok(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
    (void)argc;
    const char *t = (const char *)sqlite3_value_text(argv[0]);
    size_t off;
    const char *why;
    sqlite3_result_int(ctx, t && json_syntax_check(t, (size_t)sqlite3_value_bytes(argv[0]), &off,
                                                   &why) == 0);
}

/* natter_text(X) in SQL: the exact bytes of the JSON string literal X (a string member as `->`
 * gives it), NUL bytes included and invalid UTF-8 replaced by U+FFFD (json_text_decode); NULL
 * when X is not a string. natter_text_flags(X): its JSON_TEXT_* flags (0 for a non-string).
 * Import reads every text member through these: SQLite 3.40's `->>` stops at \u0000. */
static void sql_text(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
    (void)argc;
    const char *t = (const char *)sqlite3_value_text(argv[0]);
    size_t n = (size_t)sqlite3_value_bytes(argv[0]), len = 0;
    char *out = t ? sqlite3_malloc64(3 * (sqlite3_uint64)n + 1) : NULL;
    if (t && !out) {
        sqlite3_result_error_nomem(ctx);
        return;
    }
    int flags = t ? json_text_decode(t, n, out, &len) : -1;
    if (sqlite3_user_data(ctx))
        sqlite3_result_int(ctx, flags < 0 ? 0 : flags);
    else if (flags < 0)
        sqlite3_result_null(ctx);
    else {
        sqlite3_result_text(ctx, out, (int)len, sqlite3_free);
        return;
    }
    sqlite3_free(out);
}

int store_io_register(sqlite3 *db) {
    static int flags_fn = 1; /* user data: natter_text_flags rather than natter_text */
    int rc = sqlite3_create_function(db, "natter_json_ok", 1, SQLITE_UTF8 | SQLITE_DETERMINISTIC,
                                     NULL, sql_json_ok, NULL, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_create_function(db, "natter_text", 1, SQLITE_UTF8 | SQLITE_DETERMINISTIC,
                                     NULL, sql_text, NULL, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_create_function(db, "natter_text_flags", 1,
                                     SQLITE_UTF8 | SQLITE_DETERMINISTIC, &flags_fn, sql_text,
                                     NULL, NULL);
    return rc;
}

int store_export_json(store *s, const char *id, char **out) {
    *out = NULL;
    int fr = store_reply_flush(s); /* a failed write keeps the reply's text to retry */
    if (fr)
        return fr;
    sqlite3_stmt *q = stmt(s, id ? ST_EXPORT_ONE : ST_EXPORT_ALL);
    if (!q)
        return STORE_E_SQL;
    if (id)
        store_bind_text(s, q, 1, id);
    int r = store_json_result(s, q, out, "export");
    if (r == STORE_E_NOTFOUND && id)
        store_set_err(s, "no conversation '%s'", id);
    return r;
}

static int type_is(const unsigned char *t, const char *a, const char *b) {
    return !t || !strcmp((const char *)t, "null") || !strcmp((const char *)t, a) ||
           (b && !strcmp((const char *)t, b));
}

/* Checks the shape of one conversation object (item); reports with name and the message index. */
static int import_check(store *s, const char *name, const char *item, int n_item) {
    char where[64] = "";
    if (n_item >= 0)
        snprintf(where, sizeof where, "conversation %d: ", n_item + 1);
    sqlite3_stmt *q = stmt(s, ST_IMP_CONV);
    if (!q)
        return STORE_E_SQL;
    store_bind_text(s, q, 1, item);
    int rc = store_step(s, q);
    if (rc != SQLITE_ROW) {
        store_stmt_done(s, q);
        return store_sql_err(s, "import");
    }
    const char *bad = NULL;
    const unsigned char *mt = sqlite3_column_text(q, 0);
    if (!mt || strcmp((const char *)mt, "array"))
        bad = "\"messages\" must be an array";
    else if (!type_is(sqlite3_column_text(q, 1), "text", NULL))
        bad = "\"title\" must be a string";
    else if (!type_is(sqlite3_column_text(q, 3), "text", NULL))
        bad = "\"model\" must be a string";
    else if (!type_is(sqlite3_column_text(q, 5), "text", NULL))
        bad = "\"template\" must be a string";
    else if (sqlite3_column_type(q, 7) != SQLITE_NULL && sqlite3_column_type(q, 8) == SQLITE_NULL)
        bad = "\"created\" must be a date and time (2026-11-21T14:34:10.123Z)";
    else if (sqlite3_column_type(q, 9) != SQLITE_NULL && sqlite3_column_type(q, 10) == SQLITE_NULL)
        bad = "\"updated\" must be a date and time (2026-11-21T14:34:10.123Z)";
    else if (!type_is(sqlite3_column_text(q, 11), "object", NULL))
        bad = "\"sampling\" must be an object";
    else if (!type_is(sqlite3_column_text(q, 13), "true", "false"))
        bad = "\"pinned\" must be true or false";
    else if (!type_is(sqlite3_column_text(q, 14), "true", "false"))
        bad = "\"archived\" must be true or false";
    else if (sqlite3_column_int(q, 19) & JSON_TEXT_NUL)
        bad = "\"title\", \"model\", \"template\" and \"id\" cannot hold a NUL byte (U+0000)";
    else if (sqlite3_column_int(q, 17) && (sqlite3_column_int(q, 20) & JSON_TEXT_NUL))
        bad = "message 1: a system prompt cannot hold a NUL byte (U+0000)";
    int n_bad_utf8 = (sqlite3_column_int(q, 19) & JSON_TEXT_BAD_UTF8) != 0;
    int lead = sqlite3_column_int(q, 17);
    long long n_msgs = sqlite3_column_int64(q, 23) - lead, leaf = sqlite3_column_int64(q, 22);
    if (!bad && (!type_is(sqlite3_column_text(q, 21), "integer", NULL) ||
                 (sqlite3_column_type(q, 22) != SQLITE_NULL && (leaf < 1 || leaf > n_msgs))))
        bad = "\"leaf\" must be the number of one of its messages";
    store_stmt_done(s, q);
    if (bad) {
        store_set_err(s, "%s: %s%s", name, where, bad);
        return STORE_E_INVALID;
    }
    q = stmt(s, ST_IMP_MSGS);
    if (!q)
        return STORE_E_SQL;
    store_bind_text(s, q, 1, item);
    store_bind_int(s, q, 2, lead);
    long long key = 0;
    char first_bad[96] = ""; /* where invalid UTF-8 was first replaced */
    if (n_bad_utf8)
        snprintf(first_bad, sizeof first_bad, "%sthe title, model, template or id", where);
    while (!bad && (rc = store_step(s, q)) == SQLITE_ROW) {
        key = sqlite3_column_int64(q, 0);
        const char *role = (const char *)sqlite3_column_text(q, 3);
        const unsigned char *ct = sqlite3_column_text(q, 4);
        if (strcmp((const char *)sqlite3_column_text(q, 1), "object"))
            bad = "must be an object";
        else if (!sqlite3_column_text(q, 2) || strcmp((const char *)sqlite3_column_text(q, 2), "text") ||
                 !store_role_ok(role))
            bad = "\"role\" must be \"system\", \"user\", \"assistant\" or \"tool\"";
        else if (!ct || strcmp((const char *)ct, "text"))
            bad = "\"content\" must be a string";
        else if (sqlite3_column_type(q, 5) != SQLITE_NULL &&
                 strcmp((const char *)sqlite3_column_text(q, 5), "null") &&
                 sqlite3_column_type(q, 6) == SQLITE_NULL)
            bad = "\"created\" must be a date and time (2026-11-21T14:34:10.123Z)";
        else if (!type_is(sqlite3_column_text(q, 7), "text", NULL))
            bad = "\"model\" must be a string";
        else if (!type_is(sqlite3_column_text(q, 8), "integer", NULL))
            bad = "\"tokens\" must be a 64-bit integer";
        else if (!type_is(sqlite3_column_text(q, 9), "real", "integer"))
            bad = "\"prompt_tps\" must be a number below 1e300";
        else if (!type_is(sqlite3_column_text(q, 10), "real", "integer"))
            bad = "\"gen_tps\" must be a number below 1e300";
        else if (!type_is(sqlite3_column_text(q, 11), "text", NULL))
            bad = "\"finish\" must be a string";
        else if (!type_is(sqlite3_column_text(q, 12), "text", NULL))
            bad = "\"reasoning_content\" must be a string";
        else if (sqlite3_column_int(q, 14) & JSON_TEXT_NUL)
            bad = "\"role\", \"model\" and \"finish\" cannot hold a NUL byte (U+0000)";
        else if (!type_is(sqlite3_column_text(q, 19), "true", "false"))
            bad = "\"pinned\" must be true or false";
        else if (key >= lead) { /* the tree: "id" is the message's number, "parent" an earlier
                                 * one's (0: a root) */
            long long k = key + 1 - lead;
            if (!type_is(sqlite3_column_text(q, 15), "integer", NULL) ||
                (sqlite3_column_type(q, 16) != SQLITE_NULL && sqlite3_column_int64(q, 16) != k))
                bad = "\"id\" must be the message's number (1 for the first after the system "
                      "prompt)";
            else if (!type_is(sqlite3_column_text(q, 17), "integer", NULL) ||
                     (sqlite3_column_type(q, 18) != SQLITE_NULL &&
                      (sqlite3_column_int64(q, 18) < 0 || sqlite3_column_int64(q, 18) >= k)))
                bad = "\"parent\" must be the number of an earlier message, or 0";
            else if (!type_is(sqlite3_column_text(q, 20), "integer", NULL) ||
                     (sqlite3_column_type(q, 20) != SQLITE_NULL &&
                      strcmp((const char *)sqlite3_column_text(q, 20), "null") &&
                      !sqlite3_column_int(q, 21)))
                bad = "\"chosen\" must be the number of one of the message's children";
        }
        if (!bad && ((sqlite3_column_int(q, 13) | sqlite3_column_int(q, 14)) & JSON_TEXT_BAD_UTF8)) {
            if (!n_bad_utf8++)
                snprintf(first_bad, sizeof first_bad, "%smessage %lld", where, key + 1);
        }
    }
    store_stmt_done(s, q);
    if (bad) {
        store_set_err(s, "%s: %smessage %lld: %s", name, where, key + 1, bad);
        return STORE_E_INVALID;
    }
    if (rc != SQLITE_DONE)
        return store_sql_err(s, "import");
    if (n_bad_utf8 && !s->notice[0])
        snprintf(s->notice, sizeof s->notice, "%s: %s%s: invalid UTF-8 replaced with U+FFFD",
                 name, first_bad, n_bad_utf8 > 1 ? " and others" : "");
    return 0;
}

/* Inserts one checked conversation object. */
static int import_one(store *s, const char *item, char *id_out, int *n_msgs) {
    sqlite3_stmt *q = stmt(s, ST_IMP_CONV);
    if (!q)
        return STORE_E_SQL;
    store_bind_text(s, q, 1, item);
    if (store_step(s, q) != SQLITE_ROW) {
        store_stmt_done(s, q);
        return store_sql_err(s, "import");
    }
    char now[32];
    store_now_iso(now, sizeof now);
    char *title = store_dup_col(q, 2), *model = store_dup_col(q, 4), *tmpl = store_dup_col(q, 6);
    char *created = store_dup_col(q, 8), *updated = store_dup_col(q, 10), *sampling = store_dup_col(q, 12);
    char *want_id = store_dup_col(q, 16), *system = NULL;
    const unsigned char *pt = sqlite3_column_text(q, 13), *at = sqlite3_column_text(q, 14);
    int pinned = pt && !strcmp((const char *)pt, "true");
    int archived = at && !strcmp((const char *)at, "true");
    int lead_system = sqlite3_column_int(q, 17);
    if (lead_system)
        system = store_dup_col(q, 18);
    int64_t leaf = sqlite3_column_type(q, 22) == SQLITE_NULL ? 0 : sqlite3_column_int64(q, 22);
    store_stmt_done(s, q);

    int64_t n = 0;
    struct store_conv_params p = {
        .title = title, .model = model, .template_name = tmpl, .system_prompt = system,
        .sampling = sampling,
    };
    int r = 0;
    /* keep the exported id when it is well-formed and free (an exact round trip) */
    int keep = want_id && strlen(want_id) == STORE_ID_LEN &&
               strspn(want_id, "0123456789abcdef") == STORE_ID_LEN;
    if (keep && (q = stmt(s, ST_IMP_ID_FREE)) != NULL) {
        store_bind_text(s, q, 1, want_id);
        keep = store_step(s, q) == SQLITE_ROW && sqlite3_column_int(q, 0);
        store_stmt_done(s, q);
    }
    r = store_conv_insert(s, &p, created ? created : now, keep ? want_id : NULL, id_out, &n);
    int64_t base = 0; /* the id of its first message */
    if (r == 0 && (q = stmt(s, ST_IMP_BASE)) != NULL) {
        r = store_step_row(s, q, "import messages", "import%s", "");
        base = sqlite3_column_int64(q, 0);
        store_stmt_done(s, q);
    } else if (r == 0)
        r = STORE_E_SQL;
    /* the messages, then the children they show (both statements take the same parameters) */
    for (int k = 0; k < 2 && r == 0; k++) {
        if (!(q = stmt(s, k ? ST_IMP_CHOSEN : ST_IMP_INSERT))) {
            r = STORE_E_SQL;
            break;
        }
        store_bind_text(s, q, 1, item);
        store_bind_int64(s, q, 2, n);
        store_bind_text(s, q, 3, now);
        store_bind_int(s, q, 4, lead_system ? 1 : 0);
        store_bind_int64(s, q, 5, base);
        r = store_exec(s, q, "import messages");
        if (!k)
            *n_msgs = sqlite3_changes(s->db);
    }
    if (r == 0) /* the active path: its "leaf", else the last message */
        r = store_tree_set_leaf(s, n, *n_msgs ? base + (leaf ? leaf : *n_msgs) - 1 : 0, 0);
    if (r == 0 && !(title && *title) && (q = stmt(s, ST_IMP_FIRST_USER)) != NULL) {
        store_bind_int64(s, q, 1, n);
        int rc = store_step(s, q);
        char *first = rc == SQLITE_ROW ? store_dup_col(q, 0) : NULL;
        store_stmt_done(s, q);
        if (rc != SQLITE_ROW && rc != SQLITE_DONE)
            r = store_sql_err(s, "import");
        else if (first)
            r = store_conv_autotitle(s, n, first, strlen(first));
        free(first);
    }
    if (r == 0 && (q = stmt(s, ST_IMP_FINISH)) != NULL) {
        store_bind_int64(s, q, 1, n);
        store_bind_text(s, q, 2, updated);
        store_bind_int(s, q, 3, pinned);
        store_bind_int(s, q, 4, archived);
        r = store_exec(s, q, "import");
    } else if (r == 0)
        r = STORE_E_SQL;
    free(title);
    free(model);
    free(tmpl);
    free(created);
    free(updated);
    free(sampling);
    free(want_id);
    free(system);
    return r;
}

struct import_item {
    char *json;
};

int store_import_json(store *s, const char *name, const char *json, size_t len,
                      void (*fn)(const char *id, int n_messages, void *ud), void *ud) {
    if (len > 0x3fffffff) {
        store_set_err(s, "%s: too large to import", name);
        return STORE_E_INVALID;
    }
    /* SQLite's JSON functions see only text that passed the strict check (json_syntax.h) */
    char bad[96];
    if (json_syntax_error(json, len, bad, sizeof bad)) {
        store_set_err(s, "%s: %s", name, bad);
        return STORE_E_INVALID;
    }
    const char top = json_syntax_top(json, len);
    if (top != '{' && top != '[') {
        store_set_err(s, "%s: expected a conversation object or an array of messages", name);
        return STORE_E_INVALID;
    }
    sqlite3_stmt *q;
    int rc, is_list = 0;
    if (top == '[') {
        if (!(q = stmt(s, ST_IMP_IS_LIST)))
            return STORE_E_SQL;
        store_bind_text_len(s, q, 1, json, len);
        rc = store_step(s, q);
        is_list = rc == SQLITE_ROW && sqlite3_column_int(q, 0);
        store_stmt_done(s, q);
        if (rc != SQLITE_ROW)
            return store_sql_err(s, "import");
    }
    /* collect the conversation objects, then check them all before writing anything */
    struct import_item *items = NULL;
    int n_items = 0, cap = 0, r = 0;
    if (!(q = stmt(s, ST_IMP_ITEMS)))
        return STORE_E_SQL;
    store_bind_text_len(s, q, 1, json, len);
    store_bind_int(s, q, 2, is_list);
    while ((rc = store_step(s, q)) == SQLITE_ROW) {
        if (n_items == cap) {
            cap = cap ? 2 * cap : 8;
            struct import_item *g = realloc(items, (size_t)cap * sizeof *items);
            if (!g) {
                r = STORE_E_NOMEM;
                break;
            }
            items = g;
        }
        if (!(items[n_items].json = store_dup_col(q, 0))) {
            r = STORE_E_NOMEM;
            break;
        }
        n_items++;
    }
    store_stmt_done(s, q);
    if (r == STORE_E_NOMEM)
        store_set_err(s, "out of memory");
    else if (rc != SQLITE_DONE)
        r = store_sql_err(s, "import");
    s->notice[0] = 0;
    for (int i = 0; r == 0 && i < n_items; i++)
        r = import_check(s, name, items[i].json, is_list ? i : -1);
    char (*ids)[STORE_ID_LEN + 1] = NULL;
    int *counts = NULL;
    if (r == 0 && n_items) {
        ids = calloc((size_t)n_items, sizeof *ids);
        counts = calloc((size_t)n_items, sizeof *counts);
        if (!ids || !counts) {
            store_set_err(s, "out of memory");
            r = STORE_E_NOMEM;
        }
    }
    if (r == 0 && (r = store_tx_begin(s)) == 0) {
        for (int i = 0; r == 0 && i < n_items; i++)
            r = import_one(s, items[i].json, ids[i], &counts[i]);
        if (r == 0)
            r = store_tx_commit(s);
        if (r)
            store_tx_rollback(s);
    }
    if (r == 0 && fn)
        for (int i = 0; i < n_items; i++)
            fn(ids[i], counts[i], ud);
    for (int i = 0; i < n_items; i++)
        free(items[i].json);
    free(items);
    free(ids);
    free(counts);
    return r;
}

/* ---- JSON for callers ---- */

int store_json_object(store *s, const struct store_json_field *f, int n, char **out) {
    *out = NULL;
    if (n < 1 || n > 32) {
        store_set_err(s, "json object: %d fields (1 to 32)", n);
        return STORE_E_INVALID;
    }
    struct json_buf b = {0};
    json_puts(&b, "{");
    for (int i = 0; i < n; i++) {
        if (i)
            json_puts(&b, ",");
        json_put_str(&b, f[i].key, strlen(f[i].key));
        json_puts(&b, ":");
        if (f[i].is_int)
            json_put_int(&b, f[i].i);
        else
            json_put_double(&b, f[i].d);
    }
    json_puts(&b, "}");
    if (b.oom) {
        free(b.p);
        store_set_err(s, "out of memory");
        return STORE_E_NOMEM;
    }
    *out = b.p;
    return 0;
}
