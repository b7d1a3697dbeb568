/* src/cmd_run.c — placeholder until its issue lands: each command says it is not built yet. */
#include "cli.h"

int cmd_run(int argc, char **argv) {
    (void)argc;
    cli_error("%s: not implemented yet", argv[0]);
    return 1;
}

