#!/usr/bin/env python3
"""tests/tools/qdump_check.py — natter's dequantization (build/tools/qdump) against gguf-py's
independent numpy dequantizer (llama.cpp's gguf-py/gguf/quants.py, its own encoding of the
grids), bit for bit, for every tensor of every file given; also gguf-py's grids against
engine/quant_iq_grids.c. Needs numpy (Debian: /usr/bin/python3 with python3-numpy).
Usage: PYTHONPATH=LLAMA_CPP/gguf-py /usr/bin/python3 tests/tools/qdump_check.py FILE.gguf..."""
import os
import re
import subprocess
import sys
import tempfile

import numpy as np
from gguf import GGUFReader
from gguf import quants as Q
from gguf.quants import dequantize

HERE = os.path.dirname(os.path.abspath(__file__))
QDUMP = os.environ.get("QDUMP", os.path.join(HERE, "..", "..", "build", "tools", "qdump"))


def check_grids() -> int:
    src = open(os.path.join(HERE, "..", "..", "engine", "quant_iq_grids.c")).read()
    bad = 0
    for cls, name, w in [(Q.IQ2_XXS, "quant_iq2xxs_grid", 8), (Q.IQ2_XS, "quant_iq2xs_grid", 8),
                         (Q.IQ2_S, "quant_iq2s_grid", 8), (Q.IQ3_XXS, "quant_iq3xxs_grid", 4),
                         (Q.IQ3_S, "quant_iq3s_grid", 4), (Q.IQ1_S, "quant_iq1s_grid", 8)]:
        cls.init_grid()
        ref = cls.grid.reshape(-1, w).astype(np.int64) & 255
        body = re.search(r"%s\[\d+\] = \{(.*?)\};" % name, src, re.S).group(1)
        vals = [int(v, 0) for v in re.findall(r"0x[0-9a-f]+", body)]
        ours = np.array([[(v >> (8 * j)) & 255 for j in range(w)] for v in vals], dtype=np.int64)
        same = ours.shape == ref.shape and np.array_equal(ours, ref)
        print("grid %-18s %5d entries: %s" % (name, len(vals), "same" if same else "DIFFERENT"))
        bad += not same
    return bad


def main() -> int:
    bad = check_grids()
    per_type = {}
    with tempfile.TemporaryDirectory() as out:
        for path in sys.argv[1:]:
            lines = subprocess.run([QDUMP, path, out], capture_output=True, text=True,
                                   check=True).stdout.splitlines()
            tensors = {t.name: t for t in GGUFReader(path).tensors}
            for line in lines:
                k, name, tname, _ = line.split()
                t = tensors[name]
                ref = dequantize(t.data, t.tensor_type).astype(np.float32).reshape(-1)
                f = os.path.join(out, k + ".f32")
                a = per_type.setdefault(tname, [0, 0, 0])
                a[0] += 1
                if not os.path.exists(f):
                    print("%s %s (%s): natter has no to_float" % (path, name, tname))
                    a[2] += 1
                    continue
                ours = np.fromfile(f, dtype=np.float32)
                os.remove(f)
                a[1] += ours.size
                if ours.shape != ref.shape or not np.array_equal(ours.view(np.uint32),
                                                                 ref.view(np.uint32)):
                    print("%s %s (%s): differs" % (path, name, tname))
                    a[2] += 1
    for tname, (n_t, n_v, n_bad) in sorted(per_type.items()):
        print("%-8s %5d tensors %10d values: %s" % (tname, n_t, n_v,
                                                    "bit for bit" if not n_bad else "%d differ" % n_bad))
        bad += n_bad
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
