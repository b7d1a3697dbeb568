#!/usr/bin/env python3
"""tests/tools/gen_iq_grids.py — writes engine/quant_iq_grids.c: the lattice grids and sign
table of the IQ tensor types, copied as data (same values, same order) from llama.cpp's
ggml/src/ggml-common.h. Usage: gen_iq_grids.py PATH/TO/ggml-common.h > engine/quant_iq_grids.c"""
import re
import sys

# (ggml's table name, natter's name, C element type, entries)
TABLES = [
    ("ksigns_iq2xs", "quant_ksigns_iq2xs", "uint8_t", 128),
    ("iq2xxs_grid", "quant_iq2xxs_grid", "uint64_t", 256),
    ("iq2xs_grid", "quant_iq2xs_grid", "uint64_t", 512),
    ("iq2s_grid", "quant_iq2s_grid", "uint64_t", 1024),
    ("iq3xxs_grid", "quant_iq3xxs_grid", "uint32_t", 256),
    ("iq3s_grid", "quant_iq3s_grid", "uint32_t", 512),
    ("iq1s_grid", "quant_iq1s_grid", "uint64_t", 2048),
]


def main() -> None:
    src = open(sys.argv[1], encoding="utf-8").read()
    out = [
        "/* engine/quant_iq_grids.c — the lattice grids of the IQ tensor types and the sign table",
        " * of IQ2_XXS / IQ2_XS / IQ3_XXS (a 7-bit index plus its even parity bit), as data: the same",
        " * values in the same order as llama.cpp's ggml/src/ggml-common.h (ksigns_iq2xs, iq2xxs_grid,",
        " * iq2xs_grid, iq2s_grid, iq3xxs_grid, iq3s_grid, iq1s_grid), from which",
        " * tests/tools/gen_iq_grids.py generated this file. Do not edit by hand. Each 64-bit entry",
        " * holds 8 values (byte j = value j; IQ1 bytes are signed -1, 0, 1), each 32-bit entry 4. */",
        '#include "quant_impl.h"',
        "",
    ]
    for gname, name, ctype, count in TABLES:
        m = re.search(r"GGML_TABLE_BEGIN\(\s*\w+\s*,\s*%s\s*,\s*\w+\s*\)(.*?)GGML_TABLE_END\(\)"
                      % re.escape(gname), src, re.S)
        if not m:
            sys.exit("table %s not found" % gname)
        vals = [int(v, 0) for v in re.findall(r"0x[0-9a-fA-F]+|\d+", m.group(1))]
        if len(vals) != count:
            sys.exit("table %s: %d values, expected %d" % (gname, len(vals), count))
        per_line, fmt = {"uint8_t": (16, "%d,"), "uint32_t": (8, "0x%08x,"),
                         "uint64_t": (4, "0x%016x,")}[ctype]
        out.append("const %s %s[%d] = {" % (ctype, name, count))
        for i in range(0, count, per_line):
            out.append("    " + " ".join(fmt % v for v in vals[i:i + per_line]))
        out.append("};")
        out.append("")
    sys.stdout.write("\n".join(out))


if __name__ == "__main__":
    main()
