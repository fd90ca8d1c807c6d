#!/usr/bin/env bash
# The suite on SQLite, then on PostgreSQL when a server answers (DATABASE_URL
# or 127.0.0.1:5432). Browser tests run when Chromium is installed and say so
# when they are skipped.
set -uo pipefail
cd "$(dirname "$0")/.."
PYTEST=.venv/bin/pytest
status=0

if [ ! -x /usr/bin/chromium ]; then
  echo "NOTE: /usr/bin/chromium is not installed: browser (Playwright) tests will be SKIPPED." \
       "Install it with: apt-get update && apt-get install -y chromium"
fi

echo "== test suite on SQLite"
env -u DATABASE_URL "$PYTEST" -n 2 "$@" || status=1

PG_URL="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/voterreg}"
if .venv/bin/python - "$PG_URL" <<'PY'
import sys, psycopg2, dj_database_url
cfg = dj_database_url.parse(sys.argv[1])
try:
    psycopg2.connect(dbname="postgres", user=cfg["USER"], password=cfg["PASSWORD"], host=cfg["HOST"], port=cfg["PORT"] or 5432, connect_timeout=3).close()
except Exception as exc:
    print(f"PostgreSQL not reachable ({exc.__class__.__name__}): skipping the PostgreSQL run")
    sys.exit(1)
PY
then
  echo "== test suite on PostgreSQL ($PG_URL)"
  DATABASE_URL="$PG_URL" "$PYTEST" -n 2 "$@" || status=1
elif [ "${CI:-}" = "true" ]; then
  echo "CI must exercise PostgreSQL, and it is not reachable"; status=1
fi
exit $status
