/* src/cmd_store.c — placeholder until its issue lands: each command says it is not built yet. */
#include "cli.h"

int cmd_ls(int argc, char **argv) {
    (void)argc;
    cli_error("%s: not implemented yet", argv[0]);
    return 1;
}

int cmd_show(int argc, char **argv) {
    (void)argc;
    cli_error("%s: not implemented yet", argv[0]);
    return 1;
}

int cmd_rename(int argc, char **argv) {
    (void)argc;
    cli_error("%s: not implemented yet", argv[0]);
    return 1;
}

int cmd_rm(int argc, char **argv) {
    (void)argc;
    cli_error("%s: not implemented yet", argv[0]);
    return 1;
}

int cmd_search(int argc, char **argv) {
    (void)argc;
    cli_error("%s: not implemented yet", argv[0]);
    return 1;
}

int cmd_export(int argc, char **argv) {
    (void)argc;
    cli_error("%s: not implemented yet", argv[0]);
    return 1;
}

int cmd_import(int argc, char **argv) {
    (void)argc;
    cli_error("%s: not implemented yet", argv[0]);
    return 1;
}

