#!/usr/bin/env bash
# Starts or stops a throw-away PostgreSQL server on 127.0.0.1 for the registry tests.
# Usage: scripts/pg.sh start|stop    (prints the SQLAlchemy URL on start)
set -euo pipefail
PORT="${OCRPREP_PG_PORT:-55432}"
DATA="${OCRPREP_PG_DATA:-/tmp/ocrprep-pg-$PORT}"
BIN="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)"
[ -x "$BIN/pg_ctl" ] || { echo "PostgreSQL server binaries not found (run scripts/system-deps.sh)" >&2; exit 1; }

as_pg() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

case "${1:-start}" in
  start)
    if ! as_pg "$BIN/pg_ctl" -D "$DATA" status >/dev/null 2>&1; then
      rm -rf "$DATA"; mkdir -p "$DATA"
      [ "$(id -u)" -eq 0 ] && chown postgres: "$DATA"
      as_pg "$BIN/initdb" -D "$DATA" -U ocrprep --auth=trust -E UTF8 >/dev/null
      as_pg "$BIN/pg_ctl" -D "$DATA" -l "$DATA/server.log" -w -t 60 \
        -o "-c listen_addresses=127.0.0.1 -p $PORT -k $DATA -c fsync=off" start >/dev/null
    fi
    as_pg "$BIN/psql" -h 127.0.0.1 -p "$PORT" -U ocrprep -d postgres -tAc \
      "SELECT 1 FROM pg_database WHERE datname='ocrprep_test'" | grep -q 1 \
      || as_pg "$BIN/createdb" -h 127.0.0.1 -p "$PORT" -U ocrprep ocrprep_test
    echo "postgresql+psycopg://ocrprep@127.0.0.1:$PORT/ocrprep_test"
    ;;
  stop)
    as_pg "$BIN/pg_ctl" -D "$DATA" -m fast stop >/dev/null 2>&1 || true
    ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
