/* tests/test_paths.c — XDG directories (data, config, cache), database path precedence, model search path. */
#include <stdlib.h>
#include <sys/stat.h>

#include "harness.h"
#include "paths.h"

TEST(paths_xdg_data_and_config) {
    char buf[4096];
    setenv("XDG_DATA_HOME", "/x/data", 1);
    setenv("XDG_CONFIG_HOME", "/x/conf", 1);
    CHECK_STR_EQ(paths_data_dir(buf, sizeof buf), "/x/data/natter");
    CHECK_STR_EQ(paths_config_dir(buf, sizeof buf), "/x/conf/natter");
    unsetenv("XDG_DATA_HOME");
    setenv("XDG_CONFIG_HOME", "relative/ignored", 1);
    setenv("HOME", "/home/u", 1);
    CHECK_STR_EQ(paths_data_dir(buf, sizeof buf), "/home/u/.local/share/natter");
    CHECK_STR_EQ(paths_config_dir(buf, sizeof buf), "/home/u/.config/natter");
    CHECK(paths_data_dir(buf, 8) == NULL);
    setenv("XDG_CACHE_HOME", "/x/cache", 1);
    CHECK_STR_EQ(paths_cache_dir(buf, sizeof buf), "/x/cache/natter");
    unsetenv("XDG_CACHE_HOME");
    CHECK_STR_EQ(paths_cache_dir(buf, sizeof buf), "/home/u/.cache/natter");
}

TEST(paths_db_precedence) {
    char buf[4096];
    setenv("XDG_DATA_HOME", "/d", 1);
    unsetenv("NATTER_DB");
    CHECK_STR_EQ(paths_db(NULL, buf, sizeof buf), "/d/natter/natter.db");
    setenv("NATTER_DB", "/env.db", 1);
    CHECK_STR_EQ(paths_db(NULL, buf, sizeof buf), "/env.db");
    CHECK_STR_EQ(paths_db("/flag.db", buf, sizeof buf), "/flag.db");
}

TEST(paths_mkdir_p_nested) {
    char dir[1024];
    struct stat st;
    snprintf(dir, sizeof dir, "%s/a/b/c", test_tmpdir());
    CHECK_EQ_INT(paths_mkdir_p(dir), 0);
    CHECK(stat(dir, &st) == 0 && S_ISDIR(st.st_mode));
    CHECK_EQ_INT(paths_mkdir_p(dir), 0); /* exists already: fine */
}

static int count_model(const char *path, void *ud) {
    (void)path;
    ++*(int *)ud;
    return 0;
}

TEST(paths_model_search_order) {
    char dir[1024], f[1200], buf[4096];
    snprintf(dir, sizeof dir, "%s/models", test_tmpdir());
    CHECK_EQ_INT(paths_mkdir_p(dir), 0);
    const char *names[] = {"b.gguf", "a.gguf", "notes.txt"};
    for (int i = 0; i < 3; i++) {
        snprintf(f, sizeof f, "%s/%s", dir, names[i]);
        FILE *fp = fopen(f, "w");
        CHECK(fp != NULL);
        fclose(fp);
    }
    setenv("NATTER_MODELS", dir, 1);
    snprintf(f, sizeof f, "%s/a.gguf", dir);
    CHECK_STR_EQ(paths_first_model(buf, sizeof buf), f);
    setenv("XDG_DATA_HOME", "/nonexistent", 1);
    int n = 0;
    paths_models_each(count_model, &n);
    int shared = 0;
    struct stat st;
    if (stat("../shared/models", &st) == 0) {
        setenv("NATTER_MODELS", "/nonexistent", 1);
        paths_models_each(count_model, &shared);
        CHECK(shared > 0);
    }
    CHECK_EQ_INT(n, 2 + shared);
}

TEST(paths_prompts_dir_beside_the_binary) {
    char buf[4096], cmd[4200], *out = NULL;
    unsetenv("NATTER_PROMPTS");
    CHECK_STR_EQ(paths_prompts_dir(buf, sizeof buf), "prompts"); /* run from the source tree */
    /* from elsewhere, the built binary still finds the source tree's templates */
    snprintf(cmd, sizeof cmd, "cd / && NATTER_PROMPTS= %s template list", test_natter_bin());
    CHECK_EQ_INT(test_run(cmd, &out), 0);
    CHECK_MSG(out && strstr(out, "chatml"), "template list from /: %s", out ? out : "");
    free(out);
}
