/* tests/test_store_robust.c — the store when the disk is full or the database read-only: every
 * failed write is reported (a negative code and a one-line message), nothing acknowledged is
 * lost, a streaming reply that could not be saved is saved by a retry once there is room again,
 * and a database the user may not write is refused at open with a message naming it — also when
 * the suite runs as root (a child drops to an unprivileged uid). The full disk is RLIMIT_FSIZE:
 * no mount needed. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "store.h"

static int srob_count(const struct store_msg *m, void *ud) {
    int *n = ud;
    (*n)++;
    (void)m;
    return 0;
}

struct srob_last {
    char content[64];
    size_t len;
    int have_finish;
};

static int srob_last_msg(const struct store_msg *m, void *ud) {
    struct srob_last *l = ud;
    l->len = strlen(m->content);
    snprintf(l->content, sizeof l->content, "%s", m->content);
    l->have_finish = m->finish != NULL;
    return 0;
}

static int srob_one_line(const char *msg) {
    return msg && msg[0] && !strchr(msg, '\n');
}

/* Soft file-size limit (the hard one stays, so it can be raised again). */
static void srob_fsize(rlim_t soft) {
    struct rlimit rl;
    getrlimit(RLIMIT_FSIZE, &rl);
    rl.rlim_cur = soft;
    setrlimit(RLIMIT_FSIZE, &rl);
}

/* Messages added one after another until the "disk" is full: each add either succeeds and is
 * there after reopening, or fails with a message; none is half-saved. */
TEST(store_robust_full_disk_messages) {
    char path[1024];
    snprintf(path, sizeof path, "%s/full.db", test_tmpdir());
    store *s = NULL;
    char err[512], id[STORE_ID_LEN + 1];
    CHECK_EQ_INT(store_open(path, &s, err, sizeof err), 0);
    CHECK_EQ_INT(store_conv_new(s, NULL, id), 0);
    signal(SIGXFSZ, SIG_IGN);
    srob_fsize(192 * 1024);
    size_t big = 8192;
    char *text = malloc(big + 1);
    int n_ok = 0, n_fail = 0;
    for (int i = 0; i < 200 && n_fail < 3; i++) {
        for (size_t k = 0; k < big; k++)
            text[k] = (char)('a' + ((k + (size_t)i * 7919) * 2654435761u >> 9) % 26);
        text[big] = 0;
        int64_t r = store_msg_add(s, id, "user", text, 0);
        if (r > 0) {
            n_ok++;
        } else {
            n_fail++;
            CHECK_MSG(srob_one_line(store_errmsg(s)), "no message: '%s'", store_errmsg(s));
        }
    }
    free(text);
    CHECK_MSG(n_fail > 0, "192 KiB limit never reached (%d adds)", n_ok);
    CHECK(n_ok > 0);
    store_close(s);
    srob_fsize(RLIM_INFINITY);

    CHECK_EQ_INT(store_open(path, &s, err, sizeof err), 0);
    int n = 0;
    CHECK_EQ_INT(store_msg_each(s, id, srob_count, &n), 0);
    CHECK_EQ_INT(n, n_ok);
    /* and the store works again once there is room */
    CHECK(store_msg_add(s, id, "user", "after", 0) > 0);
    store_close(s);
}

/* A reply streamed while the disk fills: the failure is reported, the text is kept in memory,
 * and finishing once there is room saves all of it. */
TEST(store_robust_full_disk_reply_retry) {
    char path[1024];
    snprintf(path, sizeof path, "%s/reply.db", test_tmpdir());
    store *s = NULL;
    char err[512], id[STORE_ID_LEN + 1];
    CHECK_EQ_INT(store_open(path, &s, err, sizeof err), 0);
    CHECK_EQ_INT(store_conv_new(s, NULL, id), 0);
    CHECK(store_msg_add(s, id, "user", "hello", 0) > 0);
    CHECK(store_reply_begin(s, id, "m.gguf") > 0);
    signal(SIGXFSZ, SIG_IGN);
    struct stat st;
    CHECK(stat(path, &st) == 0);
    srob_fsize(160 * 1024);
    char chunk[4096];
    size_t total = 0;
    int failed = 0;
    for (int i = 0; i < 100; i++) {
        for (size_t k = 0; k < sizeof chunk; k++)
            chunk[k] = (char)('a' + ((k + (size_t)i * 131) * 2654435761u >> 11) % 26);
        CHECK_EQ_INT(store_reply_append(s, chunk, sizeof chunk) <= 0, 1);
        total += sizeof chunk;
        if (store_reply_flush(s) < 0) {
            failed = 1;
            CHECK(srob_one_line(store_errmsg(s)));
        }
    }
    CHECK_MSG(failed, "the 160 KiB limit was never hit by a %zu-byte reply", total);
    int r = store_reply_finish(s, "stop", NULL);
    CHECK_MSG(r < 0, "finish under a full disk reported success");
    CHECK(srob_one_line(store_errmsg(s)));
    /* room again: the same reply finishes, whole */
    srob_fsize(RLIM_INFINITY);
    r = store_reply_finish(s, "stop", NULL);
    CHECK_MSG(r == 0, "finish after the disk has room: %s", store_errmsg(s));
    store_close(s);

    CHECK_EQ_INT(store_open(path, &s, err, sizeof err), 0);
    struct srob_last last = {"", 0, 0};
    CHECK_EQ_INT(store_msg_each(s, id, srob_last_msg, &last), 0);
    CHECK_EQ_INT(last.len, total);
    CHECK(last.have_finish);
    store_close(s);
}

/* A new database cannot even be created on a full disk: a message, no crash, no handle. */
TEST(store_robust_full_disk_at_open) {
    char path[1024];
    snprintf(path, sizeof path, "%s/new.db", test_tmpdir());
    signal(SIGXFSZ, SIG_IGN);
    srob_fsize(0);
    store *s = NULL;
    char err[512] = "";
    int r = store_open(path, &s, err, sizeof err);
    srob_fsize(RLIM_INFINITY);
    CHECK_MSG(r < 0, "store_open on a full disk succeeded");
    CHECK(s == NULL);
    CHECK_MSG(srob_one_line(err), "'%s'", err);
}

/* Runs fn in a child that is not root (uid/gid 65534 when the suite runs as root), so permission
 * bits apply. Returns the child's exit status, or -1 if it could not drop privileges. */
static int srob_as_user(int (*fn)(const char *dir), const char *dir) {
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        if (geteuid() == 0) {
            if (setgid(65534) != 0 || setuid(65534) != 0)
                _exit(99);
        }
        fflush(stdout);
        _exit(fn(dir));
    }
    int st;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {}
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* Each way of being read-only: refused at open with a message naming the path. */
static int srob_readonly_child(const char *dir) {
    static const char *const names[] = {"ro-file/natter.db", "ro-dir/natter.db",
                                        "ro-dir/new/natter.db", "ro-dir/absent.db"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        char path[1024], err[512] = "";
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        store *s = NULL;
        int r = store_open(path, &s, err, sizeof err);
        if (r >= 0 || s) {
            printf("    %s: opened read-write\n", names[i]);
            return 1;
        }
        if (!srob_one_line(err) || !strstr(err, dir)) {
            printf("    %s: message '%s'\n", names[i], err);
            return 2;
        }
    }
    return 0;
}

static int srob_mkdb(const char *path) {
    store *s = NULL;
    char err[512], id[STORE_ID_LEN + 1];
    if (store_open(path, &s, err, sizeof err) != 0)
        return -1;
    int r = store_conv_new(s, NULL, id) == 0 && store_msg_add(s, id, "user", "kept", 0) > 0;
    store_close(s);
    return r ? 0 : -1;
}

TEST(store_robust_readonly_database) {
    /* Outside the per-case directory, which only its owner may enter. */
    char dir[] = "/tmp/natter-ro.XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    CHECK(chmod(dir, 0755) == 0);
    char sub[1100], path[1200], cmd[1300];
    snprintf(sub, sizeof sub, "%s/ro-file", dir);
    CHECK(mkdir(sub, 0777) == 0);
    CHECK(chmod(sub, 0777) == 0);
    snprintf(path, sizeof path, "%s/natter.db", sub);
    CHECK(srob_mkdb(path) == 0);
    CHECK(chmod(path, 0444) == 0);
    snprintf(sub, sizeof sub, "%s/ro-dir", dir);
    CHECK(mkdir(sub, 0555) == 0);
    CHECK(chmod(sub, 0777) == 0);
    snprintf(path, sizeof path, "%s/natter.db", sub);
    CHECK(srob_mkdb(path) == 0);
    CHECK(chmod(path, 0666) == 0);
    CHECK(chmod(sub, 0555) == 0);

    int rc = srob_as_user(srob_readonly_child, dir);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) {}
    if (rc == 99)
        SKIP("cannot switch to an unprivileged user");
    CHECK_EQ_INT(rc, 0);
}

/* The CLI on a full disk: exit 1 and one "natter: " line (the limit applies to natter only:
 * its stderr is a pipe), and what was imported before is intact. */
TEST(store_robust_cli_full_disk) {
    const char *bin = test_natter_bin();
    char cmd[4096], *out = NULL;
    const char *d = test_tmpdir();
    /* big.json: one message of 1 MiB of varied words */
    snprintf(cmd, sizeof cmd,
             "cd '%s' && printf '[{\"role\":\"user\",\"content\":\"hi\"}]' > c.json && "
             "%s import --db full.db c.json >/dev/null && "
             "{ printf '[{\"role\":\"user\",\"content\":\"'; "
             "  awk 'BEGIN { srand(7); for (i = 0; i < 150000; i++) "
             "    printf \"%%c%%c%%c%%c%%c%%c \", 97+int(rand()*26), 97+int(rand()*26), "
             "    97+int(rand()*26), 97+int(rand()*26), 97+int(rand()*26), 97+int(rand()*26) }'; "
             "  printf '\"}]'; } > big.json && "
             "for lim in 0 400; do (trap '' XFSZ; ulimit -f $lim; "
             "%s import --db full.db big.json 2>&1 >/dev/null; echo \"rc=$?\") | cat; done",
             d, bin, bin);
    int st = test_run(cmd, &out);
    CHECK_EQ_INT(st, 0);
    CHECK_MSG(out, "no output");
    /* twice: a "natter: ..." line then rc=1 */
    const char *p = out;
    for (int i = 0; i < 2; i++) {
        CHECK_MSG(strncmp(p, "natter: ", 8) == 0, "run %d: %s", i, out);
        p = strchr(p, '\n');
        CHECK(p);
        p++;
        CHECK_MSG(strncmp(p, "rc=1\n", 5) == 0, "run %d: %s", i, out);
        p += 5;
    }
    free(out);
    snprintf(cmd, sizeof cmd, "cd '%s' && %s ls --db full.db", d, bin);
    out = NULL;
    CHECK_EQ_INT(test_run(cmd, &out), 0);
    CHECK_MSG(out && strstr(out, "hi") && !strstr(out, "big"), "%s", out ? out : "");
    free(out);
}

/* The database removed, replaced (another file moved over it) or made read-only while open:
 * every later write fails with a message saying so, and nothing is written into the file now
 * at the path. */
TEST(store_robust_file_replaced_removed_readonly) {
    char path[1024], other[1100], cmd[3200];
    snprintf(path, sizeof path, "%s/swap.db", test_tmpdir());
    snprintf(other, sizeof other, "%s.other", path);
    store *s = NULL, *o = NULL;
    char err[512], id[STORE_ID_LEN + 1], oid[STORE_ID_LEN + 1];
    CHECK_EQ_INT(store_open(path, &s, err, sizeof err), 0);
    CHECK_EQ_INT(store_conv_new(s, NULL, id), 0);
    CHECK(store_msg_add(s, id, "user", "kept", 0) > 0);
    CHECK(store_reply_begin(s, id, NULL) > 0);
    /* another database moved over it */
    CHECK_EQ_INT(store_open(other, &o, err, sizeof err), 0);
    CHECK_EQ_INT(store_conv_new(o, NULL, oid), 0);
    store_close(o);
    CHECK_EQ_INT(rename(other, path), 0);
    CHECK_EQ_INT(store_reply_append(s, "lost", 4), 0); /* buffered */
    CHECK_EQ_INT(store_reply_finish(s, "stop", NULL), STORE_E_IO);
    CHECK(strstr(store_errmsg(s), "was replaced by another file"));
    CHECK(srob_one_line(store_errmsg(s)));
    CHECK_EQ_INT(store_msg_add(s, id, "user", "more", 0), STORE_E_IO);
    CHECK_EQ_INT(store_conv_rename(s, id, "x"), STORE_E_IO);
    store_close(s);
    /* the file at the path is the other database, untouched: one empty conversation */
    CHECK_EQ_INT(store_open(path, &o, err, sizeof err), 0);
    int n = 0;
    CHECK_EQ_INT(store_msg_each(o, oid, srob_count, &n), 0);
    CHECK_EQ_INT(n, 0);
    CHECK_EQ_INT(store_conv_get(o, id, &(struct store_conv){0}), STORE_E_NOTFOUND);
    CHECK(store_msg_add(o, oid, "user", "fine", 0) > 0);
    /* made read-only (also refused for root, who could still write it) */
    CHECK_EQ_INT(chmod(path, 0444), 0);
    CHECK_EQ_INT(store_msg_add(o, oid, "user", "no", 0), STORE_E_IO);
    CHECK(strstr(store_errmsg(o), "was made read-only"));
    CHECK_EQ_INT(chmod(path, 0644), 0);
    CHECK(store_msg_add(o, oid, "user", "again", 0) > 0); /* writable again: saved again */
    /* removed */
    snprintf(cmd, sizeof cmd, "rm -f '%s' '%s-wal' '%s-shm'", path, path, path);
    CHECK_EQ_INT(system(cmd), 0);
    CHECK_EQ_INT(store_msg_add(o, oid, "user", "gone", 0), STORE_E_IO);
    CHECK(strstr(store_errmsg(o), "was removed"));
    store_close(o);

    /* replaced, then closed without a write: the -wal left beside the path holds nothing */
    CHECK_EQ_INT(store_open(path, &s, err, sizeof err), 0);
    CHECK_EQ_INT(store_conv_new(s, NULL, id), 0);
    CHECK_EQ_INT(store_open(other, &o, err, sizeof err), 0);
    CHECK_EQ_INT(store_conv_new(o, NULL, oid), 0);
    store_close(o);
    CHECK_EQ_INT(rename(other, path), 0);
    store_close(s);
    CHECK_EQ_INT(store_open(path, &o, err, sizeof err), 0);
    CHECK_EQ_INT(store_conv_get(o, id, &(struct store_conv){0}), STORE_E_NOTFOUND);
    struct store_conv c;
    CHECK_EQ_INT(store_conv_get(o, oid, &c), 0);
    store_conv_clear(&c);
    store_close(o);
}
