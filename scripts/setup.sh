#!/usr/bin/env bash
# Installs the Debian packages listed in scripts/debian-packages.txt that are missing,
# then configures and builds khive (Release preset unless KHIVE_PRESET says otherwise).
#   scripts/setup.sh [TARGET...]     build only these targets (default: everything)
# Works as root or, through sudo, as a normal user.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

missing=()
while read -r p extra; do
  case "$p" in ''|'#'*) continue ;; esac
  if [[ "${extra:-}" == cmd=* ]] && command -v "${extra#cmd=}" >/dev/null 2>&1; then continue; fi
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done < scripts/debian-packages.txt
if [ ${#missing[@]} -gt 0 ]; then
  echo "khive setup: installing ${missing[*]}" >&2
  sudo_cmd=()
  [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

preset=${KHIVE_PRESET:-release}
cmake --preset "$preset" >/dev/null
targets=()
for t in "$@"; do targets+=(--target "$t"); done
cmake --build --preset "$preset" -j "$(nproc)" "${targets[@]}"
# The static embedding engine's default word vectors, converted once (scripts/static-model.sh),
# when the khive binary is part of the build.
if [ $# -eq 0 ] || [[ " $* " == *" khive "* ]]; then bash scripts/static-model.sh >/dev/null; fi
