#!/usr/bin/env bash
# Build the C evaluator with AddressSanitizer and UndefinedBehaviorSanitizer, run the test suite and
# the fuzz suite on it, then build it again normally. Run it before every change to
# safetyrules/_evaluator.c lands (docs/development.md); docs/reliability.md has the last run's figures.
#
#   tools/sanitize.sh                      # whole suite + fuzz suite (SAFETYRULES_FUZZ_EXAMPLES=200)
#   tools/sanitize.sh tests/backends       # only these tests
#
# pyarrow (Parquet) and Dask abort under a preloaded ASan runtime before reaching our code (their own
# allocators and C++ runtime), so the whole-suite run leaves out their tests; the records those tests
# audit take the same compiled path as the JSON Lines tests that do run. Memory-growth tests are left
# out too: ASan holds freed memory in quarantine by design.
#
# Needs gcc with libasan/libubsan (Debian: gcc). Python itself is not instrumented: ASan checks the
# extension's memory accesses; leak checking is off because CPython frees little at exit.
set -euo pipefail
cd "$(dirname "$0")/.."
libasan=$(gcc -print-file-name=libasan.so)
[ -f "$libasan" ] || { echo "sanitize.sh: gcc's libasan.so not found (apt-get install gcc)" >&2; exit 2; }
flags="-O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined"
build() {
  CFLAGS="$1" LDFLAGS="$2" python - <<'PY'
import os, sys
sys.path.insert(0, ".")
from hatch_build import build_extension
import tempfile
print("built", build_extension(".", inplace=True, work=tempfile.mkdtemp(prefix="safetyrules-asan-")))
PY
}
restore() { build "" "" >/dev/null; echo "sanitize.sh: the normal build is back in place"; }
trap restore EXIT
build "$flags" "-fsanitize=address,undefined"
so=$(ls safetyrules/_evaluator*.so)
nm -D "$so" | grep -q __asan_ || { echo "sanitize.sh: $so is not instrumented" >&2; exit 2; }
export ASAN_OPTIONS="detect_leaks=0:abort_on_error=1:detect_stack_use_after_return=0"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
export SAFETYRULES_FUZZ_EXAMPLES="${SAFETYRULES_FUZZ_EXAMPLES:-200}"
export SAFETYRULES_REQUIRE_COMPILED=1
if [ $# -eq 0 ]; then set -- tests -k "not parquet and not dask and not Parquet and not memory_stays_flat"; fi
LD_PRELOAD="$libasan" python -m pytest -q -p no:cacheprovider "$@"
