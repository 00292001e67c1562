# screenloop — the two commands a newcomer needs are `make demo` and `make test`.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
APT_PACKAGES := chromium chromium-headless-shell fonts-liberation xvfb xdotool openbox \
	xterm x11-apps xauth x11-utils nano mousepad xclip python3-tk
PYTEST_ARGS ?= -n 2

.PHONY: setup apt uv venv test lint format demo bench bench-smoke clean

setup: apt venv

# Debian packages the executors and tests need; installed only when missing.
apt:
	@missing=""; for p in $(APT_PACKAGES); do \
		dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
		echo "installing Debian packages:$$missing"; \
		SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
		$$SUDO apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; \
	fi

uv:
	@command -v uv >/dev/null 2>&1 || python3 -m pip install --quiet uv

# A venv made before pyautogui left the default dependencies held python3-xlib,
# whose removal deletes files of python-xlib's `Xlib` package: reinstall it then.
venv: uv
	@uv sync --frozen --quiet
	@$(PY) -c "import Xlib.display" 2>/dev/null || uv sync --frozen --quiet --reinstall-package python-xlib

test: setup
	$(VENV)/bin/pytest $(PYTEST_ARGS)

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

format: setup
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

# `make demo WATCH=1` (or WATCH=8765, a port) also serves the watch page; DEMO_ARGS for more flags.
demo: setup
	$(VENV)/bin/screenloop demo $(if $(filter-out 0 1,$(WATCH)),--watch=$(WATCH),$(if $(filter 1,$(WATCH)),--watch)) $(DEMO_ARGS)

bench: setup
	$(PY) -m bench

bench-smoke: setup
	$(PY) -m bench --smoke

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache runs
