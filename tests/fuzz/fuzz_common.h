/* tests/fuzz/fuzz_common.h — what the fuzz targets share: where ../shared is ($NATTER_SHARED,
 * else ../shared from the repository root the targets run in). Single-threaded. */
#ifndef NATTER_FUZZ_COMMON_H
#define NATTER_FUZZ_COMMON_H

#include <stdio.h>
#include <stdlib.h>

/* dir/rel joined into buf; the shared directory from the environment or "../shared". */
static inline const char *fuzz_shared_path(char *buf, size_t cap, const char *rel) {
    const char *dir = getenv("NATTER_SHARED");
    snprintf(buf, cap, "%s/%s", dir && *dir ? dir : "../shared", rel);
    return buf;
}

#endif
