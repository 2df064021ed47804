# davprovider: the two commands a new user needs are `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
DATA   ?= var/demo
PORT   ?= 8080
IRODS_PORT ?= 1247
SWIFT_PORT ?= 18080

.PHONY: test demo bench lint typecheck install clean tools swiftvenv

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: $(STAMP)
	$(VENV)/bin/mypy localgrid davprovider auth

# Debian packages the client tests drive, as package:command; installed when we are root
# and a command is missing (CI runs as root; tests fail in CI when a tool is absent).
TOOLS := litmus:litmus davfs2:mount.davfs openssl:openssl curl:curl rclone:rclone cadaver:cadaver chromium:chromium chromium-driver:chromedriver davix:davix-get
# gfal2 (grid tests): a module of Debian's python3 and a plugin, not commands
GFAL2_PKGS := python3-gfal2 gfal2-plugin-http
tools:
	@missing=""; for t in $(TOOLS); do command -v $${t##*:} >/dev/null || missing="$$missing $${t%%:*}"; done; \
	if [ -n "$$missing" ] && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "installing:$$missing"; \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing) >/dev/null; \
	fi
	@/usr/bin/python3 -c 'import gfal2' 2>/dev/null && [ -e /usr/lib/x86_64-linux-gnu/gfal2-plugins/libgfal_plugin_http.so ] || \
	{ [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && echo "installing: $(GFAL2_PKGS)" && \
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(GFAL2_PKGS) >/dev/null; } || true

# The real OpenStack Swift the tests start lives in its own venv (eventlet monkeypatches).
swiftvenv: $(STAMP)
	$(PY) -m localgrid.swift install

test: lint typecheck tools swiftvenv
	$(PY) -m pytest

demo: $(STAMP) swiftvenv
	$(PY) -m localgrid demo --data $(DATA) --port $(PORT) --irods-port $(IRODS_PORT) \
		--swift-port $(SWIFT_PORT) \
		$(if $(filter 1,$(TLS)),--tls)

# Benchmarks (BENCHMARKS.md): about 15-20 minutes on 2 cores; QUICK=1 for a smoke run of a
# few minutes that overwrites nothing. Needs rclone (Debian package, installed when root),
# the Swift venv and matplotlib (for the plots).
bench: $(STAMP) swiftvenv
	@command -v rclone >/dev/null || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq rclone) >/dev/null; }
	$(PY) -m pip install -q matplotlib
	$(PY) bench/run_all.py $(if $(filter 1,$(QUICK)),--quick,--update-doc)

clean:
	rm -rf $(VENV) .swiftvenv .pytest_cache .mypy_cache .ruff_cache
