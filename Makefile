# Outpost build.  `make` builds bin/outpost-{node,hub,sync}; `make test` builds a
# sanitizer variant under build/san and runs every test; see README.md.
#
# Layers, each a static library whose include path reaches only downward:
#   lib/ (HTTP, JSON, DB, crypto, log, config)  <- model/ (schema, domain rules)
#   <- sync/ (replication library) <- node/, hub/ (daemons); sync/tool_*.c is
#   the outpost-sync command.

VERSION  := 0.1.0
PREFIX   ?= /usr/local
DESTDIR  ?=
CC       ?= cc
SAN      ?=
O        ?= build/rel
V        ?= 0

PKGS     := sqlite3 libuv libcurl libcjson zlib
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
# libcurl is loaded at run time on first sync (sync/curl_load.c), not linked.
PKG_LIBS   := $(shell pkg-config --libs $(filter-out libcurl,$(PKGS)) 2>/dev/null)

WARN     := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
            -Wpointer-arith -Wwrite-strings -Wformat=2 -Wvla -fno-common \
            -Wno-unused-parameter
OPT      ?= -O2
CFLAGS   ?= -g $(OPT)
ALL_CFLAGS = -std=gnu11 $(WARN) $(CFLAGS) -DOUTPOST_VERSION='"$(VERSION)"' \
             -DOUTPOST_DATADIR='"$(PREFIX)/share/outpost"' \
             -DSQLITE_ENABLE_SESSION -DSQLITE_ENABLE_PREUPDATE_HOOK \
             -I. $(PKG_CFLAGS) -MMD -MP
LDLIBS   := $(PKG_LIBS) -lhttp_parser -lmbedtls -lmbedx509 -lmbedcrypto -lpthread -lm
# Hardening (DESIGN.md, "The network edge"): stack protector, FORTIFY (needs
# optimisation, so not with -O0), PIE, full RELRO; tests/integration/
# test_edge.py reads the binaries for them.
HARDEN_CFLAGS := -fstack-protector-strong -fPIE \
                 $(if $(filter -O0,$(OPT)),,-U_FORTIFY_SOURCE -D_FORTIFY_SOURCE=2)
HARDEN_LDFLAGS := -pie -Wl,-z,relro,-z,now
ALL_CFLAGS += $(HARDEN_CFLAGS)
LDFLAGS  += $(HARDEN_LDFLAGS)
ifneq ($(SAN),)
ALL_CFLAGS += -fsanitize=$(SAN) -fno-omit-frame-pointer -fno-sanitize-recover=undefined
# Test-build hooks: planted bugs for the convergence checker (lib/testhook.h)
# and named crash points for the fault tests (lib/fault.h).
ALL_CFLAGS += -DOUTPOST_TEST_HOOKS
LDFLAGS  += -fsanitize=$(SAN)
endif

ifeq ($(V),0)
Q = @
msg = @printf '  %-6s %s\n' $(1) $(2);
else
Q =
msg =
endif

LIB_SRC   := $(wildcard lib/*.c)
MODEL_SRC := $(wildcard model/*.c)
SYNC_SRC  := $(filter-out sync/tool_%.c,$(wildcard sync/*.c))
TOOL_SRC  := $(wildcard sync/tool_*.c)
NODE_SRC  := $(filter-out node/main.c,$(wildcard node/*.c))
HUB_SRC   := $(filter-out hub/main.c,$(wildcard hub/*.c))

objs = $(patsubst %.c,$(O)/%.o,$(1))

LIB_A   := $(O)/liboutpost.a
MODEL_A := $(O)/libmodel.a
SYNC_A  := $(O)/libsync.a
NODE_A  := $(O)/libnode.a
HUB_A   := $(O)/libhub.a
EMBED   := $(O)/tools/embed

NODE_ASSETS := $(sort $(wildcard webui/node/*) $(wildcard webui/common/*))
HUB_ASSETS  := $(sort $(wildcard webui/hub/*) $(wildcard webui/common/*))

BINDIR  := $(if $(filter build/rel,$(O)),bin,$(O)/bin)
BINS    := $(BINDIR)/outpost-node $(BINDIR)/outpost-hub $(BINDIR)/outpost-sync

.PHONY: all setup run test unit bench bench-bins unit-bins fuzz install clean check-setup test-long soak
.PHONY: test-release
.PHONY: bench-peers

# The goals people type work on a fresh machine: the first make installs
# the missing Debian packages (scripts/setup.sh, quiet when all are there),
# then builds in a sub-make, which reads pkg-config only once the -dev
# packages exist.  Inner makes (and helper targets such as unit-bins) skip it.
SETUP_GOALS := all run test unit bench fuzz install test-long test-release deb soak bench-peers
ifndef OUTPOST_SETUP_DONE
ifneq ($(filter $(SETUP_GOALS),$(or $(MAKECMDGOALS),all)),)
.NOTPARALLEL:
endif
$(SETUP_GOALS):
	@sh scripts/setup.sh $(if $(filter all run install,$@),,$(if $(filter deb,$@),deb,test))
	@$(MAKE) --no-print-directory OUTPOST_SETUP_DONE=1 $@
else
all: $(BINS)
endif

# Installs missing Debian packages (quiet when everything is present).
check-setup:
	@sh scripts/setup.sh

setup:
	@sh scripts/setup.sh test

# Objects are rebuilt when the compiler flags change (the hardening flags,
# say), not only when their sources do.
FLAGS_STAMP := $(O)/.flags
FLAGS_TEXT := $(subst ',,$(subst ",,$(CC) $(ALL_CFLAGS) $(LDFLAGS)))
$(FLAGS_STAMP): FORCE
	@mkdir -p $(dir $@)
	@printf '%s\n' '$(FLAGS_TEXT)' | cmp -s - $@ || printf '%s\n' '$(FLAGS_TEXT)' > $@
.PHONY: FORCE
FORCE:

$(O)/%.o: %.c $(FLAGS_STAMP)
	@mkdir -p $(dir $@)
	$(call msg,CC,$<)$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(O)/gen/%.o: $(O)/gen/%.c
	$(call msg,CC,$<)$(CC) $(ALL_CFLAGS) -Wno-missing-prototypes -c -o $@ $<

$(EMBED): tools/embed.c
	@mkdir -p $(dir $@)
	$(call msg,CC,$<)$(CC) -O2 -Wall -o $@ $<

# Staff pages start with <!--#page ...--> for the head they all share;
# tools/pages.awk writes it out into $(O)/gen/pages_*, embedded first.
pages = rm -rf $(2) && mkdir -p $(2) && for f in $(1)/*.html; do \
	awk -f tools/pages.awk "$$f" > "$(2)/$$(basename "$$f")" || exit 1; done

$(O)/gen/assets_node.c: $(EMBED) $(NODE_ASSETS) tools/pages.awk
	@mkdir -p $(dir $@)
	$(call msg,EMBED,$@)$(call pages,webui/node,$(O)/gen/pages_node) && \
	$(EMBED) assets_node $(O)/gen/pages_node webui/node webui/common > $@.tmp && mv $@.tmp $@

$(O)/gen/assets_hub.c: $(EMBED) $(HUB_ASSETS) tools/pages.awk
	@mkdir -p $(dir $@)
	$(call msg,EMBED,$@)$(call pages,webui/hub,$(O)/gen/pages_hub) && \
	$(EMBED) assets_hub $(O)/gen/pages_hub webui/hub webui/common > $@.tmp && mv $@.tmp $@

$(LIB_A): $(call objs,$(LIB_SRC))
$(MODEL_A): $(call objs,$(MODEL_SRC))
$(SYNC_A): $(call objs,$(SYNC_SRC))
$(NODE_A): $(call objs,$(NODE_SRC)) $(O)/gen/assets_node.o
$(HUB_A): $(call objs,$(HUB_SRC)) $(O)/gen/assets_hub.o
$(O)/%.a:
	@mkdir -p $(dir $@)
	@rm -f $@
	$(call msg,AR,$@)ar rcs $@ $^

LAYERS := $(SYNC_A) $(MODEL_A) $(LIB_A)

$(BINDIR)/outpost-node: $(O)/node/main.o $(NODE_A) $(LAYERS)
	@mkdir -p $(dir $@)
	$(call msg,LINK,$@)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BINDIR)/outpost-hub: $(O)/hub/main.o $(HUB_A) $(LAYERS)
	@mkdir -p $(dir $@)
	$(call msg,LINK,$@)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BINDIR)/outpost-sync: $(call objs,$(TOOL_SRC)) $(LAYERS)
	@mkdir -p $(dir $@)
	$(call msg,LINK,$@)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# ---- tests ---------------------------------------------------------------
UNIT_SRC := $(wildcard tests/unit/test_*.c)
SAN_O    := build/san
UNIT_BINS = $(patsubst tests/unit/%.c,$(O)/tests/%,$(UNIT_SRC))

$(O)/tests/%: $(O)/tests/unit/%.o $(NODE_A) $(HUB_A) $(LAYERS)
	@mkdir -p $(dir $@)
	$(call msg,LINK,$@)$(CC) $(LDFLAGS) -o $@ $(filter $(O)/tests/unit/%.o,$^) $(NODE_A) $(HUB_A) $(LAYERS) $(LDLIBS) -lcmocka

# Test helpers (not tests: no test_ prefix) linked into the tests using them.
$(UNIT_BINS): $(O)/tests/unit/testutil.o
$(O)/tests/test_powerloss $(O)/tests/test_pullfault: $(O)/tests/unit/faultutil.o
$(O)/tests/test_apply $(O)/tests/test_apply_cache $(O)/tests/test_capture $(O)/tests/test_case \
	$(O)/tests/test_crm $(O)/tests/test_hub_keys $(O)/tests/test_hubcheck $(O)/tests/test_pull \
	$(O)/tests/test_pull_local: \
	$(O)/tests/unit/synctest.o

unit-bins: $(BINS) $(UNIT_BINS)

ifdef OUTPOST_SETUP_DONE
# The sanitizer build of the test targets uses every core.
SAN_MAKE = $(MAKE) --no-print-directory -j$(shell nproc 2>/dev/null || echo 2) O=$(SAN_O) SAN=address,undefined OPT=-O1

# `make test`: sanitizer build, then unit, integration and browser tests.
test:
	$(Q)$(SAN_MAKE) unit-bins
	$(Q)sh tests/run.sh $(SAN_O)

# Only the unit tests (faster inner loop).
unit:
	$(Q)$(SAN_MAKE) unit-bins
	$(Q)OUTPOST_ONLY=unit sh tests/run.sh $(SAN_O)

# The same sanitizer build as `make test` (the convergence checker's planted
# bugs exist only there), with OUTPOST_LONG=1: many more seeds and kill points.
test-long:
	@sh scripts/setup.sh test
	$(Q)$(SAN_MAKE) unit-bins
	$(Q)OUTPOST_LONG=1 sh tests/run.sh $(SAN_O)

# The integration tests against the release build (bin/, what production
# runs; not part of test): a test that needs the test build's hooks (an
# injected clock, a fault point) is skipped and says so.
test-release: all
	$(Q)OUTPOST_ONLY=integration sh tests/run.sh .

bench: all
	$(Q)sh bench/run.sh

# The same backlog through pouchdb-server + PouchDB (npm, into build/peers),
# beside Outpost's sync figures (bench/peers.sh; not part of test or bench).
bench-peers: all
	$(Q)sh bench/peers.sh

fuzz:
	$(Q)sh fuzz/run.sh

# Mixed office traffic at two syncing nodes for SOAK_SECONDS (default 1800),
# release build; prints p99, 5xx, RSS growth and the largest WAL.
soak: all
	$(Q)python3 tests/soak/soak.py
endif

BENCH_COMMON := $(filter-out bench/bench_%.c,$(wildcard bench/*.c))
BENCH_BINS := $(patsubst bench/%.c,$(O)/bench/%,$(wildcard bench/bench_*.c))
$(O)/bench/%: $(O)/bench/%.o $(call objs,$(BENCH_COMMON)) $(NODE_A) $(HUB_A) $(LAYERS)
	@mkdir -p $(dir $@)
	$(call msg,LINK,$@)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)
bench-bins: all $(BENCH_BINS)

ifdef OUTPOST_SETUP_DONE
# Starts a hub and an office node with demo data in ./data and prints URLs.
run: all
	$(Q)sh scripts/run.sh

install: all
	$(Q)$(MAKE) --no-print-directory install-node install-hub

# Debian places when PREFIX=/usr (units in /lib/systemd/system, settings in
# /etc/outpost); under another PREFIX, everything below it.  INSTALL_BIN is
# where the binaries are taken from (scripts/mkdeb.sh names its own).
endif
INSTALL_BIN ?= $(BINDIR)
SYSCONFDIR  ?= $(if $(filter /usr,$(PREFIX)),/etc,$(PREFIX)/etc)
UNITDIR     ?= $(if $(filter /usr,$(PREFIX)),/lib/systemd/system,$(PREFIX)/lib/systemd/system)
MANDIR      ?= $(PREFIX)/share/man
DOCDIR      ?= $(PREFIX)/share/doc
UNIT_SED     = sed -e 's|@BINDIR@|$(PREFIX)/bin|g' -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g'

.PHONY: install-node install-hub deb
install-node:
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(UNITDIR) $(DESTDIR)$(MANDIR)/man1 \
		$(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(DOCDIR)/outpost-node/examples \
		$(DESTDIR)$(SYSCONFDIR)/outpost
	install -m 0755 $(INSTALL_BIN)/outpost-node $(INSTALL_BIN)/outpost-sync $(DESTDIR)$(PREFIX)/bin/
	$(UNIT_SED) packaging/outpost-node.service.in > $(DESTDIR)$(UNITDIR)/outpost-node.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/outpost-node.service
	install -m 0644 man/outpost-node.8 $(DESTDIR)$(MANDIR)/man8/
	install -m 0644 man/outpost-sync.1 $(DESTDIR)$(MANDIR)/man1/
	install -m 0644 README.md $(DESTDIR)$(DOCDIR)/outpost-node/
	install -m 0644 etc/node.conf.example $(DESTDIR)$(DOCDIR)/outpost-node/examples/
	test -e $(DESTDIR)$(SYSCONFDIR)/outpost/node.conf || \
		install -m 0644 packaging/node.conf $(DESTDIR)$(SYSCONFDIR)/outpost/node.conf

install-hub:
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(UNITDIR) $(DESTDIR)$(MANDIR)/man8 \
		$(DESTDIR)$(DOCDIR)/outpost-hub/examples $(DESTDIR)$(SYSCONFDIR)/outpost \
		$(DESTDIR)$(PREFIX)/share/outpost/seed
	install -m 0755 $(INSTALL_BIN)/outpost-hub $(DESTDIR)$(PREFIX)/bin/
	$(UNIT_SED) packaging/outpost-hub.service.in > $(DESTDIR)$(UNITDIR)/outpost-hub.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/outpost-hub.service
	install -m 0644 man/outpost-hub.8 $(DESTDIR)$(MANDIR)/man8/
	install -m 0644 README.md docs/hub-admin-api.md $(DESTDIR)$(DOCDIR)/outpost-hub/
	install -m 0644 etc/hub.conf.example $(DESTDIR)$(DOCDIR)/outpost-hub/examples/
	install -m 0644 seed/*.csv $(DESTDIR)$(PREFIX)/share/outpost/seed/
	test -e $(DESTDIR)$(SYSCONFDIR)/outpost/hub.conf || \
		install -m 0644 packaging/hub.conf $(DESTDIR)$(SYSCONFDIR)/outpost/hub.conf

ifdef OUTPOST_SETUP_DONE
# Two Debian packages (outpost-node with outpost-sync, outpost-hub) built
# from bin/ with dpkg-deb, into build/deb/.
deb: all
	$(Q)sh scripts/mkdeb.sh $(BINDIR) build/deb $(VERSION)
endif

clean:
	rm -rf build bin

-include $(shell find build -name '*.d' 2>/dev/null)
