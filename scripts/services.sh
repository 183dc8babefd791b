#!/usr/bin/env bash
# Makes sure the PostgreSQL server the tests use is running at 127.0.0.1:5432 and accepts
# the `postgres` user without a password, installing it from Debian's packages if missing.
# Prints the URL to use on its last line.
set -euo pipefail

url="${CROSSDOCK_TEST_PG_URL:-postgres://postgres@127.0.0.1:5432/test}"

can_connect() {
    command -v psql >/dev/null 2>&1 &&
        psql "$url" -qAtc 'SELECT 1' >/dev/null 2>&1
}

if can_connect; then
    echo "$url"
    exit 0
fi

if ! command -v pg_ctlcluster >/dev/null 2>&1; then
    echo "PostgreSQL is not installed; installing it from Debian's packages" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq postgresql >&2
fi

version="$(ls /etc/postgresql | sort -V | tail -1)"
if ! pg_lsclusters -h | awk '{print $4}' | grep -q online; then
    echo "starting PostgreSQL $version" >&2
    pg_ctlcluster --skip-systemctl-redirect "$version" main start >&2 || true
fi

for _ in $(seq 1 30); do
    pg_isready -q -h 127.0.0.1 -p 5432 && break
    sleep 1
done

if ! can_connect; then
    # A server we installed ourselves: let local test connections in without a password.
    hba="/etc/postgresql/$version/main/pg_hba.conf"
    if ! grep -q '^host all all 127.0.0.1/32 trust' "$hba"; then
        sed -i '1i host all all 127.0.0.1/32 trust' "$hba"
        pg_ctlcluster --skip-systemctl-redirect "$version" main reload >&2
    fi
    su postgres -c "psql -qAtc \"SELECT 1 FROM pg_database WHERE datname = 'test'\" | grep -q 1 || createdb test" >&2
fi

if ! can_connect; then
    echo "cannot reach PostgreSQL at $url" >&2
    exit 1
fi
echo "$url"
