#!/usr/bin/env bash
# Installs every tool the project needs, idempotently: each step checks first
# and skips what is already there. Usage: scripts/setup.sh [all|wasm|chromium|postgres|directories|mail|nginx|package|image|schemathesis|lighthouse]
# (`schemathesis` and `lighthouse` are only for `./x fuzz` and `./x perf`:
# `all`, what `./x test` runs, leaves them out.)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
export PATH="$HOME/.cargo/bin:$ROOT/.tools/node_modules/.bin:$PATH"

TRUNK_VERSION_REQ='~0.21'   # trunk 0.22 needs a newer rustc than these machines have
BINARYEN_VERSION='132.0.0'  # Debian's binaryen (108) cannot parse today's Rust wasm
TERSER_VERSION='5.51.4'
LIGHTHOUSE_VERSION='12.2.3'  # 13 needs Node 22; these machines have Node 20
CARGO_DEB_VERSION='3.8.0'   # builds with rustc 1.85 and later

say() { printf '\033[1m[setup]\033[0m %s\n' "$*" >&2; }

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

apt_install() {
  say "apt-get install $*"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

wasm_bindgen_version() {
  # The CLI must match the wasm-bindgen crate in Cargo.lock exactly.
  awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock
}

setup_lint() {
  # `./x test` checks formatting and lints first; a minimal rustup profile
  # has neither tool.
  for component in rustfmt clippy; do
    if ! rustup component list --installed 2>/dev/null | grep -q "^$component"; then
      say "adding the $component component"
      rustup component add "$component"
    fi
  done
}

setup_wasm() {
  # trunk's post-build hook (scripts/build/postbuild.mjs: service worker,
  # .br/.gz files) and scripts/perf run on Node's standard library alone.
  if ! command -v node >/dev/null 2>&1; then
    say "Node.js 20+ (with npm) is required: install it first"; exit 1
  fi
  if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
    say "adding the wasm32-unknown-unknown target"
    rustup target add wasm32-unknown-unknown
  fi
  if ! trunk --version 2>/dev/null | grep -q '^trunk 0\.21\.'; then
    say "installing trunk $TRUNK_VERSION_REQ (takes several minutes)"
    cargo install trunk --version "$TRUNK_VERSION_REQ" --locked
  fi
  local wbg; wbg=$(wasm_bindgen_version)
  if ! wasm-bindgen --version 2>/dev/null | grep -q " $wbg\$"; then
    say "installing wasm-bindgen-cli $wbg"
    # --locked fails on this registry for wasm-bindgen-cli; its own lock is not needed.
    cargo install wasm-bindgen-cli --version "$wbg"
  fi
  if ! [ -x "$ROOT/.tools/node_modules/.bin/wasm-opt" ]; then
    say "installing wasm-opt (npm binaryen@$BINARYEN_VERSION) into .tools/"
    mkdir -p "$ROOT/.tools"
    npm install --silent --no-audit --no-fund --prefix "$ROOT/.tools" "binaryen@$BINARYEN_VERSION" >/dev/null
  fi
  if ! [ -f "$ROOT/.tools/node_modules/terser/package.json" ]; then
    say "installing terser@$TERSER_VERSION (minifies the PWA's scripts) into .tools/"
    mkdir -p "$ROOT/.tools"
    npm install --silent --no-audit --no-fund --prefix "$ROOT/.tools" "terser@$TERSER_VERSION" >/dev/null
  fi
}

setup_chromium() {
  if ! [ -x /usr/bin/chromium ] || ! [ -x /usr/bin/chromedriver ]; then
    apt_install chromium chromium-driver
  fi
}

setup_directories() {
  # The directory tests' servers: a throwaway OpenLDAP (slapd with the
  # ppolicy overlay) on a free loopback port, and a Samba AD DC provisioned
  # into a temporary directory and run in a network namespace (iproute2) with
  # a certificate from a CA the tests make (openssl).
  if ! [ -x /usr/sbin/slapd ] || ! command -v ldapwhoami >/dev/null 2>&1; then
    apt_install --no-install-recommends slapd ldap-utils
  fi
  if ! [ -x /usr/sbin/samba ] || ! command -v samba-tool >/dev/null 2>&1 \
    || ! command -v ip >/dev/null 2>&1 || ! command -v openssl >/dev/null 2>&1; then
    apt_install --no-install-recommends samba samba-ad-dc samba-ad-provision \
      samba-dsdb-modules winbind iproute2 openssl
  fi
}

setup_mail() {
  # The notification tests' SMTP server: aiosmtpd from PyPI in a virtual
  # environment of the project's own (the tests start it on a free port).
  if ! "$ROOT/.tools/smtp-venv/bin/python" -c 'import aiosmtpd' >/dev/null 2>&1; then
    say "installing aiosmtpd into .tools/smtp-venv"
    python3 -m venv "$ROOT/.tools/smtp-venv"
    "$ROOT/.tools/smtp-venv/bin/pip" install --quiet --disable-pip-version-check "aiosmtpd==1.4.6"
  fi
}

setup_schemathesis() {
  # `./x fuzz` only (never the test command): schemathesis from PyPI in a
  # virtual environment of the project's own.
  if ! [ -x "$ROOT/.tools/venv/bin/schemathesis" ]; then
    say "installing schemathesis into .tools/venv"
    python3 -m venv "$ROOT/.tools/venv"
    "$ROOT/.tools/venv/bin/pip" install --quiet --disable-pip-version-check "schemathesis>=4,<5"
  fi
}

setup_lighthouse() {
  # `./x perf` runs it on Debian's Chromium (setup_chromium).
  if ! [ -f "$ROOT/.tools/node_modules/lighthouse/package.json" ] \
    || ! grep -q "\"version\": \"$LIGHTHOUSE_VERSION\"" "$ROOT/.tools/node_modules/lighthouse/package.json"; then
    say "installing lighthouse@$LIGHTHOUSE_VERSION (./x perf) into .tools/"
    mkdir -p "$ROOT/.tools"
    npm install --silent --no-audit --no-fund --prefix "$ROOT/.tools" --save-exact "lighthouse@$LIGHTHOUSE_VERSION" >/dev/null
  fi
}

setup_nginx() {
  # The test that runs Latchkey behind a reverse proxy starts Debian's nginx
  # itself, on loopback ports, from a directory of its own.
  if ! [ -x /usr/sbin/nginx ]; then
    apt_install --no-install-recommends nginx
  fi
}

setup_package() {
  # `./x package`: cargo-deb from crates.io (it packs the prebuilt static
  # binary; dpkg-deb is Debian's own).
  if ! cargo deb --version 2>/dev/null | grep -q "^cargo-deb $CARGO_DEB_VERSION\$"; then
    say "installing cargo-deb $CARGO_DEB_VERSION"
    cargo install cargo-deb --version "=$CARGO_DEB_VERSION" --locked
  fi
}

setup_image() {
  # `./x image`: Debian's buildah (FROM scratch, no registry). The image's
  # test runs it with Debian's podman, which it installs itself.
  if ! command -v buildah >/dev/null 2>&1; then
    apt_install --no-install-recommends buildah
  fi
}

setup_postgres() {
  if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
    apt_install postgresql
  fi
}

case "${1:-all}" in
  wasm) setup_wasm ;;
  chromium) setup_chromium ;;
  postgres) setup_postgres ;;
  schemathesis) setup_schemathesis ;;
  lighthouse) setup_lighthouse ;;
  lint) setup_lint ;;
  directories) setup_directories ;;
  mail) setup_mail ;;
  nginx) setup_nginx ;;
  package) setup_package ;;
  image) setup_image ;;
  all) setup_lint; setup_wasm; setup_chromium; setup_postgres; setup_directories; setup_mail; setup_nginx; setup_package; setup_image ;;
  *) echo "usage: $0 [all|wasm|chromium|postgres|directories|mail|nginx|package|image|schemathesis|lighthouse|lint]" >&2; exit 2 ;;
esac
