/* src/units.c — numbers written for people (units.h). */
#include "units.h"

#include <stdio.h>

static void units_scale(double v, const char *const *units, double step, int decimals,
                        const char *sep, char *buf, size_t len) {
    int u = 0;
    while (v >= step && units[u + 1]) {
        v /= step;
        u++;
    }
    snprintf(buf, len, "%.*f%s%s", u ? decimals : 0, v, sep, units[u]);
}

void units_bytes(uint64_t b, int decimals, char *buf, size_t len) {
    static const char *const su[] = {"B", "KiB", "MiB", "GiB", "TiB", NULL};
    units_scale((double)b, su, 1024, decimals, " ", buf, len);
}

void units_count(double v, char *buf, size_t len) {
    static const char *const pu[] = {"", "K", "M", "B", "T", NULL};
    units_scale(v, pu, 1000, 2, "", buf, len);
}
