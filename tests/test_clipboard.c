/* tests/test_clipboard.c — copying out of the chat (ui/clipboard.c): the exact OSC 52
 * sequence, control characters dropped from copied text, the file fallback. */
#include <stdlib.h>
#include <unistd.h>

#include "clipboard.h"
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
}
