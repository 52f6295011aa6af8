# SPDX-License-Identifier: GPL-2.0
# Vigie build. Quiet unless V=1. All output under $(OUTPUT).
OUTPUT ?= build
PREFIX ?= /usr/local
DESTDIR ?=
SBINDIR ?= $(PREFIX)/sbin
MANDIR ?= $(PREFIX)/share/man
SYSCONFDIR ?= /etc
UNITDIR ?= /lib/systemd/system

CC ?= cc
CLANG ?= clang
BPFTOOL ?= bpftool
ARCH := $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')
MULTIARCH := $(shell $(CC) -print-multiarch 2>/dev/null)

ifeq ($(V),1)
Q =
msg =
else
Q = @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

.DELETE_ON_ERROR:
.SECONDARY:
.SUFFIXES:

PKGS := libbpf jansson zlib
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS := $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lelf -lz -lm

CFLAGS ?= -O2 -g
WARN := -Wall -Wextra -Werror -Wno-unused-parameter -Wshadow -Wformat=2
USER_CFLAGS := -std=gnu11 $(WARN) $(CFLAGS) -Iinclude -Iuser -I$(OUTPUT) $(PKG_CFLAGS) -MMD -MP
SAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
BPF_CFLAGS := -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) -D__VIGIE_BPF__ -Wall -Werror \
	-Wno-unused-function -Ibpf -Iinclude -I/usr/include/$(MULTIARCH) -MMD -MP $(VIGIE_BPF_DEFS)

BPF_SRCS := $(wildcard bpf/*.bpf.c)
BPF_OBJS := $(patsubst bpf/%.bpf.c,$(OUTPUT)/%.bpf.o,$(BPF_SRCS))
SKELS := $(patsubst bpf/%.bpf.c,$(OUTPUT)/%.skel.h,$(BPF_SRCS))
USER_SRCS := $(wildcard user/*.c user/*/*.c)
USER_OBJS := $(patsubst user/%.c,$(OUTPUT)/user/%.o,$(USER_SRCS))
LIB_OBJS := $(filter-out $(OUTPUT)/user/main.o,$(USER_OBJS))
SAN_OBJS := $(patsubst user/%.c,$(OUTPUT)/san/%.o,$(filter-out user/main.c,$(USER_SRCS)))
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(patsubst tests/unit/%.c,$(OUTPUT)/tests/%,$(UNIT_SRCS))
LIVE_SRCS := $(wildcard tests/live/test_*.c)
TESTLIB_SRCS := $(wildcard tests/lib/*.c)
LIVE_BINS := $(patsubst tests/live/%.c,$(OUTPUT)/tests/%,$(LIVE_SRCS))
TOOL_SRCS := $(wildcard tools/*.c)
TOOL_BINS := $(patsubst tools/%.c,$(OUTPUT)/tools/%,$(TOOL_SRCS)) $(OUTPUT)/tools/tracegen \
	$(OUTPUT)/tools/trafficgen
TRACEGEN_SRCS := $(wildcard tools/tracegen/*.c)
TRAFFICGEN_SRCS := $(wildcard tools/trafficgen/*.c)

VIGIE := $(OUTPUT)/vigie

.PHONY: all clean test unit-test live-test run install uninstall bench demo setup san-daemon deb soak bench-pgwire bench-contain
all: $(VIGIE) $(TOOL_BINS)

$(OUTPUT) $(OUTPUT)/user $(OUTPUT)/san $(OUTPUT)/tests $(OUTPUT)/tools:
	$(Q)mkdir -p $@

$(OUTPUT)/%.bpf.o: bpf/%.bpf.c | $(OUTPUT)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(OUTPUT)/%.skel.h: $(OUTPUT)/%.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< > $@

$(USER_OBJS) $(SAN_OBJS): | $(SKELS)

$(OUTPUT)/user/%.o: user/%.c | $(OUTPUT)/user
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(USER_CFLAGS) -c $< -o $@

$(OUTPUT)/san/%.o: user/%.c | $(OUTPUT)/san
	$(call msg,CC-SAN,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(USER_CFLAGS) $(SAN_FLAGS) -c $< -o $@

$(VIGIE): $(USER_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $^ $(PKG_LIBS) -o $@

$(OUTPUT)/tests/test_%: tests/unit/test_%.c $(SAN_OBJS) | $(OUTPUT)/tests
	$(call msg,TEST-CC,$@)
	$(Q)$(CC) $(USER_CFLAGS) $(SAN_FLAGS) -Itests $< $(SAN_OBJS) $(PKG_LIBS) -o $@

# One command compiling several sources leaves one .d, the last source's:
# the headers of every source, for the binary being made, go there
# instead (a second pass of the preprocessor).
multi_deps = $(CC) $(filter-out -MMD -MP,$(USER_CFLAGS)) -MM -MP -MT $@ $(1) >$@.d

# a live test split over several files has the others in tests/live/NAME/,
# compiled with tests/live/test_NAME.c (a line per such test below makes a
# change there rebuild it)
$(OUTPUT)/tests/live_%: tests/live/test_%.c $(TESTLIB_SRCS) $(LIB_OBJS) | $(OUTPUT)/tests
	$(call msg,LIVE-CC,$@)
	$(Q)$(CC) $(USER_CFLAGS) -Itests $< $(wildcard tests/live/$*/*.c) $(TESTLIB_SRCS) $(LIB_OBJS) \
		$(PKG_LIBS) -o $@
	$(Q)$(call multi_deps,-Itests $< $(wildcard tests/live/$*/*.c) $(TESTLIB_SRCS))

$(OUTPUT)/tests/live_pgwire: $(wildcard tests/live/pgwire/*.c tests/live/pgwire/*.h)
$(OUTPUT)/tests/live_contain: $(wildcard tests/live/contain/*.c tests/live/contain/*.h)
$(OUTPUT)/tests/live_detect_defaults: $(wildcard tests/live/detect_defaults/*.c \
	tests/live/detect_defaults/*.h)

# a shim the golden replay tests preload (rename of a temporary file waits)
TEST_SHIMS := $(OUTPUT)/tests/slowrename.so
$(OUTPUT)/tests/%.so: tests/preload/%.c | $(OUTPUT)/tests
	$(call msg,SHIM-CC,$@)
	$(Q)$(CC) $(filter-out -MMD -MP,$(USER_CFLAGS)) -fPIC -shared $< -ldl -o $@

$(OUTPUT)/tools/%: tools/%.c $(LIB_OBJS) | $(OUTPUT)/tools
	$(call msg,TOOL-CC,$@)
	$(Q)$(CC) $(USER_CFLAGS) $< $(LIB_OBJS) $(PKG_LIBS) -o $@

# the test portal speaks to PostgreSQL with libpq
$(OUTPUT)/tools/portal: tools/portal.c | $(OUTPUT)/tools
	$(call msg,TOOL-CC,$@)
	$(Q)$(CC) $(USER_CFLAGS) $(shell pkg-config --cflags libpq) $< \
		$(shell pkg-config --libs libpq) -lpthread -o $@

# trafficgen and tracegen are split over several files (tools/NAME/)
$(OUTPUT)/tools/trafficgen: $(TRAFFICGEN_SRCS) $(wildcard tools/trafficgen/*.h) | $(OUTPUT)/tools
	$(call msg,TOOL-CC,$@)
	$(Q)$(CC) $(USER_CFLAGS) $(TRAFFICGEN_SRCS) -o $@
	$(Q)$(call multi_deps,$(TRAFFICGEN_SRCS))

# tracegen is split over several files (tools/tracegen/)
$(OUTPUT)/tools/tracegen: $(TRACEGEN_SRCS) $(wildcard tools/tracegen/*.h) $(LIB_OBJS) | $(OUTPUT)/tools
	$(call msg,TOOL-CC,$@)
	$(Q)$(CC) $(USER_CFLAGS) $(TRACEGEN_SRCS) $(LIB_OBJS) $(PKG_LIBS) -o $@
	$(Q)$(call multi_deps,$(TRACEGEN_SRCS))

LIVE_BINS := $(patsubst tests/live/test_%.c,$(OUTPUT)/tests/live_%,$(LIVE_SRCS))

unit-test: $(UNIT_BINS)
	$(Q)tests/run-unit.sh $(UNIT_BINS)

live-test: $(VIGIE) $(TOOL_BINS) $(LIVE_BINS)
	$(Q)tests/run-live.sh $(OUTPUT)

# The daemon itself under AddressSanitizer and UndefinedBehaviorSanitizer,
# for a second pass of some live tests (tests/run-all.sh).
SAN_DAEMON := $(OUTPUT)/asan
san-daemon:
	$(Q)$(MAKE) --no-print-directory OUTPUT=$(SAN_DAEMON) \
		CFLAGS="-O1 -g $(SAN_FLAGS)" $(SAN_DAEMON)/vigie $(SAN_DAEMON)/tools/trafficgen

# Sets up what is missing (apt-get), builds, runs every test.
# the build uses every core (the suite's 15 minutes on 2 cores: a third of
# the build's time back); the tests themselves run one at a time
test:
	$(Q)scripts/setup.sh
	$(Q)$(MAKE) --no-print-directory -j$(shell nproc) all $(UNIT_BINS) $(LIVE_BINS) san-daemon \
		$(FUZZ_BINS) $(TEST_SHIMS)
	$(Q)tests/run-all.sh $(OUTPUT)

run: $(VIGIE)
	$(Q)$(VIGIE) run -c examples/vigie.json

bench: $(VIGIE) $(TOOL_BINS)
	$(Q)tools/bench.sh $(OUTPUT)

# PostgreSQL row counting's cost, plain and TLS (tools/bench-pgwire.sh): a
# benchmark, not a test.
bench-pgwire: $(VIGIE) $(OUTPUT)/tests/live_pgwire
	$(Q)tools/bench-pgwire.sh $(OUTPUT) 3

# containment: from an alert to the end of the flow (tools/bench-contain.sh)
bench-contain: $(VIGIE) $(OUTPUT)/tests/live_contain
	$(Q)tools/bench-contain.sh $(OUTPUT) 3

# 30 minutes of mixed load, fds/RSS/CPU over time, exactness at the end
# (tools/soak.sh; SOAK_MINUTES=N): a benchmark, not a test.
soak: $(VIGIE) $(TOOL_BINS)
	$(Q)tools/soak.sh $(OUTPUT)

demo: $(VIGIE) $(TOOL_BINS)
	$(Q)tools/demo.sh $(OUTPUT)

install: $(VIGIE)
	install -D -m 0755 $(VIGIE) $(DESTDIR)$(SBINDIR)/vigie
	install -D -m 0644 packaging/vigie.8 $(DESTDIR)$(MANDIR)/man8/vigie.8
	install -D -m 0644 packaging/vigie.service $(DESTDIR)$(UNITDIR)/vigie.service
	install -D -m 0644 packaging/vigie.logrotate $(DESTDIR)$(SYSCONFDIR)/logrotate.d/vigie
	install -D -m 0644 README.md $(DESTDIR)$(PREFIX)/share/doc/vigie/README.md
	install -D -m 0644 docs/containment.md $(DESTDIR)$(PREFIX)/share/doc/vigie/containment.md
	install -D -m 0644 docs/top.md $(DESTDIR)$(PREFIX)/share/doc/vigie/top.md
	install -D -m 0644 docs/report.md $(DESTDIR)$(PREFIX)/share/doc/vigie/report.md
	sed -i 's|@SBINDIR@|$(SBINDIR)|g; s|@SYSCONFDIR@|$(SYSCONFDIR)|g' $(DESTDIR)$(UNITDIR)/vigie.service
	test -e $(DESTDIR)$(SYSCONFDIR)/vigie/vigie.json || \
		install -D -m 0600 packaging/vigie.json $(DESTDIR)$(SYSCONFDIR)/vigie/vigie.json

# A Debian package, BUILD/vigie_VERSION_ARCH.deb (tools/mkdeb.sh).
deb: $(VIGIE)
	$(Q)tools/mkdeb.sh $(OUTPUT)

uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/vigie $(DESTDIR)$(MANDIR)/man8/vigie.8 $(DESTDIR)$(UNITDIR)/vigie.service \
		$(DESTDIR)$(SYSCONFDIR)/logrotate.d/vigie
	rm -rf $(DESTDIR)$(PREFIX)/share/doc/vigie

clean:
	$(call msg,CLEAN,$(OUTPUT))
	$(Q)rm -rf $(OUTPUT)

# (trafficgen's rule names all its files; a .d left by its one-file days
# would name tools/trafficgen.c, gone)
-include $(filter-out %/tools/trafficgen.d,$(wildcard $(OUTPUT)/*.d $(OUTPUT)/user/*.d $(OUTPUT)/user/*/*.d $(OUTPUT)/san/*.d $(OUTPUT)/san/*/*.d $(OUTPUT)/tests/*.d $(OUTPUT)/tools/*.d))

# ---- fuzzing (docs/fuzzing.md): libFuzzer harnesses of the parsers of
# outside input, built with clang into $(OUTPUT)/fuzz. `make fuzz` runs each
# for FUZZ_SECONDS; `make fuzz-regress` (and `make test`) replays the seed
# corpora and every past crash once.
FUZZ_CC ?= clang
FUZZ_SECONDS ?= 120
FUZZ_DIR := $(OUTPUT)/fuzz
FUZZ_FLAGS := -g -O1 -Wno-error -Wno-format-nonliteral -fsanitize=address,undefined -fno-omit-frame-pointer \
	-fno-sanitize-recover=undefined
# (the views, vigie top and report, parse no outside input of their own)
FUZZ_OBJS := $(patsubst user/%.c,$(FUZZ_DIR)/obj/%.o,$(filter-out user/main.c user/view/%,$(USER_SRCS)))
FUZZ_SRCS := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BINS := $(patsubst tests/fuzz/%.c,$(FUZZ_DIR)/%,$(FUZZ_SRCS))

$(FUZZ_OBJS): | $(SKELS)

$(FUZZ_DIR)/obj/%.o: user/%.c
	$(call msg,FUZZ-CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(FUZZ_CC) $(USER_CFLAGS) $(FUZZ_FLAGS) -fsanitize=fuzzer-no-link -c $< -o $@

$(FUZZ_DIR)/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz.h $(FUZZ_OBJS)
	$(call msg,FUZZ-LD,$@)
	$(Q)$(FUZZ_CC) $(USER_CFLAGS) $(FUZZ_FLAGS) -fsanitize=fuzzer -Itests/fuzz $< $(FUZZ_OBJS) \
		$(PKG_LIBS) -o $@

.PHONY: fuzz fuzz-regress
fuzz: $(FUZZ_BINS)
	$(Q)tests/fuzz/run.sh fuzz $(FUZZ_DIR) $(FUZZ_SECONDS)

fuzz-regress: $(FUZZ_BINS)
	$(Q)tests/fuzz/run.sh regress $(FUZZ_DIR)

-include $(wildcard $(FUZZ_DIR)/obj/*/*.d $(FUZZ_DIR)/obj/*.d)
