/* ui/theme.h — colors by meaning: one table maps each THEME_* role to a color pair and
 * attributes (htop's CRT_colorSchemes idea), with a monochrome column used when NO_COLOR is set
 * or the terminal has no colors. UI thread only (after initscr); one process-wide table set
 * by theme_init. Nothing fails: a terminal without colors gets the monochrome column. */
#ifndef NATTER_UI_THEME_H
#define NATTER_UI_THEME_H

enum theme_role {
    THEME_NORMAL = 0,
    THEME_USER,        /* the user's messages and their label */
    THEME_ASSISTANT,   /* the model's replies */
    THEME_SYSTEM,      /* the system prompt */
    THEME_NOTICE,      /* notes in the transcript (context trimmed, errors) */
    THEME_STATS,       /* the stats line after a reply */
    THEME_STOPPED,     /* "[stopped]" marks */
    THEME_STATUS,      /* the status bar */
    THEME_LIST,        /* the conversation list */
    THEME_LIST_SEL,    /* the selected row of a list */
    THEME_BORDER,      /* separators */
    THEME_OVERLAY,     /* help, pickers, settings */
    THEME_TITLE,       /* overlay titles */
    THEME_PROGRESS,    /* progress bars */
    THEME_PROMPT,      /* the input prompt mark */
    THEME_REASONING,   /* a reply's reasoning (<think>...) and its folded line: dimmed */
    THEME_MD_HEADING,  /* rendered Markdown (markdown.h's roles, in their order) */
    THEME_MD_CODE,
    THEME_MD_LINK,
    THEME_MD_URL,
    THEME_MD_QUOTE,
    THEME_MD_MARK,
    THEME_MD_BOX,
    THEME_MD_LANG,
    THEME_HL_KEYWORD,  /* code blocks' highlight classes (highlight.h's, in their order) */
    THEME_HL_TYPE,
    THEME_HL_STRING,
    THEME_HL_COMMENT,
    THEME_HL_NUMBER,
    THEME_HL_META,
    THEME_HL_ADD,
    THEME_HL_DEL,
    THEME_SELECTED,    /* the message selected for copying */
    THEME_COUNT
};

/* Sets up color pairs (unless no_color or the terminal has none). Call after initscr. */
void theme_init(int no_color);
/* The attributes (color pair | A_*) to draw a role with. */
int theme_attr(int role);

#endif
