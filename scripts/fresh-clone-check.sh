#!/usr/bin/env bash
# What a new user gets: clone the committed repository into an empty temporary folder (nothing beside
# it), run `make demo` and `bash .ci/run` there, check `npm ci` accepts the committed lock in a second
# empty folder (and resolves it for Linux arm64 too), and check that nothing in the clone changed.
# Prints one line at the end:
#   fresh clone: demo ok, N passed, 0 failed, lock unchanged, node vXX
# Usage: scripts/fresh-clone-check.sh [--ref REF] [--keep]
#   --ref REF   what to clone (default HEAD: committed work only; uncommitted changes are not seen)
#   --keep      keep the temporary folder (its path is printed) instead of removing it
# Exit code: 0 when every part passed, 1 otherwise (the logs of the failing part are named).
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
REPO=$PWD

ref=HEAD
keep=0
while [ $# -gt 0 ]; do
  case "$1" in
    --ref)
      ref=${2:?--ref needs a value}
      shift 2
      ;;
    --keep)
      keep=1
      shift
      ;;
    -h | --help)
      sed -n '2,10p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
      exit 0
      ;;
    *)
      echo "fresh-clone-check: unknown argument '$1' (see --help)" >&2
      exit 2
      ;;
  esac
done

commit=$(git rev-parse --verify --quiet "$ref^{commit}") || {
  echo "fresh-clone-check: '$ref' is not a commit of $REPO" >&2
  exit 2
}
work=$(mktemp -d "${TMPDIR:-/tmp}/ftflow-fresh.XXXXXX")
clone=$work/clone/finetune-flow
logs=$work/logs
mkdir -p "$work/clone" "$logs"
cleanup() { if [ "$keep" -eq 1 ]; then echo "fresh-clone-check: kept $work"; else rm -rf "$work"; fi; }
trap cleanup EXIT

say() { printf 'fresh-clone-check: %s\n' "$*"; }
fail() {
  say "FAILED: $1 (log: $2)" >&2
  tail -n 25 "$2" >&2
  keep=1
  exit 1
}

say "cloning ${commit:0:12} into $clone (nothing beside it)"
git clone --quiet --no-local "$REPO" "$clone" >"$logs/clone.log" 2>&1 || fail "git clone" "$logs/clone.log"
git -C "$clone" checkout --quiet --detach "$commit" >>"$logs/clone.log" 2>&1 || fail "git checkout" "$logs/clone.log"

t0=$SECONDS
say "make demo ..."
(cd "$clone" && make demo </dev/null) >"$logs/demo.log" 2>&1 || fail "make demo" "$logs/demo.log"
say "make demo passed in $((SECONDS - t0)) s"
node_version=$("$clone/.tools/bin/node" --version)
npm_version=$("$clone/.tools/bin/npm" --version 2>/dev/null)

# npm ci from the committed lock alone, with the npm set-up chose, in folders with nothing else.
for platform in native arm64; do
  dir=$work/npm-ci-$platform
  mkdir -p "$dir"
  cp "$clone/package.json" "$clone/package-lock.json" "$clone/.npmrc" "$dir/"
  extra=()
  # arm64: resolve the lock for Linux arm64 without installing (this machine cannot run its binaries).
  [ "$platform" = arm64 ] && extra=(--dry-run --os=linux --cpu=arm64)
  (cd "$dir" && PATH="$clone/.tools/bin:$PATH" npm ci --no-audit --no-fund "${extra[@]}") >"$logs/npm-ci-$platform.log" 2>&1 ||
    fail "npm ci ($platform) from the committed lock" "$logs/npm-ci-$platform.log"
  cmp -s "$dir/package-lock.json" "$clone/package-lock.json" ||
    fail "npm ci ($platform) rewrote package-lock.json" "$logs/npm-ci-$platform.log"
done
grep -q 'linux-arm64' "$logs/npm-ci-arm64.log" ||
  fail "npm ci --cpu=arm64 chose no linux-arm64 package" "$logs/npm-ci-arm64.log"
say "npm ci accepts the lock (linux x64 installed, linux arm64 resolved) with npm $npm_version"

t0=$SECONDS
say "bash .ci/run ..."
(cd "$clone" && bash .ci/run </dev/null) >"$logs/ci.log" 2>&1
ci_rc=$?
closing=$(tail -n 1 "$logs/ci.log")
[ "$ci_rc" -eq 0 ] || fail ".ci/run exited $ci_rc ($closing)" "$logs/ci.log"
say ".ci/run passed in $((SECONDS - t0)) s"
if ! [[ "$closing" =~ ^([0-9]+)\ passed,\ 0\ failed$ ]]; then
  fail ".ci/run's closing line is '$closing'" "$logs/ci.log"
fi
passed=${BASH_REMATCH[1]}

status=$(git -C "$clone" status --porcelain)
if [ -n "$status" ]; then
  printf '%s\n' "$status" >"$logs/status.log"
  fail "the clone changed after make demo and .ci/run (git status --porcelain)" "$logs/status.log"
fi

echo "fresh clone: demo ok, $passed passed, 0 failed, lock unchanged, node $node_version"
