# ResNet Lab: `make run` serves the app, `make test` runs every check (lint, types, unit, page, browser).
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PORT ?= 8501
# The exact versions the suite last passed with (README: how to refresh them). `CONSTRAINTS=` installs
# the newest versions requirements*.txt allow instead.
CONSTRAINTS ?= constraints.txt
PIN := $(if $(CONSTRAINTS),-c $(CONSTRAINTS))

.PHONY: run test lint browser datasets fonts messages clean constraints

run: $(VENV)/.runtime-installed datasets
	$(PY) -m streamlit run app.py --server.port $(PORT) --server.address localhost

test: $(VENV)/.dev-installed browser datasets fonts
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m mypy
	$(PY) -m pytest

lint: $(VENV)/.dev-installed
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m mypy

$(VENV)/bin/python:
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		{ echo "ResNet Lab needs Python 3.11 or newer (found $$($(PYTHON) --version))"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

# No pip cache: PyTorch's CUDA build and its libraries are several GB, and a cached copy of each would need as
# much again on a machine with little disk (a CI run once failed with 'No space left on device').
# Stamps: reinstall only when a requirements file changes, so `make run` works offline once installed.
# Then the embedded dataset is rendered into its cache (seconds, once: BENCHMARKS.md, 'Time to first point'),
# so the first Train a new user presses does not wait for it (the app's standby worker would render it too,
# but only once the app is open).
$(VENV)/.runtime-installed: requirements.txt $(CONSTRAINTS) | $(VENV)/bin/python
	$(PY) -m pip install --quiet --no-cache-dir -r requirements.txt $(PIN)
	$(PY) -c 'from resnet_core.data.datasets import prepare_dataset; prepare_dataset("shapes")' || \
		echo "The embedded dataset was not rendered now: the app renders it when it is first needed."
	touch $@

# The dev install includes Ray (requirements-ray.txt, the `ray` extra), so the tests cover the ray executor.
$(VENV)/.dev-installed: requirements.txt requirements-dev.txt requirements-ray.txt $(CONSTRAINTS) | $(VENV)/bin/python
	$(PY) -m pip install --quiet --no-cache-dir -r requirements.txt -r requirements-dev.txt -r requirements-ray.txt $(PIN)
	touch $(VENV)/.runtime-installed $@

# Pin what is installed now (after `make test` passed) as the tested versions.
constraints: $(VENV)/.dev-installed
	{ echo "# Exact versions \`make test\` last passed with (written by \`make constraints\`; see the README)."; \
	  $(PY) -m pip freeze --exclude-editable | grep -v -i -E '^(resnet-lab|vulture)=='; } > constraints.txt

# $(call debian,CHECK,PACKAGE,FOR,WITHOUT): when the shell test CHECK fails, install Debian's PACKAGE if we are
# root (saying what it is FOR); otherwise say what happens WITHOUT it. Never a download from elsewhere.
debian = if ! $(1); then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
			echo "Installing Debian's $(2) $(3)"; \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(2) >/dev/null; \
		else \
			echo "$(2) is missing and we are not root: $(4)"; \
		fi; \
	fi

# Browser tests drive Debian's chromium (never a downloaded browser). Install it when missing and we
# are root; otherwise the browser tests skip with a reason (and fail under CI=true).
browser:
	@$(call debian,command -v chromium >/dev/null 2>&1,chromium,for the browser tests,browser tests will be skipped)

# Fashion-MNIST's four IDX files from Debian's package: the reference runs were trained on it (Explain's test
# images and a new lesion study load it), the real-data tests read them, and the app lists the dataset when they
# are there. Installed when missing and we are root; otherwise those tests skip with a reason.
datasets:
	@$(call debian,[ -f /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz ],dataset-fashion-mnist,for the reference runs' data and the real-data tests,the Fashion-MNIST tests will be skipped and the reference runs' images cannot be shown)

# A CJK font (Debian's Noto CJK) for the browser tests' screenshots and plotly's image exports: without it
# Chinese shows as boxes. Installed when missing and we are root; otherwise the Chinese screenshots show boxes
# (the tests still read the page's text).
fonts:
	@$(call debian,fc-list 2>/dev/null | grep -qi 'Noto Sans CJK',fonts-noto-cjk,for Chinese in the browser,Chinese screenshots will show boxes)

# Translations (README, "Translations"): extract every message of the code into the template, then bring
# each language's catalog up to date with it (new messages empty, changed ones fuzzy, gone ones dropped);
# then translate the empty and fuzzy entries. The app reads the .po itself: nothing to compile.
POT := resnet_core/locale/messages.pot
messages: $(VENV)/.dev-installed
	$(VENV)/bin/pybabel extract -F babel.cfg -k N_ --no-location --sort-output --project resnet-lab -o $(POT) .
	$(VENV)/bin/pybabel update -i $(POT) -d resnet_core/locale -D messages --ignore-obsolete --width 120

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache test-artifacts
