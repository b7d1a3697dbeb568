/* src/cmd_tokenize.c — `natter tokenize -m MODEL [--no-bos] [--special] TEXT`: prints the token
 * ids of TEXT, separated by spaces. Loads only the model's tokenizer. Main thread. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chat_prompt.h"
#include "cli.h"
#include "engine.h"

static const char tokenize_usage[] = "tokenize -m MODEL [--no-bos] [--special] TEXT";

int cmd_tokenize(int argc, char **argv) {
    const char *model = NULL, *text = NULL;
    int add_special = 1, parse_special = 0;
    for (int i = 1; i < argc; i++) {
        if ((strcmp(argv[i], "-m") == 0 || strcmp(argv[i], "--model") == 0) && i + 1 < argc) {
            model = argv[++i];
        } else if (strcmp(argv[i], "--no-bos") == 0) {
            add_special = 0;
        } else if (strcmp(argv[i], "--special") == 0) {
            parse_special = 1;
        } else if (strcmp(argv[i], "--") == 0 && i + 1 < argc && !text) {
            text = argv[++i];
        } else if (argv[i][0] == '-' && argv[i][1] != 0) {
            return cli_usage(tokenize_usage);
        } else if (!text) {
            text = argv[i];
        } else {
            return cli_usage(tokenize_usage);
        }
    }
    if (!model || !text)
        return cli_usage(tokenize_usage);

    struct eng_model_params mp = eng_model_default_params();
    mp.vocab_only = 1;
    eng_model *m = NULL;
    if (eng_model_load(model, &mp, &m) != ENG_OK) {
        cli_error("%s: %s", model, eng_last_error());
        return 1;
    }
    int32_t *ids = NULL;
    char err[256];
    int n = chat_tokenize(m, text, strlen(text), add_special, parse_special, NULL, &ids, err,
                          sizeof err);
    if (n < 0) {
        cli_error("tokenize: %s", err);
        eng_model_free(m);
        return 1;
    }
    for (int i = 0; i < n; i++)
        printf("%s%d", i ? " " : "", (int)ids[i]);
    putchar('\n');
    free(ids);
    eng_model_free(m);
    return fflush(stdout) == 0 ? 0 : 1;
}
