# Shared by scripts/up and scripts/check: install what is missing, quietly when nothing is.
# shellcheck shell=bash

RAGIS_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
VENV="${RAGIS_VENV:-$RAGIS_ROOT/.venv}"

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# The locks in requirements/ were resolved by scripts/lock for this interpreter and platform.
LOCK_PYTHON="3.11"
LOCK_PLATFORM="Linux x86_64"

find_python() {
  local candidate
  # The lock's Python first: any other 3.11+ works, but installs from pyproject's ranges.
  for candidate in "${PYTHON:-}" "python$LOCK_PYTHON" python3.13 python3.12 python3; do
    [ -n "$candidate" ] || continue
    if command -v "$candidate" >/dev/null 2>&1 &&
       "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
      command -v "$candidate"
      return 0
    fi
  done
  return 1
}

# on_lock_platform: whether the venv's Python is the one the locks were resolved for.
on_lock_platform() {
  "$VENV/bin/python" -c "import platform, sys; v = sys.version_info; sys.exit(f'{v[0]}.{v[1]} {platform.system()} {platform.machine()}' != '$LOCK_PYTHON $LOCK_PLATFORM')"
}

# ensure_venv [extras]: a virtualenv holding exactly the locked versions of the run set plus the
# given extras (e.g. "dev,bench"), and ragis itself installed editable. Each run proves the venv
# equals the locks (~0.3 s); when a lock changed, an extra is missing, or anything was installed,
# removed or changed by hand, it installs from the locks again, removes what they do not pin and
# proves the result, so no stale venv survives a lock change.
ensure_venv() {
  local extras="${1:-}" python stamp installed have e stale
  local locks=()
  if [ ! -x "$VENV/bin/python" ]; then
    python="$(find_python)" || die "ragis needs Python 3.11 or newer (set PYTHON=/path/to/python3.11)."
    say "creating a virtualenv in $VENV"
    "$python" -m venv "$VENV"
    "$VENV/bin/python" -m pip install --quiet --upgrade pip
  fi
  stamp="$(cat "$RAGIS_ROOT/pyproject.toml" "$RAGIS_ROOT"/requirements/*.txt | sha256sum | cut -c1-16)"
  installed="$(cat "$VENV/.ragis-installed" 2>/dev/null || true)"
  # The file holds the stamp, then the extras installed: a venv with more extras serves fewer,
  # so scripts/up after scripts/check keeps the dev tools.
  if [ "${installed%% *}" = "$stamp" ]; then
    have="${installed#* }"
    for e in ${have//,/ }; do
      case ",$extras," in *",$e,"*) ;; *) extras="${extras:+$extras,}$e" ;; esac
    done
  fi
  locks=("$RAGIS_ROOT/requirements/run.txt")
  for e in ${extras//,/ }; do locks+=("$RAGIS_ROOT/requirements/$e.txt"); done

  if ! on_lock_platform; then
    [ "$installed" = "$stamp $extras" ] && return 0
    say "the locks in requirements/ are for CPython $LOCK_PYTHON on $LOCK_PLATFORM, and this venv's Python is not: installing ragis${extras:+[$extras]} from pyproject.toml's version ranges instead"
    (cd "$RAGIS_ROOT" && "$VENV/bin/python" -m pip install --quiet --progress-bar off -e ".${extras:+[$extras]}") \
      || die "pip install failed; see the messages above."
    echo "$stamp $extras" > "$VENV/.ragis-installed"
    return 0
  fi
  if [ "$installed" = "$stamp $extras" ] &&
     "$VENV/bin/python" "$RAGIS_ROOT/scripts/lib/lockfile.py" verify "${locks[@]}" 2>/dev/null; then
    return 0
  fi
  say "installing ragis${extras:+ with [$extras]} into $VENV from the locks in requirements/ (first run takes a few minutes)"
  # shellcheck disable=SC2046
  "$VENV/bin/python" -m pip install --quiet --progress-bar off --require-hashes \
      $(printf -- '-r %s ' "${locks[@]}") || die "pip install from the locks failed; see the messages above."
  stale="$("$VENV/bin/python" "$RAGIS_ROOT/scripts/lib/lockfile.py" extra "${locks[@]}")" \
    || die "reading the locks failed."
  if [ -n "$stale" ]; then
    say "removing what the locks do not pin: $(echo $stale)"
    # shellcheck disable=SC2086
    "$VENV/bin/python" -m pip uninstall --quiet --yes $stale || die "pip uninstall failed."
  fi
  (cd "$RAGIS_ROOT" && "$VENV/bin/python" -m pip install --quiet --no-deps --no-build-isolation -e .) \
    || die "installing ragis itself failed; see the messages above."
  "$VENV/bin/python" "$RAGIS_ROOT/scripts/lib/lockfile.py" verify "${locks[@]}" \
    || die "the venv still differs from the locks (above); remove $VENV and run again."
  echo "$stamp $extras" > "$VENV/.ragis-installed"
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
    (cd "$front" && npm run --silent types:check) || die "the web UI's types are not the gateway's: run cd frontend && npm run types"
  fi
}
