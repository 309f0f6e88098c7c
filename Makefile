# cmk - customer-managed keys in a PKCS#11 token for every OpenSSL 3 application.
#   make          build build/cmk.so (the provider) and the tools
#   make check    run every test against a throw-away SoftHSM token
#   make check-tsan  the provider's black-box tests under ThreadSanitizer
#   make check-valgrind  the CUnit programs under valgrind's memcheck
#   make stress   8 unwrapping threads and 4 cmk processes on one token (STRESS_SECONDS=60)
#   make demo     show the main job end to end
#   make bench    measure (figures as ratios against references taken in the same run)
# SANITIZE=address,undefined or SANITIZE=thread builds into build/san-<name>/ instead.

VERSION  := $(shell cat VERSION)
comma    := ,
CC       ?= cc
PKGS     := p11-kit-1 libcrypto
BUILD    ?= build
OPTFLAGS ?= -O2 -g
CFLAGS   += -std=c11 $(OPTFLAGS) -Wall -Wextra -Werror -fPIC -fvisibility=hidden \
            -D_GNU_SOURCE -DCMK_VERSION='"$(VERSION)"' $(shell pkg-config --cflags $(PKGS))
LDLIBS   += $(shell pkg-config --libs $(PKGS)) -lpthread -ldl
ifneq ($(SANITIZE),)
BUILD    := build/san-$(subst $(comma),-,$(SANITIZE))
CFLAGS   += -fsanitize=$(SANITIZE) -fno-omit-frame-pointer -fno-sanitize-recover=all
LDFLAGS  += -fsanitize=$(SANITIZE)
endif
# intel-ipsec-mb is x86-64 only: without it the provider simply offers no AES-GCM. Its header is
# needed at build time only: cmk.so dlopens libIPSec_MB.so.1 at run time (docs/aes-gcm.md).
# `make IPSEC_MB=` builds as if it were absent.
IPSEC_MB := $(shell test -f /usr/include/intel-ipsec-mb.h && echo 1)

P11_SRC   := $(wildcard pkcs11/*.c)
PROV_SRC  := $(wildcard provider/*.c)
ENV_SRC   := $(wildcard envelope/*.c)
AUDIT_SRC := $(wildcard audit/*.c keystate/*.c)
CLI_SRC   := $(wildcard cli/*.c)
TOOL_SRC  := $(wildcard softhsm-config/*.c)
TEST_SRC  := $(wildcard tests/unit/test_*.c)
TLIB_SRC  := tests/unit/testlib.c tests/unit/testprov.c
BENCH_SRC := $(wildcard bench/*.c)

P11_OBJ   := $(P11_SRC:%.c=$(BUILD)/obj/%.o)
PROV_OBJ  := $(PROV_SRC:%.c=$(BUILD)/obj/%.o)
ENV_OBJ   := $(ENV_SRC:%.c=$(BUILD)/obj/%.o)
AUDIT_OBJ := $(AUDIT_SRC:%.c=$(BUILD)/obj/%.o)
CLI_OBJ   := $(CLI_SRC:%.c=$(BUILD)/obj/%.o)
TOOLS     := $(TOOL_SRC:softhsm-config/%.c=$(BUILD)/cmk-%)
TEST_BINS := $(TEST_SRC:tests/unit/%.c=$(BUILD)/tests/%)
BENCHES   := $(BENCH_SRC:bench/%.c=$(BUILD)/bench/%)

# Exactly one AES-GCM back end (provider/cipher_aes_gcm_hw_*.c) goes into the provider; the tests
# expect AES-GCM from cmk when CMK_HAVE_IPSEC_MB is set and the CPU has AES-NI.
GCM_HW_OFF := provider/cipher_aes_gcm_hw_$(if $(IPSEC_MB),none,ipsecmb).o
PROV_OBJ  := $(filter-out $(BUILD)/obj/$(GCM_HW_OFF),$(PROV_OBJ))
ifeq ($(IPSEC_MB),1)
CFLAGS    += -DCMK_HAVE_IPSEC_MB
endif

.SECONDARY:
.PHONY: all deps check check-style check-tsan check-valgrind demo bench clean format tests
all: $(BUILD)/cmk.so $(BUILD)/cmk $(BUILD)/libcmkp11.a $(BUILD)/libcmkenv.a $(BUILD)/libcmkstate.a \
     $(TOOLS)
tests: all $(TEST_BINS)

deps:
	@sh mk/deps.sh

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/libcmkp11.a: $(P11_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@ && $(AR) rcs $@ $^

$(BUILD)/libcmkenv.a: $(ENV_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@ && $(AR) rcs $@ $^

$(BUILD)/libcmkstate.a: $(AUDIT_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@ && $(AR) rcs $@ $^

# The cmk command's files but main.o, for the unit tests of its parts.
$(BUILD)/libcmkcli.a: $(filter-out %/main.o,$(CLI_OBJ))
	@mkdir -p $(dir $@)
	rm -f $@ && $(AR) rcs $@ $^

$(BUILD)/cmk.so: $(PROV_OBJ) $(BUILD)/libcmkstate.a $(BUILD)/libcmkp11.a
	$(CC) -shared -Wl,--no-undefined $(LDFLAGS) -o $@ $(PROV_OBJ) $(BUILD)/libcmkstate.a $(BUILD)/libcmkp11.a $(PROV_LIBS) $(LDLIBS)

$(BUILD)/cmk: $(CLI_OBJ) $(BUILD)/libcmkenv.a $(BUILD)/libcmkstate.a $(BUILD)/libcmkp11.a
	$(CC) $(LDFLAGS) -o $@ $^ -ljson-c $(LDLIBS)

$(BUILD)/cmk-%: $(BUILD)/obj/softhsm-config/%.o $(BUILD)/libcmkp11.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/tests/%: $(BUILD)/obj/tests/unit/%.o $(BUILD)/obj/tests/unit/testlib.o $(BUILD)/libcmkcli.a \
		  $(BUILD)/libcmkenv.a $(BUILD)/libcmkstate.a $(BUILD)/libcmkp11.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ -lcunit -ljson-c $(LDLIBS)

# The provider's black-box tests also share testprov.c (library context, store, cmk-keygen).
$(BUILD)/tests/test_provider_%: $(BUILD)/obj/tests/unit/test_provider_%.o $(BUILD)/obj/tests/unit/testprov.o $(BUILD)/obj/tests/unit/testlib.o $(BUILD)/libcmkenv.a $(BUILD)/libcmkp11.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ -lcunit -ljson-c $(LDLIBS)

# Unit tests of a provider file's own functions: linked with that file and the error helpers.
$(BUILD)/tests/test_rsa_key: $(BUILD)/obj/tests/unit/test_rsa_key.o $(BUILD)/obj/tests/unit/testlib.o \
		  $(BUILD)/obj/provider/rsa_key.o $(BUILD)/obj/provider/prov_err.o $(BUILD)/libcmkp11.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ -lcunit $(LDLIBS)

# Benchmark programs (bench/*.c), run by bench/*.sh.
$(BUILD)/bench/%: $(BUILD)/obj/bench/%.o $(BUILD)/libcmkp11.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# Under SANITIZE=thread a race report stops the program (halt_on_error) and fails its test.
check: deps
	@$(MAKE) --no-print-directory tests
	@BUILD=$(BUILD) TSAN_OPTIONS="$${TSAN_OPTIONS:-halt_on_error=1 second_deadlock_stack=1}" \
	    sh tests/run.sh

# The provider's black-box tests (TESTS=test_provider by default) under ThreadSanitizer, with the
# provider, the PKCS#11 layer and the tests built with -fsanitize=thread in build/san-thread.
# gcc, not clang: gcc links its TSan runtime (libtsan.so) into cmk.so as well, which
# -Wl,--no-undefined needs. A race report stops the program (halt_on_error) and fails the test.
check-tsan: deps
	@$(MAKE) --no-print-directory SANITIZE=thread tests
	@BUILD=build/san-thread TESTS="$${TESTS:-test_provider}" \
	    CMK_TEST_UNWRAPS="$${CMK_TEST_UNWRAPS:-2000}" \
	    TSAN_OPTIONS="$${TSAN_OPTIONS:-halt_on_error=1 second_deadlock_stack=1}" sh tests/run.sh

# The CUnit programs (TESTS=test_ by default) under valgrind's memcheck: no invalid access, no
# leak definitely lost (tests/valgrind.supp: third-party code only). Slow: see docs/development.md.
check-valgrind:
	@sh mk/deps.sh valgrind
	@$(MAKE) --no-print-directory tests
	@BUILD=$(BUILD) TESTS="$${TESTS:-test_}" CMK_TEST_VALGRIND=1 \
	    CMK_TEST_TIMEOUT="$${CMK_TEST_TIMEOUT:-1800}" \
	    CMK_TEST_UNWRAPS="$${CMK_TEST_UNWRAPS:-500}" sh tests/run.sh

demo: deps
	@$(MAKE) --no-print-directory all
	@BUILD=$(BUILD) sh mk/demo.sh

bench:
	@sh mk/deps.sh bench
	@$(MAKE) --no-print-directory tests $(BENCHES)
	@BUILD=$(BUILD) sh bench/run.sh

FORMAT_SRC = $(P11_SRC) $(PROV_SRC) $(ENV_SRC) $(AUDIT_SRC) $(CLI_SRC) $(TOOL_SRC) $(TEST_SRC) $(TLIB_SRC) \
	     $(BENCH_SRC) $(wildcard pkcs11/*.h provider/*.h envelope/*.h audit/*.h keystate/*.h cli/*.h \
	     tests/unit/*.h)
format:
	clang-format -i $(FORMAT_SRC)

# Formatted as .clang-format says, and warning-free with clang as well as gcc.
check-style: deps
	clang-format --dry-run --Werror $(FORMAT_SRC)
	@$(MAKE) --no-print-directory CC=clang BUILD=build/clang all tests

# The fault-injecting PKCS#11 module the tests put in front of SoftHSM (docs/testing-faults.md).
FAULT_SRC := $(wildcard tests/faultmod/*.c)
FAULTMOD  := $(BUILD)/cmk-faultmod.so
FORMAT_SRC += $(FAULT_SRC) $(wildcard tests/faultmod/*.h)
tests: $(FAULTMOD)
$(FAULTMOD): $(FAULT_SRC:%.c=$(BUILD)/obj/%.o) $(BUILD)/obj/pkcs11/p11_rv.o
	$(CC) -shared -Wl,--no-undefined $(LDFLAGS) -o $@ $^ -lpthread -ldl

# A command runner where O_TMPFILE is refused, as on NFS (tests/sysfault/no_tmpfile.c): the e2e
# tests reach cli/outfile.c's named-temporary path through it.
NO_TMPFILE := $(BUILD)/cmk-no-tmpfile
FORMAT_SRC += tests/sysfault/no_tmpfile.c
tests: $(NO_TMPFILE)
$(NO_TMPFILE): $(BUILD)/obj/tests/sysfault/no_tmpfile.o
	$(CC) $(LDFLAGS) -o $@ $^

# make stress (tests/stress/run.sh, docs/development.md): STRESS_SECONDS (default 60) of 8 threads
# unwrapping through the provider (build/stress/cmk-stress) beside 4 cmk processes encrypting and
# decrypting files, on a throw-away token of its own.
STRESS_SECONDS ?= 60
STRESS         := $(BUILD)/stress/cmk-stress
FORMAT_SRC     += $(wildcard tests/stress/*.c)
.PHONY: stress
tests: $(STRESS)
$(BUILD)/obj/tests/stress/%.o: CFLAGS += -Itests/unit
$(STRESS): $(BUILD)/obj/tests/stress/stress.o $(BUILD)/obj/tests/unit/testprov.o \
	   $(BUILD)/obj/tests/unit/testlib.o $(BUILD)/libcmkenv.a $(BUILD)/libcmkp11.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ -lcunit -ljson-c $(LDLIBS)

stress: deps
	@$(MAKE) --no-print-directory all $(STRESS)
	@BUILD=$(BUILD) STRESS_SECONDS=$(STRESS_SECONDS) sh tests/stress/run.sh

clean:
	rm -rf build

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)

# ---- Installing: install, uninstall, man, deb, check-install (docs/install.md) ----------------
# cmk.so goes where OpenSSL looks for providers (libcrypto's modulesdir, asked of pkg-config),
# the rest under PREFIX; DESTDIR stages the whole tree (packaging, make check-install).
PREFIX      ?= /usr/local
BINDIR      ?= $(PREFIX)/bin
MANDIR      ?= $(PREFIX)/share/man
DOCDIR      ?= $(PREFIX)/share/doc/cmk
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
MODULESDIR  ?= $(shell pkg-config --variable=modulesdir libcrypto)
INSTALL     ?= install
MANPAGES    := $(BUILD)/man/cmk.1 $(BUILD)/man/provider-cmk.7
CNF_EXAMPLE := $(BUILD)/openssl-cmk.cnf
# The man pages' date: the package's (dpkg sets SOURCE_DATE_EPOCH), else VERSION's mtime.
MANDATE     := $(shell date -u -d @$${SOURCE_DATE_EPOCH:-$$(stat -c %Y VERSION)} +%Y-%m-%d)
SUBST        = sed -e 's|@VERSION@|$(VERSION)|g' -e 's|@MODULESDIR@|$(MODULESDIR)|g' \
		   -e 's|@DATE@|$(MANDATE)|g'

.PHONY: install uninstall man deb check-install FORCE
all: $(MANPAGES) $(CNF_EXAMPLE)
man: $(MANPAGES)

# An installed cmk loads the installed provider (cli/ossl.c); rebuilt when MODULESDIR changes.
$(BUILD)/obj/cli/ossl.o: CFLAGS += -DCMK_MODULESDIR='"$(MODULESDIR)"'
$(BUILD)/obj/cli/ossl.o: $(BUILD)/modulesdir
$(BUILD)/modulesdir: FORCE
	@mkdir -p $(dir $@)
	@echo '$(MODULESDIR)' | cmp -s - $@ || echo '$(MODULESDIR)' >$@

# Hand-written roff in man/, with the version, date and modules directory filled in.
$(BUILD)/man/%: man/% VERSION $(BUILD)/modulesdir
	@mkdir -p $(dir $@)
	$(SUBST) $< >$@
$(CNF_EXAMPLE): dist/openssl-cmk.cnf VERSION $(BUILD)/modulesdir
	@mkdir -p $(dir $@)
	$(SUBST) $< >$@

install: all
	@test -n '$(MODULESDIR)' || { echo 'no modulesdir from pkg-config libcrypto: give MODULESDIR=' >&2; exit 1; }
	$(INSTALL) -d $(DESTDIR)$(MODULESDIR) $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 \
		$(DESTDIR)$(MANDIR)/man7 $(DESTDIR)$(DOCDIR) $(DESTDIR)$(BASHCOMPDIR)
	$(INSTALL) -m 0644 $(BUILD)/cmk.so $(DESTDIR)$(MODULESDIR)/cmk.so
	$(INSTALL) -m 0755 $(BUILD)/cmk $(DESTDIR)$(BINDIR)/cmk
	$(INSTALL) -m 0644 $(BUILD)/man/cmk.1 $(DESTDIR)$(MANDIR)/man1/cmk.1
	$(INSTALL) -m 0644 $(BUILD)/man/provider-cmk.7 $(DESTDIR)$(MANDIR)/man7/provider-cmk.7
	$(INSTALL) -m 0644 $(CNF_EXAMPLE) $(DESTDIR)$(DOCDIR)/openssl-cmk.cnf
	$(INSTALL) -m 0644 dist/cmk.bash-completion $(DESTDIR)$(BASHCOMPDIR)/cmk

uninstall:
	rm -f $(DESTDIR)$(MODULESDIR)/cmk.so $(DESTDIR)$(BINDIR)/cmk \
		$(DESTDIR)$(MANDIR)/man1/cmk.1 $(DESTDIR)$(MANDIR)/man7/provider-cmk.7 \
		$(DESTDIR)$(DOCDIR)/openssl-cmk.cnf $(DESTDIR)$(BASHCOMPDIR)/cmk
	rmdir $(DESTDIR)$(DOCDIR) 2>/dev/null || true

# The Debian package, built from a copy of the tree in $(BUILD)/deb so that nothing is written
# outside build/: $(BUILD)/deb/cmk_$(VERSION)_<arch>.deb.
DEB_DIR := $(BUILD)/deb
deb:
	@sh mk/deps.sh deb
	rm -rf $(DEB_DIR) && mkdir -p $(DEB_DIR)/cmk-$(VERSION)
	tar -cf - --exclude=./build --exclude=./.git . | tar -xf - -C $(DEB_DIR)/cmk-$(VERSION)
	cd $(DEB_DIR)/cmk-$(VERSION) && dpkg-buildpackage -us -uc -b
	@ls $(DEB_DIR)/cmk_*.deb

# The installed files alone, from a DESTDIR and (as root) from the .deb: mk/check-install.sh.
check-install:
	@sh mk/deps.sh deb
	@$(MAKE) --no-print-directory all
	@BUILD=$(BUILD) MAKE='$(MAKE)' MODULESDIR='$(MODULESDIR)' sh mk/check-install.sh

# libFuzzer harnesses (fuzz/, docs/fuzzing.md), built with clang into build/fuzz/:
#   make fuzz-build            build them
#   make fuzz                  run each for FUZZ_SECONDS (default 60), one after the other
#   make fuzz-regress          run each over its seed corpus fuzz/corpus/<target>/ and exit
#                              (make check does the same, in tests/e2e/fuzz_corpus_replay.sh)
#   make fuzz-seeds            rewrite the seeds made by cmk's own code (fuzz/mkseeds.c)
# FUZZ_TARGETS picks some (make fuzz FUZZ_TARGETS=header FUZZ_SECONDS=600). New inputs found go
# to build/fuzz/corpus/<target>/, crashes to build/fuzz/crash-<target>-*; fuzz/<target>.dict, where
# there is one, gives libFuzzer the format's words.
FUZZ_TARGETS ?= header chunk uri config args
FUZZ_SECONDS ?= 60
FUZZ_CC      := clang
FUZZ_DIR     := build/fuzz
FUZZ_SAN     := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_CFLAGS  := $(filter-out -fvisibility=hidden -fsanitize=% -fno-sanitize-recover=%,$(CFLAGS)) \
                $(FUZZ_SAN) -fsanitize=fuzzer-no-link
FUZZ_CORE    := $(P11_SRC) $(ENV_SRC) $(AUDIT_SRC) $(filter-out cli/main.c,$(CLI_SRC))
FUZZ_OBJ     := $(FUZZ_CORE:%.c=$(FUZZ_DIR)/obj/%.o) $(FUZZ_DIR)/obj/cli/main_renamed.o \
                $(FUZZ_DIR)/obj/fuzz/fuzz_util.o
FUZZ_BINS    := $(FUZZ_TARGETS:%=$(FUZZ_DIR)/fuzz_%)
FORMAT_SRC   += $(wildcard fuzz/*.c fuzz/*.h)

.PHONY: fuzz fuzz-build fuzz-regress fuzz-seeds
$(FUZZ_DIR)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -MMD -MP -c $< -o $@

# The real main, renamed so that fuzz_args calls it in-process.
$(FUZZ_DIR)/obj/cli/main_renamed.o: cli/main.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -Dmain=cmk_main -MMD -MP -c $< -o $@

$(FUZZ_DIR)/libcmkfuzz.a: $(FUZZ_OBJ)
	rm -f $@ && $(AR) rcs $@ $^

$(FUZZ_DIR)/fuzz_%: $(FUZZ_DIR)/obj/fuzz/fuzz_%.o $(FUZZ_DIR)/libcmkfuzz.a
	$(FUZZ_CC) $(FUZZ_SAN) -fsanitize=fuzzer $(FUZZ_LDFLAGS) -o $@ $^ -ljson-c $(LDLIBS)

# fuzz_args.c runs inputs that make main() exit in a child that must end with _exit.
$(FUZZ_DIR)/fuzz_args: FUZZ_LDFLAGS := -Wl,--wrap=exit

fuzz-build:
	@sh mk/deps.sh
	@$(MAKE) --no-print-directory $(FUZZ_BINS)

# make check replays every seed too (tests/e2e/fuzz_corpus_replay.sh): a few seconds to build.
tests: $(FUZZ_BINS)

# The seeds made by cmk's own code (fuzz/mkseeds.c): headers, files, chunks, states, audit records.
$(BUILD)/fuzz-mkseeds: $(BUILD)/obj/fuzz/mkseeds.o $(BUILD)/libcmkenv.a $(BUILD)/libcmkstate.a \
		       $(BUILD)/libcmkp11.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

fuzz-seeds: $(BUILD)/fuzz-mkseeds
	@mkdir -p $(FUZZ_TARGETS:%=fuzz/corpus/%)
	$(BUILD)/fuzz-mkseeds fuzz/corpus

# Each target in turn, on one core; the closing lines give the executions each one reached.
fuzz: fuzz-build
	@rm -f $(FUZZ_DIR)/runs.txt
	@for t in $(FUZZ_TARGETS); do \
	    mkdir -p $(FUZZ_DIR)/corpus/$$t && \
	    echo "fuzz: $$t for $(FUZZ_SECONDS) s" && \
	    $(FUZZ_DIR)/fuzz_$$t -max_total_time=$(FUZZ_SECONDS) -timeout=10 -rss_limit_mb=2048 \
	        -close_fd_mask=3 -print_final_stats=1 -artifact_prefix=$(FUZZ_DIR)/crash-$$t- \
	        $$([ -f fuzz/$$t.dict ] && echo -dict=fuzz/$$t.dict) \
	        $(FUZZ_DIR)/corpus/$$t fuzz/corpus/$$t >$(FUZZ_DIR)/$$t.log 2>&1; rc=$$?; \
	    runs=$$(sed -n 's/^stat::number_of_executed_units: *//p' $(FUZZ_DIR)/$$t.log); \
	    cov=$$(grep -o 'cov: [0-9]*' $(FUZZ_DIR)/$$t.log | tail -1); \
	    echo "fuzz: $$t: $$runs executions in $(FUZZ_SECONDS) s, $$cov, exit $$rc" \
	        | tee -a $(FUZZ_DIR)/runs.txt; \
	    [ $$rc -eq 0 ] || { tail -40 $(FUZZ_DIR)/$$t.log; exit 1; }; \
	done

# Replays every seed (and every crash kept as a seed); fast, and no fuzzing.
fuzz-regress: fuzz-build
	@for t in $(FUZZ_TARGETS); do \
	    $(FUZZ_DIR)/fuzz_$$t -close_fd_mask=3 fuzz/corpus/$$t/* >$(FUZZ_DIR)/$$t-regress.log 2>&1 \
	        && echo "fuzz-regress: $$t: $$(ls fuzz/corpus/$$t | wc -l) inputs ok" \
	        || { tail -40 $(FUZZ_DIR)/$$t-regress.log; exit 1; }; \
	done

-include $(shell find $(FUZZ_DIR)/obj -name '*.d' 2>/dev/null)
