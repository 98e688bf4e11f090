#!/bin/bash
# The restore drill (docs/backup.md, "Practise this"): empty the scratch
# CouchDB, restore the newest complete set into it and verify every database
# against the set's manifest. Exit code 0 means the backups restore.
set -euo pipefail
cd /app
drill="${DRILL_COUCHDB_URL:?DRILL_COUCHDB_URL names the scratch CouchDB}"
# Credentials reach curl through a config file, never argv.
couch() { curl -fsS -K <(printf 'user = "%s:%s"\n' "$COUCHDB_USER" "$COUCHDB_PASSWORD") "$@"; }
names="$(couch "$drill/_all_dbs" | node -e '
  let s = "";
  process.stdin.on("data", (d) => (s += d)).on("end", () => {
    for (const n of JSON.parse(s)) console.log(encodeURIComponent(n));
  });')"
# Restore must go into an empty CouchDB: every database goes, the system ones come back empty.
for db in $names; do couch -X DELETE "$drill/$db" >/dev/null; done
for db in _users _replicator; do couch -X PUT "$drill/$db" >/dev/null; done
COUCHDB_URL="$drill" npm run --silent restore -- --from "$BACKUP_DIR" --verify
