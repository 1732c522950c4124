#!/usr/bin/env bash
# `./x run-ldap`: the product on SQLite with the demo data, plus a domain
# "Corp (OpenLDAP)" whose passwords live in a throwaway OpenLDAP (slapd with
# the ppolicy overlay) started here on loopback and stopped on exit. Try
# every flow against a real directory: sign in as alice or bob, change the
# password (the directory's history applies), lock after 5 wrong tries,
# unlock, forgot password (enrol questions first).
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
FIXTURES="$ROOT/testkit/fixtures/slapd"
PORT="${LDAP_PORT:-3890}"
DIR="$(mktemp -d /tmp/latchkey-ldap-demo.XXXXXX)"
SERVICE_PW="demo-Service-$RANDOM$RANDOM"
ALICE_PW="alice-Orchid-4471"
BOB_PW="bob-Lantern-9032"

say() { printf '\033[1m[run-ldap]\033[0m %s\n' "$*" >&2; }

mkdir -p "$DIR/data" "$DIR/slapd.d"
sed -e "s#DIR#$DIR#g" -e "s#UID#$(id -u)#" -e "s#GID#$(id -g)#" -e "s#ROOTPW#demo-Root-$RANDOM$RANDOM#" \
  "$FIXTURES/config.ldif" > "$DIR/config.ldif"
sed -e "s#SERVICEPW#$SERVICE_PW#" -e "s#ALICEPW#$ALICE_PW#" -e "s#BOBPW#$BOB_PW#" \
  "$FIXTURES/data.ldif" > "$DIR/data.ldif"
/usr/sbin/slapadd -n 0 -F "$DIR/slapd.d" -l "$DIR/config.ldif"
/usr/sbin/slapadd -n 1 -F "$DIR/slapd.d" -l "$DIR/data.ldif"
/usr/sbin/slapd -F "$DIR/slapd.d" -h "ldap://127.0.0.1:$PORT/"
cleanup() {
  [ -f "$DIR/slapd.pid" ] && kill "$(cat "$DIR/slapd.pid")" 2>/dev/null || true
  rm -rf "$DIR"
}
trap cleanup EXIT INT TERM

printf '%s\n' "$SERVICE_PW" > "$DIR/service-password"
chmod 600 "$DIR/service-password"
mkdir -p data
cat > "$DIR/latchkey.toml" <<TOML
database_url = "sqlite://data/ldap-demo.db?mode=rwc"
static_dir = "client/dist"

[directories.demo]
kind = "ldap"
url = "ldap://127.0.0.1:$PORT"
# A throwaway directory on loopback: plain LDAP, allowed explicitly.
allow_plain = true
base_dn = "ou=people,dc=latchkey,dc=test"
bind_dn = "cn=latchkey,ou=dsa,dc=latchkey,dc=test"
bind_password_file = "$DIR/service-password"
TOML

BIN="${LATCHKEY_BIN:-target/release/latchkey}"
if ! "$BIN" --config "$DIR/latchkey.toml" directory test --name demo --user alice; then
  say "the throwaway directory did not answer"; exit 1
fi
"$BIN" --config "$DIR/latchkey.toml" demo >/dev/null 2>&1 || true
if "$BIN" --config "$DIR/latchkey.toml" domain create --slug corp --name "Corp (OpenLDAP)" --directory demo >/dev/null 2>&1; then
  say "created the domain corp, backed by the directory"
else
  "$BIN" --config "$DIR/latchkey.toml" domain store --slug corp --store directory:demo >/dev/null
fi
say "directory users: alice / $ALICE_PW and bob / $BOB_PW (domain \"Corp (OpenLDAP)\")"
SSPM_LISTEN="${SSPM_LISTEN:-127.0.0.1:8080}" "$BIN" --config "$DIR/latchkey.toml" serve
