/* tests/fuzz/fuzz_settings.c — libFuzzer target for app_settings_from_json (src/app.c): the
 * input is a conversation's sampling settings as an imported file or another program may have
 * stored them. It must never crash; whatever it applies stays in each setting's range (the
 * settings still write valid JSON that reads back to the same values); -1 changes nothing.
 * Single-threaded. */
#include "app.h"
#include "json_syntax.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    struct eng_sample_params sp = eng_sample_default_params();
    struct app_settings s, back;
    app_settings_default(&s, &sp);
    char changed[256], again[256];
    char *before = app_settings_json(&s);
    int n = app_settings_from_json(&s, (const char *)data, size, changed, sizeof changed);
    char *after = app_settings_json(&s);
    if (!before || !after)
        abort();
    if (n < 0 && (strcmp(before, after) || changed[0]))
        abort(); /* refused text changed something */
    if (n == 0 && strcmp(before, after))
        abort();
    size_t off;
    const char *why;
    if (json_syntax_check(after, strlen(after), &off, &why) < 0)
        abort();
    app_settings_default(&back, &sp);
    app_settings_from_json(&back, after, strlen(after), again, sizeof again);
    char *re = app_settings_json(&back);
    /* ctx and think are not restored: the rest must read back the same */
    if (!re || (s.n_ctx == 0 && s.think == back.think && strcmp(re, after)))
        abort();
    free(before);
    free(after);
    free(re);
    return 0;
}
