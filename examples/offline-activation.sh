#!/usr/bin/env bash
# Offline activation end to end: a SmartServer without Internet asks for licenses in a
# file, the portal answers with a signed file, the SmartServer checks it.
#
# Runs against whatever store licensectl is pointed at: the embedded default, or
# LICENSECTL_DB / --db. The portal's signing key is created on first need in the key
# directory (LICENSECTL_KEY_DIR, else the user data directory). Safe to run repeatedly:
# each run uses its own PO, project and install code.
set -euo pipefail

LICENSECTL=${LICENSECTL:-licensectl}
RUN=${RUN:-$(date -u +%Y%m%d%H%M%S)-$$}
PARTNER=${PARTNER:-"Acme Integrators"}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
CODE="SS-$RUN"   # the SmartServer's install code

# Portal: a customer project with a 200-device capacity license (2 copies) and
# 1000-device maintenance for 12 months, transferred out of the partner's inventory.
# (The list is read whole before it is searched, not piped into `grep -q`.)
PARTNERS=$($LICENSECTL -o jsonl partner list)
if ! grep -qF "\"name\": \"$PARTNER\"" <<<"$PARTNERS"; then
  $LICENSECTL partner add "$PARTNER" >/dev/null
fi
$LICENSECTL customer add "P-$RUN Offline site" --partner "$PARTNER" >/dev/null
CAPACITY=$($LICENSECTL license add --partner "$PARTNER" --po "PO-$RUN" --type capacity \
  --devices 200 --quantity 2)
MAINTENANCE=$($LICENSECTL license add --partner "$PARTNER" --po "PO-$RUN" --po-line 2 \
  --type maintenance --devices 1000 --term 12)
CAPACITY=$($LICENSECTL transfer "$CAPACITY" --to "P-$RUN Offline site" --yes --quiet)
MAINTENANCE=$($LICENSECTL transfer "$MAINTENANCE" --to "P-$RUN Offline site" --yes --quiet)

# 1. SmartServer: write a request for 2 copies of the capacity license and the
#    maintenance (ID alone means 1 copy; ID:0 would return a license).
$LICENSECTL smartserver request --install-code "$CODE" --name "Lobby controller" \
  --license "$CAPACITY:2" --license "$MAINTENANCE" --out "$WORK/request.json" >/dev/null

# 2. Portal: check the request, record the activations, sign the response. The
#    SmartServer needs the portal's public key once, to check responses.
$LICENSECTL activate-offline "$WORK/request.json" --out "$WORK/response.json" >/dev/null
$LICENSECTL keys export-public --out "$WORK/portal.pem"

# Submitting the same request again changes nothing and gives the same bytes.
$LICENSECTL activate-offline "$WORK/request.json" --quiet | cmp - "$WORK/response.json"

# 3. SmartServer: accept the response only if it is signed by the portal and answers
#    this very request; it shows the granted capacity and maintenance.
$LICENSECTL smartserver verify "$WORK/response.json" --public-key "$WORK/portal.pem" \
  --request "$WORK/request.json"

# The portal's view of the SmartServer, for scripts.
$LICENSECTL -o json smartserver show "$CODE"
