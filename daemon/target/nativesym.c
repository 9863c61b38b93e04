// SPDX-License-Identifier: MIT
/*
 * Native leaf frames: which object a sampled user-space address is in, and
 * which function where the object has a symbol table (.symtab, else .dynsym).
 * Objects are read through /proc/PID/root (elffile.h), once, on first use.
 * A stripped object still tells its kind: interpreter, extension module, libc.
 *
 * Each object also gets role ranges (allocation, deallocation, GC link,
 * attribute lookup): from symbol names in both tables, and, in the
 * interpreter, from the slots of the exported built-in type objects read from
 * the target, so that the static functions of a stripped LTO build (Debian's
 * python3: list_dealloc, tupledealloc, ...) are found too. Their extent comes
 * from the .eh_frame_hdr search table (ehframe.h).
 */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "nativesym.h"
#include "array.h"
#include "ehframe.h"
#include "elffile.h"
#include "procmaps.h"
#include "tmem.h"

#define MAX_MAPS 512
#define MAX_SEGS 16
#define MAX_ROLES 20000
/* A larger range is the eval loop, a whole stripped object or bad data: never a role. */
#define MAX_ROLE_LEN (64 * 1024)
#define MAX_TYPES 512

/*
 * PyTypeObject on 64-bit builds, the same in 3.6 .. 3.13 (gdb ptype/o on each
 * pyenv libpython). ob_type of a static type is &PyType_Type, which checks the
 * layout before any slot is trusted (a free-threaded or Py_TRACE_REFS build
 * fails it and gets no slot roles).
 */
#define TP_OB_TYPE 8
#define TP_NAME 24
#define TP_DEALLOC 48
#define TP_GETATTRO 144
#define TP_SETATTRO 152
#define TP_ALLOC 304
#define TP_FREE 320
#define TP_READ 328

struct sym {
	uint64_t addr, size;
	char *name;
};

struct role_range {
	uint64_t lo, hi;	/* object vaddrs */
	char *name;		/* owned: the symbol's name, or "<tp_name>.<slot>" */
	uint8_t role;
	uint8_t from_slot;
};

struct obj {
	char *path;
	struct procmap map;	/* its first executable mapping: how to open the file */
	const char *kind;
	int loaded;		/* symbols read (or tried) */
	struct sym *syms;	/* sorted by addr */
	size_t nsyms;
	struct role_range *roles;	/* sorted by lo, disjoint */
	size_t nroles, nroles_slot;
	struct elf_segment seg[MAX_SEGS];	/* the first PT_LOADs: file offset <-> vaddr */
	int nseg;
};

struct map {
	uint64_t start, end, off;
	struct obj *obj;
};

struct nativesym {
	pid_t pid;
	struct map maps[MAX_MAPS];
	int nmaps;
	struct obj *objs[MAX_MAPS];
	int nobjs;
};

/*
 * Functions with a role, by name. Each was seen in nm of pyenv's libpython
 * 3.6 .. 3.13, Debian's python3.11 or glibc, or is a static function of
 * CPython or glibc that optimized builds inline and -O0 builds keep. A
 * compiler suffix (".cold", ".part.0", ".lto_priv.0") is ignored, and every
 * name ending in "dealloc" is NR_FREE. Left out on purpose: the collector's
 * own work (gc_list_*, collect), which is timed separately; _PyFrame_Clear*
 * and dictresize, which mostly do other work and whose allocations show up
 * in the functions below; generic dict lookups (_Py_dict_lookup);
 * PyLong_FromLong, which for small ints only returns a cached object (its
 * allocating branch calls _PyLong_New or _PyLong_FromMedium).
 */
#define A(n) { n, NR_ALLOC }
#define F(n) { n, NR_FREE }
#define G(n) { n, NR_GC_LINK }
#define T(n) { n, NR_ATTR }
static const struct role_name {
	const char *name;
	int role;
} role_names[] = {
	/* obmalloc, the allocator front ends, debug hooks, arenas, 3.13's mimalloc */
	A("PyObject_Malloc"), A("PyObject_Calloc"), A("PyObject_Realloc"), A("_PyObject_Malloc"),
	A("_PyObject_Calloc"), A("_PyObject_Realloc"), A("_PyObject_Alloc"), A("pymalloc_alloc"),
	A("pymalloc_realloc"), A("allocate_from_new_pool"), A("_PyObject_ArenaMmap"),
	A("_PyObject_VirtualAlloc"), A("_PyMem_ArenaAlloc"), A("PyMem_Malloc"), A("PyMem_Calloc"),
	A("PyMem_Realloc"), A("PyMem_RawMalloc"), A("PyMem_RawCalloc"), A("PyMem_RawRealloc"),
	A("_PyMem_RawMalloc"), A("_PyMem_RawCalloc"), A("_PyMem_RawRealloc"),
	A("_PyMem_DebugMalloc"), A("_PyMem_DebugCalloc"), A("_PyMem_DebugRealloc"),
	A("_PyMem_DebugRawAlloc"), A("_PyMem_DebugRawMalloc"), A("_PyMem_DebugRawCalloc"),
	A("_PyMem_DebugRawRealloc"), A("_PyObject_MiMalloc"), A("_PyObject_MiCalloc"),
	A("_PyObject_MiRealloc"), A("_PyMem_MiMalloc"), A("_PyMem_MiCalloc"), A("_PyMem_MiRealloc"),
	A("mi_malloc"), A("_mi_malloc_generic"), A("_mi_page_malloc"),
	/* new-object paths */
	A("PyType_GenericAlloc"), A("_PyType_AllocNoTrack"), A("_PyObject_New"),
	A("_PyObject_NewVar"), A("PyObject_Init"), A("PyObject_InitVar"), A("_Py_NewReference"),
	A("_PyObject_GC_New"), A("_PyObject_GC_NewVar"), A("_PyObject_GC_Malloc"),
	A("_PyObject_GC_Calloc"), A("_PyObject_GC_Alloc"), A("gc_alloc"), A("PyTuple_New"),
	A("tuple_alloc"), A("_PyTuple_FromArray"), A("_PyTuple_FromArraySteal"), A("PyList_New"),
	A("_PyList_FromArraySteal"), A("PyDict_New"), A("new_dict"), A("new_keys_object"),
	A("PyFloat_FromDouble"), A("_PyLong_New"), A("_PyLong_FromMedium"),
	A("PyUnicode_New"), A("_PyUnicode_New"), A("PyBytes_FromStringAndSize"),
	A("_PyBytes_FromSize"), A("PyFrame_New"), A("_PyFrame_New_NoTrack"), A("bytes_alloc"),
	/* glibc malloc */
	A("malloc"), A("calloc"), A("realloc"), A("__libc_malloc"), A("__libc_calloc"),
	A("__libc_realloc"), A("_int_malloc"), A("_int_realloc"), A("malloc_consolidate"),
	A("sysmalloc"), A("tcache_init"),
	/* deallocation, besides every *dealloc */
	F("PyObject_Free"), F("_PyObject_Free"), F("pymalloc_free"), F("_PyObject_ArenaMunmap"),
	F("_PyObject_VirtualFree"), F("_PyMem_ArenaFree"), F("PyMem_Free"), F("PyMem_RawFree"),
	F("_PyMem_RawFree"), F("_PyMem_DebugFree"), F("_PyMem_DebugRawFree"), F("_PyObject_MiFree"),
	F("_PyMem_MiFree"), F("mi_free"), F("_mi_free_generic"), F("_mi_free_block_mt"),
	F("_Py_Dealloc"), F("PyObject_GC_Del"), F("free_keys_object"), F("dictkeys_decref"),
	F("_PyObject_FreeInstanceAttributes"), F("free"), F("cfree"), F("__libc_free"),
	F("_int_free"),
	/* GC header link and unlink */
	G("_PyObject_GC_Link"), G("PyObject_GC_Track"), G("PyObject_GC_UnTrack"),
	G("_PyObject_GC_Resize"),
	/* attribute lookup and store */
	T("PyObject_GetAttr"), T("PyObject_GetAttrString"), T("_PyObject_GetAttrId"),
	T("PyObject_GenericGetAttr"), T("_PyObject_GenericGetAttrWithDict"),
	T("_PyObject_LookupAttr"), T("_PyObject_LookupAttrId"), T("PyObject_GetOptionalAttr"),
	T("_PyObject_GetMethod"), T("_PyType_Lookup"), T("_PyType_LookupRef"),
	T("_PyType_LookupId"), T("find_name_in_mro"), T("PyObject_SetAttr"),
	T("PyObject_SetAttrString"), T("_PyObject_SetAttrId"), T("PyObject_GenericSetAttr"),
	T("_PyObject_GenericSetAttrWithDict"), T("_PyObject_GetInstanceAttribute"),
	T("_PyObject_StoreInstanceAttribute"), T("_PyDict_LoadGlobal"), T("module_getattro"),
	T("_Py_module_getattro"), T("_Py_module_getattro_impl"), T("type_getattro"),
	T("_Py_type_getattro"), T("_Py_type_getattro_impl"), T("type_setattro"),
	T("slot_tp_getattr_hook"), T("slot_tp_getattro"), T("_Py_slot_tp_getattr_hook"),
	T("_Py_slot_tp_getattro"), T("slot_tp_setattro"), T("super_getattro"), T("do_super_lookup"),
	T("_PySuper_Lookup"), T("_PyObject_LookupSpecial"), T("_PyObject_LookupSpecialId"),
	T("lookup_maybe_method"),
};
#undef A
#undef F
#undef G
#undef T

#define NROLE_NAMES (sizeof(role_names) / sizeof(role_names[0]))

/* The type slots read from the interpreter's built-in types. */
static const struct {
	int off, role;
	const char *slot;
} type_slots[] = {
	{ TP_DEALLOC, NR_FREE, "tp_dealloc" },	 { TP_FREE, NR_FREE, "tp_free" },
	{ TP_ALLOC, NR_ALLOC, "tp_alloc" },	 { TP_GETATTRO, NR_ATTR, "tp_getattro" },
	{ TP_SETATTRO, NR_ATTR, "tp_setattro" },
};

const char *nativesym_role_name(int role)
{
	switch (role) {
	case NR_ALLOC:
		return "alloc";
	case NR_FREE:
		return "free";
	case NR_GC_LINK:
		return "gc-link";
	case NR_ATTR:
		return "attr";
	default:
		return "";
	}
}

static const char *kind_of(const char *path, const char *interp)
{
	const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;

	if (!strcmp(path, interp))
		return "interpreter";
	if (!strncmp(base, "libc.so", 7) || !strncmp(base, "libc-", 5))
		return "libc";
	if (strstr(path, "/lib-dynload/") || strstr(base, ".cpython-") || strstr(path, "-packages/"))
		return "extension";
	return "library";
}

static struct obj *obj_for(struct nativesym *ns, const struct procmap *m, const char *interp)
{
	struct obj *o;

	for (int i = 0; i < ns->nobjs; i++)
		if (!strcmp(ns->objs[i]->path, m->path))
			return ns->objs[i];
	if (ns->nobjs >= MAX_MAPS || !(o = calloc(1, sizeof(*o))))
		return NULL;
	o->path = strdup(m->path);
	if (!o->path) {
		free(o);
		return NULL;
	}
	o->map = *m;
	o->kind = kind_of(m->path, interp);
	ns->objs[ns->nobjs++] = o;
	return o;
}

struct nativesym *nativesym__new(pid_t pid, const char *interp_path)
{
	struct nativesym *ns = calloc(1, sizeof(*ns));
	struct procmaps pm;
	struct procmap m;

	if (!ns)
		return NULL;
	ns->pid = pid;
	if (procmaps__open(&pm, pid))
		return ns;	/* every lookup will say "unknown" */
	while (ns->nmaps < MAX_MAPS && procmaps__next(&pm, &m) == 0) {
		if (m.perms[2] != 'x' || m.path[0] != '/')
			continue;
		ns->maps[ns->nmaps] = (struct map){ m.start, m.end, m.off, obj_for(ns, &m, interp_path) };
		if (ns->maps[ns->nmaps].obj)
			ns->nmaps++;
	}
	procmaps__close(&pm);
	return ns;
}

static int cmp_sym(const void *a, const void *b)
{
	const struct sym *x = a, *y = b;

	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

/* The symbol of o's table that holds vaddr. */
static const struct sym *find_sym(const struct obj *o, uint64_t vaddr)
{
	const struct sym *s;
	size_t lo = 0, hi = o->nsyms;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (o->syms[mid].addr <= vaddr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0)
		return NULL;
	s = &o->syms[lo - 1];
	return vaddr < s->addr + (s->size ? s->size : 1) ? s : NULL;
}

/* Role ranges of one object while they are collected. */
struct roleset {
	struct role_range *v;
	size_t n, cap;
	const struct role_name *names[NROLE_NAMES];	/* sorted by name */
	/* the object's .eh_frame_hdr and .eh_frame, inside the mapped file */
	const uint8_t *hdr, *eh;
	size_t hdr_n, eh_n;
	uint64_t hdr_vaddr, eh_vaddr;
	/* the interpreter's exported type objects */
	struct {
		uint64_t vaddr;
		char *name;
	} types[MAX_TYPES];
	int ntypes;
	uint64_t type_type;	/* vaddr of PyType_Type */
};

static int cmp_role_name(const void *a, const void *b)
{
	const struct role_name *x = *(const struct role_name *const *)a;
	const struct role_name *y = *(const struct role_name *const *)b;

	return strcmp(x->name, y->name);
}

static int cmp_key_role_name(const void *key, const void *b)
{
	return strcmp(key, (*(const struct role_name *const *)b)->name);
}

static int cmp_role(const void *a, const void *b)
{
	const struct role_range *x = a, *y = b;

	if (x->lo != y->lo)
		return x->lo < y->lo ? -1 : 1;
	if (x->from_slot != y->from_slot)
		return x->from_slot - y->from_slot;	/* names first */
	return x->hi > y->hi ? -1 : x->hi < y->hi;
}

static void add_role(struct roleset *rs, uint64_t lo, uint64_t hi, int role, const char *name,
		     bool from_slot)
{
	struct role_range *r;

	if (hi <= lo || hi - lo > MAX_ROLE_LEN || rs->n >= MAX_ROLES)
		return;
	if (ARRAY_GROW(&rs->v, &rs->cap, rs->n, 256, 0))
		return;
	r = &rs->v[rs->n];
	*r = (struct role_range){ lo, hi, strdup(name), (uint8_t)role, from_slot };
	if (r->name)
		rs->n++;
}

/* The role of a function named name; a compiler suffix after '.' is ignored. */
static int role_of_name(const struct roleset *rs, const char *name)
{
	const struct role_name *const *hit;
	size_t n = strcspn(name, ".");
	char base[128];

	if (n < 2 || n >= sizeof(base))
		return NR_NONE;
	memcpy(base, name, n);
	base[n] = 0;
	if (n >= 7 && !strcmp(base + n - 7, "dealloc"))
		return NR_FREE;
	hit = bsearch(base, rs->names, NROLE_NAMES, sizeof(rs->names[0]), cmp_key_role_name);
	return hit ? (*hit)->role : NR_NONE;
}

static int eh_range(const struct roleset *rs, uint64_t vaddr, uint64_t *lo, uint64_t *hi)
{
	return ehframe_range(rs->hdr, rs->hdr_n, rs->hdr_vaddr, rs->eh, rs->eh_n, rs->eh_vaddr,
			     vaddr, lo, hi);
}

/*
 * The exported static types: PyList_Type, PyTuple_Type, ... Every one of them
 * (78 in 3.11), not a list: their slots are the type's own functions, and
 * the pattern follows new versions.
 */
static bool is_type_name(const char *name)
{
	size_t n = strlen(name);

	return n > 7 && !strncmp(name, "Py", 2) && !strcmp(name + n - 5, "_Type");
}

/* Symbols with a role by name; the interpreter's .dynsym also gives its type objects. */
static void scan_symbols(const struct obj *o, const struct elffile *ef, uint32_t type,
			 struct roleset *rs)
{
	bool types = type == SHT_DYNSYM && !strcmp(o->kind, "interpreter");
	const char *name;
	size_t pos = 0;
	GElf_Sym s;

	while (elffile__next_sym(ef, type, &pos, &s, &name) == 0) {
		uint64_t lo, hi;
		int role;

		if (!s.st_value || s.st_shndx == SHN_UNDEF)
			continue;
		if (types && GELF_ST_TYPE(s.st_info) == STT_OBJECT && s.st_size >= TP_READ &&
		    is_type_name(name)) {
			if (!strcmp(name, "PyType_Type"))
				rs->type_type = s.st_value;
			if (rs->ntypes < MAX_TYPES && (rs->types[rs->ntypes].name = strdup(name)))
				rs->types[rs->ntypes++].vaddr = s.st_value;
			continue;
		}
		if (GELF_ST_TYPE(s.st_info) != STT_FUNC || !(role = role_of_name(rs, name)))
			continue;
		lo = s.st_value;
		hi = lo + s.st_size;
		/* A symbol without a size: its FDE, if that starts at the symbol. */
		if (!s.st_size && (eh_range(rs, s.st_value, &lo, &hi) || lo != s.st_value))
			continue;
		add_role(rs, lo, hi, role, name, false);
	}
}

/* runtime - vaddr for o, from the executable mapping m. */
static int load_bias(const struct obj *o, const struct map *m, uint64_t *bias)
{
	uint64_t len = m->end - m->start;

	for (int k = 0; k < o->nseg; k++) {
		uint64_t s = o->seg[k].off, e = s + o->seg[k].filesz;
		uint64_t off = m->off > s ? m->off : s;

		if (off < e && off - m->off < len) {
			*bias = m->start + (off - m->off) - (o->seg[k].vaddr + (off - s));
			return 0;
		}
	}
	return -ENOENT;
}

static bool in_text(const struct obj *o, uint64_t vaddr)
{
	for (int k = 0; k < o->nseg; k++)
		if ((o->seg[k].flags & PF_X) && vaddr >= o->seg[k].vaddr &&
		    vaddr - o->seg[k].vaddr < o->seg[k].filesz)
			return true;
	return false;
}

/* The type's tp_name, bounded and printable, else its symbol without "Py" and "_Type". */
static void type_name(pid_t pid, const uint8_t *type, const char *sym, char *out, size_t outlen)
{
	char buf[64];
	uint64_t p;
	size_t n = 0, max;

	memcpy(&p, type + TP_NAME, sizeof(p));
	/* One page at most, so that a string near an unmapped page is still read. */
	max = 4096 - (p & 4095);
	if (max > sizeof(buf) - 1)
		max = sizeof(buf) - 1;
	if (p && tmem_read(pid, p, buf, max) == 0)
		while (n < max && buf[n] > 0x20 && buf[n] < 0x7f)
			n++;
	if (n && n < max && !buf[n]) {
		buf[n] = 0;
		snprintf(out, outlen, "%s", buf);
	} else {
		snprintf(out, outlen, "%.*s", (int)(strlen(sym) - 7), sym + 2);
	}
}

/*
 * Roles from the slots of the interpreter's built-in types, read from the
 * target. A slot must point at a function entry of this object: the start
 * of a symbol or of an FDE.
 */
static void slot_roles(struct nativesym *ns, struct obj *o, const struct map *m, struct roleset *rs)
{
	uint64_t bias, type_type;

	if (!rs->type_type || load_bias(o, m, &bias))
		return;
	type_type = rs->type_type + bias;
	for (int i = 0; i < rs->ntypes; i++) {
		uint8_t t[TP_READ];
		char tn[64], name[96];
		uint64_t ob_type;
		int err = tmem_read(ns->pid, rs->types[i].vaddr + bias, t, sizeof(t));

		if (err == -ESRCH)
			return;	/* the process is gone */
		if (err)
			continue;
		memcpy(&ob_type, t + TP_OB_TYPE, sizeof(ob_type));
		if (ob_type != type_type)
			continue;
		type_name(ns->pid, t, rs->types[i].name, tn, sizeof(tn));
		for (size_t k = 0; k < sizeof(type_slots) / sizeof(type_slots[0]); k++) {
			const struct sym *s;
			uint64_t p, v, lo, hi;

			memcpy(&p, t + type_slots[k].off, sizeof(p));
			v = p - bias;
			if (!p || !in_text(o, v))
				continue;
			s = find_sym(o, v);
			if (s && s->addr == v && s->size) {
				lo = v;
				hi = v + s->size;
			} else if (eh_range(rs, v, &lo, &hi) || lo != v) {
				continue;
			}
			snprintf(name, sizeof(name), "%s.%s", tn, type_slots[k].slot);
			add_role(rs, lo, hi, type_slots[k].role, name, true);
		}
	}
}

/* Sorted, disjoint: on overlap the earlier range (names before slots) stays. */
static void finish_roles(struct obj *o, struct roleset *rs)
{
	size_t n = 0;
	struct role_range *v;

	if (rs->n)
		qsort(rs->v, rs->n, sizeof(*rs->v), cmp_role);
	for (size_t i = 0; i < rs->n; i++) {
		if (n && rs->v[i].lo < rs->v[n - 1].hi) {
			free(rs->v[i].name);
			continue;
		}
		rs->v[n++] = rs->v[i];
		o->nroles_slot += rs->v[i].from_slot;
	}
	if (!n) {
		free(rs->v);
		v = NULL;
	} else if (!(v = realloc(rs->v, n * sizeof(*v)))) {
		v = rs->v;	/* keep the larger block */
	}
	rs->v = NULL;
	o->roles = v;
	o->nroles = n;
}

/* .eh_frame_hdr from PT_GNU_EH_FRAME, .eh_frame from its pointer, both inside the file image. */
static void find_ehframe(const struct elffile *ef, struct roleset *rs)
{
	GElf_Phdr ph;

	if (elffile__phdr(ef, PT_GNU_EH_FRAME, &ph) ||
	    !(rs->hdr = elffile__bytes(ef, ph.p_offset, ph.p_filesz)) ||
	    ehframe_hdr_eh_frame(rs->hdr, ph.p_filesz, ph.p_vaddr, &rs->eh_vaddr) ||
	    !(rs->eh = elffile__vaddr_bytes(ef, rs->eh_vaddr, &rs->eh_n))) {
		rs->hdr = NULL;
		return;
	}
	rs->hdr_n = ph.p_filesz;
	rs->hdr_vaddr = ph.p_vaddr;
}

/* The functions of the full symbol table, else of .dynsym, sorted by address. */
static void read_functions(struct obj *o, const struct elffile *ef)
{
	uint32_t type = elffile__nsyms(ef, SHT_SYMTAB) ? SHT_SYMTAB : SHT_DYNSYM;
	size_t n = elffile__nsyms(ef, type), pos = 0;
	const char *name;
	GElf_Sym s;

	if (!n)
		return;
	o->syms = calloc(n, sizeof(*o->syms));
	while (o->syms && elffile__next_sym(ef, type, &pos, &s, &name) == 0) {
		if (GELF_ST_TYPE(s.st_info) != STT_FUNC || !s.st_value)
			continue;
		o->syms[o->nsyms] = (struct sym){ s.st_value, s.st_size, strdup(name) };
		if (o->syms[o->nsyms].name)
			o->nsyms++;
	}
	if (o->nsyms)
		qsort(o->syms, o->nsyms, sizeof(*o->syms), cmp_sym);
}

static void load_syms(struct nativesym *ns, struct obj *o, const struct map *m)
{
	const struct elf_segment *segs;
	struct roleset *rs = NULL;
	struct elffile *ef = NULL;
	size_t nsegs;
	int fd;

	o->loaded = 1;
	fd = procmaps__open_file(ns->pid, &o->map, NULL, 0, NULL);
	if (fd < 0)
		goto cleanup;
	ef = elffile__open_fd(fd);
	close(fd);
	if (!ef)
		goto cleanup;
	segs = elffile__segments(ef, &nsegs);
	for (size_t i = 0; i < nsegs && o->nseg < MAX_SEGS; i++)
		o->seg[o->nseg++] = segs[i];
	read_functions(o, ef);

	rs = calloc(1, sizeof(*rs));
	if (!rs)
		goto cleanup;
	for (size_t i = 0; i < NROLE_NAMES; i++)
		rs->names[i] = &role_names[i];
	qsort(rs->names, NROLE_NAMES, sizeof(rs->names[0]), cmp_role_name);
	find_ehframe(ef, rs);
	scan_symbols(o, ef, SHT_SYMTAB, rs);
	scan_symbols(o, ef, SHT_DYNSYM, rs);
	if (!strcmp(o->kind, "interpreter") && elffile__ehdr(ef)->e_ident[EI_CLASS] == ELFCLASS64)
		slot_roles(ns, o, m, rs);
	finish_roles(o, rs);
cleanup:
	if (rs) {
		for (int i = 0; i < rs->ntypes; i++)
			free(rs->types[i].name);
		free(rs);
	}
	elffile__free(ef);
}

int nativesym__lookup(struct nativesym *ns, uint64_t ip, struct nativeloc *out)
{
	memset(out, 0, sizeof(*out));
	for (int i = 0; i < ns->nmaps; i++) {
		struct map *m = &ns->maps[i];
		struct obj *o = m->obj;
		const struct sym *s;
		uint64_t off, vaddr = 0;
		size_t lo = 0, hi = o->nroles;

		if (ip < m->start || ip >= m->end)
			continue;
		out->object = strrchr(o->path, '/') + 1;
		out->kind = o->kind;
		if (!o->loaded)
			load_syms(ns, o, m);
		off = ip - m->start + m->off;
		for (int k = 0; k < o->nseg; k++) {
			if (off >= o->seg[k].off && off < o->seg[k].off + o->seg[k].filesz) {
				vaddr = o->seg[k].vaddr + (off - o->seg[k].off);
				break;
			}
		}
		if (!vaddr)
			return 0;
		s = find_sym(o, vaddr);
		if (s)
			out->symbol = s->name;
		hi = o->nroles;
		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;

			if (o->roles[mid].lo <= vaddr)
				lo = mid + 1;
			else
				hi = mid;
		}
		if (lo > 0 && vaddr < o->roles[lo - 1].hi) {
			out->role = o->roles[lo - 1].role;
			if (!out->symbol)
				out->symbol = o->roles[lo - 1].name;
		}
		return 0;
	}
	out->kind = "jit/anonymous";
	out->object = "?";
	return -ENOENT;
}

void nativesym__free(struct nativesym *ns)
{
	if (!ns)
		return;
	for (int i = 0; i < ns->nobjs; i++) {
		struct obj *o = ns->objs[i];

		for (size_t k = 0; k < o->nsyms; k++)
			free(o->syms[k].name);
		for (size_t k = 0; k < o->nroles; k++)
			free(o->roles[k].name);
		free(o->syms);
		free(o->roles);
		free(o->path);
		free(o);
	}
	free(ns);
}
