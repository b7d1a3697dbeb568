/* src/cmd_tokenize.c — `natter tokenize -m MODEL [--no-bos] [--special] TEXT`: prints the token
 * ids of TEXT, separated by spaces. Loads only the model's tokenizer. Main thread. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "argv.h"
#include "chat_prompt.h"
#include "cli.h"
#include "engine.h"

static const char tokenize_usage[] = "tokenize -m MODEL [--no-bos] [--special] TEXT";

int cmd_tokenize(int argc, char **argv) {
    const char *model = NULL, *text = NULL;
    int add_special = 1, parse_special = 0;
    enum { O_MODEL = ARGV_ID, O_NO_BOS, O_SPECIAL };
    static const struct argv_opt opts[] = {
        {"--model", "-m", ARGV_VALUE, O_MODEL}, {"--no-bos", NULL, ARGV_FLAG, O_NO_BOS},
        {"--special", NULL, ARGV_FLAG, O_SPECIAL}, {NULL, NULL, 0, 0},
    };
    struct argv_state st;
    argv_init(&st, argc, argv, tokenize_usage, NULL);
    int o;
    while ((o = argv_next(&st, opts)) > ARGV_END) {
        switch (o) {
        case O_MODEL: model = st.val; break;
        case O_NO_BOS: add_special = 0; break;
        case O_SPECIAL: parse_special = 1; break;
        case ARGV_POS:
            if (text)
                return argv_error(&st, "one TEXT only (quote it): unexpected '%s'", st.val);
            text = st.val;
            break;
        default: return argv_unknown(&st);
        }
    }
    if (o < ARGV_END)
        return argv_status(o);
    if (!model || !text)
        return cli_usage(tokenize_usage);

    eng_model *m = cli_vocab_load(model);
    if (!m)
        return 1;
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
