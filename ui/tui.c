/* ui/tui.c — placeholder for the full-screen chat until the TUI issue lands. */
#include <stdio.h>
#include "cli.h"

int ui_main(int argc, char **argv) {
    if (argc > 1) {
        cli_error("unknown option '%s'", argv[1]);
        return cli_usage("[OPTIONS] | COMMAND [ARGS...]");
    }
    cli_error("the full-screen chat is not built yet");
    return 1;
}
