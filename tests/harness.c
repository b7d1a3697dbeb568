/* tests/harness.c — the test runner: forks every registered case (and every shell script in
 * tests/cli) with a time limit, runs up to -j of them at once, prints one line per case and closes
 * with "N passed, N failed[, N skipped]". Exit status 1 if anything failed. */
#include "harness.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

enum { EXIT_PASS = 0, EXIT_FAIL = 1, EXIT_SKIP = 77 };
#define CASE_TIMEOUT_S 600

static struct test_case *test_list;
static char tmp_root[512];
static char case_tmp[600];

void test_register(struct test_case *tc) {
    tc->next = test_list;
    test_list = tc;
}

static int failed_in_case;

void test_fail(const char *file, int line, const char *fmt, ...) {
    va_list ap;
    fprintf(stdout, "    %s:%d: ", file, line);
    va_start(ap, fmt);
    vfprintf(stdout, fmt, ap);
    va_end(ap);
    fputc('\n', stdout);
    fflush(stdout);
    failed_in_case = 1;
}

void test_skip(const char *why) {
    printf("    skipped: %s\n", why);
    fflush(stdout);
    _exit(EXIT_SKIP);
}

const char *test_shared_dir(void) {
    static char dir[512];
    static int done;
    if (!done) {
        const char *env = getenv("NATTER_SHARED");
        struct stat st;
        snprintf(dir, sizeof dir, "%s", env && *env ? env : "../shared");
        if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
            dir[0] = 0;
        done = 1;
    }
    return dir[0] ? dir : NULL;
}

const char *test_shared_path(const char *rel) {
    static char path[1024];
    const char *d = test_shared_dir();
    if (!d)
        return NULL;
    snprintf(path, sizeof path, "%s/%s", d, rel);
    return path;
}

const char *test_natter_bin(void) {
    const char *b = getenv("NATTER_BIN");
    return b && *b ? b : "./build/natter";
}

const char *test_tmpdir(void) { return case_tmp; }

int test_run(const char *cmd, char **out) {
    char tmpl[700];
    snprintf(tmpl, sizeof tmpl, "%s/run.XXXXXX", case_tmp[0] ? case_tmp : "/tmp");
    int fd = mkstemp(tmpl);
    if (fd < 0)
        return -1;
    pid_t pid = fork();
    if (pid < 0) {
        close(fd);
        return -1;
    }
    if (pid == 0) {
        int null = open("/dev/null", O_RDONLY);
        dup2(null, 0);
        dup2(fd, 1);
        execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
        _exit(127);
    }
    int st = 0;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {}
    close(fd);
    if (out)
        *out = test_read_file(tmpl, NULL);
    unlink(tmpl);
    if (WIFEXITED(st))
        return WEXITSTATUS(st);
    if (WIFSIGNALED(st))
        return 128 + WTERMSIG(st);
    return -1;
}

char *test_read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    size_t r;
    while (buf && (r = fread(buf + n, 1, cap - n - 1, f)) > 0) {
        n += r;
        if (cap - n - 1 == 0) {
            char *nb = realloc(buf, cap * 2);
            if (!nb) { free(buf); buf = NULL; break; }
            buf = nb;
            cap *= 2;
        }
    }
    fclose(f);
    if (!buf)
        return NULL;
    buf[n] = 0;
    if (len)
        *len = n;
    return buf;
}

/* ---- the runner ---- */

struct job {
    const char *name;
    struct test_case *tc;   /* a C case, or NULL for a script */
    char script[512];
    pid_t pid;
    char log[600];
    time_t started;
};

static int rm_rf(const char *path) {
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", path);
    return system(cmd);
}

static void job_child(struct job *j, int idx) {
    snprintf(case_tmp, sizeof case_tmp, "%s/%d", tmp_root, idx);
    mkdir(case_tmp, 0700);
    int fd = open(j->log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd >= 0) {
        dup2(fd, 1);
        dup2(fd, 2);
        close(fd);
    }
    setpgid(0, 0);
    alarm(CASE_TIMEOUT_S);
    if (j->tc) {
        int null = open("/dev/null", O_RDONLY);
        dup2(null, 0);
        j->tc->fn();
        fflush(stdout);
        _exit(failed_in_case ? EXIT_FAIL : EXIT_PASS);
    }
    setenv("TEST_TMPDIR", case_tmp, 1);
    const char *sh = test_shared_dir();
    setenv("SHARED", sh ? sh : "", 1);
    setenv("NATTER", test_natter_bin(), 1);
    execl("/bin/sh", "sh", j->script, (char *)NULL);
    _exit(127);
}

static int name_cmp(const void *a, const void *b) {
    const struct job *x = a, *y = b;
    return strcmp(x->name, y->name);
}

static int matches(const char *name, int argc, char **argv, int first) {
    if (first >= argc)
        return 1;
    for (int i = first; i < argc; i++)
        if (strstr(name, argv[i]))
            return 1;
    return 0;
}

int main(int argc, char **argv) {
    int jobs = (int)sysconf(_SC_NPROCESSORS_ONLN);
    int first = 1;
    if (argc > 2 && strcmp(argv[1], "-j") == 0) {
        jobs = atoi(argv[2]);
        first = 3;
    }
    if (jobs < 1)
        jobs = 1;
    setvbuf(stdout, NULL, _IOLBF, 0);

    snprintf(tmp_root, sizeof tmp_root, "%s/natter-test.XXXXXX",
             getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (!mkdtemp(tmp_root)) {
        perror("mkdtemp");
        return 1;
    }

    size_t n = 0, cap = 64;
    struct job *all = calloc(cap, sizeof *all);
    for (struct test_case *tc = test_list; tc; tc = tc->next) {
        if (n == cap) all = realloc(all, (cap *= 2) * sizeof *all);
        all[n].tc = tc;
        all[n].name = tc->name;
        n++;
    }
    /* NATTER_TEST_SCRIPTS=0: the C cases only (make test-arm's runner has no natter binary) */
    const char *scripts = getenv("NATTER_TEST_SCRIPTS");
    DIR *d = scripts && strcmp(scripts, "0") == 0 ? NULL : opendir("tests/cli");
    struct dirent *de;
    while (d && (de = readdir(d))) {
        size_t l = strlen(de->d_name);
        if (l < 4 || strcmp(de->d_name + l - 3, ".sh") != 0)
            continue;
        if (n == cap) all = realloc(all, (cap *= 2) * sizeof *all);
        memset(&all[n], 0, sizeof all[n]);
        snprintf(all[n].script, sizeof all[n].script, "tests/cli/%s", de->d_name);
        all[n].name = strdup(de->d_name);
        n++;
    }
    if (d)
        closedir(d);
    qsort(all, n, sizeof *all, name_cmp);

    int passed = 0, failed = 0, skipped = 0, running = 0;
    size_t next = 0;
    struct job **slots = calloc((size_t)jobs, sizeof *slots);
    signal(SIGPIPE, SIG_IGN);
    while (next < n || running > 0) {
        while (running < jobs && next < n) {
            struct job *j = &all[next];
            if (!matches(j->name, argc, argv, first)) {
                next++;
                continue;
            }
            snprintf(j->log, sizeof j->log, "%s/log.%zu", tmp_root, next);
            j->started = time(NULL);
            pid_t pid = fork();
            if (pid == 0)
                job_child(j, (int)next);
            j->pid = pid;
            for (int s = 0; s < jobs; s++)
                if (!slots[s]) { slots[s] = j; break; }
            running++;
            next++;
        }
        if (running == 0)
            break;
        int st;
        pid_t pid = wait(&st);
        if (pid < 0)
            continue;
        for (int s = 0; s < jobs; s++) {
            struct job *j = slots[s];
            if (!j || j->pid != pid)
                continue;
            slots[s] = NULL;
            running--;
            kill(-pid, SIGKILL); /* whatever the case left behind */
            const char *verdict;
            char why[64] = "";
            if (WIFEXITED(st) && WEXITSTATUS(st) == EXIT_PASS) {
                verdict = "ok  ";
                passed++;
            } else if (WIFEXITED(st) && WEXITSTATUS(st) == EXIT_SKIP) {
                verdict = "skip";
                skipped++;
            } else {
                verdict = "FAIL";
                failed++;
                if (WIFSIGNALED(st))
                    snprintf(why, sizeof why, " (signal %d%s)", WTERMSIG(st),
                             WTERMSIG(st) == SIGALRM ? ": timed out" : "");
                else if (WIFEXITED(st))
                    snprintf(why, sizeof why, " (exit %d)", WEXITSTATUS(st));
            }
            printf("%s %-40s %3lds%s\n", verdict, j->name, (long)(time(NULL) - j->started), why);
            size_t len = 0;
            char *log = test_read_file(j->log, &len);
            if (log && len && (verdict[0] != 'o' || getenv("TEST_VERBOSE"))) {
                /* the last 4 KiB of what the case printed */
                const char *p = len > 4096 ? log + len - 4096 : log;
                fputs(p, stdout);
                if (log[len - 1] != '\n') fputc('\n', stdout);
            }
            free(log);
        }
    }
    rm_rf(tmp_root);
    for (size_t i = 0; i < n; i++)
        if (!all[i].tc)
            free((char *)all[i].name);
    free(all);
    free(slots);
    if (skipped)
        printf("%d passed, %d failed, %d skipped\n", passed, failed, skipped);
    else
        printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
