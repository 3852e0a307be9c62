#!/usr/bin/env bash
# Builds the fuzz targets with libFuzzer and AddressSanitizer and runs each for SECONDS
# (default 600) from its seed corpus, failing on any crash or any allocation over 1 GB.
#   Fuzz/run.sh 600     the full run
#   Fuzz/run.sh 5       the smoke run .ci/run does
# Leak detection is off: Foundation's FileManager.contents(atPath:) reports a leak on an
# empty file in every run, which is not Synapse's to fix.
set -euo pipefail
cd "$(dirname "$0")"
seconds=${1:-600}
swift build -c release -Xswiftc -sanitize=fuzzer,address --scratch-path .build-fuzz
mkdir -p .build-fuzz/corpus .build-fuzz/artifacts
status=0
for pair in FuzzSafeTensors:safetensors FuzzSparseCheckpoint:sparse FuzzIDX:idx FuzzCSV:csv FuzzImage:image; do
    target=${pair%%:*} seeds=${pair##*:}
    # New inputs go to a scratch corpus so the committed seeds stay small.
    mkdir -p ".build-fuzz/corpus/$seeds"
    if ASAN_OPTIONS=detect_leaks=0 .build-fuzz/release/"$target" -max_total_time="$seconds" -malloc_limit_mb=1024 -rss_limit_mb=2048 \
        -detect_leaks=0 -print_final_stats=1 -artifact_prefix=".build-fuzz/artifacts/$target-" \
        ".build-fuzz/corpus/$seeds" "Corpus/$seeds" > ".build-fuzz/$target.log" 2>&1; then
        result=ok
    else
        result=FAILED
        status=1
    fi
    runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' ".build-fuzz/$target.log" | grep -o '[0-9]*$' | tail -1 || true)
    peak=$(grep -o 'stat::peak_rss_mb: *[0-9]*' ".build-fuzz/$target.log" | grep -o '[0-9]*$' | tail -1 || true)
    echo "$target: $result, $runs executions in ${seconds}s, peak RSS ${peak} MB (log: Fuzz/.build-fuzz/$target.log)"
done
exit $status
