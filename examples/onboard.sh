#!/usr/bin/env bash
# Onboard a partner's new customer project end to end: partner, customer accounts,
# purchased licenses, a whole and a partial transfer, then search and trace.
#
# Runs against whatever store licensectl is pointed at: the embedded default, or
# LICENSECTL_DB / --db. Safe to run repeatedly: each run uses its own PO and project
# names, and an existing partner is reused.
set -euo pipefail

LICENSECTL=${LICENSECTL:-licensectl}
RUN=${RUN:-$(date -u +%Y%m%d%H%M%S)-$$}
PARTNER=${PARTNER:-"Acme Integrators"}
PO="PO-$RUN"

# 1. The partner (admin), unless the store has it already. The list is read whole
#    before it is searched: `licensectl … | grep -q` would stop reading at the first
#    match, which licensectl takes in its stride (exit 0) but older versions did not.
PARTNERS=$($LICENSECTL -o jsonl partner list)
if ! grep -qF "\"name\": \"$PARTNER\"" <<<"$PARTNERS"; then
  $LICENSECTL partner add "$PARTNER" --email ops@acme.example >/dev/null
fi

# 2. Two customer/project accounts; each prints its new Customer ID.
SITE_A=$($LICENSECTL customer add "P-$RUN Building 1" --partner "$PARTNER" --email owner@example.com)
SITE_B=$($LICENSECTL customer add "P-$RUN Building 2" --partner "$PARTNER")
echo "customers: $SITE_A $SITE_B" >&2

# 3. Purchased licenses arrive in the partner's inventory; each prints its License ID.
CAPACITY=$($LICENSECTL license add --partner "$PARTNER" --po "$PO" --po-line 1 \
  --type capacity --devices 200 --quantity 3)
MAINTENANCE=$($LICENSECTL license add --partner "$PARTNER" --po "$PO" --po-line 2 \
  --type maintenance --devices 1000 --term 36)

# 4. Transfers mint new License IDs; the originals stay, retired, for tracking.
#    A partial transfer prints the moved part's ID, then the remainder's.
IDS=$($LICENSECTL transfer "$CAPACITY" --to "$SITE_A" --quantity 2 --yes --quiet)
MOVED=$(echo "$IDS" | sed -n 1p)
REMAINDER=$(echo "$IDS" | sed -n 2p)
MAINT_A=$($LICENSECTL transfer "$MAINTENANCE" --to "$SITE_A" --yes --quiet)
$LICENSECTL transfer "$REMAINDER" --to "$SITE_B" --yes --quiet >/dev/null
echo "moved: $MOVED (2 copies), maintenance: $MAINT_A" >&2

# 5. Find things again: by customer name, by PO (retired licenses included, marked).
$LICENSECTL search customer "P-$RUN"
$LICENSECTL search po "$PO"
$LICENSECTL license history "$CAPACITY"

# 6. Scripts read JSON: how many copies did Building 1 receive?
$LICENSECTL -o json license list --customer "$SITE_A" --partner "$PARTNER"
