#!/usr/bin/env bash
# Set-up for `make cluster` and `make test-cluster`, beside scripts/setup.sh (which they run first).
# Idempotent; fast when everything is in place. What it needs and does:
#   1. PostgreSQL's server programs (postgres, initdb, pg_isready): found under /usr/lib/postgresql/<major>/bin,
#      on PATH, or in $FTFLOW_PG_BINDIR; where none is, as root it installs Debian's `postgresql` package
#      (apt-get update, apt-get install postgresql); not root: it says what to install.
#   2. As root only: an unprivileged user for PostgreSQL, which refuses to run as root. The package's
#      `postgres` user when it exists, else a system user `ftflow-pg` (useradd --system, no home, no shell).
#      Not root: PostgreSQL runs as you.
#   3. The Temporal server and temporal-sql-tool at the pinned version, built once with Go into
#      .tools/temporal-server/<version>/ (node devstack/dist/cluster/main.js build; a few minutes the
#      first time, the Go module and build caches in .tools/go-cache/), reused afterwards.
#      FTFLOW_CLUSTER_UI=1 also builds the Temporal UI server into .tools/temporal-ui/<version>/.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export PATH="$PWD/.tools/bin:$PATH"

step() { printf 'cluster-setup: %-9s %s\n' "$1" "$2"; }
die() {
  printf 'cluster-setup: ERROR: %s\n' "$1" >&2
  exit 1
}

# --- 1. PostgreSQL ------------------------------------------------------------------------------
pg_bindir() {
  local d
  if [ -n "${FTFLOW_PG_BINDIR:-}" ]; then
    [ -x "$FTFLOW_PG_BINDIR/postgres" ] && [ -x "$FTFLOW_PG_BINDIR/initdb" ] && echo "$FTFLOW_PG_BINDIR"
    return
  fi
  for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k4 -n -r); do
    if [ -x "$d/postgres" ] && [ -x "$d/initdb" ] && [ -x "$d/pg_isready" ]; then echo "$d"; return; fi
  done
  if command -v postgres >/dev/null 2>&1; then
    d=$(dirname "$(readlink -f "$(command -v postgres)")")
    [ -x "$d/initdb" ] && echo "$d"
  fi
}

root=0
[ "$(id -u)" = 0 ] && root=1
bindir=$(pg_bindir || true)
if [ -z "$bindir" ]; then
  [ -n "${FTFLOW_PG_BINDIR:-}" ] && die "FTFLOW_PG_BINDIR=$FTFLOW_PG_BINDIR has no postgres and initdb."
  if [ "$root" = 1 ] && command -v apt-get >/dev/null 2>&1; then
    step postgres "installing Debian's postgresql package (apt-get) ..."
    t0=$SECONDS
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql >/dev/null
    step postgres "installed in $((SECONDS - t0)) s"
    bindir=$(pg_bindir || true)
  fi
  [ -n "$bindir" ] || die "PostgreSQL's server programs were not found. Install PostgreSQL >= 12 (Debian/Ubuntu: sudo apt-get install postgresql), or set FTFLOW_PG_BINDIR to the folder with postgres, initdb and pg_isready."
fi
step postgres "$("$bindir/postgres" --version) ($bindir)"

# --- 2. an unprivileged user for it -------------------------------------------------------------
if [ "$root" = 1 ]; then
  if [ -n "${FTFLOW_PG_USER:-}" ]; then
    id -u "$FTFLOW_PG_USER" >/dev/null 2>&1 || die "FTFLOW_PG_USER=$FTFLOW_PG_USER: no such user."
    pg_user=$FTFLOW_PG_USER
  elif id -u postgres >/dev/null 2>&1; then
    pg_user=postgres
  else
    if ! id -u ftflow-pg >/dev/null 2>&1; then
      useradd --system --user-group --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin ftflow-pg ||
        die "useradd ftflow-pg failed; create an unprivileged user and set FTFLOW_PG_USER to it."
      step user "created the system user ftflow-pg"
    fi
    pg_user=ftflow-pg
  fi
  [ "$(id -u "$pg_user")" != 0 ] || die "$pg_user is root; PostgreSQL must run unprivileged."
  step user "PostgreSQL runs as $pg_user (this is root; it refuses to run as root)"
else
  step user "PostgreSQL runs as $(id -un)"
fi

# --- 3. the Temporal server ---------------------------------------------------------------------
[ -f devstack/dist/cluster/main.js ] || die "devstack/dist/cluster/main.js is missing: run 'make build' first."
node devstack/dist/cluster/main.js build $([ "${FTFLOW_CLUSTER_UI:-0}" = 1 ] && echo --ui)
