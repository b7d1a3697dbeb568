/* src/grow.c — geometric growth of a list from its count alone (grow.h). */
#include "grow.h"

#include <stdlib.h>

void *grow_one(void *arr, int n, size_t size) {
    if ((n > 0 && n < 8) || (n > 8 && (n & (n - 1))))
        return arr; /* below the next power of two: there is room */
    return realloc(arr, (n < 8 ? 8 : 2 * (size_t)n) * size);
}
