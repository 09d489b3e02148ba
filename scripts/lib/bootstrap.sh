# Shared by scripts/up and scripts/check: install what is missing, quietly when nothing is.
# shellcheck shell=bash

RAGIS_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
VENV="${RAGIS_VENV:-$RAGIS_ROOT/.venv}"

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

find_python() {
  local candidate
  for candidate in "${PYTHON:-}" python3.13 python3.12 python3.11 python3; do
    [ -n "$candidate" ] || continue
    if command -v "$candidate" >/dev/null 2>&1 &&
       "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
      command -v "$candidate"
      return 0
    fi
  done
  return 1
}

# ensure_venv [extra]: a virtualenv with ragis installed (editable), re-installed only when
# pyproject.toml or the requested extra changed.
ensure_venv() {
  local extra="${1:-}" spec="." stamp installed python
  [ -n "$extra" ] && spec=".[$extra]"
  if [ ! -x "$VENV/bin/python" ]; then
    python="$(find_python)" || die "ragis needs Python 3.11 or newer (set PYTHON=/path/to/python3.11)."
    say "creating a virtualenv in $VENV"
    "$python" -m venv "$VENV"
    "$VENV/bin/python" -m pip install --quiet --upgrade pip
  fi
  stamp="$(sha256sum < "$RAGIS_ROOT/pyproject.toml" | cut -c1-16)-$extra"
  installed="$(cat "$VENV/.ragis-installed" 2>/dev/null || true)"
  # An install with the dev extra also satisfies a plain one.
  if [ "$installed" != "$stamp" ] && { [ -n "$extra" ] || [ "${installed%-*}-" != "$stamp" ]; }; then
    say "installing ragis${extra:+ with [$extra]} into $VENV (first run takes a few minutes)"
    (cd "$RAGIS_ROOT" && "$VENV/bin/python" -m pip install --quiet --progress-bar off -e "$spec") \
      || die "pip install failed; see the messages above."
    echo "$stamp" > "$VENV/.ragis-installed"
  fi
}

# ensure_debian_packages PKG...: apt-get install the missing ones (as root, or through sudo).
ensure_debian_packages() {
  local missing=() pkg sudo=""
  command -v dpkg-query >/dev/null 2>&1 || return 0
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
      sudo="sudo -n"
    else
      say "cannot install ${missing[*]} (not root, no sudo): the tests that need them will fail"
      return 0
    fi
  fi
  say "installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  # A fresh machine has no package lists yet: update once, then install.
  $sudo apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null 2>&1 || {
    $sudo apt-get update -qq >/dev/null && \
    $sudo apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null
  } || die "apt-get install ${missing[*]} failed."
}

# ensure_frontend [test]: node_modules installed (npm ci) and frontend/dist built when missing
# or older than its sources. With "test", also the unit tests and the type check.
ensure_frontend() {
  local front="$RAGIS_ROOT/frontend" stale=""
  command -v npm >/dev/null 2>&1 || die "the web UI needs Node.js 20+ and npm (apt-get install nodejs npm)."
  if [ ! -d "$front/node_modules" ] || [ "$front/package-lock.json" -nt "$front/node_modules/.package-lock.json" ]; then
    say "installing the web UI's npm packages"
    (cd "$front" && npm ci --no-audit --no-fund --loglevel=error) || die "npm ci failed in frontend/."
  fi
  if [ ! -f "$front/dist/index.html" ]; then
    stale=1
  elif [ -n "$(find "$front/src" "$front/index.html" "$front/package.json" "$front/vite.config.ts" \
                 "$front/public" -newer "$front/dist/index.html" -print -quit 2>/dev/null)" ]; then
    stale=1
  fi
  if [ -n "$stale" ]; then
    say "building the web UI (frontend/dist)"
    (cd "$front" && npm run --silent build >/dev/null) || die "npm run build failed in frontend/."
  fi
  if [ "${1:-}" = "test" ]; then
    say "web UI: unit tests (vitest) and type check (svelte-check)"
    (cd "$front" && npm test --silent && npm run --silent check) || die "the web UI checks failed."
  fi
}
