/* src/grow.h — room for one more element at the end of a list that keeps only its count: the
 * capacity follows from the count (8, 16, 32, ...), so the list grows geometrically (one
 * realloc per doubling) without a capacity field. Pure; any thread. */
#ifndef NATTER_GROW_H
#define NATTER_GROW_H

#include <stddef.h>

/* arr (n elements of size bytes, allocated by this function or NULL when n is 0) with room for
 * element n: arr itself, or its reallocation; NULL when out of memory (arr is then unchanged). */
void *grow_one(void *arr, int n, size_t size);

#endif
