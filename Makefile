# natter — build, test, run, install.
#   make            build ./natter
#   make run        install missing deps (as root), build, start the TUI (MODEL=path optional)
#   make test       install missing deps (as root), build, run the whole suite
#   SANITIZE=1      ASan+UBSan build (in build-san/)    DEBUG=1  -O0 -g (in build-debug/)
#   WERROR=1        warnings are errors (CI)            BUILD=dir  object directory
#   V=1             show the compiler command lines
#   make fuzz       libFuzzer targets (clang, ASan+UBSan, in build-fuzz/)
#   make fuzz-run   each fuzz target for FUZZ_SECONDS (60) on seeds made from ../shared
#   make memcheck   the engine tests under valgrind (MEMCHECK_T selects them)
#   make test-arm   the engine's kernel and reference tests cross-built for aarch64 (build-arm/)
#                   and run under qemu-user, on CPUs with and without dotprod

PREFIX  ?= /usr/local
DESTDIR ?=
CC      ?= cc
PKGS    := ncursesw readline sqlite3 md4c libcurl libmicrohttpd

ifeq ($(SANITIZE),1)
BUILD   ?= build-san
OPT     := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined
LDSAN   := -fsanitize=address,undefined
else ifeq ($(FUZZ),1)
# Objects for the libFuzzer targets (make fuzz): clang, coverage for the fuzzer, ASan+UBSan.
BUILD   ?= build-fuzz
CC      := clang
OPT     := -O1 -g -fno-omit-frame-pointer -fsanitize=fuzzer-no-link,address,undefined \
           -fno-sanitize-recover=undefined
LDSAN   := -fsanitize=address,undefined
else ifeq ($(DEBUG),1)
BUILD   ?= build-debug
OPT     := -O0 -g
else
BUILD   ?= build
OPT     := -O2 -g
endif

ifeq ($(FUZZ),1)
# The x86 SIMD kernels are compiled for the fuzzers with coverage only: clang takes minutes on
# them with ASan+UBSan (kernels inlined twice, once per ISA), and they are checked against their
# scalar references under gcc's ASan+UBSan by make test SANITIZE=1.
$(BUILD)/engine/quant_x86.o: OPT := -O1 -g -fno-omit-frame-pointer -fsanitize=fuzzer-no-link
endif

WARN    := -Wall -Wextra -Wshadow -Wstrict-prototypes
Q       := $(if $(filter 1,$(V)),,@)
ifeq ($(WERROR),1)
WARN    += -Werror
endif

# ncursesw's pkg-config asks for _XOPEN_SOURCE=600; we build the whole tree for POSIX 2008 + XSI.
PKG_CFLAGS := $(filter-out -D_XOPEN_SOURCE=% -D_DEFAULT_SOURCE,$(shell pkg-config --cflags $(PKGS) 2>/dev/null))
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)

VERSION := 0.1.0
CPPFLAGS += -D_POSIX_C_SOURCE=200809L -D_XOPEN_SOURCE=700 -D_XOPEN_SOURCE_EXTENDED \
            -DNATTER_VERSION='"$(VERSION)"' -DNATTER_DATADIR='"$(PREFIX)/share/natter"'
CFLAGS  += -std=c11 $(OPT) $(WARN) -pthread -MMD -MP $(PKG_CFLAGS)
LDLIBS  += $(PKG_LIBS) -pthread -lm

ENGINE_SRC := $(wildcard engine/*.c)
APP_SRC    := $(filter-out src/main.c,$(wildcard src/*.c)) $(wildcard ui/*.c)
TEST_SRC   := $(wildcard tests/*.c)
TOOL_SRC   := $(wildcard tests/tools/*.c)

ENGINE_OBJ := $(patsubst %.c,$(BUILD)/%.o,$(ENGINE_SRC))
APP_OBJ  := $(patsubst %.c,$(BUILD)/%.o,$(APP_SRC))
# natter's code first, the engine after it: the static link resolves in that order
LIBS     := $(BUILD)/libnatter.a $(BUILD)/libengine.a
MAIN_OBJ := $(BUILD)/src/main.o
TEST_OBJ := $(patsubst %.c,$(BUILD)/%.o,$(TEST_SRC))
TOOLS    := $(patsubst tests/tools/%.c,$(BUILD)/tools/%,$(TOOL_SRC))
BIN      := $(BUILD)/natter
TESTBIN  := $(BUILD)/tests/run

.PHONY: all run test check-deps deps install uninstall clean fuzz fuzz-bins fuzz-run memcheck \
        lint-man tools test-arm arm-bins
.DEFAULT_GOAL := all
.SECONDARY:

all: $(BIN)
ifeq ($(BUILD),build)
	@ln -sf $(BIN) natter
endif

$(BIN): $(MAIN_OBJ) $(LIBS)
	@echo "  LD      $@"
	$(Q)$(CC) $(CFLAGS) $(LDSAN) -o $@ $^ $(LDLIBS)

$(BUILD)/libnatter.a: $(APP_OBJ)
	@rm -f $@
	$(Q)$(AR) rcs $@ $^

$(BUILD)/libengine.a: $(ENGINE_OBJ)
	@rm -f $@
	$(Q)$(AR) rcs $@ $^

# Layering, enforced by the include paths: engine/ sees only itself; src/ and ui/ see of the
# engine only engine.h (copied alone into $(BUILD)/include); src/ sees nothing of ui/ but
# ui/ui.h, and only from main.c; ui/ sees src/. Tests, tools and fuzz targets see everything.
ENGINE_INC := $(BUILD)/include
$(ENGINE_INC)/engine.h: engine/engine.h
	@mkdir -p $(@D)
	$(Q)cp $< $@
$(BUILD)/engine/%.o: CPPFLAGS += -Iengine
$(BUILD)/src/%.o: CPPFLAGS += -I$(ENGINE_INC) -Isrc
$(BUILD)/src/main.o: CPPFLAGS += -Iui
$(BUILD)/ui/%.o: CPPFLAGS += -I$(ENGINE_INC) -Isrc -Iui
$(BUILD)/tests/%.o: CPPFLAGS += -Iengine -Isrc -Iui
$(APP_OBJ) $(MAIN_OBJ): | $(ENGINE_INC)/engine.h

$(BUILD)/%.o: %.c
	@mkdir -p $(@D)
	@echo "  CC      $<"
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

$(TESTBIN): $(TEST_OBJ) $(LIBS)
	@echo "  LD      $@"
	$(Q)$(CC) $(CFLAGS) $(LDSAN) -o $@ $^ $(LDLIBS)

$(BUILD)/tools/%: $(BUILD)/tests/tools/%.o $(LIBS)
	@mkdir -p $(@D)
	@echo "  LD      $@"
	$(Q)$(CC) $(CFLAGS) $(LDSAN) -o $@ $^ $(LDLIBS)

tools: $(TOOLS)

# The whole suite: C unit tests, CLI and tmux end-to-end scripts (tests/cli/*.sh), man page lint.
# Extra arguments for the runner: make test T="gguf tokenizer" (substring filters), J=1 (jobs).
test: deps $(BIN) $(TESTBIN) $(TOOLS)
	@NATTER_BIN=$(abspath $(BIN)) NATTER_TOOLS=$(abspath $(BUILD)/tools) \
	  NATTER_BUILD=$(abspath $(BUILD)) $(TESTBIN) $(if $(J),-j $(J)) $(T)

# Fuzzing (tests/fuzz/*.c, one libFuzzer target each): make fuzz builds them in build-fuzz/fuzz/,
# make fuzz-run runs each for FUZZ_SECONDS on seeds tests/fuzz/seeds.sh makes from ../shared.
FUZZ_SRC := $(wildcard tests/fuzz/*.c)
FUZZ_BIN := $(patsubst tests/fuzz/%.c,$(BUILD)/fuzz/%,$(FUZZ_SRC))
FUZZ_SECONDS ?= 60
fuzz: deps
	@$(MAKE) --no-print-directory FUZZ=1 fuzz-bins
fuzz-bins: $(FUZZ_BIN)
$(BUILD)/fuzz/%: $(BUILD)/tests/fuzz/%.o $(LIBS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -fsanitize=fuzzer,address,undefined -o $@ $^ $(LDLIBS)
fuzz-run: fuzz $(BUILD)/tools/mkmodel
	@FUZZ_SECONDS=$(FUZZ_SECONDS) tests/fuzz/run.sh $(FUZZ_TARGETS)

# valgrind memcheck over the engine tests (no leaks, no invalid accesses): a -O1 build in
# build-memcheck/, tests run one at a time; MEMCHECK_T picks them (substring filters).
MEMCHECK_T ?= gguf quant tokenizer sysmem sample_ pool_ gen_ reference_batch reference_ctx \
              reference_load reference_rope reference_vocab reference_threads
memcheck: deps
	@$(MAKE) --no-print-directory BUILD=build-memcheck OPT="-O1 -g" build-memcheck/tests/run
	@NATTER_BUILD=$(abspath build-memcheck) NATTER_VALGRIND=1 valgrind -q --error-exitcode=99 --leak-check=full \
	  --errors-for-leak-kinds=definite,indirect --trace-children=no \
	  build-memcheck/tests/run -j 1 $(MEMCHECK_T)

# aarch64: the engine and its tests that need no ncurses/readline/sqlite, built with Debian's
# cross compiler (gcc-aarch64-linux-gnu, libc6-arm64-cross) into build-arm/ and run with
# qemu-user: -cpu cortex-a72 (Armv8.0: the NEON level), -cpu max (dotprod, i8mm: every level). The
# reference checks (llama.cpp's logits; 1, 2 and 3 threads alike) run on a few files
# (NATTER_REF_FILES), qemu being some 20x slower.
ARM_CC     ?= aarch64-linux-gnu-gcc
ARM_QEMU   ?= qemu-aarch64 -L /usr/aarch64-linux-gnu
ARM_CPUS   ?= cortex-a72 max
ARM_TESTS  ?= quant_ ops_ reference_all_files reference_threads reference_batch gguf_
ARM_REFS   ?= stories260K syn-llama-Q4_0 syn-llama-Q8_0 syn-llama-Q4_K_M syn-llama-Q6_K syn-llama-IQ4_XS \
              syn-llama-IQ4_NL syn-qwen2-Q8_0
ARM_TEST_SRC := tests/harness.c tests/gguf_craft.c $(addprefix tests/test_,$(addsuffix .c,\
                quant ops reference gguf))
ARM_OBJ    := $(patsubst %.c,$(BUILD)/%.o,$(ENGINE_SRC) $(ARM_TEST_SRC))
arm-bins: $(BUILD)/tests/run-engine
$(BUILD)/tests/run-engine: $(ARM_OBJ)
	@echo "  LD      $@"
	$(Q)$(CC) $(CFLAGS) -o $@ $^ -pthread -lm
test-arm:
	@command -v $(ARM_CC) >/dev/null && command -v $(firstword $(ARM_QEMU)) >/dev/null || \
	  { echo "test-arm: needs $(ARM_CC) and $(firstword $(ARM_QEMU)) (apt-get install" \
	    "gcc-aarch64-linux-gnu libc6-arm64-cross qemu-user)"; exit 1; }
	@$(MAKE) --no-print-directory BUILD=build-arm CC=$(ARM_CC) PKG_CFLAGS= PKG_LIBS= arm-bins
	@for cpu in $(ARM_CPUS); do echo "== aarch64 under qemu -cpu $$cpu"; \
	  NATTER_TEST_SCRIPTS=0 NATTER_REF_FILES="$(ARM_REFS)" \
	    $(ARM_QEMU) -cpu $$cpu build-arm/tests/run-engine $(ARM_TESTS) || exit 1; done

MODEL ?=
run: deps all
	@$(BIN) $(if $(MODEL),-m "$(MODEL)")

lint-man:
	mandoc -Tlint -W warning man/natter.1

# Missing build dependencies: installed with apt-get as root (or through sudo), else the exact
# command is printed and make stops.
DEB_PKGS := pkg-config libncurses-dev libreadline-dev libsqlite3-dev libmd4c-dev libcurl4-openssl-dev libmicrohttpd-dev mandoc tmux
deps:
	@missing=""; \
	for p in $(DEB_PKGS); do dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'ok installed' || missing="$$missing $$p"; done; \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if ! command -v apt-get >/dev/null 2>&1; then \
	  for p in pkg-config mandoc tmux; do command -v $$p >/dev/null || { echo "natter: missing $$p (and the ncursesw, readline, sqlite3 development files)"; exit 1; }; done; \
	  pkg-config --exists $(PKGS) || { echo "natter: missing development files for: $(PKGS)"; exit 1; }; exit 0; fi; \
	line="apt-get install -y$$missing"; \
	if [ "$$(id -u)" = 0 ]; then echo "natter: installing:$$missing"; (apt-get install -y -q$$missing || (apt-get update -q && apt-get install -y -q$$missing)) >/dev/null || exit 1; \
	elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then echo "natter: installing:$$missing"; sudo $$line >/dev/null || exit 1; \
	else echo "natter: missing build dependencies. Run:"; echo "  sudo apt-get update && sudo $$line"; exit 1; fi

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1 \
	  $(DESTDIR)$(PREFIX)/share/natter/prompts/templates $(DESTDIR)$(PREFIX)/share/natter/prompts/system
	install -m 755 $(BIN) $(DESTDIR)$(PREFIX)/bin/natter
	install -m 644 man/natter.1 $(DESTDIR)$(PREFIX)/share/man/man1/natter.1
	install -m 644 prompts/templates/*.tmpl $(DESTDIR)$(PREFIX)/share/natter/prompts/templates/
	install -m 644 prompts/system/*.md $(DESTDIR)$(PREFIX)/share/natter/prompts/system/
	install -m 644 prompts/README.md $(DESTDIR)$(PREFIX)/share/natter/prompts/README.md
	if [ -d share ]; then cp -R share/. $(DESTDIR)$(PREFIX)/share/natter/; fi

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/natter $(DESTDIR)$(PREFIX)/share/man/man1/natter.1
	rm -rf $(DESTDIR)$(PREFIX)/share/natter

clean:
	rm -rf build build-san build-debug build-* natter

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
