#!/usr/bin/env bash
# Measures password hashing cost natively, as js/wasm under Node (the V8
# engine Workers run) and as wasip1/wasm under wazero, one benchmark per
# process so that the reported sys-MiB (linear memory on Wasm) belongs to
# that benchmark alone.
#
#   wasm/internal/password/bench.sh [count] [benchtime] [bench-regexp...]
#
# Needs node on PATH for js/wasm and the wazero CLI for wasip1
# (go install github.com/tetratelabs/wazero/cmd/wazero@v1.12.0); a missing
# runtime is reported and skipped.
set -euo pipefail
cd "$(dirname "$0")"
count=${1:-3}
benchtime=${2:-5x}
shift 2 2>/dev/null || shift $#
benches=("$@")
if [ ${#benches[@]} -eq 0 ]; then
  benches=('^BenchmarkHash$' '^BenchmarkVerify$' \
    '^BenchmarkCandidates$/^argon2id/m=19456,' '^BenchmarkCandidates$/^argon2id/m=12288,' \
    '^BenchmarkCandidates$/^argon2id/m=9216,' '^BenchmarkCandidates$/^argon2id/m=7168,' \
    '^BenchmarkCandidates$/^argon2id/m=47104,' '^BenchmarkCandidates$/^scrypt/N=2\^15,' \
    '^BenchmarkCandidates$/^scrypt/N=2\^17,' '^BenchmarkCheck$' '^BenchmarkLoadDictionaries$')
fi
wasmdir="$(go env GOROOT)/lib/wasm"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

go test -c -o "$tmp/native.test" .
GOOS=js GOARCH=wasm go test -c -o "$tmp/js.test.wasm" .
GOOS=wasip1 GOARCH=wasm go test -c -o "$tmp/wasip1.test.wasm" .

run() { # target command...
  local target=$1; shift
  echo "## $target"
  for b in "${benches[@]}"; do
    "$@" -test.run '^$' -test.bench "$b" -test.benchtime "$benchtime" -test.count "$count" -test.benchmem |
      grep -E '^Benchmark' || true
  done
}

run "native $(go env GOOS)/$(go env GOARCH)" "$tmp/native.test"
if command -v node >/dev/null; then
  run "js/wasm, node $(node --version)" node "$wasmdir/wasm_exec_node.js" "$tmp/js.test.wasm"
else
  echo "## js/wasm skipped: node not on PATH"
fi
if command -v wazero >/dev/null; then
  run "wasip1/wasm, wazero $(wazero version)" wazero run -mount "$PWD:/pkg" "$tmp/wasip1.test.wasm"
else
  echo "## wasip1/wasm skipped: wazero not on PATH"
fi
