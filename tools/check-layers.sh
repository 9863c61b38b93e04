#!/bin/sh
# SPDX-License-Identifier: MIT
# The daemon's layers, lowest first: a file may include headers of its own layer and of
# the layers below it, never of a layer above (docs/architecture.md). Reads #include
# lines only; prints each violation and exits 1 if there is one.
set -eu
cd "$(dirname "$0")/.."
layers="core target analysis kernel serve"

rank() {
	i=0
	for l in $layers; do
		[ "$l" = "$1" ] && { echo "$i"; return; }
		i=$((i + 1))
	done
	echo 99	# main.c and anything outside the layers may include anything
}

bad=0
for l in $layers; do
	me=$(rank "$l")
	for f in daemon/"$l"/*.[ch]; do
		for h in $(sed -n 's/^#include "\([^"/]*\.h\)".*/\1/p' "$f"); do
			owner=""
			for o in $layers; do
				[ -e "daemon/$o/$h" ] && owner=$o
			done
			[ -n "$owner" ] || continue	# pyprobe/*.h, skeletons, system headers
			if [ "$(rank "$owner")" -gt "$me" ]; then
				echo "check-layers: $f ($l) includes $h of the upper layer $owner"
				bad=1
			fi
		done
	done
done
[ "$bad" = 0 ] && echo "check-layers: $(ls daemon/*/*.[ch] | wc -l) files, no include goes up a layer"
exit "$bad"
