# cmk - customer-managed keys in a PKCS#11 token for every OpenSSL 3 application.
#   make          build build/cmk.so (the provider) and the tools
#   make check    run every test against a throw-away SoftHSM token
#   make check-tsan  the provider's black-box tests under ThreadSanitizer
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
.PHONY: all deps check check-style check-tsan demo bench clean format tests
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

# Benchmark programs (bench/*.c), run by bench/*.sh.
$(BUILD)/bench/%: $(BUILD)/obj/bench/%.o $(BUILD)/libcmkp11.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

check: deps
	@$(MAKE) --no-print-directory tests
	@BUILD=$(BUILD) sh tests/run.sh

# The provider's black-box tests (TESTS=test_provider by default) under ThreadSanitizer, with the
# provider, the PKCS#11 layer and the tests built with -fsanitize=thread in build/san-thread.
# gcc, not clang: gcc links its TSan runtime (libtsan.so) into cmk.so as well, which
# -Wl,--no-undefined needs. A race report stops the program (halt_on_error) and fails the test.
check-tsan: deps
	@$(MAKE) --no-print-directory SANITIZE=thread tests
	@BUILD=build/san-thread TESTS="$${TESTS:-test_provider}" \
	    CMK_TEST_UNWRAPS="$${CMK_TEST_UNWRAPS:-2000}" \
	    TSAN_OPTIONS="$${TSAN_OPTIONS:-halt_on_error=1 second_deadlock_stack=1}" sh tests/run.sh

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
