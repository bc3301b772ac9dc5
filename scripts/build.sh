#!/usr/bin/env bash
# One entry point for a fresh Debian 12 machine (as root, or with sudo):
#   bash scripts/build.sh demo    install what is missing, build, run `dbsplit demo`
#   bash scripts/build.sh test    install what is missing, build, run the whole test suite
#   bash scripts/build.sh build   install what is missing and build
# apt runs only when a package is missing. With CI=true warnings are errors.
set -euo pipefail
cd "$(dirname "$0")/.."

mode=${1:-build}
case "$mode" in demo|test|build) ;; *) echo "usage: bash scripts/build.sh demo|test|build" >&2; exit 2 ;; esac

packages=(g++ cmake ninja-build pkg-config git
          libpqxx-dev libpq-dev libcli11-dev libtomlplusplus-dev libfmt-dev libsqlite3-dev
          catch2 libpg-query-dev nlohmann-json3-dev libssl-dev
          postgresql-15 clang-format util-linux tmux graphviz pgbouncer ccache chromium)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "== installing: ${missing[*]}"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
  # The Debian package starts a cluster on 5432 that dbsplit does not need.
  $sudo pg_ctlcluster 15 main stop 2>/dev/null || true
fi

preset=release
[ "${CI:-}" = "true" ] && preset=ci
echo "== configuring ($preset) and building"
cmake --preset "$preset" >/dev/null
if [ "$mode" = demo ]; then
  # The demo needs the binary only, not the test suite's binaries.
  cmake --build --preset "$preset" -j "$(nproc)" --target dbsplit
else
  cmake --build --preset "$preset" -j "$(nproc)"
fi

case "$mode" in
  demo)
    echo "== dbsplit demo"
    exec ./build/dbsplit demo
    ;;
  test)
    echo "== tests"
    cd build
    exec ctest --output-on-failure -j 2 --timeout 600
    ;;
esac
