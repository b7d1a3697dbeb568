/* tests/tools/tokbytes.c — the bytes of weights a generated token reads from a GGUF file, the
 * numerator of generation's share of the memory bandwidth (bench/run.sh, bench/compare.sh):
 * every tensor once, except the token embedding table, of which a token reads one row (unless
 * the output projection is tied to it and reads it all). Mixture-of-experts files count every
 * expert (an upper bound). Prints "TOKEN_BYTES FILE_TENSOR_BYTES"; a one-line error and exit 1
 * on a file it cannot read. Usage: tokbytes FILE.gguf */
#include <stdio.h>
#include <string.h>

#include "gguf.h"

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: tokbytes FILE.gguf\n");
        return 2;
    }
    gguf *g;
    char err[256];
    if (gguf_open(argv[1], &g, err, sizeof err) != 0) {
        fprintf(stderr, "tokbytes: %s\n", err);
        return 1;
    }
    unsigned long long all = 0, tok = 0;
    const int tied = gguf_tensor_find(g, "output.weight") == NULL;
    for (int64_t i = 0; i < gguf_n_tensors(g); i++) {
        const struct gguf_tensor *t = gguf_tensor_at(g, i);
        all += t->nbytes;
        if (!tied && strcmp(t->name, "token_embd.weight") == 0 && t->ne[1] > 0)
            tok += t->nbytes / (unsigned long long)t->ne[1]; /* one row */
        else
            tok += t->nbytes;
    }
    printf("%llu %llu\n", tok, all);
    gguf_close(g);
    return 0;
}
