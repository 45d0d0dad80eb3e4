#!/usr/bin/env bash
# Every relative link in the repository's Markdown files resolves to a file or folder of the
# repository, and none points outside it: a clean clone documents itself.
set -euo pipefail
root=${1:?usage: links_test.sh REPO_ROOT}
cd "$root"
fail=0 checked=0
while IFS= read -r -d '' md; do
  dir=$(dirname "$md")
  # [text](target) links; inline code spans are removed first so `a[i](x)` in code is not a link.
  while IFS= read -r target; do
    target=${target%%#*}
    target=${target%% *}
    case "$target" in ''|http://*|https://*|mailto:*) continue ;; esac
    checked=$((checked + 1))
    resolved=$(realpath -m "$dir/$target")
    case "$resolved" in
      "$root"|"$root"/*) ;;
      *) echo "$md: link '$target' leaves the repository"; fail=1; continue ;;
    esac
    [ -e "$resolved" ] || { echo "$md: link '$target' does not resolve"; fail=1; }
  done < <(sed -e 's/`[^`]*`//g' "$md" | grep -o '\]([^)]*)' | sed -e 's/^](//' -e 's/)$//')
done < <(find . -name '*.md' -not -path './build/*' -not -path '*/node_modules/*' -not -path './.git/*' -print0)
echo "checked $checked relative links"
[ "$checked" -gt 0 ] || { echo "no links found: the check did not run"; exit 1; }
if grep -rn --include='*.md' -e '\.\./shared' . --exclude-dir=build --exclude-dir=node_modules --exclude-dir=.git; then
  echo "the documents above name a path outside the repository"; fail=1
fi
exit $fail
