/* tests/fuzz/fuzz_model.c — libFuzzer target for model loading (engine/model.c over gguf.c): the
 * input is written to a scratch file and loaded with eng_model_load, so the checks on
 * hyperparameters, tensor shapes and tokenizer metadata are exercised, not only the GGUF syntax.
 * A model that loads gets a 4-token context and one decode step of its BOS token, so anything the
 * loader let through that the forward pass cannot handle shows up. Single-threaded. */
#include "engine.h"

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char fuzz_path[256];

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    const char *tmp = getenv("TMPDIR");
    snprintf(fuzz_path, sizeof fuzz_path, "%s/natter-fuzz-model-%ld.gguf",
             tmp && *tmp ? tmp : "/tmp", (long)getpid());
    return 0;
}

static int fuzz_write(const uint8_t *data, size_t size) {
    int fd = open(fuzz_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0)
        return -1;
    size_t off = 0;
    while (off < size) {
        ssize_t w = write(fd, data + off, size - off);
        if (w <= 0) {
            close(fd);
            return -1;
        }
        off += (size_t)w;
    }
    return close(fd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (fuzz_write(data, size) != 0)
        abort();
    struct eng_model_params p = eng_model_default_params();
    eng_model *m = NULL;
    int rc = eng_model_load(fuzz_path, &p, &m);
    if (rc != ENG_OK) {
        const char *e = eng_last_error();
        if (!e || !*e || strchr(e, '\n'))
            abort(); /* a refusal comes with a one-line message */
        unlink(fuzz_path);
        return 0;
    }
    struct eng_model_info info;
    eng_model_info_get(m, &info);
    (void)eng_model_meta_str(m, "tokenizer.chat_template");
    (void)eng_model_meta_str(m, "general.name");

    struct eng_ctx_params cp = eng_ctx_default_params();
    cp.n_ctx = 4;
    cp.n_batch = 4;
    cp.n_threads = 1;
    eng_ctx *c = NULL;
    if (eng_ctx_new(m, &cp, &c) == ENG_OK) {
        int32_t tok = eng_token_bos(m);
        if (tok < 0 || tok >= eng_vocab_size(m))
            tok = 0;
        if (eng_vocab_size(m) > 0 && eng_decode(c, &tok, 1, 0) == ENG_OK) {
            const float *l = eng_logits(c, -1);
            volatile float sink = 0;
            for (int i = 0; l && i < eng_vocab_size(m); i++)
                sink += l[i];
            (void)sink;
        }
        eng_ctx_free(c);
    }
    eng_model_free(m);
    unlink(fuzz_path);
    return 0;
}
