# nvfs -- top-level build.  `make` builds everything with -Werror, `make check`
# runs every test (plain and under ASan+UBSan), `make install` honours PREFIX
# and DESTDIR.  Each source folder becomes one static library.

CC       ?= cc
PREFIX   ?= /usr/local
DESTDIR  ?=
# mount(8) runs /sbin/mount.TYPE and fsck(8) looks for fsck.TYPE in /sbin:
# the binaries live in $(PREFIX)/sbin and are linked from here.
HELPERDIR ?= /sbin
SBINDIR  ?= $(PREFIX)/sbin
MANDIR   ?= $(PREFIX)/share/man

PKGS     := libpmem2 libxxhash fuse3
# Messages are truncated to their buffers by design, hence -Wno-format-truncation.
WARN     := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
            -Wno-missing-field-initializers -Wno-format-truncation
CFLAGS   ?= -O2 -g
CPPFLAGS += -Iinclude -D_GNU_SOURCE -D_FILE_OFFSET_BITS=64
NVFS_CFLAGS = -std=gnu11 $(WARN) -pthread $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LDLIBS   += $(shell pkg-config --libs $(PKGS) 2>/dev/null) -pthread
TEST_LDLIBS := -lcunit
SANFLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer

VERSION  := $(shell cat VERSION 2>/dev/null || echo 0.0.0)
CPPFLAGS += -DNVFS_VERSION='"$(VERSION)"'

LIBDIRS  := common alloc journal fs
LIBS      = $(foreach d,$(LIBDIRS),$(1)/lib$(d).a)
TOOLS    := mkfs.nvfs fsck.nvfs mount.nvfs
TEST_SRC := $(wildcard tests/*.c)
BENCH    := alloc_bench journal_bench
# test programs driven by the shell tests (tests/it): one file each, no libraries
TESTTOOLS := $(patsubst tests/tools/%.c,%,$(wildcard tests/tools/*.c))

B  := build
BS := build/san

.PHONY: all deps check check-unit check-san check-it install uninstall clean bench san-tools torture torture-quick \
	fuzz fuzz-run fuzz-regress fuzz-corpus fuzz-cc-check
.SECONDARY:

all: deps-check $(addprefix $(B)/,$(TOOLS) nvfs_tests $(BENCH) $(TESTTOOLS))

# ---- dependencies -----------------------------------------------------------
deps:
	@tools/deps.sh install
deps-check:
	@tools/deps.sh check

# ---- objects and libraries, once plain ($(B)) and once sanitized ($(BS)) ----
$(B)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(NVFS_CFLAGS) $(CFLAGS) -MMD -MP -c $< -o $@
$(BS)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(NVFS_CFLAGS) $(CFLAGS) $(SANFLAGS) -MMD -MP -c $< -o $@

define lib_rule
$(1)/lib$(2).a: $$(patsubst %.c,$(1)/%.o,$$(wildcard $(2)/*.c))
	@rm -f $$@
	$$(AR) rcs $$@ $$^
endef
$(foreach d,$(LIBDIRS),$(eval $(call lib_rule,$(B),$(d))))
$(foreach d,$(LIBDIRS),$(eval $(call lib_rule,$(BS),$(d))))

# Libraries are listed highest layer first for the static link.
REVLIBS = $(foreach d,$(shell echo $(LIBDIRS) | tr ' ' '\n' | tac),$(1)/lib$(d).a)

$(B)/mkfs.nvfs: $(B)/tools/mkfs.o $(call LIBS,$(B))
	$(CC) $(CFLAGS) -o $@ $< $(call REVLIBS,$(B)) $(LDLIBS)
$(B)/fsck.nvfs: $(B)/tools/fsck.o $(call LIBS,$(B))
	$(CC) $(CFLAGS) -o $@ $< $(call REVLIBS,$(B)) $(LDLIBS)
$(B)/mount.nvfs: $(patsubst %.c,$(B)/%.o,$(wildcard mount/*.c)) $(call LIBS,$(B))
	$(CC) $(CFLAGS) -o $@ $(filter %.o,$^) $(call REVLIBS,$(B)) $(LDLIBS)
# the daemon and fsck under ASan+UBSan, for the torture runs (make torture)
$(BS)/mount.nvfs: $(patsubst %.c,$(BS)/%.o,$(wildcard mount/*.c)) $(call LIBS,$(BS))
	$(CC) $(CFLAGS) $(SANFLAGS) -o $@ $(filter %.o,$^) $(call REVLIBS,$(BS)) $(LDLIBS)
$(BS)/fsck.nvfs: $(BS)/tools/fsck.o $(call LIBS,$(BS))
	$(CC) $(CFLAGS) $(SANFLAGS) -o $@ $< $(call REVLIBS,$(BS)) $(LDLIBS)
$(BS)/mkfs.nvfs: $(BS)/tools/mkfs.o $(call LIBS,$(BS))
	$(CC) $(CFLAGS) $(SANFLAGS) -o $@ $< $(call REVLIBS,$(BS)) $(LDLIBS)
san-tools: $(addprefix $(BS)/,$(TOOLS))

$(B)/alloc_bench: $(B)/bench/alloc_bench.o $(call LIBS,$(B))
	$(CC) $(CFLAGS) -o $@ $< $(call REVLIBS,$(B)) $(LDLIBS)
$(B)/journal_bench: $(B)/bench/journal_bench.o $(call LIBS,$(B))
	$(CC) $(CFLAGS) -o $@ $< $(call REVLIBS,$(B)) $(LDLIBS)

# bench/fs_bench.sh: its helpers, and libfuse's passthrough_ll example (the FUSE
# baseline; not our code, so built without our warnings and -Werror)
FSBENCH  := $(addprefix $(B)/,fs_load sqlite_load passthrough_ll)
PTLL_SRC ?= /usr/share/doc/libfuse3-dev/examples/passthrough_ll.c
$(B)/fs_load: $(B)/bench/fs_load.o
	$(CC) $(CFLAGS) -o $@ $< -pthread
$(B)/sqlite_load: $(B)/bench/sqlite_load.o
	$(CC) $(CFLAGS) -o $@ $< -lsqlite3
$(B)/passthrough_ll: $(PTLL_SRC)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(shell pkg-config --cflags fuse3) -o $@ $< $(shell pkg-config --libs fuse3)

$(foreach t,$(TESTTOOLS),$(B)/$(t)): $(B)/%: $(B)/tests/tools/%.o
	$(CC) $(CFLAGS) -o $@ $< -pthread

# the tests link mount.nvfs's option parser too (tests/mount_opts.c)
$(B)/nvfs_tests: $(patsubst %.c,$(B)/%.o,$(TEST_SRC) mount/opts.c) $(call LIBS,$(B))
	$(CC) $(CFLAGS) -o $@ $(filter %.o,$^) $(call REVLIBS,$(B)) $(LDLIBS) $(TEST_LDLIBS)
$(BS)/nvfs_tests: $(patsubst %.c,$(BS)/%.o,$(TEST_SRC) mount/opts.c) $(call LIBS,$(BS))
	$(CC) $(CFLAGS) $(SANFLAGS) -o $@ $(filter %.o,$^) $(call REVLIBS,$(BS)) $(LDLIBS) $(TEST_LDLIBS)

# ---- tests ------------------------------------------------------------------
# check-unit: CUnit suites; check-san: the same under ASan+UBSan (the crash
# and fuzz loops run shorter there, see tests/nvfs_test.h); check-it: the
# tools driven from the shell.
check: deps-check all $(BS)/nvfs_tests $(BS)/mount.nvfs
	@$(MAKE) --no-print-directory check-unit check-san check-it fuzz-regress

check-unit: $(B)/nvfs_tests
	$(B)/nvfs_tests
check-san: $(BS)/nvfs_tests
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
	NVFS_TEST_SCALE=san $(BS)/nvfs_tests
check-it: all
	tests/it/run.sh $(B)

# make torture: the long crash/fault/corruption/load/fuzz runs with the
# sanitized daemon (tests/torture/torture.sh; about 40 min); the short
# variants of each run in make check (t75, t80, t82, t85, fuzz-regress)
torture: all san-tools
	tests/torture/torture.sh $(B)
torture-quick: all san-tools
	TORTURE_QUICK=1 tests/torture/torture.sh $(B)

bench: all $(FSBENCH)
	bench/alloc_bench.sh $(B)
	bench/journal_bench.sh $(B)
	bench/fs_bench.sh $(B)

# ---- fuzzing (libFuzzer; tests/fuzz/README.md) -------------------------------
# Every tests/fuzz/T.c is a target build/fuzz/T, linked with libFuzzer,
# ASan and UBSan; its objects and libraries are built apart, in
# build/fuzz/obj, with -fsanitize=fuzzer-no-link (coverage only).
# fuzz-run fuzzes each for FUZZ_SECS on a copy of its corpus; fuzz-regress
# runs each over its committed corpus once (make check).
FUZZ_CC    ?= clang
FZ         := $(B)/fuzz
FUZZ_SECS  ?= 60
FUZZ_TARGETS := $(patsubst tests/fuzz/%.c,%,$(wildcard tests/fuzz/*.c))
FUZZ_SAN   := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_CFLAGS = $(NVFS_CFLAGS) -Wno-unknown-warning-option -O1 -g $(FUZZ_SAN) \
	      -fsanitize=fuzzer-no-link
# what a target links besides the libraries (mount_opts: the -o parser)
FUZZ_EXTRA_mount_opts := $(FZ)/obj/mount/opts.o
# find_damage (journal/replay.c) compares a magic at each 64 bytes of the
# 8 MiB ring: traced, that is 10 ms a run.  Its edges are still covered; the
# set checks it calls (journal/format.c) keep their comparisons traced.
$(FZ)/obj/journal/replay.o: FUZZ_CFLAGS += -fno-sanitize-coverage=trace-cmp

fuzz: fuzz-cc-check $(addprefix $(FZ)/,$(FUZZ_TARGETS))
fuzz-cc-check:
	@tests/fuzz/run.sh cc-check $(FUZZ_CC)
$(FZ)/obj/%.o: %.c | fuzz-cc-check
	@mkdir -p $(@D)
	$(FUZZ_CC) $(CPPFLAGS) $(FUZZ_CFLAGS) -MMD -MP -c $< -o $@
$(foreach d,$(LIBDIRS),$(eval $(call lib_rule,$(FZ)/obj,$(d))))
.SECONDEXPANSION:
$(addprefix $(FZ)/,$(FUZZ_TARGETS)): $(FZ)/%: $(FZ)/obj/tests/fuzz/%.o $$(FUZZ_EXTRA_$$*) \
		$(call LIBS,$(FZ)/obj)
	$(FUZZ_CC) -g $(FUZZ_SAN) -fsanitize=fuzzer -o $@ $(filter %.o,$^) \
		$(call REVLIBS,$(FZ)/obj) $(LDLIBS)
fuzz-run: fuzz
	tests/fuzz/run.sh run $(FZ) $(FUZZ_SECS) $(FUZZ_TARGETS)
fuzz-regress: fuzz
	tests/fuzz/run.sh regress $(FZ) 0 $(FUZZ_TARGETS)
# regenerate the seeds from the product's encoders (after a format change)
fuzz-corpus: fuzz
	tests/fuzz/run.sh corpus $(FZ) 0 $(FUZZ_TARGETS)

# ---- install ----------------------------------------------------------------
install: all
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(HELPERDIR) $(DESTDIR)$(MANDIR)/man8
	for t in $(TOOLS); do install -m 0755 $(B)/$$t $(DESTDIR)$(SBINDIR)/$$t; done
	ln -sfn mount.nvfs $(DESTDIR)$(SBINDIR)/nvfs
	@if [ "$$(readlink -m $(DESTDIR)$(HELPERDIR))" != "$$(readlink -m $(DESTDIR)$(SBINDIR))" ]; then \
		for t in $(TOOLS); do ln -sf $(SBINDIR)/$$t $(DESTDIR)$(HELPERDIR)/$$t; \
		echo "  link $(DESTDIR)$(HELPERDIR)/$$t -> $(SBINDIR)/$$t"; done; fi
	for m in $(wildcard docs/man/*.8); do install -m 0644 $$m $(DESTDIR)$(MANDIR)/man8/; done

uninstall:
	for t in $(TOOLS); do rm -f $(DESTDIR)$(SBINDIR)/$$t; \
		if [ -L $(DESTDIR)$(HELPERDIR)/$$t ]; then rm -f $(DESTDIR)$(HELPERDIR)/$$t; fi; done
	if [ -L $(DESTDIR)$(SBINDIR)/nvfs ]; then rm -f $(DESTDIR)$(SBINDIR)/nvfs; fi
	for m in $(notdir $(wildcard docs/man/*.8)); do rm -f $(DESTDIR)$(MANDIR)/man8/$$m; done

clean:
	rm -rf build

-include $(shell find $(B) $(BS) -name '*.d' 2>/dev/null)
