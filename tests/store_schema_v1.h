/* tests/store_schema_v1.h — the version 1 schema of the conversation store exactly as natter
 * 0.1 created it (WAL mode first), for the migration tests to build old databases from; they
 * add their rows after it. Version 2 is this plus messages.reasoning_content. */
#ifndef NATTER_TESTS_STORE_SCHEMA_V1_H
#define NATTER_TESTS_STORE_SCHEMA_V1_H

#define STORE_SCHEMA_V1_SQL \
    "PRAGMA journal_mode = WAL;" \
    "CREATE TABLE conversations(n INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE," \
    "  title TEXT NOT NULL DEFAULT '', title_set INTEGER NOT NULL DEFAULT 0," \
    "  created TEXT NOT NULL, updated TEXT NOT NULL, model TEXT, template TEXT," \
    "  system_prompt TEXT, sampling TEXT CHECK (sampling IS NULL OR json_valid(sampling))," \
    "  pinned INTEGER NOT NULL DEFAULT 0, archived INTEGER NOT NULL DEFAULT 0);" \
    "CREATE INDEX conversations_updated ON conversations(updated);" \
    "CREATE TABLE messages(id INTEGER PRIMARY KEY," \
    "  conv INTEGER NOT NULL REFERENCES conversations(n) ON DELETE CASCADE," \
    "  parent INTEGER REFERENCES messages(id) ON DELETE SET NULL," \
    "  role TEXT NOT NULL CHECK (role IN ('system', 'user', 'assistant', 'tool'))," \
    "  content TEXT NOT NULL DEFAULT '', created TEXT NOT NULL, tokens INTEGER, model TEXT," \
    "  prompt_tps REAL, gen_tps REAL, finish TEXT);" \
    "CREATE INDEX messages_conv ON messages(conv, id);" \
    "CREATE INDEX messages_parent ON messages(parent);" \
    "CREATE TABLE settings(key TEXT PRIMARY KEY, value TEXT NOT NULL);" \
    "CREATE VIRTUAL TABLE search USING fts5(text, tokenize = 'unicode61 remove_diacritics 2');" \
    "CREATE TRIGGER messages_ai AFTER INSERT ON messages BEGIN" \
    "  INSERT INTO search(rowid, text) VALUES (new.id * 2, new.content);" \
    "  UPDATE conversations SET updated = new.created WHERE n = new.conv; END;" \
    "CREATE TRIGGER messages_ad AFTER DELETE ON messages BEGIN" \
    "  DELETE FROM search WHERE rowid = old.id * 2; END;" \
    "CREATE TRIGGER messages_au AFTER UPDATE OF content ON messages BEGIN" \
    "  UPDATE search SET text = new.content WHERE rowid = new.id * 2; END;" \
    "CREATE TRIGGER conversations_ai AFTER INSERT ON conversations BEGIN" \
    "  INSERT INTO search(rowid, text) VALUES (new.n * 2 + 1, new.title); END;" \
    "CREATE TRIGGER conversations_ad AFTER DELETE ON conversations BEGIN" \
    "  DELETE FROM search WHERE rowid = old.n * 2 + 1; END;" \
    "CREATE TRIGGER conversations_au AFTER UPDATE OF title ON conversations BEGIN" \
    "  UPDATE search SET text = new.title WHERE rowid = new.n * 2 + 1; END;"

#endif
