/* src/cmd_template.c — placeholder until its issue lands: each command says it is not built yet. */
#include "cli.h"

int cmd_template(int argc, char **argv) {
    (void)argc;
    cli_error("%s: not implemented yet", argv[0]);
    return 1;
}

int cmd_prompts(int argc, char **argv) {
    (void)argc;
    cli_error("%s: not implemented yet", argv[0]);
    return 1;
}

