# memprint: libmemprint, the memprint command, tests and benchmarks.
# Plain make: see docs/build.md for why.  Out-of-tree objects go to $(BUILD).

PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
LIBDIR ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
MANDIR ?= $(PREFIX)/share/man
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig
DESTDIR ?=

VERSION := 0.1.0
SONAME_MAJOR := 0
BUILD ?= build

CC ?= cc
OPTFLAGS ?= -O2 -g
WARNFLAGS := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wno-sign-compare
CPPFLAGS += -D_GNU_SOURCE -Iinclude -Ilib
CFLAGS += -std=gnu11 $(OPTFLAGS) $(WARNFLAGS) -fPIC $(SANFLAGS)
LDFLAGS += $(SANFLAGS)

# Libraries the project builds on; each is a Debian -dev package (README).
LIB_DEPS := libxxhash libisal libcrypto libzstd smartcols
LIBS := $(shell pkg-config --libs $(LIB_DEPS)) -lm
TEST_LIBS := $(shell pkg-config --libs cmocka)

LIB_SRCS := $(sort $(wildcard lib/*/*.c))
CLI_SRCS := $(sort $(wildcard cli/*.c))
UNIT_SRCS := $(sort $(wildcard tests/unit/*.c))
INTEGRATION_SRCS := $(sort $(wildcard tests/integration/*.c))
HELPER_SRCS := $(sort $(wildcard tests/helpers/*.c))
BENCH_SRCS := $(sort $(wildcard bench/*.c))
TOOL_SRCS := $(sort $(wildcard tools/*.c))

LIB_OBJS := $(LIB_SRCS:%.c=$(BUILD)/%.o)
CLI_OBJS := $(CLI_SRCS:%.c=$(BUILD)/%.o)
UNIT_BINS := $(UNIT_SRCS:%.c=$(BUILD)/%)
INTEGRATION_BINS := $(INTEGRATION_SRCS:%.c=$(BUILD)/%)
HELPER_BINS := $(HELPER_SRCS:%.c=$(BUILD)/%)
BENCH_BINS := $(BENCH_SRCS:%.c=$(BUILD)/%)
TOOL_BINS := $(TOOL_SRCS:%.c=$(BUILD)/%)

STATIC_LIB := $(BUILD)/libmemprint.a
SHARED_LIB := $(BUILD)/libmemprint.so.$(VERSION)
PC_FILE := $(BUILD)/memprint.pc
CLI := $(BUILD)/memprint

.PHONY: all lib tests bench tools check check-sanitize fuzz install uninstall clean kmod FORCE

all: lib $(CLI) tools

lib: $(STATIC_LIB) $(SHARED_LIB) $(PC_FILE)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -MMD -MP -c -o $@ $<

$(STATIC_LIB): $(LIB_OBJS)
	@mkdir -p $(dir $@)
	rm -f $@
	$(AR) rcs $@ $^

$(SHARED_LIB): $(LIB_OBJS)
	$(CC) -shared -Wl,-soname,libmemprint.so.$(SONAME_MAJOR) $(LDFLAGS) -o $@ $^ $(LIBS)
	ln -sf libmemprint.so.$(VERSION) $(BUILD)/libmemprint.so.$(SONAME_MAJOR)
	ln -sf libmemprint.so.$(VERSION) $(BUILD)/libmemprint.so

# The directories written into memprint.pc, kept in a file that changes
# only when they do: 'make install PREFIX=/usr' after a plain 'make' then
# rewrites memprint.pc rather than installing the /usr/local one.
PC_DIRS := $(PREFIX):$(LIBDIR):$(INCLUDEDIR)

$(BUILD)/pc-dirs: FORCE
	@mkdir -p $(dir $@)
	@echo '$(PC_DIRS)' | cmp -s - $@ || echo '$(PC_DIRS)' > $@

$(PC_FILE): memprint.pc.in Makefile $(BUILD)/pc-dirs
	@mkdir -p $(dir $@)
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(LIBDIR)|' \
	    -e 's|@INCLUDEDIR@|$(INCLUDEDIR)|' -e 's|@VERSION@|$(VERSION)|' \
	    -e 's|@REQUIRES@|$(LIB_DEPS)|' $< > $@

# The command links the static library so that it runs from the build tree.
$(CLI): $(CLI_OBJS) $(STATIC_LIB)
	$(CC) $(LDFLAGS) -o $@ $(CLI_OBJS) $(STATIC_LIB) $(LIBS)

$(BUILD)/tests/%: tests/%.c $(STATIC_LIB) tests/testlib.h
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) -Itests $(CFLAGS) $(LDFLAGS) -o $@ $< $(STATIC_LIB) $(LIBS) $(TEST_LIBS)

$(BUILD)/bench/%: bench/%.c $(STATIC_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) -Ibench $(CFLAGS) $(LDFLAGS) -o $@ $< $(STATIC_LIB) $(LIBS)

$(BUILD)/tools/%: tools/%.c $(STATIC_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $< $(STATIC_LIB) $(LIBS)

tests: all $(UNIT_BINS) $(INTEGRATION_BINS) $(HELPER_BINS)
bench: $(BENCH_BINS)
tools: $(TOOL_BINS)

# Every test: unit, integration on real processes, command line, guest (QEMU).
check: tests bench
	BUILD=$(BUILD) tests/run-tests

# The same tests under AddressSanitizer and UndefinedBehaviorSanitizer, in
# build-sanitize or in the BUILD given on the command line.  Objects do not
# record their flags: never share that directory with an unsanitized build.
SANITIZE_BUILD := $(if $(filter command line,$(origin BUILD)),$(BUILD),build-sanitize)
check-sanitize:
	$(MAKE) BUILD=$(SANITIZE_BUILD) OPTFLAGS='-O1 -g -fno-omit-frame-pointer' \
		SANFLAGS='-fsanitize=address,undefined -fno-sanitize-recover=undefined' check

fuzz:
	tests/fuzz/run-fuzz

kmod:
	$(MAKE) -C kmod

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBDIR) $(DESTDIR)$(INCLUDEDIR) \
		$(DESTDIR)$(PKGCONFIGDIR) $(DESTDIR)$(MANDIR)/man1
	install -m 0755 $(CLI) $(DESTDIR)$(BINDIR)/memprint
	install -m 0644 $(STATIC_LIB) $(DESTDIR)$(LIBDIR)/
	install -m 0755 $(SHARED_LIB) $(DESTDIR)$(LIBDIR)/
	ln -sf libmemprint.so.$(VERSION) $(DESTDIR)$(LIBDIR)/libmemprint.so.$(SONAME_MAJOR)
	ln -sf libmemprint.so.$(VERSION) $(DESTDIR)$(LIBDIR)/libmemprint.so
	install -m 0644 include/memprint.h $(DESTDIR)$(INCLUDEDIR)/
	install -m 0644 $(PC_FILE) $(DESTDIR)$(PKGCONFIGDIR)/
	install -m 0644 $(wildcard docs/man/*.1) $(DESTDIR)$(MANDIR)/man1/

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/memprint $(DESTDIR)$(INCLUDEDIR)/memprint.h \
		$(DESTDIR)$(LIBDIR)/libmemprint.* $(DESTDIR)$(PKGCONFIGDIR)/memprint.pc
	rm -f $(patsubst docs/man/%,$(DESTDIR)$(MANDIR)/man1/%,$(wildcard docs/man/*.1))

clean:
	rm -rf build build-sanitize
	$(MAKE) -C kmod clean

-include $(LIB_OBJS:.o=.d) $(CLI_OBJS:.o=.d)
