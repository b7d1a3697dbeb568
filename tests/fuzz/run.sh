#!/bin/sh
# tests/fuzz/run.sh [TARGET...] — runs each libFuzzer target built by `make fuzz` (all of
# build-fuzz/fuzz/ by default) for $FUZZ_SECONDS (60) on a corpus grown in build-fuzz/corpus/
# from the seeds of seeds.sh, and prints one line per target: executions, corpus size, crashes.
# A crashing input is kept as build-fuzz/crashes/TARGET-crash-*; the exit status is 1 if any
# target crashed (or leaked, timed out, ran out of memory). Run from the repository root.
set -u
secs=${FUZZ_SECONDS:-60}
dir=${FUZZ_DIR:-build-fuzz}
[ -d "$dir/fuzz" ] || { echo "run.sh: no $dir/fuzz: run make fuzz first" >&2; exit 2; }
sh tests/fuzz/seeds.sh "$dir/seeds" || exit 2
mkdir -p "$dir/crashes" "$dir/logs"

targets=${*:-$(ls "$dir/fuzz")}
status=0
for t in $targets; do
    bin=$dir/fuzz/$t
    [ -x "$bin" ] || { echo "run.sh: no target $bin" >&2; status=1; continue; }
    mkdir -p "$dir/corpus/$t"
    set -- -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix="$dir/crashes/$t-"
    case $t in
        fuzz_model) set -- "$@" -max_len=262144 ;;
        fuzz_gguf) set -- "$@" -max_len=65536 ;;
        fuzz_tokenizer) set -- "$@" -max_len=512 ;; # ~5 ms per KiB under ASan: keep inputs short
        fuzz_jinja) set -- "$@" -max_len=16384 ;;   # real chat templates run to 10+ KiB
        *) set -- "$@" -max_len=8192 ;;
    esac
    dict=tests/fuzz/$t.dict
    [ "$t" = fuzz_model ] && dict=tests/fuzz/fuzz_gguf.dict
    [ -f "$dict" ] && set -- "$@" -dict="$dict"
    seeds=$dir/seeds/$t
    [ -d "$seeds" ] || seeds=
    log=$dir/logs/$t.log
    "$bin" "$@" "$dir/corpus/$t" $seeds > "$log" 2>&1
    rc=$?
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    crashes=$(grep -c '^==[0-9]*==ERROR\|^SUMMARY: \|runtime error:\|deadly signal\|ALARM: working on' "$log")
    ncorp=$(ls "$dir/corpus/$t" | wc -l)
    echo "fuzz: $t: ${runs:-0} executions in ${secs} s, corpus $ncorp, exit $rc, $crashes error reports"
    if [ "$rc" != 0 ]; then
        status=1
        grep -m 5 'ERROR\|runtime error\|SUMMARY\|Test unit written' "$log" | sed 's/^/    /'
    fi
done
exit $status
