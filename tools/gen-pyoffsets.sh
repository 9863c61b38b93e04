#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# gen-pyoffsets.sh - regenerate daemon/target/pyoffsets_table.h
#
# Why: the CPython structures pyprobe reads from outside the process
# (_PyRuntimeState, PyInterpreterState, PyThreadState, the GIL) are internal,
# change layout between minor versions and depend on configure options.
# So the offsets are never typed by hand: tools/pyoffsets-probe.c is compiled
# against each interpreter's own headers (-DPy_BUILD_CORE, internal headers,
# its pyconfig.h) and prints offsetof()/sizeof() values; sizeof(_PyRuntime)
# is cross-checked against the symbol size in the interpreter's libpython,
# and every value against gdb's view of the DWARF of that libpython.  The
# bit positions of the str state bitfields (PyASCIIObject.state: interned,
# kind, compact, ascii) are found by a compiled test (probe --bits), checked
# against gdb's "ptype/o PyASCIIObject", must be the same in every version,
# and are recorded in a comment of the generated file.
#
# 3.13+ publish offsets themselves: _PyRuntime starts with a _Py_DebugOffsets
# that CPython fills with a static initialiser.  The dbg_* fields give the
# position of each published value inside it; the values stored in the
# libpython file (its initialised section holding _PyRuntime, .PyRuntime)
# must equal the row's own (probe --dbg says which), and so must the
# cookie, the version and free_threaded.
#
# Usage: tools/gen-pyoffsets.sh [VERSION|PREFIX]...
#   VERSION  a pyenv version name, e.g. 3.8.18 ($(pyenv root)/versions/VERSION)
#   PREFIX   an installation prefix (contains include/python3.N[m]/); must
#            contain a '/'
#   PREFIX@3.N  the 3.N of a prefix that holds several (a Debian root's /usr:
#            multiarch pyconfig.h under include/<triplet>/, libpython under
#            lib/<triplet>/)
# Without arguments every $(pyenv root)/versions/3.N.P with N >= 6 is used.
# Environment: CC (default gcc), NM (default nm), GDB (default gdb; the
# DWARF check is skipped if it is not installed), READELF (default readelf),
# PYENV_ROOT.
#
# Output is deterministic: rows are sorted by minor version, then by
# sizeof(_PyRuntimeState), and the file is only rewritten when its contents
# change.  Builds of one minor version that agree share a row; builds that
# differ (Debian's 3.13 and python.org's, say) get a row each, told apart by
# the daemon through the size of the target's _PyRuntime symbol, so two
# layouts of one minor version with the same size are an error.

set -euo pipefail

CC=${CC:-gcc}
NM=${NM:-nm}
GDB=${GDB:-gdb}
READELF=${READELF:-readelf}

topdir=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
probe_src=$topdir/tools/pyoffsets-probe.c
out=$topdir/daemon/target/pyoffsets_table.h

die()
{
	echo "gen-pyoffsets: $*" >&2
	exit 1
}

note()
{
	echo "gen-pyoffsets: $*" >&2
}

pyenv_root()
{
	if [ -n "${PYENV_ROOT:-}" ]; then
		echo "$PYENV_ROOT"
	elif command -v pyenv >/dev/null 2>&1; then
		pyenv root
	else
		die "pyenv not found; set PYENV_ROOT or pass prefixes"
	fi
}

# Set $prefix and $want (expected PY_VERSION, or - if unknown) for one argument.
resolve()
{
	local arg=$1

	pick=
	if [[ $arg == */*@3.* ]]; then
		pick=${arg##*@}
		arg=${arg%@*}
	fi
	if [[ $arg == */* ]]; then
		[ -d "$arg" ] || die "no such prefix: $arg"
		prefix=$(cd "$arg" && pwd)
		want=-
	else
		prefix=$(pyenv_root)/versions/$arg
		[ -d "$prefix" ] || die "no such pyenv version: $arg"
		want=$arg
	fi
}

# The single include/python3.N[m] directory of a prefix (not 3.N[t|d]...),
# or its python$2 one.
incdir_of()
{
	local prefix=$1 pick=${2:-} d found=

	for d in "$prefix"/include/python3.*; do
		[[ $d =~ /python3\.[0-9]+m?$ ]] || continue
		[ -z "$pick" ] || [ "${d##*/}" = "python$pick" ] || continue
		[ -f "$d/Python.h" ] || continue
		[ -z "$found" ] || die "several include directories in $prefix"
		found=$d
	done
	[ -n "$found" ] || die "no include/python3.N/Python.h in $prefix"
	echo "$found"
}

# Size of the _PyRuntime symbol in the prefix's libpython or interpreter,
# or nothing if no symbol table with _PyRuntime is found.  The daemon picks
# a minor version's row by this size.
nm_runtime_size()
{
	local prefix=$1 minor=$2 f hex

	for f in "$prefix"/lib/libpython3."$minor".so.1.0 \
		 "$prefix"/lib/*-linux-gnu/libpython3."$minor".so.1.0 \
		 "$prefix"/lib/libpython3."$minor"m.so.1.0 \
		 "$prefix"/lib/libpython3."$minor".a \
		 "$prefix"/lib/libpython3."$minor"m.a \
		 "$prefix"/bin/python3."$minor"; do
		[ -f "$f" ] || continue
		# the symbol table, or (a stripped build) the dynamic one
		hex=$({ "$NM" -S --defined-only "$f" 2>/dev/null; "$NM" -D -S --defined-only "$f" 2>/dev/null; } |
		      awk '$4 == "_PyRuntime" { print $2; exit }') || true
		if [ -n "$hex" ]; then
			echo "$((16#$hex)) $f"
			return
		fi
	done
}

# The prefix's libpython (or statically linked interpreter): the first file
# that exists, whether or not it has DWARF.
lib_of()
{
	local prefix=$1 minor=$2 f

	for f in "$prefix"/lib/libpython3."$minor".so.1.0 \
		 "$prefix"/lib/*-linux-gnu/libpython3."$minor".so.1.0 \
		 "$prefix"/lib/libpython3."$minor"m.so.1.0 \
		 "$prefix"/bin/python3."$minor"; do
		if [ -f "$f" ]; then
			echo "$f"
			return
		fi
	done
}

# Check the "<field> <value> <expression>" lines of "probe --gdb" (stdin)
# against gdb's evaluation of each expression over the DWARF of $2, and the
# "<name> <lsb> <width>" lines of "probe --bits" (file $3) against the
# bitfields of PyASCIIObject.state in gdb's "ptype/o PyASCIIObject".
# Skipped with a note if gdb is missing or the file has no DWARF types.
dwarf_check()
{
	local what=$1 lib=$2 bits=$3 name val expr got gdbout line lsb width n=0
	local -a cmds=()
	local -A from_hdr=() from_dwarf=() dwarf_bits=()
	# "/*     32: 2   |       4 */        unsigned int kind : 3;": byte
	# offset and bit within that byte of a bitfield (LSB first), its width.
	local bitre='^/\*[[:space:]]+([0-9]+):[[:space:]]*([0-9]+)[[:space:]]+\|[[:space:]]+[0-9]+[[:space:]]+\*/[[:space:]].*[[:space:]]([a-z_]+)[[:space:]]+:[[:space:]]+([0-9]+);$'

	if [ -z "$lib" ]; then
		note "$what: no libpython found, DWARF check skipped"
		return
	fi
	if ! command -v "$GDB" >/dev/null 2>&1; then
		note "$what: $GDB not found, DWARF check skipped"
		return
	fi
	# "sizeof(PyThreadState)" only evaluates if the file has DWARF types.
	cmds=(-ex 'printf "pyoffsets-check - %ld\n", (long)sizeof(PyThreadState)')
	while read -r name val expr; do
		from_hdr[$name]=$val
		cmds+=(-ex "printf \"pyoffsets-check $name %ld\\n\", (long)($expr)")
	done
	cmds+=(-ex 'ptype/o PyASCIIObject')
	gdbout=$("$GDB" -batch -nx "${cmds[@]}" "$lib" 2>/dev/null) || true
	while read -r _ name got; do
		from_dwarf[$name]=$got
	done < <(grep '^pyoffsets-check [-a-z0-9_]* -\{0,1\}[0-9]*$' <<<"$gdbout" || true)
	if [ -z "${from_dwarf[-]:-}" ]; then
		note "$what: no DWARF types in $lib, DWARF check skipped"
		return
	fi
	for name in "${!from_hdr[@]}"; do
		[ -n "${from_dwarf[$name]:-}" ] ||
			die "$what: gdb cannot evaluate $name over the DWARF of $lib"
		[ "${from_dwarf[$name]}" = "${from_hdr[$name]}" ] ||
			die "$what: $name = ${from_hdr[$name]} from the headers but ${from_dwarf[$name]} in the DWARF of $lib"
		n=$((n + 1))
	done

	# Bit positions relative to the state word (unicode_state, checked above).
	[ -n "${from_dwarf[unicode_state]:-}" ] ||
		die "$what: no unicode_state to check the str state bits against"
	while IFS= read -r line; do
		[[ $line =~ $bitre ]] || continue
		lsb=$((BASH_REMATCH[1] * 8 + BASH_REMATCH[2] - from_dwarf[unicode_state] * 8))
		dwarf_bits[${BASH_REMATCH[3]}]="$lsb ${BASH_REMATCH[4]}"
	done <<<"$gdbout"
	while read -r name lsb width; do
		[ -n "${dwarf_bits[$name]:-}" ] ||
			die "$what: no bitfield state.$name in gdb's ptype/o PyASCIIObject over $lib"
		[ "${dwarf_bits[$name]}" = "$lsb $width" ] ||
			die "$what: state.$name (lsb width) is $lsb $width from the compiled test but ${dwarf_bits[$name]} in the DWARF of $lib"
		n=$((n + 1))
	done <"$bits"
	note "$what: $n values (str state bitfields included) match the DWARF of $lib"
}

# Check the lines of "probe --dbg" (file $3; empty before 3.13) against the
# _Py_DebugOffsets stored at the start of _PyRuntime in the initialised data
# of $2, for the row $4:
#   "<name> <pos> u64 <field|-> <add>": the uint64 at <pos> equals the row's
#	<field> (0 for -) plus <add>;
#   "<name> <pos> bytes <string>": the bytes at <pos> are <string>.
# Every dbg_* field of the row that is >= 0, except dbg_size, must be
# checked by one line.  Skipped with a note if there is no libpython or it
# has no _PyRuntime symbol.
pyruntime_check()
{
	local what=$1 lib=$2 dbgfile=$3 row=$4
	local name pos kind ref add val want got symaddr ndx stype saddr soff ssize
	local base size n=0
	local -a words=()
	local -A row_val=() checked=()

	[ -s "$dbgfile" ] || return 0
	if [ -z "$lib" ]; then
		note "$what: no libpython found, _Py_DebugOffsets check skipped"
		return
	fi
	while read -r name val; do
		row_val[$name]=$val
	done < <(grep -o '\.[a-z0-9_]* = -\{0,1\}[0-9]*' <<<"$row" | sed 's/^\.\([a-z0-9_]*\) = /\1 /')
	size=${row_val[dbg_size]:-}
	[[ $size =~ ^[1-9][0-9]*$ ]] ||
		die "$what: probe --dbg has lines but the row has no dbg_size"

	# Value and section index of _PyRuntime, then that section's type,
	# address, file offset and size (hex): the file offset of _PyRuntime.
	read -r symaddr ndx < <("$READELF" -s -W "$lib" |
		awk '$8 == "_PyRuntime" && $7 ~ /^[0-9]+$/ { print $2, $7; exit }'; echo) || true
	if [ -z "$symaddr" ]; then
		note "$what: no _PyRuntime symbol in $lib, _Py_DebugOffsets check skipped"
		return
	fi
	read -r stype saddr soff ssize < <("$READELF" -S -W "$lib" |
		sed -n 's/^[[:space:]]*\[[[:space:]]*\([0-9]*\)\][[:space:]]*/\1 /p' |
		awk -v n="$ndx" '$1 == n { print $3, $4, $5, $6; exit }'; echo) || true
	[ "$stype" = PROGBITS ] ||
		die "$what: _PyRuntime of $lib is in section $ndx of type ${stype:-?}, not initialised data"
	base=$((16#$symaddr - 16#$saddr))
	((base >= 0 && base + size <= 16#$ssize)) ||
		die "$what: _Py_DebugOffsets ($size bytes) of $lib is not inside its section"
	base=$((base + 16#$soff))
	mapfile -t words < <(od -An -v -tu8 -w8 -j "$base" -N "$size" "$lib" | tr -d ' ')
	[ "${#words[@]}" -eq $((size / 8)) ] ||
		die "$what: cannot read $size bytes at offset $base of $lib"

	while read -r name pos kind ref add; do
		((pos >= 0 && pos % 8 == 0 && pos + 8 <= size)) ||
			die "$what: $name at $pos is not a uint64 inside _Py_DebugOffsets"
		case $kind in
		bytes)
			want=$(printf '%s' "$ref" | od -An -v -tx1 | tr -d ' \n')
			got=$(od -An -v -tx1 -j $((base + pos)) -N ${#ref} "$lib" | tr -d ' \n')
			[ "$got" = "$want" ] ||
				die "$what: $name in $lib is bytes $got, not \"$ref\" ($want)"
			;;
		u64)
			if [ "$ref" = - ]; then
				want=$add
			else
				val=${row_val[$ref]:-}
				[[ $val =~ ^[0-9]+$ ]] ||
					die "$what: $name refers to row field $ref, which has no value"
				want=$((val + add))
			fi
			got=${words[pos / 8]}
			[ "$got" = "$want" ] ||
				die "$what: _PyRuntime.debug_offsets in $lib publishes $name = $got at $pos, the row gives $want ($ref + $add)"
			;;
		*)
			die "$what: bad line from probe --dbg: $name $pos $kind"
			;;
		esac
		checked[$name]=1
		n=$((n + 1))
	done <"$dbgfile"
	for name in "${!row_val[@]}"; do
		[[ $name == dbg_* && $name != dbg_size ]] || continue
		[ "${row_val[$name]}" -lt 0 ] || [ -n "${checked[$name]:-}" ] ||
			die "$what: probe --dbg does not check $name"
	done
	note "$what: $n values of _PyRuntime.debug_offsets in $lib match the row"
}

# The comment lines describing the "<name> <lsb> <width>" lines of stdin.
bits_comment()
{
	awk '{
		mask = (2 ^ $3 - 1) * 2 ^ $2
		bits = $3 == 1 ? sprintf("bit  %d", $2) : sprintf("bits %d-%d", $2, $2 + $3 - 1)
		printf " *\t%-9s %-9s mask 0x%02x\n", $1, bits, mask
	}'
}

command -v "$CC" >/dev/null 2>&1 || die "compiler not found: $CC"
[ -f "$probe_src" ] || die "missing $probe_src"

args=("$@")
if [ ${#args[@]} -eq 0 ]; then
	root=$(pyenv_root)
	for d in "$root"/versions/3.*; do
		v=${d##*/}
		[[ $v =~ ^3\.([0-9]+)\.[0-9]+$ ]] || continue
		[ "${BASH_REMATCH[1]}" -ge 6 ] || continue
		args+=("$v")
	done
	[ ${#args[@]} -gt 0 ] || die "no CPython 3.6+ found in $root/versions"
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Row i: its minor version, body, builds and runtime size.
declare -a minor_of=() body_of=() ver_of=() size_of=()
declare -A seen=()
n=0
bits_ref= bits_ver=
for arg in "${args[@]}"; do
	resolve "$arg"
	[ -z "${seen[$prefix@$pick]:-}" ] || continue
	seen[$prefix@$pick]=1
	inc=$(incdir_of "$prefix" "$pick")
	minor=$(sed -n 's/^#define PY_MINOR_VERSION[[:space:]]*\([0-9]*\).*/\1/p' \
		"$inc/patchlevel.h")
	[ -n "$minor" ] || die "cannot read PY_MINOR_VERSION from $inc"

	# 3.8+ internal headers include each other by bare name (pycore_*.h)
	# and CPython builds them with -IInclude/internal.  3.7's internal
	# headers are included as "internal/x.h" and share names with public
	# headers (pystate.h, ceval.h), so 3.7 and older get only -I<inc>.
	cflags=(-DPy_BUILD_CORE -I"$inc")
	if compgen -G "$inc/internal/pycore_*.h" >/dev/null; then
		cflags+=(-I"$inc/internal")
	fi
	# Debian's pyconfig.h includes <TRIPLET/python3.N/pyconfig.h>: searched
	# after the system's own headers, so a foreign root's libc headers stay out.
	compgen -G "$prefix/include/*-linux-gnu/${inc##*/}/pyconfig.h" >/dev/null &&
		cflags+=(-idirafter "$prefix/include")
	# Build options that are compiler flags, not pyconfig.h defines, and
	# change layouts (the JIT adds fields in 3.15): from the build's own
	# record of its core compiler flags.
	for f in "$prefix"/lib/"${inc##*/}"/_sysconfigdata_*.py; do
		[ -f "$f" ] || continue
		mapfile -t -O "${#cflags[@]}" cflags < <(grep -o "'PY_CORE_CFLAGS': '[^']*'" "$f" |
			grep -o -- '-D_Py_\(JIT\|TIER2\)\(=[0-9]*\)\{0,1\}' | sort -u)
		break
	done

	n=$((n + 1))
	bin=$tmp/probe-$n
	"$CC" -O0 -Wall "${cflags[@]}" -o "$bin" "$probe_src" ||
		die "compiling the probe against $inc failed"
	row=$("$bin") || die "probe for $inc failed"

	# First line is "/* <PY_VERSION>[: options] */".
	got=$(sed -n '1s|^[[:space:]]*/\* \([^ :]*\).*|\1|p' <<<"$row")
	if [ "$want" != - ] && [ "$got" != "$want" ]; then
		die "$inc is Python $got, expected $want"
	fi
	[ "$(sed -n 's/.*\.minor = \([0-9]*\),.*/\1/p' <<<"$row")" = "$minor" ] ||
		die "probe minor version mismatch for $inc"

	size=$(sed -n 's/.*\.runtime_size = \(-\{0,1\}[0-9]*\),.*/\1/p' <<<"$row")
	read -r nmsize nmfile < <(nm_runtime_size "$prefix" "$minor"; echo) || true
	if [ -n "${nmsize:-}" ]; then
		[ "$nmsize" = "$size" ] ||
			die "$got: sizeof(_PyRuntimeState) = $size but $nmfile has _PyRuntime of $nmsize bytes"
		note "$got: sizeof(_PyRuntimeState) $size matches $nmfile"
	elif [ "$size" != -1 ]; then
		note "$got: no _PyRuntime symbol found, runtime_size not cross-checked"
	fi
	"$bin" --gdb >"$tmp/gdb-$n" || die "probe --gdb for $inc failed"
	"$bin" --bits >"$tmp/bits-$n" || die "probe --bits for $inc failed"
	[ "$(wc -l <"$tmp/bits-$n")" -eq 4 ] ||
		die "probe --bits for $inc did not print 4 bitfields"
	dwarf_check "$got" "$(lib_of "$prefix" "$minor")" "$tmp/bits-$n" <"$tmp/gdb-$n"
	"$bin" --dbg >"$tmp/dbg-$n" || die "probe --dbg for $inc failed"
	pyruntime_check "$got" "$(lib_of "$prefix" "$minor")" "$tmp/dbg-$n" "$row"

	# struct py_offsets has no fields for the str state bits: the comment
	# in the output is only right if every version agrees.
	if [ -z "$bits_ref" ]; then
		bits_ref=$(cat "$tmp/bits-$n")
		bits_ver=$got
	elif [ "$(cat "$tmp/bits-$n")" != "$bits_ref" ]; then
		die "PyASCIIObject.state bits differ between $bits_ver and $got; add per-version fields to struct py_offsets"
	fi

	# "<PY_VERSION>[: options]" from the first line, the row itself after it.
	what=$(sed -n '1s|^[[:space:]]*/\* \(.*\) \*/$|\1|p' <<<"$row")
	body=$(sed 1d <<<"$row")
	row=
	for i in "${!minor_of[@]}"; do
		[ "${minor_of[$i]}" = "$minor" ] || continue
		if [ "${body_of[$i]}" = "$body" ]; then
			row=$i
			break
		fi
		[ "${size_of[$i]}" != "$size" ] ||
			die "3.$minor: builds ${ver_of[$i]} and $what have different layouts but the same sizeof(_PyRuntimeState) ($size; -1: none): the daemon could not tell them apart"
	done
	if [ -n "$row" ]; then
		ver_of[$row]="${ver_of[$row]}; $what"
	else
		minor_of+=("$minor")
		body_of+=("$body")
		ver_of+=("$what")
		size_of+=("$size")
	fi
done

{
	cat <<-'EOF'
	/* SPDX-License-Identifier: MIT */
	/*
	 * Generated by tools/gen-pyoffsets.sh; do not edit.
	 *
	 * Initializer rows for struct py_offsets (daemon/target/pyoffsets.h), one per
	 * layout of a CPython minor version, sorted by minor version, then by
	 * runtime_size (the daemon picks a minor version's row by the size of the
	 * target's _PyRuntime).  Every value is an offsetof()/sizeof() computed
	 * by tools/pyoffsets-probe.c compiled
	 * against that interpreter's own headers (-DPy_BUILD_CORE); -1 means
	 * the field does not exist in that version.  The comment above a row
	 * names the build(s) it was generated from and the layout-changing
	 * configure options their pyconfig.h defines.
	 *
	 * The dbg_* values (3.13+) are positions inside the _Py_DebugOffsets at
	 * the start of _PyRuntime; the values a row's libpython stores there
	 * were checked against the row (see daemon/target/pyoffsets.h for the two
	 * GIL fields, which are PyInterpreterState-relative).
	 *
	 * PyASCIIObject.state, the 32-bit word at unicode_state, has the same
	 * bitfields in every row (bit 0 = least significant bit of the word as
	 * read on x86-64; found by a compiled test, checked against the DWARF):
	EOF
	bits_comment <<<"$bits_ref"
	cat <<-'EOF'
	 */
	EOF
	for i in $(for i in "${!minor_of[@]}"; do echo "${minor_of[$i]} ${size_of[$i]} $i"; done |
		sort -n -k1,1 -k2,2 | cut -d' ' -f3); do
		printf '\t/* %s */\n%s\n' "${ver_of[$i]}" "${body_of[$i]}"
	done
} >"$tmp/table.h"

if [ -f "$out" ] && cmp -s "$tmp/table.h" "$out"; then
	note "$out is up to date"
else
	mkdir -p "$(dirname "$out")"
	cp "$tmp/table.h" "$out.tmp"
	mv "$out.tmp" "$out"
	note "wrote $out"
fi
