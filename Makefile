# SPDX-License-Identifier: MIT
# pyprobe: make [all] | check | demo | bench | deps | install | uninstall | clean | vmlinux | help
# V=1 shows full commands; O=dir puts every build output in dir (default .output).

O ?= .output
override O := $(abspath $(O))
CC ?= cc
CLANG ?= clang
LLVM_STRIP ?= llvm-strip
BPFTOOL ?= bpftool
PKG_CONFIG ?= pkg-config
PREFIX ?= /usr/local
DESTDIR ?=
VERSION := 0.1.0

ifeq ($(V),1)
Q =
msg =
else
Q = @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

ARCH := $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')
VMLINUX_H ?= $(O)/vmlinux.h

LIBS_PC := libbpf jansson libelf zlib
PC_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(LIBS_PC) 2>/dev/null)
PC_LIBS := $(shell $(PKG_CONFIG) --libs $(LIBS_PC) 2>/dev/null)
ifeq ($(PC_LIBS),)
PC_LIBS := -lbpf -ljansson -lelf -lz
endif

WARN := -Wall -Wextra -Wno-unused-parameter -Wmissing-prototypes -Wshadow
ifneq ($(CI),)
WERROR ?= 1
endif
ifeq ($(WERROR),1)
WARN += -Werror
endif
CFLAGS ?= -O2 -g
# SANITIZE=1: ASan and UBSan, every error fatal. make check builds the daemon, the CLI and the
# unit tests it runs this way, in $(O)/asan; SAN_ENV makes a report abort the process.
ifeq ($(SANITIZE),1)
SAN_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
SAN_ENV := ASAN_OPTIONS=halt_on_error=1:abort_on_error=1:detect_leaks=1:print_stacktrace=1 \
	UBSAN_OPTIONS=halt_on_error=1:abort_on_error=1:print_stacktrace=1
endif
ALL_CFLAGS := -std=gnu11 $(CFLAGS) $(WARN) -D_GNU_SOURCE -DPYPROBE_VERSION='"$(VERSION)"' \
	-Iinclude -I$(O) $(PC_CFLAGS) -MMD -MP $(SAN_FLAGS) $(EXTRA_CFLAGS)
ALL_LDFLAGS := $(LDFLAGS) $(SAN_FLAGS) $(EXTRA_LDFLAGS)

BPF_SRCS := $(wildcard bpf/*.bpf.c)
BPF_OBJS := $(patsubst bpf/%.bpf.c,$(O)/bpf/%.bpf.o,$(BPF_SRCS))
SKELS := $(patsubst bpf/%.bpf.c,$(O)/%.skel.h,$(BPF_SRCS))
# usdt.bpf.h includes <linux/errno.h>, whose <asm/...> lives in the multiarch directory.
MULTIARCH_INC := $(addprefix -idirafter ,$(wildcard /usr/include/$(shell $(CC) -dumpmachine 2>/dev/null)))
BPF_CFLAGS := -target bpf -g -O2 -D__TARGET_ARCH_$(ARCH) -Iinclude -I$(dir $(VMLINUX_H)) $(MULTIARCH_INC) -MMD -MP \
	-Wall -Wno-unused-function $(filter -Werror,$(WARN))

# The daemon's layers, lowest first (docs/architecture.md): each is a static archive that
# the daemon, the unit tests and the fuzzers link; a layer includes only its own headers and
# those of the layers below it (tools/check-layers.sh, run by make check).
LAYERS := core target analysis kernel serve
LAYER_INC := $(addprefix -Idaemon/,$(LAYERS))
layer_srcs = $(wildcard daemon/$(1)/*.c)
LAYER_LIBS := $(foreach l,$(LAYERS),$(O)/daemon/lib$(l).a)
# Link order: a layer's archive before the ones it uses.
LINK_LIBS := $(foreach l,serve kernel analysis target core,$(O)/daemon/lib$(l).a)
DAEMON_OBJS := $(O)/daemon/main.o
CLI_SRCS := $(wildcard cli/*.c)
CLI_OBJS := $(patsubst %.c,$(O)/%.o,$(CLI_SRCS))
UNIT_TESTS := $(patsubst tests/unit/test_%.c,$(O)/tests/unit/test_%,$(wildcard tests/unit/test_*.c))

.DELETE_ON_ERROR:
.SECONDARY:
.PHONY: all check check-full unit bats demo bench deps install uninstall clean vmlinux help fuzz

all: $(O)/pyprobed $(O)/pyprobe

$(O) $(O)/bpf $(O)/daemon $(O)/cli $(O)/tests/unit $(addprefix $(O)/daemon/,$(LAYERS)):
	$(Q)mkdir -p $@

ifeq ($(VMLINUX_H),$(O)/vmlinux.h)
$(O)/vmlinux.h: | $(O)
	$(call msg,GEN,$@)
	$(Q)$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > $@
endif

vmlinux:
	$(Q)rm -f $(O)/vmlinux.h
	$(Q)$(MAKE) --no-print-directory $(O)/vmlinux.h

# A BPF object from its source: compiled, stripped of DWARF, linked by bpftool (BTF kept).
define bpf_object
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -MF $(@:.o=.d) -MT $@ -c $< -o $@.tmp.o
	$(Q)$(LLVM_STRIP) -g $@.tmp.o
	$(Q)$(BPFTOOL) gen object $@ $@.tmp.o
	$(Q)rm -f $@.tmp.o
endef

$(O)/bpf/%.bpf.o: bpf/%.bpf.c $(VMLINUX_H) | $(O)/bpf
	$(bpf_object)

$(O)/%.skel.h: $(O)/bpf/%.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name pp_$* > $@

# Skeleton headers are order-only: -MMD records which objects include them, and only those
# rebuild when a .bpf.c changes.
$(O)/daemon/%.o: daemon/%.c | $(SKELS) $(O)/daemon $(addprefix $(O)/daemon/,$(LAYERS))
	$(call msg,CC,$@)
	$(Q)$(CC) $(ALL_CFLAGS) $(LAYER_INC) -c $< -o $@

define layer_lib
$(O)/daemon/lib$(1).a: $(patsubst %.c,$(O)/%.o,$(call layer_srcs,$(1)))
	$$(call msg,AR,$$@)
	$$(Q)rm -f $$@ && $$(AR) rcs $$@ $$^
endef
$(foreach l,$(LAYERS),$(eval $(call layer_lib,$(l))))

# The CLI shares the pprof encoder with the daemon (daemon/core/pprof.c).
$(O)/cli/%.o: cli/%.c | $(O)/cli
	$(call msg,CC,$@)
	$(Q)$(CC) $(ALL_CFLAGS) -Idaemon/core -c $< -o $@

$(O)/pyprobed: $(DAEMON_OBJS) $(LAYER_LIBS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(ALL_LDFLAGS) $(DAEMON_OBJS) $(LINK_LIBS) $(PC_LIBS) -o $@

$(O)/pyprobe: $(CLI_OBJS) $(O)/daemon/core/pprof.o
	$(call msg,LINK,$@)
	$(Q)$(CC) $(ALL_LDFLAGS) $(filter %.o,$^) $(PC_LIBS) -o $@

# Unit tests link the layers' archives: the linker takes only the objects a test uses.
$(O)/tests/unit/test_%: tests/unit/test_%.c $(LAYER_LIBS) | $(O)/tests/unit
	$(call msg,CC,$@)
	$(Q)$(CC) $(ALL_CFLAGS) -Itests/unit $(LAYER_INC) $< $(LINK_LIBS) $(PC_LIBS) -o $@

unit: $(UNIT_TESTS)
	$(Q)rc=0; for t in $(UNIT_TESTS); do $(SAN_ENV) $$t || rc=1; done; exit $$rc

# The fake interpreter of tests/bats/090-hostile.bats: fakepy and a libpython3.N.so.1.0
# per version, never sanitized (it is the target, not the code under test).
HOSTILE_MINORS := 6 7 8 9 10 11 12 13 14 15
HOSTILE := $(O)/tests/hostile/fakepy $(patsubst %,$(O)/tests/hostile/libpython3.%.so.1.0,$(HOSTILE_MINORS))
HOSTILE_CFLAGS := -std=gnu11 -O2 -g $(WARN) -D_GNU_SOURCE

$(O)/tests/hostile:
	$(Q)mkdir -p $@

$(O)/tests/hostile/fakepy: tests/hostile/fakepy.c daemon/target/pyoffsets.c daemon/target/pyoffsets.h \
		daemon/target/pyoffsets_table.h daemon/target/pyoffsets_debug.h \
		| $(O)/tests/hostile
	$(call msg,CC,$@)
	$(Q)$(CC) $(HOSTILE_CFLAGS) -Idaemon/target $(filter %.c,$^) -ldl -lpthread -o $@

$(O)/tests/hostile/libpython3.%.so.1.0: tests/hostile/fakelib.c $(O)/tests/hostile/fakepy
	$(call msg,CC,$@)
	$(Q)$(CC) $(HOSTILE_CFLAGS) -shared -fPIC -DFAKE_MINOR=$* \
		-DFAKE_RUNTIME_SIZE=$$($(O)/tests/hostile/fakepy runtime-size $*) $< -o $@

# PLAIN_BIN: the unsanitized build, for the tests whose figures ASan distorts (memory).
bats: all $(HOSTILE)
	$(Q)$(SAN_ENV) PYPROBE_BIN=$(O) PYPROBE_PLAIN_BIN=$(or $(PLAIN_BIN),$(O)) bats --tap --timing tests/bats

# check tests sanitized binaries (unit tests, daemon, CLI) built in $(O)/asan.
CHECK_SAN := O=$(O)/asan SANITIZE=1 VMLINUX_H=$(VMLINUX_H)

# check and demo install what is missing first, then build in a fresh make (so
# pkg-config sees the new packages); check runs both halves even if one fails.
check:
	$(Q)tools/deps.sh --test
	$(Q)tools/debian-root.sh
	$(Q)tools/check-layers.sh
	$(Q)$(MAKE) --no-print-directory all
	$(Q)rc=0; $(MAKE) --no-print-directory $(CHECK_SAN) unit || rc=1; \
	$(MAKE) --no-print-directory $(CHECK_SAN) PLAIN_BIN=$(O) bats || rc=1; exit $$rc

# check-full: the long sweeps (10-window stability, ...) on every interpreter, not only on
# Debian's, the oldest and the newest as make check runs them.
check-full:
	$(Q)PYPROBE_FULL=1 $(MAKE) --no-print-directory check

# Fuzzers (libFuzzer + ASan/UBSan, clang): each runs FUZZ_SECONDS from the committed
# seed corpus; new inputs go to $(O)/fuzz, never into the tree.
FUZZ_SECONDS ?= 60
FUZZ_TARGETS := protocol linetable elf targetmem bytecode ehframe
# Fuzzers link the layers too, built again with the fuzzer's instrumentation in $(O)/fuzz.
comma := ,
FUZZ_LAYERS := core target analysis serve
FUZZ_CFLAGS := -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -D_GNU_SOURCE \
	-DPYPROBE_VERSION='"$(VERSION)"' \
	-Iinclude $(LAYER_INC) $(PC_CFLAGS)
FUZZ_LIB_CFLAGS := $(subst -fsanitize=fuzzer$(comma),-fsanitize=fuzzer-no-link$(comma),$(FUZZ_CFLAGS))
FUZZ_LIBS := $(foreach l,serve analysis target core,$(O)/fuzz/lib$(l).a)

$(O)/fuzz/obj/%.o: daemon/%.c
	$(Q)mkdir -p $(dir $@)
	$(call msg,FUZZ-CC,$@)
	$(Q)$(CLANG) $(FUZZ_LIB_CFLAGS) -MMD -MP -c $< -o $@

define fuzz_lib
$(O)/fuzz/lib$(1).a: $(patsubst daemon/%.c,$(O)/fuzz/obj/%.o,$(call layer_srcs,$(1)))
	$$(Q)rm -f $$@ && $$(AR) rcs $$@ $$^
endef
$(foreach l,$(FUZZ_LAYERS),$(eval $(call fuzz_lib,$(l))))

$(O)/fuzz:
	$(Q)mkdir -p $@

$(O)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_LIBS) | $(O)/fuzz
	$(call msg,FUZZ-CC,$@)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) $< $(FUZZ_LIBS) $(PC_LIBS) -o $@

# The ELF seeds are built, not committed: an object file and a shared library.
$(O)/fuzz/seed-elf: tests/fuzz/elf_seed.c | $(O)/fuzz
	$(Q)mkdir -p $@
	$(Q)$(CC) -c -g0 -o $@/seed.o $<
	$(Q)$(CC) -shared -fPIC -g0 -o $@/seed.so $<

fuzz: $(addprefix $(O)/fuzz/fuzz_,$(FUZZ_TARGETS)) $(O)/fuzz/seed-elf
	$(Q)set -e; for t in $(FUZZ_TARGETS); do \
		mkdir -p $(O)/fuzz/corpus-$$t; \
		[ $$t != elf ] || cp $(O)/fuzz/seed-elf/* $(O)/fuzz/corpus-$$t/; \
		echo "fuzz $$t: $(FUZZ_SECONDS) s"; \
		$(O)/fuzz/fuzz_$$t -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
			-artifact_prefix=$(O)/fuzz/crash-$$t- $(O)/fuzz/corpus-$$t tests/fuzz/corpus/$$t \
			2>$(O)/fuzz/$$t.log || { tail -40 $(O)/fuzz/$$t.log; exit 1; }; \
		grep -E '^stat::number_of_executed_units|^Done' $(O)/fuzz/$$t.log; \
	done

demo: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)O=$(O) tests/demo.sh

# make bench's floor: an empty program on the scheduler's switch hook (tests/bench/floor.c).
$(O)/tests/bench:
	$(Q)mkdir -p $@

$(O)/tests/bench/floor.bpf.o: tests/bench/floor.bpf.c $(VMLINUX_H) | $(O)/tests/bench
	$(bpf_object)

$(O)/tests/bench/floor.skel.h: $(O)/tests/bench/floor.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name pp_floor > $@

$(O)/tests/bench/floor: tests/bench/floor.c $(O)/tests/bench/floor.skel.h
	$(call msg,CC,$@)
	$(Q)$(CC) $(ALL_CFLAGS) -I$(O)/tests/bench $< $(PC_LIBS) -o $@

bench: all $(O)/tests/bench/floor
	$(Q)tools/deps.sh --bench
	$(Q)O=$(O) tests/bench/run.sh

deps:
	$(Q)tools/deps.sh

SYSTEMDUNITDIR ?= $(PREFIX)/lib/systemd/system
MANDIR ?= $(PREFIX)/share/man
COMPLETIONDIR ?= $(PREFIX)/share/bash-completion/completions
# The daemon reads /etc/pyprobe/pyprobed.conf unless told otherwise (--config).
SYSCONFDIR ?= /etc
INSTALLED := $(PREFIX)/sbin/pyprobed $(PREFIX)/bin/pyprobe $(SYSTEMDUNITDIR)/pyprobed.service \
	$(SYSTEMDUNITDIR)/pyprobed.socket $(MANDIR)/man8/pyprobe.8 $(MANDIR)/man8/pyprobed.8 \
	$(MANDIR)/man5/pyprobed.conf.5 $(COMPLETIONDIR)/pyprobe $(COMPLETIONDIR)/pyprobed

install: all
	install -D -m 0755 $(O)/pyprobed $(DESTDIR)$(PREFIX)/sbin/pyprobed
	install -D -m 0755 $(O)/pyprobe $(DESTDIR)$(PREFIX)/bin/pyprobe
	install -d $(DESTDIR)$(SYSTEMDUNITDIR)
	sed 's|@SBINDIR@|$(PREFIX)/sbin|' systemd/pyprobed.service > $(DESTDIR)$(SYSTEMDUNITDIR)/pyprobed.service
	install -m 0644 systemd/pyprobed.socket $(DESTDIR)$(SYSTEMDUNITDIR)/pyprobed.socket
	install -D -m 0644 docs/man/pyprobe.8 $(DESTDIR)$(MANDIR)/man8/pyprobe.8
	install -D -m 0644 docs/man/pyprobed.8 $(DESTDIR)$(MANDIR)/man8/pyprobed.8
	install -D -m 0644 docs/man/pyprobed.conf.5 $(DESTDIR)$(MANDIR)/man5/pyprobed.conf.5
	install -D -m 0644 cli/pyprobe.bash-completion $(DESTDIR)$(COMPLETIONDIR)/pyprobe
	ln -sf pyprobe $(DESTDIR)$(COMPLETIONDIR)/pyprobed
	@# The default config only where there is none: never overwrite an administrator's.
	@if [ -e $(DESTDIR)$(SYSCONFDIR)/pyprobe/pyprobed.conf ]; then \
		echo "keeping $(DESTDIR)$(SYSCONFDIR)/pyprobe/pyprobed.conf"; \
	else \
		install -D -m 0644 systemd/pyprobed.conf $(DESTDIR)$(SYSCONFDIR)/pyprobe/pyprobed.conf; \
	fi

# The config goes only if it is still the default.
uninstall:
	rm -f $(addprefix $(DESTDIR),$(INSTALLED))
	@if cmp -s systemd/pyprobed.conf $(DESTDIR)$(SYSCONFDIR)/pyprobe/pyprobed.conf; then \
		rm -f $(DESTDIR)$(SYSCONFDIR)/pyprobe/pyprobed.conf; \
		rmdir $(DESTDIR)$(SYSCONFDIR)/pyprobe 2>/dev/null || true; \
	fi

clean:
	$(call msg,CLEAN,$(O))
	$(Q)rm -rf $(O)

help:
	@echo 'Targets: all (default) check check-full unit bats demo bench deps install uninstall clean vmlinux fuzz'
	@echo 'Variables: O=dir V=1 WERROR=1 SANITIZE=1 VMLINUX_H=path CC CLANG BPFTOOL PREFIX DESTDIR SYSCONFDIR EXTRA_CFLAGS'

-include $(wildcard $(O)/daemon/*.d $(O)/daemon/*/*.d $(O)/cli/*.d $(O)/bpf/*.d $(O)/tests/unit/*.d \
	$(O)/fuzz/obj/*/*.d)
