#!/usr/bin/env bash
# A CI job that imports a purchase-order file into the license store.
#
#   examples/ci-import.sh [FILE]        (default: examples/purchase-orders.csv)
#
# 1. A dry run checks every row against the store and writes nothing.
# 2. Only then the import itself, all or nothing; running the job again is harmless
#    (lines already imported count as "unchanged").
# Both JSON summaries are kept in $ARTIFACTS for the pipeline to archive. Exit codes are
# licensectl's: 7 = bad rows (listed in the artifact), 6 = store unreachable, 2 = usage.
set -euo pipefail

LICENSECTL=${LICENSECTL:-licensectl}
FILE=${1:-"$(dirname "$0")/purchase-orders.csv"}
ARTIFACTS=${ARTIFACTS:-artifacts}
mkdir -p "$ARTIFACTS"

# Print a JSON import summary for the job log (python3 is there wherever licensectl is).
report() {
  python3 - "$1" <<'PY'
import json, sys
s = json.load(open(sys.argv[1], encoding="utf-8"))
verb = "would create" if s["dry_run"] else "created"
print(f"{verb} {s['created']} licenses and {s['customers_created']} customers; "
      f"{s['unchanged']} unchanged; {len(s['errors'])} errors", file=sys.stderr)
for e in s["errors"]:
    print(f"  row {e['row']}, {e['field']}: {e['message']}", file=sys.stderr)
PY
}

# For this demo only: the partners the file names (an import never creates partners).
# The list is read whole before it is searched (not `licensectl … | grep -q`, which
# stops reading at the first match).
partners=$($LICENSECTL -o jsonl partner list)
for partner in "Acme Integrators" "Nordlicht Systemintegration GmbH"; do
  if ! grep -qF "\"name\": \"$partner\"" <<<"$partners"; then
    $LICENSECTL partner add "$partner" >/dev/null
  fi
done

# 1. Validate.
status=0
$LICENSECTL -o json --quiet import "$FILE" --dry-run >"$ARTIFACTS/import-dry-run.json" || status=$?
case $status in
  0) report "$ARTIFACTS/import-dry-run.json" ;;
  7) report "$ARTIFACTS/import-dry-run.json"
     echo "ci-import: $FILE was rejected; nothing was imported" >&2
     exit 7 ;;
  *) echo "ci-import: licensectl failed with exit code $status" >&2
     exit "$status" ;;
esac

# 2. Import. The store may have changed since the dry run; the import checks again.
status=0
$LICENSECTL -o json --quiet import "$FILE" >"$ARTIFACTS/import-summary.json" || status=$?
if [ "$status" -ne 0 ]; then
  [ "$status" -eq 7 ] && report "$ARTIFACTS/import-summary.json"
  echo "ci-import: the import failed with exit code $status; nothing was imported" >&2
  exit "$status"
fi
report "$ARTIFACTS/import-summary.json"
echo "ci-import: done; summary in $ARTIFACTS/import-summary.json" >&2
