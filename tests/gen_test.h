/* tests/gen_test.h — what the generation tests share: the frames of one generation read
 * from its pipe (tests/test_gen.c defines gen_test_collect; test_spec.c uses it too). */
#ifndef NATTER_GEN_TEST_H
#define NATTER_GEN_TEST_H

#include <stddef.h>
#include <stdint.h>

#include "engine.h"

struct gen_test_run {
    char text[8192];
    size_t n_text;
    char stream[8192];           /* TOKEN text with each SPECIAL as [text] at its place */
    size_t n_stream;
    int32_t special_id;          /* the last SPECIAL's token id */
    int n_frames, n_progress, n_stats, n_token, n_special;
    int progress_after_token, bad_id, stats_before_done;
    int done, reason, error_code;
    char error[512];
    struct eng_stats st;
};

/* Reads frames from fd until DONE or ERROR into r. */
void gen_test_collect(int fd, uint32_t id, struct gen_test_run *r);

#endif
