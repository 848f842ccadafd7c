#!/usr/bin/env bash
# Fills fuzz/corpus/<target>/ (git-ignored) with seed inputs:
#   - every *.pickle under tests/fixtures/ (tests/fixtures/values/*.pickle, ...),
#   - every hex "pickle" of tests/fixtures/cpython_cases.json,
#   - examples/data/*.pkl,
#   - 400 builtin calls sampled from tests/differential/gen_builtin_calls.py,
#   - lists of floats (batches decoded in one step) at protocols 2, 4 and 5,
#   - fuzz/regressions/<target>-* (inputs that once crashed a target).
# Files are named by content hash, so re-running is idempotent. The `structured` target takes
# Arbitrary-encoded operations, not pickles; it gets the same seeds (libFuzzer mutates them
# into something useful), which is harmless.
# Usage: fuzz/seed_corpus.sh [target...]   (default: every target of fuzz/Cargo.toml)
set -euo pipefail
cd "$(dirname "$0")"
root=..

if [ "$#" -gt 0 ]; then
    targets=("$@")
else
    mapfile -t targets < <(awk '/^\[\[bin\]\]/ { bin = 1; next } /^\[/ { bin = 0 }
        bin && /^name *=/ { gsub(/.*= *"|".*/, ""); print }' Cargo.toml)
fi

seeds=$(mktemp -d)
trap 'rm -rf "$seeds"' EXIT

add() { # add FILE: copy under its content hash
    local h
    h=$(sha1sum "$1" | cut -c1-16)
    cp "$1" "$seeds/$h"
}

while IFS= read -r -d '' f; do add "$f"; done \
    < <(find "$root/tests/fixtures" -name '*.pickle' -type f -print0 2>/dev/null)
while IFS= read -r -d '' f; do add "$f"; done \
    < <(find "$root/examples/data" -name '*.pkl' -type f -print0 2>/dev/null)

if [ -f "$root/tests/fixtures/cpython_cases.json" ]; then
    python3 - "$root/tests/fixtures/cpython_cases.json" "$seeds" <<'PY'
import hashlib, json, os, sys
cases = json.load(open(sys.argv[1]))
for case in cases:
    hexdata = case.get("pickle") if isinstance(case, dict) else None
    if not hexdata:
        continue
    try:
        data = bytes.fromhex(hexdata)
    except ValueError:
        continue
    name = hashlib.sha1(data).hexdigest()[:16]
    with open(os.path.join(sys.argv[2], name), "wb") as f:
        f.write(data)
PY
fi

# A sample of the builtin calls of tests/differential/gen_builtin_calls.py (every allowed
# callable on unusual arguments, through every calling opcode), so the fuzzers mutate calls too.
if [ -f "$root/tests/differential/gen_builtin_calls.py" ]; then
    python3 "$root/tests/differential/gen_builtin_calls.py" --triples 200 | python3 -c '
import hashlib, json, os, random, sys
lines = sys.stdin.read().splitlines()
for line in random.Random(20261128).sample(lines, min(400, len(lines))):
    data = bytes.fromhex(json.loads(line)["pickle"])
    with open(os.path.join(sys.argv[1], hashlib.sha1(data).hexdigest()[:16]), "wb") as f:
        f.write(data)
' "$seeds"
fi

# Batches of floats bound for a list, which a slice decodes in one step (Machine::float_appends):
# first batches on both sides of the 64 items that make a vector, second batches, frames
# (protocol 4 and 5), floats in a dict and a tuple, floats among ints.
python3 - "$seeds" <<'PY'
import hashlib, os, pickle, sys
values = []
for n in (1, 63, 64, 65, 200, 1001, 2100):
    values.append([i * -0.75 for i in range(n)])
values.append({"a": [float(i) for i in range(100)], "b": (1.5, [2.5] * 70)})
values.append([float(i) if i % 3 else i for i in range(150)])
for v in values:
    for protocol in (2, 4, 5):
        data = pickle.dumps(v, protocol)
        with open(os.path.join(sys.argv[1], hashlib.sha1(data).hexdigest()[:16]), "wb") as f:
            f.write(data)
PY

for t in "${targets[@]}"; do
    mkdir -p "corpus/$t"
    cp -n "$seeds"/* "corpus/$t/" 2>/dev/null || true
    for r in regressions/"$t"-*; do
        [ -f "$r" ] && cp -n "$r" "corpus/$t/"
    done
    echo "seed_corpus: $t: $(find "corpus/$t" -type f | wc -l) inputs"
done
