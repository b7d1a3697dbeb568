/* tests/tools/qdump.c — dequantizes every tensor of a GGUF file with natter's to_float and
 * writes each as raw float32 (DIR/INDEX.f32), listing "INDEX NAME TYPE N_VALUES" on stdout
 * (tensors of types natter cannot dequantize get a line, no file): what
 * tests/tools/qdump_check.py holds against gguf-py's independent dequantizer.
 * Usage: qdump FILE.gguf DIR */
#include <stdio.h>
#include <stdlib.h>

#include "gguf.h"
#include "quant.h"

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: qdump FILE.gguf DIR\n");
        return 2;
    }
    char err[256];
    gguf *g = NULL;
    if (gguf_open(argv[1], &g, err, sizeof err) != 0) {
        fprintf(stderr, "%s: %s\n", argv[1], err);
        return 1;
    }
    int rc = 0;
    for (int64_t k = 0; k < gguf_n_tensors(g) && rc == 0; k++) {
        const struct gguf_tensor *t = gguf_tensor_at(g, k);
        const struct quant_traits *tr = quant_traits_get(t->type);
        const int64_t n = t->ne[0] * t->ne[1] * t->ne[2] * t->ne[3];
        printf("%lld %s %s %lld\n", (long long)k, t->name, tr->name, (long long)n);
        if (!tr->to_float)
            continue;
        float *y = malloc(sizeof(float) * (size_t)n);
        char path[4096];
        snprintf(path, sizeof path, "%s/%lld.f32", argv[2], (long long)k);
        FILE *f = fopen(path, "wb");
        if (!y || !f) {
            fprintf(stderr, "%s: cannot write\n", path);
            rc = 1;
        } else {
            tr->to_float(t->data, y, n);
            if (fwrite(y, sizeof(float), (size_t)n, f) != (size_t)n) rc = 1;
        }
        if (f && fclose(f) != 0) rc = 1;
        free(y);
    }
    gguf_close(g);
    return rc;
}
