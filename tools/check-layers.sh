#!/bin/sh
# SPDX-License-Identifier: MIT
# The daemon's layers, lowest first: a file may include headers of its own layer and of
# the layers below it, never of a layer above (docs/architecture.md). Reads #include
# lines only; prints each violation and exits 1 if there is one.
# --graph: print the include graph between layers instead (docs/architecture.md).
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

# owner HEADER: the layer whose folder holds it, empty for pyprobe/*.h, skeletons, system headers.
owner() {
	for o in $layers; do
		[ -e "daemon/$o/$1" ] && { echo "$o"; return; }
	done
	[ -e "daemon/$1" ] && echo main
	true
}

if [ "${1:-}" = --graph ]; then
	for l in main $layers; do
		files=daemon/"$l"/*.[ch]
		[ "$l" = main ] && files=daemon/*.[ch]
		n=$(ls $files | wc -l)
		lines=$(cat $files | wc -l)
		uses=$(for f in $files; do
			sed -n 's/^#include "\([^"/]*\.h\)".*/\1/p' "$f" | while read -r h; do
				o=$(owner "$h")
				if [ -n "$o" ] && [ "$o" != "$l" ]; then echo "$o"; fi
			done
		done | sort | uniq -c | awk '{ printf "%s%s %d", sep, $2, $1; sep = ", " }')
		printf '%-9s %2d files %5d lines  includes: %s\n' "$l" "$n" "$lines" "${uses:-nothing above the system}"
	done
	exit 0
fi

bad=0
for l in $layers; do
	me=$(rank "$l")
	for f in daemon/"$l"/*.[ch]; do
		for h in $(sed -n 's/^#include "\([^"/]*\.h\)".*/\1/p' "$f"); do
			owner=$(owner "$h")
			[ -n "$owner" ] && [ "$owner" != main ] || continue
			if [ "$(rank "$owner")" -gt "$me" ]; then
				echo "check-layers: $f ($l) includes $h of the upper layer $owner"
				bad=1
			fi
		done
	done
done
[ "$bad" = 0 ] && echo "check-layers: $(ls daemon/*/*.[ch] | wc -l) files, no include goes up a layer"
exit "$bad"
