# The two commands: `make run` (portal with demo data on SQLite) and `make test` (ruff + the whole suite).
PYTHON ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test install lint browser saml-tools clean

$(BIN)/python:
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "Python 3.11 is required ($(PYTHON) not found)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet -e ".[dev]"
	@touch $@

install: $(VENV)/.installed

run: install
	DEBUG=true $(PY) manage.py migrate --noinput
	DEBUG=true $(PY) manage.py seed_demo
	@echo "Portal: http://$(HOST):$(PORT)/  (admin: http://$(HOST):$(PORT)/admin/)"
	DEBUG=true $(PY) manage.py runserver $(HOST):$(PORT)

browser:
	@if [ ! -x /usr/bin/chromium ]; then \
	  if [ "$$(id -u)" = "0" ]; then (apt-get update -qq && apt-get install -y -qq chromium) >/dev/null; \
	  else echo "Installing Debian's chromium for the browser tests: sudo apt-get install -y chromium"; sudo apt-get install -y chromium; fi; \
	fi

# Debian's xmlsec1 (pysaml2 verifies SAML signatures with it); php-cli, php-xml, php-mbstring and simplesamlphp:
# the external SAML IdP the tests start.
saml-tools:
	@if ! command -v xmlsec1 >/dev/null 2>&1 || [ ! -d /usr/share/simplesamlphp ] || ! php -m 2>/dev/null | grep -qx dom; then \
	  if [ "$$(id -u)" = "0" ]; then (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends xmlsec1 php-cli php-xml php-mbstring simplesamlphp) >/dev/null; \
	  else echo "Installing Debian's xmlsec1, php-cli, php-xml, php-mbstring and simplesamlphp for the SAML tests"; sudo apt-get install -y --no-install-recommends xmlsec1 php-cli php-xml php-mbstring simplesamlphp; fi; \
	fi

lint: install
	$(BIN)/ruff check .
	$(PY) manage.py makemigrations --check --dry-run --settings=config.test_settings

test: install browser saml-tools lint
	$(BIN)/pytest

clean:
	rm -rf $(VENV) db.sqlite3 var staticfiles .pytest_cache .ruff_cache

# The documentation site (mkdocs.yml, docs/): `make docs` builds it into site/ in strict mode (a broken link, a page
# missing from the nav or any warning fails); `make screenshots` retakes the help page's pictures from the real pages.
MERMAID_VERSION ?= 11.17.2
MERMAID_DIR := docs/assets/javascripts/vendor
.PHONY: docs screenshots docs-vendor

docs: install
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict

screenshots: install browser
	$(PY) -m tools.screenshots --out docs/images/sign-in

# Refresh the vendored Mermaid (served by the site itself: no CDN) from the npm package.
docs-vendor:
	@tmp=$$(mktemp -d) && (cd $$tmp && npm pack --silent mermaid@$(MERMAID_VERSION) >/dev/null && tar xzf mermaid-*.tgz) && \
	  cp $$tmp/package/dist/mermaid.min.js $(MERMAID_DIR)/mermaid.min.js && \
	  cp $$tmp/package/LICENSE $(MERMAID_DIR)/mermaid.LICENSE.txt && rm -rf $$tmp && \
	  echo "mermaid $(MERMAID_VERSION): update $(MERMAID_DIR)/VENDOR.txt with this sha256:" && \
	  sha256sum $(MERMAID_DIR)/mermaid.min.js
