/* tests/harness.h — the test runner's API: TEST() registers a case, CHECK*() fail it, SKIP()
 * skips it. Each case runs in its own forked process (a crash fails one case, not the run), from
 * the repository root. Used only by tests/ (single-threaded per case unless the case starts
 * threads). */
#ifndef NATTER_TEST_HARNESS_H
#define NATTER_TEST_HARNESS_H

#include <stddef.h>
#include <stdio.h>
#include <string.h>

struct test_case {
    const char *name;
    const char *file;
    void (*fn)(void);
    struct test_case *next;
};

void test_register(struct test_case *tc);
void test_fail(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void test_skip(const char *why);

#define TEST(n)                                                                     \
    static void test_fn_##n(void);                                                  \
    static struct test_case test_case_##n = {#n, __FILE__, test_fn_##n, NULL};      \
    __attribute__((constructor)) static void test_reg_##n(void) {                   \
        test_register(&test_case_##n);                                              \
    }                                                                               \
    static void test_fn_##n(void)

/* Each CHECK returns from the test function on failure. */
#define CHECK(c)                                                                    \
    do { if (!(c)) { test_fail(__FILE__, __LINE__, "%s", #c); return; } } while (0)
#define CHECK_MSG(c, ...)                                                           \
    do { if (!(c)) { test_fail(__FILE__, __LINE__, __VA_ARGS__); return; } } while (0)
#define CHECK_EQ_INT(a, b)                                                          \
    do { long long a_ = (long long)(a), b_ = (long long)(b);                        \
         if (a_ != b_) { test_fail(__FILE__, __LINE__, "%s == %s: %lld != %lld",    \
                                   #a, #b, a_, b_); return; } } while (0)
#define CHECK_STR_EQ(a, b)                                                          \
    do { const char *a_ = (a), *b_ = (b);                                           \
         if (!a_ || !b_ || strcmp(a_, b_) != 0) {                                   \
             test_fail(__FILE__, __LINE__, "%s == %s: \"%s\" != \"%s\"", #a, #b,    \
                       a_ ? a_ : "(null)", b_ ? b_ : "(null)"); return; } } while (0)
#define SKIP(why) do { test_skip(why); return; } while (0)

/* ../shared (or $NATTER_SHARED): NULL when absent. test_shared_path() joins a relative path
 * into a static buffer (valid until the next call) or returns NULL when ../shared is absent. */
const char *test_shared_dir(void);
const char *test_shared_path(const char *rel);
#define REQUIRE_SHARED() do { if (!test_shared_dir()) SKIP("../shared is absent"); } while (0)

/* The natter binary under test ($NATTER_BIN) and a fresh scratch directory for this case. */
const char *test_natter_bin(void);
const char *test_tmpdir(void);

/* Runs `sh -c cmd`, captures stdout (NUL-terminated, caller frees) and returns the exit status
 * (or -1 if it could not run / died from a signal, 128+signal). stdin is /dev/null. */
int test_run(const char *cmd, char **out);

/* Reads a whole file (NUL-terminated, caller frees); NULL on error. */
char *test_read_file(const char *path, size_t *len);

#endif
