#!/usr/bin/env bash
# A partner's session against the vendor's licensectl server, from its own terminal.
#
#   PORTAL_URL=https://portal.example.com PORTAL_TOKEN=lctl_… examples/partner-remote.sh
#
# PORTAL_TOKEN is the partner token the vendor created (`licensectl token create --role
# partner --partner …`); CA_BUNDLE names a private CA's PEM file if the server needs one.
# 1. Once: a remote profile, and a login that keeps the token in the OS keyring. Where no
#    keyring works (exit 5), LICENSECTL_TOKEN carries the token instead, as in CI.
# 2. The usual commands: a new customer account, a look at the inventory, a transfer of
#    one copy to the customer, and an export of what the partner holds.
# Exit codes are licensectl's: 5 = token refused, 6 = server unreachable, 4 = conflict.
set -euo pipefail

LICENSECTL=${LICENSECTL:-licensectl}
: "${PORTAL_URL:?set PORTAL_URL to the server, https://HOST[:PORT]}"
: "${PORTAL_TOKEN:?set PORTAL_TOKEN to your partner token}"
PROFILE=${PROFILE:-portal}
export LICENSECTL_PROFILE=$PROFILE

# 1. The profile (the config file keeps the URL, never the token), then the login.
if ! $LICENSECTL profile show "$PROFILE" >/dev/null 2>&1; then
  $LICENSECTL profile add "$PROFILE" --url "$PORTAL_URL" ${CA_BUNDLE:+--ca-bundle "$CA_BUNDLE"} >/dev/null
fi
status=0
printf '%s\n' "$PORTAL_TOKEN" | $LICENSECTL login --with-token || status=$?
case $status in
  0) ;;
  5) echo "partner-remote: no OS keyring here; using LICENSECTL_TOKEN for this session" >&2
     export LICENSECTL_TOKEN=$PORTAL_TOKEN ;;
  *) exit "$status" ;;
esac
$LICENSECTL whoami

# 2. A customer account, the inventory, a transfer, an export.
CUSTOMER=${CUSTOMER:-"P-Remote Site"}
if ! CID=$($LICENSECTL customer add "$CUSTOMER" 2>/dev/null); then
  CID=$($LICENSECTL -o json customer show "$CUSTOMER" | python3 -c 'import json,sys; print(json.load(sys.stdin)["customer_id"])')
fi
$LICENSECTL license list --inventory mine --status available
LID=$($LICENSECTL -o jsonl license list --inventory mine --status available --type capacity --limit 1 \
  | python3 -c 'import json,sys; print(json.loads(sys.stdin.readline())["license_id"])')
IDS=$($LICENSECTL transfer "$LID" --to "$CID" --quantity 1 --yes)  # the new license, then the rest
NEW=${IDS%%$'\n'*}
$LICENSECTL license show "$NEW"
$LICENSECTL export --format jsonl --customer "$CID" --out "${OUT:-held-by-customer.jsonl}"
