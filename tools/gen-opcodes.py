#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""gen-opcodes.py - regenerate daemon/target/bytecode_table.h (and the bytecode test fixtures)

Why: opcode numbers, the specialised-to-base ("deopt") map and the number of
inline-cache units after each instruction change with every CPython minor
version, and daemon/target/bytecode.c decodes code copied out of a live process of any
of 3.6 .. 3.13. So the numbers are never typed by hand: each interpreter found
is run and dumps its own opcode/dis modules (opmap, _specializations,
_specialized_instructions / _specialized_opmap, _inline_cache_entries, hasjabs,
hasjrel). How a jump oparg counts (bytes before 3.10, code units after) is
measured on a compiled function with dis, not assumed. A few numbers recorded
in cpython-internals.md section 3.5 are checked as a last guard.

Several interpreters of one minor version (pyenv's and Debian's /usr/bin/python3
3.11, say) must produce identical tables, or the script fails.

Usage: tools/gen-opcodes.py [--fixtures] [PYTHON]...
  PYTHON       interpreters to use; default: $(pyenv root)/versions/3.N.P/bin/python3
               for N = 6 .. 13, and /usr/bin/python3 if present
  --fixtures   also write tests/unit/bytecode_fixtures.h (code objects compiled
               and warmed up by each minor version's newest interpreter, with the
               expected analysis worked out from dis) and seed inputs in
               tests/fuzz/corpus/bytecode/
Output is deterministic; files are only rewritten when their contents change.
"""

import glob
import json
import os
import re
import subprocess
import sys

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TABLE_H = os.path.join(TOP, "daemon", "target", "bytecode_table.h")
FIXTURES_H = os.path.join(TOP, "tests", "unit", "bytecode_fixtures.h")
CORPUS_DIR = os.path.join(TOP, "tests", "fuzz", "corpus", "bytecode")
MINORS = range(6, 16)

# Run inside each interpreter (3.6+ syntax only). Reads a JSON request on stdin, prints JSON.
DUMP = r'''
import dis, json, opcode, sys

req = json.load(sys.stdin)
out = {"version": list(sys.version_info[:3]), "executable": sys.executable}

opmap = dict((k, v) for k, v in opcode.opmap.items() if v < 256)
if hasattr(opcode, "_specialized_opmap"):            # 3.13+
    spec = dict(opcode._specialized_opmap)
elif hasattr(dis, "_all_opmap"):                     # 3.11, 3.12
    spec = dict((k, v) for k, v in dis._all_opmap.items() if k not in opcode.opmap and v < 256)
else:
    spec = {}
base_of = {}
for base, names in getattr(opcode, "_specializations", {}).items():
    for s in names:
        base_of[s] = base
ice = getattr(opcode, "_inline_cache_entries", None)
if ice is None:
    caches = {}
elif hasattr(ice, "items"):                          # 3.13+: by name (3.15: a frozendict)
    caches = dict((k, v) for k, v in ice.items() if v)
else:                                                # 3.11, 3.12: by opcode
    caches = dict((opcode.opname[i], n) for i, n in enumerate(ice) if n)
out["opmap"] = opmap
out["specialized"] = spec
out["base_of"] = base_of
out["caches"] = caches
out["hasjabs"] = sorted(opcode.opname[o] for o in opcode.hasjabs)
out["hasjrel"] = sorted(opcode.opname[o] for o in opcode.hasjrel)
out["extended_arg"] = opcode.EXTENDED_ARG

# dis's own deopt agrees with the map built above
if hasattr(dis, "_deoptop"):
    for name, num in spec.items():
        b = base_of.get(name)
        if b is None or dis._deoptop(num) != opmap[b]:
            raise SystemExit("deopt mismatch for %s" % name)

# Bytes per unit of a jump oparg, from dis's reading of real jumps.
def probe(n, xs):
    while n:
        n -= 1
        for x in xs:
            if x:
                continue
            n += 1
    return n
scales = set()
for ins in dis.get_instructions(probe):
    if ins.opcode in opcode.hasjabs:
        if ins.arg:
            scales.add(ins.argval / ins.arg)
    elif ins.opcode in opcode.hasjrel:
        after = ins.offset + 2 + 2 * caches.get(ins.opname, 0)
        if ins.arg:
            scales.add(abs(ins.argval - after) / ins.arg)
if len(scales) != 1:
    raise SystemExit("jump scale: %r" % scales)
out["jump_scale"] = int(scales.pop())

def localnames(co):
    if sys.version_info >= (3, 11):
        res = []
        for i in range(len(co.co_varnames) + len(co.co_cellvars) + len(co.co_freevars)):
            try:
                res.append(co._varname_from_oparg(i))
            except (IndexError, ValueError):
                break
        return res
    return list(co.co_varnames)

def codes_of(co):
    yield co
    for c in co.co_consts:
        if hasattr(c, "co_code"):
            for x in codes_of(c):
                yield x

if req.get("fixtures"):
    mod = compile(req["source"], "fixtures", "exec")
    top = compile(req["module"], "module", "exec")
    ns = {"__name__": "fixtures"}
    exec(mod, ns)
    mg = dict(ns)
    for k in range(4):
        exec(req["warm"], dict(ns))
        exec(top, mg)
    fx = {}
    for name in req["functions"]:
        # the function objects share these code objects, which the warm-up quickened
        co = top if name == "<module>" else [c for c in codes_of(mod) if c.co_name == name][0]
        ins = []
        for i in dis.get_instructions(co):
            argval = i.argval if isinstance(i.argval, (int, str)) else None
            ins.append([i.offset, i.opname, i.arg, argval])
        adaptive = getattr(co, "_co_code_adaptive", None)
        fx[name] = {
            "code": co.co_code.hex(),
            "adaptive": adaptive.hex() if adaptive is not None else None,
            "names": list(co.co_names),
            "locals": localnames(co),
            "ins": ins,
        }
    out["fixtures"] = fx
json.dump(out, sys.stdout, sort_keys=True)
'''

# The kinds daemon/target/bytecode.c needs; order fixed (BCK_UNKNOWN must be 0: the default).
KINDS = [
    ("UNKNOWN", "not an instruction of this version (or CACHE): garbage or a lost walk"),
    ("OTHER", "any other instruction"),
    ("EXTENDED_ARG", "EXTENDED_ARG, EXTENDED_ARG_QUICK: oparg prefix"),
    ("LOAD_ATTR", "LOAD_ATTR (3.12+: oparg bit 0 = method load)"),
    ("LOAD_METHOD", "LOAD_METHOD (3.7 .. 3.11)"),
    ("STORE_ATTR", "STORE_ATTR"),
    ("DELETE_ATTR", "DELETE_ATTR"),
    ("LOAD_GLOBAL", "LOAD_GLOBAL (3.11+: oparg bit 0 = push NULL)"),
    ("LOAD_SUPER_ATTR", "LOAD_SUPER_ATTR (3.12+)"),
    ("LOAD_FAST", "LOAD_FAST, LOAD_FAST_CHECK, LOAD_FAST_BORROW (3.14+): push a local"),
    ("LOAD_FAST_AND_CLEAR", "LOAD_FAST_AND_CLEAR: push a local and unbind it"),
    ("LOAD_DEREF", "LOAD_DEREF, LOAD_CLASSDEREF, LOAD_FROM_DICT_OR_DEREF: push a cell's value"),
    ("LOAD_NAME", "LOAD_NAME, LOAD_FROM_DICT_OR_GLOBALS: push a co_names variable"),
    ("STORE_FAST", "STORE_FAST, DELETE_FAST: rebind a local"),
    ("STORE_DEREF", "STORE_DEREF, DELETE_DEREF: rebind a cell"),
    ("STORE_NAME", "STORE_NAME, DELETE_NAME, STORE_GLOBAL, DELETE_GLOBAL: rebind a co_names name"),
    ("LOAD_FAST_LOAD_FAST", "LOAD_FAST_LOAD_FAST (3.13+), LOAD_FAST_BORROW_LOAD_FAST_BORROW (3.14+): push locals oparg >> 4, then oparg & 15"),
    ("STORE_FAST_STORE_FAST", "STORE_FAST_STORE_FAST (3.13): rebind locals oparg >> 4, oparg & 15"),
    ("STORE_FAST_LOAD_FAST", "STORE_FAST_LOAD_FAST (3.13): rebind oparg >> 4, push oparg & 15"),
    ("JUMP_ABS", "absolute jump (<= 3.10)"),
    ("JUMP_FWD", "relative forward jump"),
    ("JUMP_BACK", "relative backward jump (3.11+)"),
    ("INSTRUMENTED_LINE", "INSTRUMENTED_LINE: the real opcode is kept elsewhere"),
    ("INSTRUMENTED_INSTRUCTION", "INSTRUMENTED_INSTRUCTION: the real opcode is kept elsewhere"),
    ("ENTER_EXECUTOR", "ENTER_EXECUTOR (3.13): the real opcode is kept in the executor"),
]
KIND_OF = {
    "EXTENDED_ARG": "EXTENDED_ARG",
    "LOAD_ATTR": "LOAD_ATTR",
    "LOAD_METHOD": "LOAD_METHOD",
    "STORE_ATTR": "STORE_ATTR",
    "DELETE_ATTR": "DELETE_ATTR",
    "LOAD_GLOBAL": "LOAD_GLOBAL",
    "LOAD_SUPER_ATTR": "LOAD_SUPER_ATTR",
    "LOAD_FAST": "LOAD_FAST",
    "LOAD_FAST_CHECK": "LOAD_FAST",
    "LOAD_FAST_BORROW": "LOAD_FAST",
    "LOAD_FAST_BORROW_LOAD_FAST_BORROW": "LOAD_FAST_LOAD_FAST",
    "LOAD_FAST_AND_CLEAR": "LOAD_FAST_AND_CLEAR",
    "LOAD_DEREF": "LOAD_DEREF",
    "LOAD_CLASSDEREF": "LOAD_DEREF",
    "LOAD_FROM_DICT_OR_DEREF": "LOAD_DEREF",
    "LOAD_NAME": "LOAD_NAME",
    "LOAD_FROM_DICT_OR_GLOBALS": "LOAD_NAME",
    "STORE_FAST": "STORE_FAST",
    "DELETE_FAST": "STORE_FAST",
    "STORE_DEREF": "STORE_DEREF",
    "DELETE_DEREF": "STORE_DEREF",
    "STORE_NAME": "STORE_NAME",
    "DELETE_NAME": "STORE_NAME",
    "STORE_GLOBAL": "STORE_NAME",
    "DELETE_GLOBAL": "STORE_NAME",
    "LOAD_FAST_LOAD_FAST": "LOAD_FAST_LOAD_FAST",
    "STORE_FAST_STORE_FAST": "STORE_FAST_STORE_FAST",
    "STORE_FAST_LOAD_FAST": "STORE_FAST_LOAD_FAST",
    "INSTRUMENTED_LINE": "INSTRUMENTED_LINE",
    "INSTRUMENTED_INSTRUCTION": "INSTRUMENTED_INSTRUCTION",
    "ENTER_EXECUTOR": "ENTER_EXECUTOR",
}

# What an instruction makes, for telling what churn is (a CPU sample in the allocator
# under it): from its own name, so that specialised forms say more than their base
# (BINARY_OP_ADD_UNICODE builds a str, BINARY_OP_ADD_INT an int, FOR_ITER_RANGE an int).
# Values of enum bc_makes in daemon/target/bytecode.h.
ARITH = {"ADD", "SUBTRACT", "MULTIPLY", "MATRIX_MULTIPLY", "TRUE_DIVIDE", "FLOOR_DIVIDE",
         "MODULO", "POWER", "LSHIFT", "RSHIFT", "AND", "OR", "XOR"}
STRING_OPS = {"BUILD_STRING", "FORMAT_VALUE", "FORMAT_SIMPLE", "FORMAT_WITH_SPEC", "CONVERT_VALUE"}
CONTAINER_OPS = {"BUILD_TUPLE", "BUILD_LIST", "BUILD_SET", "BUILD_MAP", "BUILD_CONST_KEY_MAP",
                 "BUILD_SLICE", "BUILD_TUPLE_UNPACK", "BUILD_TUPLE_UNPACK_WITH_CALL",
                 "BUILD_LIST_UNPACK", "BUILD_SET_UNPACK", "BUILD_MAP_UNPACK",
                 "BUILD_MAP_UNPACK_WITH_CALL", "LIST_APPEND", "SET_ADD", "MAP_ADD", "LIST_EXTEND",
                 "SET_UPDATE", "DICT_UPDATE", "DICT_MERGE", "LIST_TO_TUPLE", "GET_ITER"}


def makes_of(name, base):
    if base == "BINARY_OP" and "UNICODE" in name or base in STRING_OPS:
        return "STRING"
    if base == "BINARY_OP" or name == "FOR_ITER_RANGE" or \
            base in ("UNARY_NEGATIVE", "UNARY_INVERT", "UNARY_POSITIVE") or \
            any(base in ("BINARY_" + a, "INPLACE_" + a) for a in ARITH):
        return "NUMBER"
    if base in CONTAINER_OPS:
        return "CONTAINER"
    return "NOTHING"


# Facts of cpython-internals.md section 3.5: (minor, name, number, caches).
KNOWN = [
    (8, "LOAD_ATTR", 106, 0), (8, "LOAD_METHOD", 160, 0), (8, "STORE_ATTR", 95, 0),
    (8, "DELETE_ATTR", 96, 0), (8, "LOAD_GLOBAL", 116, 0), (8, "EXTENDED_ARG", 144, 0),
    (11, "LOAD_ATTR", 106, 4), (11, "LOAD_ATTR_INSTANCE_VALUE", 40, 4),
    (11, "LOAD_ATTR_WITH_HINT", 43, 4), (11, "LOAD_METHOD", 160, 10),
    (11, "LOAD_METHOD_WITH_VALUES", 63, 10), (11, "STORE_ATTR_WITH_HINT", 159, 4),
    (11, "LOAD_GLOBAL", 116, 5), (11, "LOAD_GLOBAL_MODULE", 55, 5),
    (11, "EXTENDED_ARG_QUICK", 34, 0),
    (12, "LOAD_ATTR", 106, 9), (12, "LOAD_ATTR_METHOD_WITH_VALUES", 82, 9),
    (12, "STORE_ATTR_WITH_HINT", 153, 4), (12, "LOAD_GLOBAL", 116, 4),
    (12, "LOAD_SUPER_ATTR", 141, 1), (12, "LOAD_SUPER_ATTR_METHOD", 67, 1),
    (12, "INSTRUMENTED_LOAD_SUPER_ATTR", 237, 1), (12, "EXTENDED_ARG", 144, 0),
    (12, "INSTRUMENTED_LINE", 254, 0), (12, "INSTRUMENTED_INSTRUCTION", 253, 0),
    (13, "LOAD_ATTR", 82, 9), (13, "LOAD_ATTR_SLOT", 201, 9), (13, "STORE_ATTR", 108, 4),
    (13, "DELETE_ATTR", 63, 0), (13, "LOAD_GLOBAL", 91, 4), (13, "LOAD_GLOBAL_MODULE", 204, 4),
    (13, "LOAD_SUPER_ATTR", 93, 1), (13, "INSTRUMENTED_LOAD_SUPER_ATTR", 242, 1),
    (13, "EXTENDED_ARG", 71, 0), (13, "INSTRUMENTED_LINE", 254, 0),
    (13, "INSTRUMENTED_INSTRUCTION", 247, 0),
]


def die(msg):
    sys.exit("gen-opcodes: " + msg)


def note(msg):
    print("gen-opcodes: " + msg, file=sys.stderr)


def default_interpreters():
    root = os.environ.get("PYENV_ROOT")
    if not root:
        try:
            root = subprocess.run(["pyenv", "root"], stdout=subprocess.PIPE, check=True,
                                  universal_newlines=True).stdout.strip()
        except (OSError, subprocess.CalledProcessError):
            root = os.path.expanduser("~/.pyenv")
    found = []
    for d in glob.glob(os.path.join(root, "versions", "3.*")):
        m = re.fullmatch(r"3\.(\d+)\.(\d+)", os.path.basename(d))
        exe = os.path.join(d, "bin", "python3")
        if m and int(m.group(1)) in MINORS and os.access(exe, os.X_OK):
            found.append(exe)
    if os.access("/usr/bin/python3", os.X_OK):
        found.append("/usr/bin/python3")
    return found


def run(exe, request):
    env = dict(os.environ, PYTHONHASHSEED="0", PYTHONDONTWRITEBYTECODE="1")
    env.pop("PYTHONPATH", None)
    p = subprocess.run([exe, "-I", "-c", DUMP], input=json.dumps(request), stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, universal_newlines=True, env=env)
    if p.returncode:
        die("%s failed: %s" % (exe, p.stderr.strip()))
    return json.loads(p.stdout)


def build_table(d):
    """Per opcode byte: (kind, caches, makes, comment) from one interpreter's dump."""
    opmap, spec, base_of, caches = d["opmap"], d["specialized"], d["base_of"], d["caches"]
    minor = d["version"][1]
    jabs, jrel = set(d["hasjabs"]), set(d["hasjrel"])
    names = {}
    for name, num in list(opmap.items()) + list(spec.items()):
        if num in names and names[num] != name:
            die("3.%d: opcode %d is both %s and %s" % (minor, num, names[num], name))
        names[num] = name
    table = {}
    for num, name in sorted(names.items()):
        base, how = name, ""
        if name in base_of:
            base, how = base_of[name], " -> " + base_of[name]
        elif name.startswith("INSTRUMENTED_") and name[13:] in opmap:
            # stands for the base instruction and keeps its inline caches
            base, how = name[13:], " -> " + name[13:]
        if base not in opmap:
            die("3.%d: %s has no base in opmap" % (minor, name))
        if base in jabs:
            kind = "JUMP_ABS"
        elif base in jrel:
            kind = "JUMP_BACK" if "BACKWARD" in base else "JUMP_FWD"
        elif base == "CACHE" and minor >= 11:
            kind = "UNKNOWN"        # only ever a cache unit, never executed
        else:
            kind = KIND_OF.get(base, "OTHER")
        if kind == "JUMP_ABS" and minor >= 11:
            die("3.%d: absolute jump %s" % (minor, name))
        table[num] = (kind, caches.get(base, 0), makes_of(name, base), name + how)
    if opmap["EXTENDED_ARG"] != d["extended_arg"]:
        die("3.%d: EXTENDED_ARG mismatch" % minor)
    for m, name, num, nc in KNOWN:
        if m == minor and (names.get(num) != name or table[num][1] != nc):
            die("3.%d: %s is not %d with %d caches as cpython-internals.md says"
                % (m, name, num, nc))
    return table


def dump_key(d):
    return json.dumps([d[k] for k in ("opmap", "specialized", "base_of", "caches", "hasjabs",
                                      "hasjrel", "extended_arg", "jump_scale")], sort_keys=True)


def write_if_changed(path, text, binary=False):
    mode = "rb" if binary else "r"
    try:
        with open(path, mode) as f:
            if f.read() == text:
                return
    except FileNotFoundError:
        pass
    with open(path, "wb" if binary else "w") as f:
        f.write(text)
    note("wrote " + os.path.relpath(path, TOP))


def sources_line(per_minor):
    out = []
    for minor in sorted(per_minor):
        vs = []
        for d in per_minor[minor]:
            exe = d["executable"]
            m = re.search(r"/versions/(3\.\d+\.\d+)/bin/python3$", exe)
            vs.append("pyenv %s" % m.group(1) if m else
                      "%s %d.%d.%d" % ((exe,) + tuple(d["version"])))
        out.append(" *   3.%d: %s" % (minor, "; ".join(vs)))
    return "\n".join(out)


def emit_table(per_minor, tables):
    lines = [
        "/* SPDX-License-Identifier: MIT */",
        "/*",
        " * Generated by tools/gen-opcodes.py: do not edit. Per CPython minor version, what",
        " * each opcode byte is for daemon/target/bytecode.c (specialised and INSTRUMENTED_<X> forms",
        " * mapped to their base instruction) and how many inline-cache units follow it, dumped",
        " * from each interpreter's own opcode and dis modules:",
        sources_line(per_minor),
        " * Interpreters of one minor version produced identical tables.",
        " */",
        "#ifndef PYPROBED_BYTECODE_TABLE_H",
        "#define PYPROBED_BYTECODE_TABLE_H",
        "#include <stdint.h>",
        "",
        "enum bc_kind {",
    ]
    for i, (k, doc) in enumerate(KINDS):
        lines += ["\t/* %s */" % doc, "\tBCK_%s%s," % (k, " = 0" if i == 0 else "")]
    lines += [
        "};",
        "",
        "struct bc_op {",
        "\tuint8_t kind;\t\t/* enum bc_kind */",
        "\tuint8_t caches;\t\t/* inline-cache units after the instruction (its base's) */",
        "\tuint8_t makes;\t\t/* enum bc_makes: what the instruction itself makes */",
        "};",
        "",
        "struct bc_version {",
        "\tint minor;",
        "\tint jump_bytes;\t\t/* jump opargs count bytes (<= 3.9), not code units */",
        "\tconst struct bc_op *ops;\t/* [256], by opcode byte */",
        "};",
    ]
    for minor in sorted(tables):
        lines += ["", "static const struct bc_op bc_ops_3_%d[256] = {" % minor]
        for num, (kind, nc, makes, what) in sorted(tables[minor].items()):
            entry = "\t[%d] = { BCK_%s, %d, BCM_%s }," % (num, kind, nc, makes)
            if len(("%s\t/* %s */" % (entry, what)).expandtabs(8)) > 100:
                lines += ["\t/* %s */" % what, entry]
            else:
                lines.append("%s\t/* %s */" % (entry, what))
        lines.append("};")
    lines += ["", "static const struct bc_version bc_versions[] = {"]
    for minor in sorted(tables):
        scale = per_minor[minor][0]["jump_scale"]
        lines.append("\t{ %d, %d, bc_ops_3_%d }," % (minor, 1 if scale == 1 else 0, minor))
    lines += ["};", "", "#endif", ""]
    return "\n".join(lines)


# ---------------------------------------------------------------------------
# Fixtures: functions compiled by each version, and what bytecode_analyse must say.

N_BIG = 300
FIXTURE_SOURCE = '''
G = 0
H = [1]
class O:
    def __init__(self):
        self.items = []
        self.x = 0
        self.o = self
    def method(self):
        return 1
class P(O):
    def sup(self, n):
        for i in range(n):
            super().method()
    def sup2(self, n):
        for i in range(n):
            super(P, self).method()
def uncached(obj, n):
    for i in range(n):
        obj.method()
def cached(obj, n):
    m = obj.method
    for i in range(n):
        m()
def chain(self, n):
    for i in range(n):
        self.items.append(i)
def deep(self, n):
    for i in range(n):
        self.o.o.o.o.o.method()
def chainstore(self, n):
    for i in range(n):
        self.items.append(i)
        self.items = []
def rebinding(xs):
    for o in xs:
        o.method()
def rebinding1(xs):
    for o in xs: o.method()
def glob(n):
    t = 0
    for i in range(n):
        t += len(H)
    return t
def globstore(n):
    global G
    for i in range(n):
        G = G + 1
def store(o, n):
    for i in range(n):
        o.x = i
def delete(o, n):
    for i in range(n):
        o.x = i
        del o.x
def whileloop(o, n):
    while n:
        o.method()
        n -= 1
def nested(o, xs, n):
    for p in xs:
        o = p
        for i in range(n):
            o.method()
def cond(a, b, c, n):
    for i in range(n):
        (a if c else b).method()
def callrecv(n):
    for i in range(n):
        O().method()
def subscr(xs, n):
    for i in range(n):
        xs[0].method()
def pair(a, b, n):
    for i in range(n):
        len((a, b.x))
def outer(o):
    def inner(n):
        for i in range(n):
            o.method()
    return inner
def outer2(o):
    def inner2(n):
        nonlocal o
        for i in range(n):
            o.method()
            o = O()
    return inner2
def aug(o, n):
    for i in range(n):
        o.x += 1
def many_names(o, n):
    global %(gnames)s
    if n < 0:
        del %(gnames)s
    for i in range(n):
        o.items.append(i)
def many_locals(n):
    if n < 0:
        del %(locals)s
    o = O()
    for i in range(n):
        o.method()
        v299 = i
''' % {
    "gnames": ", ".join("g%d" % i for i in range(N_BIG)),
    "locals": ", ".join("v%d" % i for i in range(N_BIG)),
}

FIXTURE_WARM = '''
o = O()
for k in range(3):
    uncached(o, 50); cached(o, 50); chain(O(), 50); deep(o, 50); chainstore(O(), 50)
    rebinding([o] * 50); rebinding1([o] * 50); glob(50); globstore(50); store(O(), 50)
    delete(O(), 50); whileloop(o, 50); nested(o, [o, o], 50); cond(o, o, True, 50)
    callrecv(50); subscr([o], 50); pair(o, o, 50); outer(o)(50); outer2(o)(50); aug(O(), 50)
    P().sup(50); P().sup2(50); many_names(O(), 50); many_locals(50)
'''

FIXTURE_MODULE = '''
o = O()
for i in range(50):
    o.method()
for o in [O()] * 50:
    o.x
'''

# (code object, attribute or global name, occurrence, in a loop, receiver, receiver invariant).
# Receiver "@x": x is a closure variable, which 3.6 .. 3.10 cannot name ("<closure>").
# Receiver "super()": LOAD_SUPER_ATTR (3.12+); earlier versions call super() instead ("").
CASES = [
    ("uncached", "method", 0, True, "obj", True),
    ("cached", "method", 0, False, "obj", False),
    ("chain", "items", 0, True, "self", True),
    ("chain", "append", 0, True, "self.items", True),
    ("deep", "o", 3, True, "self.o.o.o", True),
    ("deep", "method", 0, True, "", False),             # chain deeper than 4 links
    ("chainstore", "append", 0, True, "self.items", False),
    ("chainstore", "items", 1, True, "self", True),     # the STORE_ATTR
    ("rebinding", "method", 0, True, "o", False),
    ("rebinding1", "method", 0, True, "o", False),
    ("glob", "H", 0, True, "H", True),
    ("glob", "len", 0, True, "len", True),
    ("globstore", "G", 0, True, "G", False),
    ("store", "x", 0, True, "o", True),
    ("delete", "x", 1, True, "o", True),
    ("whileloop", "method", 0, True, "o", True),
    ("nested", "method", 0, True, "o", True),            # o rebound in the outer loop only
    ("cond", "method", 0, True, "?a", True),             # "" where dis shows a jump target
    ("callrecv", "method", 0, True, "", False),
    ("callrecv", "O", 0, True, "O", True),
    ("subscr", "method", 0, True, "", False),
    ("pair", "x", 0, True, "b", True),
    ("inner", "method", 0, True, "@o", True),
    ("inner2", "method", 0, True, "@o", False),
    ("aug", "x", 0, True, "", False),                    # receiver pushed by a copy
    ("sup", "method", 0, True, "super()", True),
    ("sup2", "method", 0, True, "super(P, self)", True),
    ("many_names", "items", 0, True, "o", True),
    ("many_names", "append", 0, True, "o.items", True),
    ("many_locals", "method", 0, True, "o", True),
    ("<module>", "method", 0, True, "o", True),
    ("<module>", "x", 0, True, "o", False),
]

FAMILIES = {"LOAD_ATTR": "BC_LOAD_ATTR", "LOAD_METHOD": "BC_LOAD_METHOD",
            "STORE_ATTR": "BC_STORE_ATTR", "DELETE_ATTR": "BC_DELETE_ATTR",
            "LOAD_GLOBAL": "BC_LOAD_GLOBAL", "LOAD_SUPER_ATTR": "BC_LOAD_SUPER_ATTR"}


def cstr(s):
    out = '"'
    for b in s.encode("utf-8"):
        c = chr(b)
        out += c if (32 <= b < 127 and c not in '"\\?') else "\\%03o" % b
    return out + '"'


def cbytes(data, indent="\t"):
    lines = []
    for i in range(0, len(data), 16):
        lines.append(indent + " ".join("0x%02x," % b for b in data[i:i + 16]))
    return "\n".join(lines)


def scramble_caches(adaptive, insn_units, d):
    """Cache units hold type versions, counters and pointers: replace them by deterministic
    bytes that look like EXTENDED_ARG, INSTRUMENTED_LINE or a LOAD_ATTR to a lost walk."""
    ops = [d["extended_arg"], 0xff, 0x00]
    for name in ("INSTRUMENTED_LINE", "LOAD_ATTR", "JUMP_BACKWARD"):
        if name in d["opmap"]:
            ops.append(d["opmap"][name])
    out = bytearray(adaptive)
    for u in range(len(out) // 2):
        if u not in insn_units:
            out[2 * u] = ops[u % len(ops)]
            out[2 * u + 1] = (u * 37 + 11) & 0xff
    return bytes(out)


def expectations(minor, d, name, fx):
    """Fixture cases of one code object, from dis's view of it."""
    ins = fx["ins"]
    caches = d["caches"]
    targets = set()
    jumps = []
    for off, opname, arg, argval in ins:
        if opname in d["hasjabs"] or opname in d["hasjrel"]:
            targets.add(argval // 2)
            jumps.append((off // 2, argval // 2))
    cases = []
    for fname, attr, nth, loop, recv, inv in CASES:
        if fname != name:
            continue
        hits = [i for i, x in enumerate(ins) if x[1] in FAMILIES and x[3] == attr]
        if len(hits) <= nth:
            die("3.%d: %s: no %s #%d" % (minor, name, attr, nth))
        k = hits[nth]
        off, opname, arg, argval = ins[k]
        index = off // 2
        start = index
        j = k
        while j > 0 and ins[j - 1][1] == "EXTENDED_ARG":
            j -= 1
            start = ins[j][0] // 2
        end = index + 1 + caches.get(opname, 0)
        family = FAMILIES[opname]
        if opname == "LOAD_ATTR" and minor >= 12 and arg & 1:
            family = "BC_LOAD_METHOD"
        best = None
        for jat, tgt in jumps:
            if jat >= index and tgt <= start and (best is None or jat - tgt < best[1] - best[0]):
                best = (tgt, jat)
        if (best is not None) != loop:
            die("3.%d: %s.%s: dis sees in_loop=%s" % (minor, name, attr, best is not None))
        if recv.startswith("@"):
            recv = recv[1:] if minor >= 11 else "<closure>"
        elif recv.startswith("?"):
            recv = "" if index in targets else recv[1:]
            inv = inv and recv != ""
        elif recv.startswith("super(") and family != "BC_LOAD_SUPER_ATTR":
            recv, inv = "", False
        code = bytes.fromhex(fx["code"])
        cases.append({
            "what": "%s: %s #%d" % (name, attr, nth), "start": start, "index": index, "end": end,
            "opcode": code[2 * index], "oparg": arg, "family": family,
            "name": fx["names"].index(argval), "in_loop": best is not None,
            "loop_start": best[0] if best else 0, "loop_end": best[1] if best else 0,
            "invariant": bool(inv and best is not None), "receiver": recv,
        })
    return cases


def emit_fixtures(per_minor, fixture_dumps):
    out = [
        "/* SPDX-License-Identifier: MIT */",
        "/*",
        " * Generated by tools/gen-opcodes.py --fixtures: do not edit. Code objects compiled by",
        " * each CPython minor version (co_code; for 3.11+ also _co_code_adaptive after a",
        " * warm-up, its inline caches replaced by deterministic junk), with what",
        " * bytecode_analyse() must find, worked out from dis. Interpreters:",
        sources_line({m: [fixture_dumps[m]] for m in fixture_dumps}),
        " */",
        "#ifndef PYPROBE_BYTECODE_FIXTURES_H",
        "#define PYPROBE_BYTECODE_FIXTURES_H",
        "#include <stdbool.h>",
        "#include <stddef.h>",
        "#include <stdint.h>",
        "#include \"bytecode.h\"",
        "",
        "struct bcfx_code {",
        "\tint minor;",
        "\tconst char *func;",
        "\tconst uint8_t *code;\t\t/* co_code */",
        "\tconst uint8_t *adaptive;\t/* 3.11+: quickened, specialised code; else NULL */",
        "\tsize_t nunits;",
        "\tconst char *const *names;\t/* co_names */",
        "\tuint32_t nnames;",
        "\tconst char *const *locals;\t/* co_varnames (<= 3.10), co_localsplusnames */",
        "\tuint32_t nlocals;",
        "};",
        "",
        "struct bcfx_case {",
        "\tconst struct bcfx_code *code;",
        "\tconst char *what;",
        "\tuint32_t start, index, end;\t/* end: one past its last inline-cache unit */",
        "\tuint8_t opcode;\t\t\t/* in co_code */",
        "\tuint32_t oparg;",
        "\tenum bc_family family;",
        "\tint32_t name;",
        "\tbool in_loop;",
        "\tuint32_t loop_start, loop_end;",
        "\tbool invariant;",
        "\tconst char *receiver;",
        "};",
        "",
        "/* Opcode numbers the hand-made tests patch in (-1: none in that version). */",
        "struct bcfx_version {",
        "\tint minor;",
    ]
    vnames = ["EXTENDED_ARG", "LOAD_FAST", "LOAD_ATTR", "JUMP_BACKWARD", "INSTRUMENTED_LINE",
              "INSTRUMENTED_INSTRUCTION", "INSTRUMENTED_JUMP_BACKWARD",
              "INSTRUMENTED_LOAD_SUPER_ATTR", "ENTER_EXECUTOR"]
    for n in vnames:
        out.append("\tint %s;" % n.lower())
    out += ["};", "", "static const struct bcfx_version bcfx_versions[] = {"]
    for minor in sorted(per_minor):
        opmap = per_minor[minor][0]["opmap"]
        out.append("\t{ %d, %s }," % (minor, ", ".join(str(opmap.get(n, -1)) for n in vnames)))
    out += ["};", ""]
    cases_out = []
    codes = []
    seeds = {}
    for minor in sorted(fixture_dumps):
        d = fixture_dumps[minor]
        table = build_table(d)
        for name in sorted(d["fixtures"]):
            fx = d["fixtures"][name]
            ident = "bcfx_3_%d_%s" % (minor, re.sub(r"\W", "", name))
            code = bytes.fromhex(fx["code"])
            out.append("static const uint8_t %s_code[] = {" % ident)
            out.append(cbytes(code))
            out.append("};")
            adaptive = "NULL"
            if fx["adaptive"] is not None:
                ad = bytes.fromhex(fx["adaptive"])
                insn_units = set(i[0] // 2 for i in fx["ins"])
                if len(ad) != len(code):
                    die("3.%d: %s: adaptive code length differs" % (minor, name))
                for u in insn_units:
                    if ad[2 * u + 1] != code[2 * u + 1] or \
                       table[ad[2 * u]][0] != table[code[2 * u]][0]:
                        die("3.%d: %s: unit %d quickened to another instruction" % (minor, name, u))
                ad = scramble_caches(ad, insn_units, d)
                out.append("static const uint8_t %s_adaptive[] = {" % ident)
                out.append(cbytes(ad))
                out.append("};")
                adaptive = ident + "_adaptive"
                seeds["3.%d-%s-adaptive" % (minor, name)] = (minor, ad)
            seeds["3.%d-%s" % (minor, name)] = (minor, code)
            for what, lst in (("names", fx["names"]), ("locals", fx["locals"])):
                out.append("static const char *const %s_%s[] = {" % (ident, what))
                for i in range(0, len(lst), 8):
                    out.append("\t" + " ".join(cstr(s) + "," for s in lst[i:i + 8]))
                if not lst:
                    out.append("\tNULL,")
                out.append("};")
            codes.append("\t{ %d, %s, %s_code, %s, %d, %s_names, %d, %s_locals, %d }," % (
                minor, cstr(name), ident, adaptive, len(code) // 2, ident, len(fx["names"]),
                ident, len(fx["locals"])))
            for c in expectations(minor, d, name, fx):
                cases_out.append(
                    "\t{ &bcfx_codes[%d], %s, %d, %d, %d, %d, %d, %s, %d, %s, %d, %d, %s, %s },"
                    % (len(codes) - 1, cstr("3.%d %s" % (minor, c["what"])), c["start"],
                       c["index"], c["end"], c["opcode"], c["oparg"], c["family"], c["name"],
                       "true" if c["in_loop"] else "false", c["loop_start"], c["loop_end"],
                       "true" if c["invariant"] else "false", cstr(c["receiver"])))
    out += ["", "static const struct bcfx_code bcfx_codes[] = {"] + codes + ["};", ""]
    out += ["static const struct bcfx_case bcfx_cases[] = {"] + cases_out + ["};", ""]
    out += ["#endif", ""]
    return "\n".join(out), seeds


def main():
    args = sys.argv[1:]
    fixtures = "--fixtures" in args
    args = [a for a in args if a != "--fixtures"]
    if any(a.startswith("-") for a in args):
        die("usage: gen-opcodes.py [--fixtures] [PYTHON]...")
    exes = args or default_interpreters()
    per_minor = {}
    for exe in exes:
        d = run(exe, {})
        major, minor = d["version"][:2]
        if major != 3 or minor not in MINORS:
            note("skipping %s (%d.%d)" % (exe, major, minor))
            continue
        d["executable"] = exe
        per_minor.setdefault(minor, []).append(d)
    if not per_minor:
        die("no interpreter found")
    tables = {}
    for minor, dumps in sorted(per_minor.items()):
        dumps.sort(key=lambda d: (d["version"], d["executable"]))
        for d in dumps[1:]:
            if dump_key(d) != dump_key(dumps[0]):
                die("3.%d: %s and %s disagree" % (minor, d["executable"], dumps[0]["executable"]))
        tables[minor] = build_table(dumps[0])
    missing = [m for m in MINORS if m not in per_minor]
    if missing:
        note("no interpreter for 3.%s" % ", 3.".join(str(m) for m in missing))
    write_if_changed(TABLE_H, emit_table(per_minor, tables))
    if not fixtures:
        return
    fixture_dumps = {}
    req = {"fixtures": True, "source": FIXTURE_SOURCE, "warm": FIXTURE_WARM,
           "module": FIXTURE_MODULE, "functions": sorted(set(c[0] for c in CASES))}
    for minor, dumps in sorted(per_minor.items()):
        # the newest release of the minor version, pyenv's before a system one
        exe = max(dumps, key=lambda d: (not d["executable"].startswith("/usr/"), d["version"]))
        fd = run(exe["executable"], req)
        fd["executable"] = exe["executable"]
        fixture_dumps[minor] = fd
    text, seeds = emit_fixtures(per_minor, fixture_dumps)
    write_if_changed(FIXTURES_H, text)
    os.makedirs(CORPUS_DIR, exist_ok=True)
    for name, (minor, code) in sorted(seeds.items()):
        if not re.search(r"-(chain|cond|many_locals)(-adaptive)?$", name):
            continue
        # fuzz input: minor selector, at (little-endian uint16), then the code
        at = len(code) // 4
        data = bytes([minor - 6, at & 0xff, at >> 8]) + code
        write_if_changed(os.path.join(CORPUS_DIR, name.replace("<module>", "module")), data,
                         binary=True)


if __name__ == "__main__":
    main()
