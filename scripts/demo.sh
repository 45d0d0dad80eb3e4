#!/usr/bin/env bash
# The quick-start command: installs what is missing, builds the khive binary, and runs its main
# job on the embedded SQLite default: import WordNet 3.0 (Debian wordnet-base: ~118k synsets,
# ~120k typed edges) into a fresh database file, then answer a text search, the hypernym chain
# of "dog", a GQL query and a SPARQL query; then configure the built-in offline embedding engine
# (kind = "static", the word vectors scripts/static-model.sh installs), reindex, and show a
# hybrid search next to the text-only one.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
bash scripts/setup.sh khive
khive="$root/build/${KHIVE_PRESET:-release}/src/bin/khive"
db=${KHIVE_DEMO_DB:-$root/khive-demo.db}
rm -f "$db" "$db-wal" "$db-shm"
rm -rf "$db-vectors"  # the persisted vector index of an earlier run
run() {
  printf '\n$ khive %s\n' "$*"
  "$khive" --db "$db" "$@"
}
dog=02084071-n  # WordNet's synset for the domestic dog

echo "== Importing WordNet into $db"
run import --format wordnet
echo
echo "== Full-text search"
run search "domestic dog"
echo
echo "== The hypernym chain of dog (instance_of edges up to the root)"
dog_id=$("$khive" --db "$db" --json query "MATCH (d:concept {wordnet_id: '$dog'}) RETURN d.id" |
  grep -o '[0-9a-f]\{8\}-[0-9a-f]\{4\}-[0-9a-f]\{4\}-[0-9a-f]\{4\}-[0-9a-f]\{12\}' | head -n 1)
run traverse "$dog_id" --relation instance_of --depth 10
echo
echo "== GQL: what dog is, up to three levels"
run query "MATCH (d:concept {wordnet_id: '$dog'})-[:instance_of*1..3]->(h) RETURN h.name, h.properties.lexname"
echo
echo "== SPARQL: the wholes dog is part of"
run query "SELECT ?w WHERE { ?d :wordnet_id '$dog' . ?d :part_of ?w . }"
echo
echo "== Semantic search with the built-in offline engine (SIF over GloVe word vectors)"
model=$(bash scripts/static-model.sh)
config="$db.toml"
cat >"$config" <<EOF
[[engines]]
name = "glove"
kind = "static"
path = "$model"
EOF
printf '\n$ cat %s\n' "$config"
cat "$config"
semantic() {
  printf '\n$ khive --config %s %s\n' "$config" "$*"
  "$khive" --config "$config" --db "$db" "$@"
}
semantic reindex
question="a young person who works for a craftsman to learn the trade"
echo
echo "-- text only:"
run search "$question"
echo
echo "-- hybrid (text + vectors):"
semantic search "$question"
echo
echo "Database: $db  (try: $khive --db $db --help; with the engine: $khive --config $config --db $db search ...)"
