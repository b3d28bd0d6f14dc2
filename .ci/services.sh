#!/usr/bin/env bash
# Makes sure the servers the store tests use are answering:
#   Redis       127.0.0.1:6379, no auth
#   PostgreSQL  127.0.0.1:5432, trust auth for 127.0.0.1, database "test"
# Whatever already answers is left alone. Otherwise the server is installed
# from Debian's packages if missing (apt-get) and started. Exits non-zero,
# with a message, if a server still does not answer after about 60 s.
# Safe to run repeatedly; a no-op when both servers are up.
set -euo pipefail

REDIS_HOST=127.0.0.1 REDIS_PORT=${REDIS_PORT:-6379}
PG_HOST=127.0.0.1 PG_PORT=${PG_PORT:-5432} PG_USER=postgres PG_DB=test
WAIT_SECONDS=60

log() { echo "services: $*" >&2; }
die() { log "ERROR: $*"; exit 1; }

as_root() {
	if [ "$(id -u)" -eq 0 ]; then "$@"
	elif command -v sudo >/dev/null; then sudo "$@"
	else die "need root to run: $*"
	fi
}

apt_updated=
apt_install() {
	command -v apt-get >/dev/null || die "apt-get not found: install $* yourself"
	if [ -z "$apt_updated" ]; then
		as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
		apt_updated=1
	fi
	as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

# wait_for NAME COMMAND...: runs COMMAND until it succeeds, for at most
# WAIT_SECONDS.
wait_for() {
	local name=$1; shift
	for _ in $(seq "$WAIT_SECONDS"); do
		if "$@" >/dev/null 2>&1; then return 0; fi
		sleep 1
	done
	die "$name is not answering after ${WAIT_SECONDS}s"
}

redis_up() { redis-cli -h "$REDIS_HOST" -p "$REDIS_PORT" ping 2>/dev/null | grep -q PONG; }
pg_up() { pg_isready -q -h "$PG_HOST" -p "$PG_PORT"; }
pg_query() { psql -h "$PG_HOST" -p "$PG_PORT" -U "$PG_USER" -d postgres -XtAc "$1"; }

# Debian installs the PostgreSQL tools under /usr/lib/postgresql/<v>/bin
# and wrappers in /usr/bin; make sure pg_isready is found either way.
for d in /usr/lib/postgresql/*/bin; do [ -d "$d" ] && PATH="$PATH:$d"; done

ensure_redis() {
	if command -v redis-cli >/dev/null && redis_up; then
		log "redis: answering on $REDIS_HOST:$REDIS_PORT"
		return
	fi
	command -v redis-server >/dev/null || { log "redis: installing"; apt_install redis-server; }
	log "redis: starting"
	as_root mkdir -p /var/lib/redis /var/log/redis
	as_root redis-server --daemonize yes --bind 127.0.0.1 -::1 --port "$REDIS_PORT" \
		--save "" --appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log
	wait_for redis redis_up
	log "redis: answering on $REDIS_HOST:$REDIS_PORT"
}

# pg_trust_local VERSION: trust auth for TCP connections from localhost.
pg_trust_local() {
	local hba=/etc/postgresql/$1/main/pg_hba.conf
	[ -f "$hba" ] || return 0
	if ! grep -Eq '^host[[:space:]]+all[[:space:]]+all[[:space:]]+127\.0\.0\.1/32[[:space:]]+trust' "$hba"; then
		log "postgres: trusting 127.0.0.1 in $hba"
		as_root sed -i -E 's#^(host[[:space:]]+all[[:space:]]+all[[:space:]]+(127\.0\.0\.1/32|::1/128)[[:space:]]+)[a-z0-9-]+#\1trust#' "$hba"
		grep -Eq '^host[[:space:]]+all[[:space:]]+all[[:space:]]+127\.0\.0\.1/32[[:space:]]+trust' "$hba" ||
			as_root sed -i '1i host all all 127.0.0.1/32 trust' "$hba"
		return 1 # changed: reload needed
	fi
}

ensure_postgres() {
	if ! { command -v pg_isready >/dev/null && pg_up; }; then
		if ! command -v pg_ctlcluster >/dev/null || ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then
			log "postgres: installing"
			apt_install postgresql
			for d in /usr/lib/postgresql/*/bin; do [ -d "$d" ] && PATH="$PATH:$d"; done
		fi
		local version
		version=$(ls /usr/lib/postgresql | sort -V | tail -n 1)
		[ -n "$version" ] || die "postgres: no server version found under /usr/lib/postgresql"
		if [ ! -d "/etc/postgresql/$version/main" ]; then
			log "postgres: creating cluster $version/main"
			as_root pg_createcluster --port "$PG_PORT" "$version" main >/dev/null
		fi
		pg_trust_local "$version" || true
		log "postgres: starting cluster $version/main"
		as_root pg_ctlcluster --skip-systemctl-redirect "$version" main start ||
			as_root pg_ctlcluster --skip-systemctl-redirect "$version" main status >/dev/null ||
			die "postgres: could not start cluster $version/main"
		wait_for postgres pg_up
	fi
	log "postgres: answering on $PG_HOST:$PG_PORT"

	# Password-less access for the tests (a fresh cluster, or one set up
	# with another auth method by Debian's postinst).
	if ! pg_query 'SELECT 1' >/dev/null 2>&1; then
		local v changed=
		for v in $(ls /etc/postgresql 2>/dev/null); do
			pg_trust_local "$v" || changed=1
		done
		if [ -n "$changed" ]; then
			for v in $(ls /etc/postgresql); do
				as_root pg_ctlcluster --skip-systemctl-redirect "$v" main reload 2>/dev/null || true
			done
		fi
		wait_for "postgres (user $PG_USER, trust auth)" pg_query 'SELECT 1'
	fi
	if [ "$(pg_query "SELECT 1 FROM pg_database WHERE datname = '$PG_DB'")" != 1 ]; then
		log "postgres: creating database $PG_DB"
		createdb -h "$PG_HOST" -p "$PG_PORT" -U "$PG_USER" "$PG_DB"
	fi
	log "postgres: database $PG_DB ready"
}

ensure_redis
ensure_postgres
