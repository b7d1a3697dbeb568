/* src/units.h — numbers written for people, one way everywhere: byte sizes in binary units
 * (`natter models`, the chat's status bar) and counts in decimal ones (parameters). Any
 * thread; no state; output cut to fit buf. */
#ifndef NATTER_UNITS_H
#define NATTER_UNITS_H

#include <stddef.h>
#include <stdint.h>

/* "512 B", "1.13 MiB" (decimals 2), "3.4 GiB" (decimals 1): the largest unit of B, KiB, MiB,
 * GiB, TiB that leaves at least 1. */
void units_bytes(uint64_t b, int decimals, char *buf, size_t len);
/* "950", "292.80K", "7.24B": the largest of K, M, B, T (powers of 1000), two decimals. */
void units_count(double v, char *buf, size_t len);

#endif
