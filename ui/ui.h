/* ui/ui.h — the one entry point from src/ into ui/: main() runs the full-screen chat when no
 * subcommand is given. ui/ may use src/ (the store, the prompts, cli.h's messages); src/ sees
 * nothing of ui/ but this (the build compiles src/ without -Iui, main.c aside). Main thread. */
#ifndef NATTER_UI_H
#define NATTER_UI_H

/* The chat with natter's own argv (argv[0] "natter"); returns the exit status as a cmd_*. */
int ui_main(int argc, char **argv); /* ui/tui.c */

#endif
