/* tests/test_clipboard.c — the escape sequences the chat writes itself: OSC 52 copies
 * (ui/clipboard.c: the exact bytes, control characters dropped from copied text, the file
 * fallback) and OSC 8 hyperlinks (ui/hyperlink.c: the exact bytes, refused targets, when). */
#include <stdlib.h>
#include <unistd.h>

#include "clipboard.h"
#include "hyperlink.h"
#include "harness.h"

TEST(clipboard_osc52_sequence) {
    size_t n;
    char *s = clip_osc52("hi", 2, &n);
    CHECK_STR_EQ(s, "\033]52;c;aGk=\a");
    CHECK_EQ_INT(n, 12);
    free(s);
    s = clip_osc52("", 0, &n);
    CHECK_STR_EQ(s, "\033]52;c;\a");
    free(s);
    s = clip_osc52("def f():\n\treturn 1\xe6\x97\xa5", 21, &n);
    CHECK_STR_EQ(s, "\033]52;c;ZGVmIGYoKToKCXJldHVybiAx5pel\a");
    free(s);
}

TEST(clipboard_clean_drops_controls) {
    size_t n;
    char *s = clip_clean("a\033[31mb\tc\nd\x07\x7f\xc2\x9b" "e\xff", 17, &n);
    CHECK_STR_EQ(s, "a[31mb\tc\nde\xef\xbf\xbd");
    CHECK_EQ_INT(n, strlen(s));
    free(s);
}

TEST(clipboard_file_fallback) {
    char dir[4200], msg[256], want[4300];
    snprintf(dir, sizeof dir, "%s/state", test_tmpdir());
    setenv("XDG_STATE_HOME", dir, 1);
    setenv("NATTER_CLIPBOARD", "file", 1);
    CHECK_EQ_INT(clip_copy("x\033y\n", 4, -1, msg, sizeof msg), 0);
    snprintf(want, sizeof want, "copied to %s/natter/clipboard.txt (OSC 52 is off: "
             "NATTER_CLIPBOARD or TERM)", dir);
    CHECK_STR_EQ(msg, want);
    snprintf(want, sizeof want, "%s/natter/clipboard.txt", dir);
    char *got = test_read_file(want, NULL);
    CHECK_STR_EQ(got, "xy\n");
    free(got);
    /* OSC 52 to a descriptor that cannot be written: the file, and the notice says why */
    setenv("NATTER_CLIPBOARD", "osc52", 1);
    CHECK_EQ_INT(clip_copy("z", 1, -1, msg, sizeof msg), 0);
    CHECK(strstr(msg, "(the terminal could not be written)"));
    /* OSC 52 written to a pipe: the exact bytes */
    int p[2];
    CHECK_EQ_INT(pipe(p), 0);
    CHECK_EQ_INT(clip_copy("hi\n", 3, p[1], msg, sizeof msg), 0);
    CHECK_STR_EQ(msg, "copied 1 line to the clipboard (OSC 52)");
    char buf[64] = {0};
    CHECK_EQ_INT(read(p[0], buf, sizeof buf - 1), 12);
    CHECK_STR_EQ(buf, "\033]52;c;aGkK\a");
    close(p[0]);
    close(p[1]);
    /* a clipboard file that cannot take the text (a full disk: /dev/full): -1, and why */
    if (access("/dev/full", W_OK) == 0) {
        setenv("NATTER_CLIPBOARD", "file", 1);
        CHECK_EQ_INT(unlink(want), 0);
        CHECK_EQ_INT(symlink("/dev/full", want), 0);
        CHECK_EQ_INT(clip_copy("lost?", 5, -1, msg, sizeof msg), -1);
        char want_msg[4400];
        snprintf(want_msg, sizeof want_msg, "cannot copy to %s: No space left on device", want);
        CHECK_STR_EQ(msg, want_msg);
        unlink(want);
    } else {
        printf("skipped: the full-disk copy (no /dev/full)\n");
    }
}

TEST(hyperlink_sequence_and_detection) {
    char buf[256];
    size_t n = hyper_append(buf, sizeof buf, 0, 2, 5, "https://e.org/a?b=1", "0;4;34", "link", 4);
    CHECK_STR_EQ(buf, "\033[3;6H\033]8;;https://e.org/a?b=1\033\\\033[0;4;34mlink\033]8;;\033\\"
                      "\033[0m");
    CHECK_EQ_INT(n, strlen(buf));
    /* targets with control bytes, spaces, non-ASCII, or nothing: not sent */
    CHECK_EQ_INT(hyper_append(buf, sizeof buf, 0, 0, 0, "http://a/\033]", "0", "x", 1), 0);
    CHECK_EQ_INT(hyper_append(buf, sizeof buf, 0, 0, 0, "http://a b", "0", "x", 1), 0);
    CHECK_EQ_INT(hyper_append(buf, sizeof buf, 0, 0, 0, "http://\xc3\xa9", "0", "x", 1), 0);
    CHECK_EQ_INT(hyper_append(buf, sizeof buf, 0, 0, 0, "", "0", "x", 1), 0);
    /* what does not fit is left out whole */
    CHECK_EQ_INT(hyper_append(buf, 20, 3, 0, 0, "http://a", "0", "x", 1), 3);
    unsetenv("TMUX");
    unsetenv("STY");
    unsetenv("TERM_PROGRAM");
    unsetenv("VTE_VERSION");
    unsetenv("KITTY_WINDOW_ID");
    unsetenv("WT_SESSION");
    setenv("NATTER_HYPERLINKS", "", 1);
    CHECK_EQ_INT(hyper_enabled(), 0);
    setenv("VTE_VERSION", "7200", 1);
    CHECK_EQ_INT(hyper_enabled(), 1);
    setenv("TMUX", "/tmp/x,1,0", 1);
    CHECK_EQ_INT(hyper_enabled(), 0);
    setenv("NATTER_HYPERLINKS", "1", 1);
    CHECK_EQ_INT(hyper_enabled(), 1);
    setenv("NATTER_HYPERLINKS", "0", 1);
    unsetenv("TMUX");
    CHECK_EQ_INT(hyper_enabled(), 0);
}
