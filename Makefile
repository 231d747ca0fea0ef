# ns9: Plan 9 name spaces for Linux.
#	make		build ./ns9
#	make check	install missing Debian packages (as root), build, run every test
#	make demo	the same set-up, then the demo
#	make asan	the tests under AddressSanitizer and UBSan
#	make install	PREFIX=/usr/local DESTDIR=

PREFIX ?= /usr/local
DESTDIR ?=
CC ?= cc
WERROR ?=
CFLAGS ?= -O2 -g
XCFLAGS = -std=gnu11 -Wall -Wextra -Wshadow -Wno-unused-parameter -Wmissing-prototypes \
	-fno-strict-aliasing -D_GNU_SOURCE -Iinclude $(WERROR)
LDFLAGS ?=
BUILD ?= build
NS9BIN ?= ns9

LIBUTIL = $(patsubst %.c,$(BUILD)/%.o,$(wildcard lib/util/*.c))
LIBNS = $(patsubst %.c,$(BUILD)/%.o,$(wildcard lib/ns/*.c)) $(BUILD)/gen/nsdefault.o
LIB9P = $(patsubst %.c,$(BUILD)/%.o,$(wildcard lib/9p/*.c))
LIBS = $(LIBNS) $(LIB9P) $(LIBUTIL)
FS = $(patsubst %.c,$(BUILD)/%.o,$(wildcard fs/*/*.c))
SRV = $(patsubst %.c,$(BUILD)/%.o,$(wildcard srv/*.c))
FUSE_CFLAGS = $(shell pkg-config --cflags fuse3 2>/dev/null)
FUSE_LIBS = $(shell pkg-config --libs fuse3 2>/dev/null || echo -lfuse3) -lpthread
CMD = $(patsubst %.c,$(BUILD)/%.o,$(wildcard cmd/ns9/*.c))
UNIT = $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(wildcard tests/unit/t_*.c))
HELPERS = $(patsubst tests/helpers/%.c,$(BUILD)/tests/helpers/%,$(wildcard tests/helpers/*.c))
BENCHBIN = $(patsubst bench/%.c,$(BUILD)/bench/%,$(wildcard bench/*.c))
HDRS = $(wildcard include/*.h) $(wildcard cmd/ns9/*.h) $(wildcard lib/*/*.h) $(wildcard fs/*/*.h) $(wildcard srv/*.h)

all: $(NS9BIN) $(UNIT) $(HELPERS) $(BENCHBIN)

$(NS9BIN): $(CMD) $(FS) $(SRV) $(LIBS)
	$(CC) $(CFLAGS) $(XCFLAGS) $(LDFLAGS) -o $@ $^ $(FUSE_LIBS)

$(BUILD)/fs/%.o: fs/%.c $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(XCFLAGS) $(FUSE_CFLAGS) -c -o $@ $<

# The default namespace file, built in for when /etc/ns9/namespace is not installed.
$(BUILD)/gen/nsdefault.c: etc/namespace
	@mkdir -p $(dir $@)
	{ echo '/* generated from etc/namespace by the Makefile */'; \
	  echo 'extern const char ns_defaultnsfile[];'; echo 'const char ns_defaultnsfile[] ='; \
	  sed 's/\\/\\\\/g; s/"/\\"/g; s/.*/\t"&\\n"/' etc/namespace; echo ';'; } >$@

$(BUILD)/gen/nsdefault.o: $(BUILD)/gen/nsdefault.c
	$(CC) $(CFLAGS) $(XCFLAGS) -c -o $@ $<

$(BUILD)/%.o: %.c $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(XCFLAGS) -c -o $@ $<

$(BUILD)/tests/%: tests/unit/%.c tests/unit/tap.h $(LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(XCFLAGS) -Itests/unit -o $@ $< $(LIBS)

$(BUILD)/tests/helpers/%: tests/helpers/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(XCFLAGS) -o $@ $<

$(BUILD)/bench/%: bench/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(XCFLAGS) -o $@ $<

deps:
	@sh mk/deps

check: deps
	$(MAKE) all
	sh tests/run

demo: deps
	$(MAKE) all
	sh mk/demo

asan: deps
	$(MAKE) BUILD=build-asan NS9BIN=build-asan/ns9 \
		CFLAGS="-O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer" \
		LDFLAGS="-fsanitize=address,undefined" all
	NS9=$(CURDIR)/build-asan/ns9 UNITDIR=$(CURDIR)/build-asan/tests \
		ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1 sh tests/run

bench: all
	sh bench/ns-read
	sh bench/rfork
	sh bench/inject-run
	sh bench/9p
	sh bench/union
	sh bench/remote

install: $(NS9BIN)
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1
	install -m 755 ns9 $(DESTDIR)$(PREFIX)/bin/ns9
	install -m 644 man/ns9.1 $(DESTDIR)$(PREFIX)/share/man/man1/ns9.1
	install -d $(DESTDIR)/etc/ns9
	install -m 644 etc/namespace $(DESTDIR)/etc/ns9/namespace
	install -m 644 etc/namespace.pod $(DESTDIR)/etc/ns9/namespace.pod
	install -m 644 etc/namespace.cpu $(DESTDIR)/etc/ns9/namespace.cpu
	install -d $(DESTDIR)$(PREFIX)/lib/systemd/system
	sed 's|/usr/local/bin/ns9|$(PREFIX)/bin/ns9|' etc/ns9fs.service >$(DESTDIR)$(PREFIX)/lib/systemd/system/ns9fs.service

# libFuzzer targets (clang): build/fuzz/NAME; run with build/fuzz/NAME -max_total_time=600
FUZZ = $(patsubst tests/fuzz/%.c,build/fuzz/%,$(wildcard tests/fuzz/*.c))
fuzz: $(FUZZ)
build/fuzz/%: tests/fuzz/%.c $(wildcard lib/*/*.c) $(HDRS) build/gen/nsdefault.c
	@mkdir -p $(dir $@)
	clang -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE -Iinclude -o $@ $< \
		$(wildcard lib/ns/*.c) $(wildcard lib/9p/*.c) $(wildcard lib/util/*.c) build/gen/nsdefault.c

format:
	clang-format -i include/*.h lib/*/*.c lib/*/*.h cmd/ns9/*.c cmd/ns9/*.h tests/unit/*.c bench/*.c

clean:
	rm -rf build build-asan ns9

.PHONY: all deps check demo asan bench fuzz install format clean
