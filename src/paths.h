/* src/paths.h — where natter finds and keeps things: XDG data/config/cache directories, the model
 * search path, the database path, the installed data directory. Main/UI thread (reads the
 * environment). Paths go into the caller's buffer: a function returns buf, or NULL when the
 * path does not fit or HOME is unset; paths_mkdir_p and paths_model_find return 0 or -1
 * (errno, or one line in err, as each says). Nothing here allocates what the caller frees. */
#ifndef NATTER_PATHS_H
#define NATTER_PATHS_H

#include <stddef.h>

/* $XDG_DATA_HOME/natter (default ~/.local/share/natter) and $XDG_CONFIG_HOME/natter (default
 * ~/.config/natter) into buf. Returns buf, or NULL if it does not fit / HOME is unset. */
char *paths_data_dir(char *buf, size_t len);
char *paths_config_dir(char *buf, size_t len);
/* $XDG_CACHE_HOME/natter (default ~/.cache/natter): the context snapshots (src/kvcache.h). */
char *paths_cache_dir(char *buf, size_t len);
/* $XDG_STATE_HOME/natter (default ~/.local/state/natter): the chat's clipboard file. */
char *paths_state_dir(char *buf, size_t len);
/* The database: --db value if given, else $NATTER_DB, else DATA_DIR/natter.db. */
char *paths_db(const char *override, char *buf, size_t len);
/* The installed prompts/ (templates/ and system/ beneath it): $NATTER_PROMPTS, else ./prompts
 * when run from the source tree, else the prompts/ of the source tree the binary was built in
 * (EXE_DIR/..), else EXE_DIR/../share/natter/prompts (installed), else NATTER_DATADIR/prompts. */
char *paths_prompts_dir(char *buf, size_t len);

/* Creates dir and its parents (mode 0700 for new ones). 0 on success, -1 with errno. */
int paths_mkdir_p(const char *dir);

/* The model search path, in order: $NATTER_MODELS (colon-separated), DATA_DIR/models,
 * ../shared/models when it exists. Calls fn(dir, ud) for each existing directory; stops early
 * when fn returns non-zero and returns that value. */
int paths_model_dirs(int (*fn)(const char *dir, void *ud), void *ud);
/* Every *.gguf in the model search path (sorted by name within a directory), as fn(path, ud). */
int paths_models_each(int (*fn)(const char *path, void *ud), void *ud);
/* The model a user names (`natter run -m NAME`, the chat's -m and /model NAME): a readable
 * file as it is; else in the search path the file whose base name is name or name.gguf (the
 * first directory wins), else the one file whose base name starts with name (case-insensitive
 * prefix). The path into buf. 0, or -1 with one line in err: no such model, or a prefix that
 * names several (listed). */
int paths_model_find(const char *name, char *buf, size_t len, char *err, size_t err_len);
/* The first .gguf of the search path into buf; NULL if there is none. */
char *paths_first_model(char *buf, size_t len);

#endif
