/* tests/fuzz/fuzz_remote.c — libFuzzer target for the remote backend's reading of a server's
 * reply (src/remote.c through remote_replay: the SSE stream or one JSON body, each chunk's
 * JSON, error bodies), all untrusted. Byte 0 picks the status and Content-Type, byte 1 the
 * piece size, byte 2 raw or chat; the rest is the body. The frames (written to a temporary
 * file) are checked: known types, sizes within ENG_FRAME_MAX, text frames non-empty and whole
 * well-formed UTF-8, exactly one DONE or ERROR and nothing after it, the ERROR's code what
 * remote_replay returns. Single-threaded. */
#include "backend.h"
#include "remote.h"
#include "utf8.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fz_check_frames(int fd, int rc) {
    if (lseek(fd, 0, SEEK_SET) != 0)
        abort();
    struct eng_frame h;
    unsigned char p[ENG_FRAME_MAX];
    int ends = 0;
    while (read(fd, &h, sizeof h) == (ssize_t)sizeof h) {
        if (ends || h.len > ENG_FRAME_MAX - sizeof h || read(fd, p, h.len) != h.len)
            abort();
        switch (h.type) {
        case ENG_EV_TOKEN:
        case BACKEND_EV_REASONING:
            if (h.len == 0)
                abort();
            for (size_t i = 0; i < h.len;) {
                size_t k = utf8_valid_len(p + i, h.len - i);
                if (k == 0)
                    abort();
                i += k;
            }
            break;
        case ENG_EV_STATS:
            if (h.len != sizeof(struct eng_stats))
                abort();
            break;
        case ENG_EV_DONE:
            if (h.len != 4 || rc != 0)
                abort();
            ends++;
            break;
        case ENG_EV_ERROR: {
            int32_t c;
            if (h.len < 4)
                abort();
            memcpy(&c, p, 4);
            if (c != rc || (!remote_strerror(c) && c != ENG_E_NOMEM))
                abort();
            ends++;
            break;
        }
        default:
            abort();
        }
    }
    if (ends != 1)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static const struct {
        long status;
        const char *ctype;
    } kinds[] = {{200, "text/event-stream"}, {200, "application/json"}, {200, NULL},
                 {400, "application/json"}, {404, NULL}, {429, "application/json"},
                 {500, "text/html"}, {401, "application/json"}};
    static FILE *tmp;
    if (size < 3)
        return 0;
    if (!tmp && !(tmp = tmpfile()))
        abort();
    int fd = fileno(tmp);
    if (ftruncate(fd, 0) != 0 || lseek(fd, 0, SEEK_SET) != 0)
        abort();
    unsigned k = data[0] % (sizeof kinds / sizeof kinds[0]);
    size_t step = data[1];
    int rc = remote_replay(kinds[k].status, kinds[k].ctype, (const char *)data + 3, size - 3,
                           step, data[2] & 1, fd);
    fz_check_frames(fd, rc);
    return 0;
}
