#!/usr/bin/env bash
# `./x fuzz`: schemathesis (from PyPI, in .tools/venv) against a running
# release server on a fresh SQLite database with demo data, for FUZZ_SECS
# seconds (default 120): half anonymously, half with an administrator's
# session (re-authenticated, so credential-changing actions are reached).
# Reports go to target/schemathesis/. Never part of `./x test`.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
BIN=${LATCHKEY_BIN:-$ROOT/target/release/latchkey}
ST=$ROOT/.tools/venv/bin/schemathesis
SECS=${FUZZ_SECS:-120}
HALF=$(( SECS / 2 ))
WORK=$(mktemp -d /tmp/latchkey-fuzz.XXXXXX)
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
BASE="http://127.0.0.1:$PORT"
REPORTS=$ROOT/target/schemathesis
mkdir -p "$REPORTS"

export SSPM_DATABASE_URL="sqlite://$WORK/fuzz.db?mode=rwc"
export SSPM_LISTEN="127.0.0.1:$PORT"
export SSPM_STATIC_DIR="$WORK/no-static"
export SSPM_DEMO=true
# The fuzz may lock whomever it likes; a high threshold keeps the admin's
# own re-authentications from locking the session out of the staff half.
export SSPM_LOCKOUT_THRESHOLD=1000000

"$BIN" serve > "$WORK/server.log" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true; rm -rf "$WORK"' EXIT
for _ in $(seq 100); do curl -fs "$BASE/api/health" >/dev/null && break; sleep 0.1; done

# An administrator with a password of their own.
TEMP=$("$BIN" admin create --domain partners --username fuzzadmin --display-name "Fuzz Admin" 2>/dev/null | tail -n 1)
PASSWORD="glacier-Tangent-orchid-5831"
JAR=$WORK/cookies
post() { curl -s -o /dev/null -w '%{http_code}' -b "$JAR" -c "$JAR" -H 'content-type: application/json' -X POST "$BASE$1" -d "$2"; }
post /api/session "{\"domain\":\"partners\",\"username\":\"fuzzadmin\",\"password\":\"$TEMP\"}" >/dev/null
VERSION=$(curl -s "$BASE/api/bootstrap" | python3 -c 'import json,sys; print([d for d in json.load(sys.stdin)["domains"] if d["id"]=="partners"][0]["policy"]["version"])')
post /api/password/change "{\"current_password\":\"$TEMP\",\"new_password\":\"$PASSWORD\",\"confirm_password\":\"$PASSWORD\",\"policy_version\":$VERSION}" >/dev/null
rm -f "$JAR"
[ "$(post /api/session "{\"domain\":\"partners\",\"username\":\"fuzzadmin\",\"password\":\"$PASSWORD\"}")" = 200 ] || { echo "fuzz: the administrator could not sign in" >&2; exit 1; }
[ "$(post /api/staff/reauth "{\"password\":\"$PASSWORD\"}")" = 200 ] || { echo "fuzz: re-authentication failed" >&2; exit 1; }
COOKIE=$(awk '$6 == "latchkey_session" { print $7 }' "$JAR")

status=0
echo "== schemathesis, anonymous, ${HALF}s =="
"$ST" run "$BASE/api/openapi.json" --url "$BASE" --checks all --max-time "$HALF" \
  --continue-on-failure --generation-allow-x00 true -H 'x-latchkey-request: 1' \
  --report junit --report-junit-path "$REPORTS/anonymous.xml" --warnings off || status=$?
echo "== schemathesis, administrator session, ${HALF}s (sign-out excluded) =="
"$ST" run "$BASE/api/openapi.json" --url "$BASE" --checks all --max-time "$HALF" \
  --continue-on-failure --generation-allow-x00 true -H 'x-latchkey-request: 1' \
  -H "Cookie: latchkey_session=$COOKIE" --exclude-method DELETE --exclude-path /api/session \
  --report junit --report-junit-path "$REPORTS/staff.xml" --warnings off || status=$?
echo "== server log: ERROR lines =="
grep -c ' ERROR ' "$WORK/server.log" || true
grep ' ERROR ' "$WORK/server.log" | head -20 || true
exit $status
