/* ui/theme.c — the color table for the chat (see theme.h). UI thread only. */
#include "theme.h"

#include <curses.h>

struct theme_entry {
    short fg, bg; /* -1: the terminal's default */
    int attr;     /* added to the color */
    int mono;     /* used instead when there are no colors */
};

static const struct theme_entry theme_table[THEME_COUNT] = {
    [THEME_NORMAL] = {-1, -1, A_NORMAL, A_NORMAL},
    [THEME_USER] = {COLOR_CYAN, -1, A_BOLD, A_BOLD},
    [THEME_ASSISTANT] = {-1, -1, A_NORMAL, A_NORMAL},
    [THEME_SYSTEM] = {COLOR_MAGENTA, -1, A_NORMAL, A_DIM},
    [THEME_NOTICE] = {COLOR_YELLOW, -1, A_NORMAL, A_UNDERLINE},
    [THEME_STATS] = {COLOR_GREEN, -1, A_DIM, A_DIM},
    [THEME_STOPPED] = {COLOR_RED, -1, A_BOLD, A_BOLD},
    [THEME_STATUS] = {COLOR_BLACK, COLOR_CYAN, A_NORMAL, A_REVERSE},
    [THEME_LIST] = {-1, -1, A_NORMAL, A_NORMAL},
    [THEME_LIST_SEL] = {COLOR_BLACK, COLOR_YELLOW, A_NORMAL, A_REVERSE},
    [THEME_BORDER] = {COLOR_BLUE, -1, A_NORMAL, A_NORMAL},
    [THEME_OVERLAY] = {COLOR_WHITE, COLOR_BLUE, A_NORMAL, A_NORMAL},
    [THEME_TITLE] = {COLOR_YELLOW, COLOR_BLUE, A_BOLD, A_BOLD},
    [THEME_PROGRESS] = {COLOR_BLACK, COLOR_GREEN, A_NORMAL, A_REVERSE},
    [THEME_PROMPT] = {COLOR_CYAN, -1, A_BOLD, A_BOLD},
    [THEME_REASONING] = {-1, -1, A_DIM, A_DIM}, /* the terminal's own colour, dimmed */
    [THEME_MD_HEADING] = {COLOR_CYAN, -1, A_BOLD, A_BOLD},
    [THEME_MD_CODE] = {COLOR_YELLOW, -1, A_NORMAL, A_BOLD},
    [THEME_MD_LINK] = {COLOR_BLUE, -1, A_NORMAL, A_NORMAL},
    [THEME_MD_URL] = {COLOR_BLUE, -1, A_DIM, A_DIM},
    [THEME_MD_QUOTE] = {COLOR_GREEN, -1, A_NORMAL, A_NORMAL},
    [THEME_MD_MARK] = {COLOR_CYAN, -1, A_NORMAL, A_BOLD},
    [THEME_MD_BOX] = {COLOR_BLUE, -1, A_NORMAL, A_DIM},
    [THEME_MD_LANG] = {COLOR_YELLOW, -1, A_BOLD, A_BOLD},
    [THEME_HL_KEYWORD] = {COLOR_MAGENTA, -1, A_BOLD, A_BOLD},
    [THEME_HL_TYPE] = {COLOR_CYAN, -1, A_NORMAL, A_NORMAL},
    [THEME_HL_STRING] = {COLOR_GREEN, -1, A_NORMAL, A_NORMAL},
    [THEME_HL_COMMENT] = {COLOR_BLUE, -1, A_DIM, A_DIM},
    [THEME_HL_NUMBER] = {COLOR_YELLOW, -1, A_NORMAL, A_NORMAL},
    [THEME_HL_META] = {COLOR_RED, -1, A_NORMAL, A_NORMAL},
    [THEME_HL_ADD] = {COLOR_GREEN, -1, A_NORMAL, A_BOLD},
    [THEME_HL_DEL] = {COLOR_RED, -1, A_NORMAL, A_DIM},
    [THEME_SELECTED] = {COLOR_BLACK, COLOR_CYAN, A_BOLD, A_REVERSE},
};

static int theme_color;

void theme_init(int no_color) {
    theme_color = !no_color && has_colors();
    if (!theme_color)
        return;
    start_color();
    use_default_colors();
    for (int i = 1; i < THEME_COUNT; i++)
        init_pair((short)i, theme_table[i].fg, theme_table[i].bg);
}

int theme_attr(int role) {
    if (role < 0 || role >= THEME_COUNT)
        role = THEME_NORMAL;
    if (!theme_color)
        return theme_table[role].mono;
    return (role ? (int)COLOR_PAIR(role) : 0) | theme_table[role].attr;
}
