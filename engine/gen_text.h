/* engine/gen_text.h — the generation thread's output text (internal to engine/): holds back a
 * UTF-8 sequence split across tokens and any tail that could be the start of a stop string,
 * passes on the rest as valid UTF-8 (invalid bytes become U+FFFD) in chunks of at most
 * GEN_TEXT_CHUNK bytes. Each stop string carries a tag (the caller's: why it stops), so the
 * caller's own stop strings and the vocabulary's spelled-out end-of-generation texts can end a
 * reply differently. Used by one thread (the generation thread, or a test). */
#ifndef NATTER_GEN_TEXT_H
#define NATTER_GEN_TEXT_H

#include <stddef.h>

#define GEN_TEXT_CHUNK 504       /* ENG_FRAME_MAX minus the frame header */
#define GEN_TEXT_PIECE_MAX 1024  /* the longest piece pushed at once (longer ones are cut) */

struct gen_text {
    char **stop;                 /* (n_stop) non-empty copies */
    size_t *stop_len;
    int *stop_tag;               /* (n_stop) > 0, returned by gen_text_push on a match */
    int n_stop, cap_stop;
    size_t max_stop;             /* the longest stop string */
    char *pending;               /* (cap) text received but not yet passed on */
    size_t n_pending, cap;
    void (*emit)(void *ud, const char *s, size_t n);  /* receives 1..GEN_TEXT_CHUNK bytes */
    void *ud;
};

/* Copies the stop strings (NULL or empty ones are ignored), each with tag 1. 0, or -1 if out
 * of memory. */
int gen_text_init(struct gen_text *t, const char *const *stop, int n_stop,
                  void (*emit)(void *ud, const char *s, size_t n), void *ud);
void gen_text_free(struct gen_text *t);
/* Adds one more stop string (s[0..n), n > 0) with tag (> 0); before the first push. 0, or -1
 * if out of memory or a bad argument. */
int gen_text_add_stop(struct gen_text *t, const char *s, size_t n, int tag);
/* The tag of the stop string that is exactly s[0..n), or 0 if none is. */
int gen_text_stop_tag(const struct gen_text *t, const char *s, size_t n);
/* Appends a token's text and emits what can be. Returns the tag (> 0) of a stop string that is
 * now complete (the earliest in the text): the text before it was emitted, the stop string and
 * anything after it never will be. 0 otherwise. */
int gen_text_push(struct gen_text *t, const char *piece, size_t n);
/* Emits everything held back (an unfinished UTF-8 sequence as U+FFFD). */
void gen_text_flush(struct gen_text *t);

#endif
