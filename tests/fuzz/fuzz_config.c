/* tests/fuzz/fuzz_config.c — libFuzzer target for the config file parser (src/config.c): a
 * user's file, possibly damaged or not a config at all. Checked: it parses or fails with a
 * message naming the file, a parsed config applies to default settings without failing (every
 * default was checked on the way in), every endpoint has a URL and is found by its name.
 * Single-threaded. */
#include "app.h"
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    struct config c;
    char err[512] = "";
    if (config_parse(&c, "fz", (const char *)data, size, err, sizeof err) != 0) {
        if (strncmp(err, "fz:", 3) != 0 || c.n_settings || c.n_endpoints)
            abort();
        return 0;
    }
    struct app_settings s;
    app_settings_default(&s, NULL);
    if (config_apply(&c, &s, err, sizeof err) != 0)
        abort();
    for (int i = 0; i < c.n_endpoints; i++)
        if (!c.endpoints[i].url || config_endpoint_find(&c, c.endpoints[i].name) != &c.endpoints[i])
            abort();
    config_free(&c);
    return 0;
}
