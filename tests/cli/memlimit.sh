# tests/cli/memlimit.sh — a model, or a context, too large for the memory natter may use is
# refused with the size it needs (engine/sysmem.c), not OOM-killed: natter runs in a child memory cgroup (v1 or
# v2) limited to 96 MiB and is given a ~130 MiB model. Skips where no cgroup can be created
# (not root, cgroupfs read-only).
. tests/lib.sh
need_shared
MK="$NATTER_TOOLS/mkmodel"
[ -x "$MK" ] || fail "no $MK"

# Our memory cgroup and its files.
v1=$(sed -n 's/^[0-9]*:\([^:]*,\)\{0,1\}memory\(,[^:]*\)\{0,1\}:\(.*\)$/\3/p' /proc/self/cgroup | head -n 1)
if [ -n "$v1" ] && [ -d "/sys/fs/cgroup/memory$v1" ]; then
    parent="/sys/fs/cgroup/memory$v1" limit_file=memory.limit_in_bytes
elif [ -d "/sys/fs/cgroup/memory" ] && [ -n "$v1" ]; then
    parent="/sys/fs/cgroup/memory" limit_file=memory.limit_in_bytes
else
    v2=$(sed -n 's/^0::\(.*\)$/\1/p' /proc/self/cgroup | head -n 1)
    parent="/sys/fs/cgroup${v2%/}" limit_file=memory.max
fi
cg="$parent/natter-test-$$"
mkdir "$cg" 2>/dev/null || skip "cannot create a memory cgroup under $parent"
trap 'rmdir "$cg" 2>/dev/null' EXIT
[ -f "$cg/$limit_file" ] || skip "no $limit_file in $cg"
echo $((96 * 1024 * 1024)) > "$cg/$limit_file" 2>/dev/null || skip "cannot set $limit_file"

# ~130 MiB of F16 weights (written outside the cgroup).
"$MK" -o "$TEST_TMPDIR/big.gguf" -v "$SHARED/models/stories260K.gguf" --type F16 \
    --n-embd 1024 --n-layer 8 --n-head 8 --n-head-kv 8 --n-ff 2816 --ctx 256 >/dev/null ||
    fail "mkmodel failed"

# refused NATTER_ARGS...: natter run inside the cgroup must exit 1 (not be killed); its output in $out
refused() {
    out=$(sh -c 'cg=$1; shift; echo $$ > "$cg/cgroup.procs" && exec "$@"' sh "$cg" "$NATTER" run "$@" 2>&1)
    rc=$?
    [ $rc -lt 128 ] || fail "natter died from signal $((rc - 128)) (OOM-killed?): $out"
    [ $rc = 1 ] || fail "exit $rc, expected 1: $out"
}

refused -m "$TEST_TMPDIR/big.gguf" -p hi -n 1 --temp 0
expect_contains "$out" "natter: "
expect_contains "$out" "the model needs 1"
expect_contains "$out" "MiB of memory but only "

# A small model with a context whose KV cache cannot fit.
refused -m "$SHARED/models/stories260K.gguf" --ctx 1000000 -p hi -n 1
expect_contains "$out" "a context of 1000000 tokens needs "
expect_contains "$out" " of memory but only "
pass
