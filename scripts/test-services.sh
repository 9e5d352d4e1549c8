#!/usr/bin/env bash
# Start or stop the real servers the distributed tests need: a throwaway
# PostgreSQL cluster and a versitygw S3 gateway (POSIX backend), both on
# 127.0.0.1 with random free ports, all state under one directory.
#
#   eval "$(scripts/test-services.sh start [DIR])"   # exports OAFETCH_TEST_*
#   go test ./internal/postgres ./internal/s3store
#   scripts/test-services.sh stop [DIR]
#
# DIR defaults to ${TMPDIR:-/tmp}/oafetch-services. `start` prints the
# exports on stdout (progress goes to stderr) and also writes them to
# DIR/env. PostgreSQL comes from Debian's packages (apt-get install
# postgresql); versitygw from `go install
# github.com/versity/versitygw/cmd/versitygw@v1.8.0` (~2 min cold build,
# cached in GOPATH/bin). As root the cluster runs as the postgres user.
set -euo pipefail

VERSITYGW_VERSION=v1.8.0
cmd="${1:-}"
dir="${2:-${TMPDIR:-/tmp}/oafetch-services}"

log() { echo "test-services: $*" >&2; }

pgbin() {
	local d
	for d in /usr/lib/postgresql/*/bin; do
		if [ -x "$d/initdb" ]; then
			echo "$d"
			return
		fi
	done
	if command -v initdb >/dev/null; then
		dirname "$(command -v initdb)"
		return
	fi
	return 1
}

# free_port prints a TCP port nobody listens on (random, checked with ss).
free_port() {
	local p i
	for i in $(seq 1 50); do
		p=$((20000 + RANDOM % 40000))
		if ! ss -Hltn "sport = :$p" | grep -q .; then
			echo "$p"
			return
		fi
	done
	log "no free port found"
	return 1
}

# as_pg runs a command as the cluster owner: postgres when we are root.
as_pg() {
	if [ "$(id -u)" = 0 ]; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

# wait_tcp waits up to 30 s for 127.0.0.1:$1 to accept connections.
wait_tcp() {
	local i
	for i in $(seq 1 300); do
		if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then
			return 0
		fi
		sleep 0.1
	done
	return 1
}

start() {
	if [ -f "$dir/env" ]; then
		log "already started in $dir (stop it first)"
		cat "$dir/env"
		return
	fi
	mkdir -p "$dir"

	# PostgreSQL.
	local bin pgport
	if ! bin=$(pgbin); then
		log "PostgreSQL not installed (apt-get install -y postgresql)"
		return 1
	fi
	pgport=$(free_port)
	mkdir -p "$dir/pg"
	if [ "$(id -u)" = 0 ]; then
		chown postgres: "$dir/pg"
		chmod 755 "$dir"
	fi
	as_pg "$bin/initdb" -D "$dir/pg/data" -A trust -U postgres -E UTF8 --no-sync >"$dir/pg/initdb.log" 2>&1
	as_pg "$bin/pg_ctl" -D "$dir/pg/data" -l "$dir/pg/server.log" -w -t 60 \
		-o "-c listen_addresses=127.0.0.1 -c port=$pgport -c unix_socket_directories=$dir/pg -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
		start >&2
	log "postgres on 127.0.0.1:$pgport"

	# versitygw.
	local gw s3port
	gw=$(command -v versitygw || true)
	if [ -z "$gw" ] && [ -x "$(go env GOPATH)/bin/versitygw" ]; then
		gw="$(go env GOPATH)/bin/versitygw"
	fi
	if [ -z "$gw" ]; then
		log "building versitygw $VERSITYGW_VERSION (cached afterwards)"
		GOFLAGS= go install "github.com/versity/versitygw/cmd/versitygw@$VERSITYGW_VERSION" >&2
		gw="$(go env GOPATH)/bin/versitygw"
	fi
	s3port=$(free_port)
	mkdir -p "$dir/s3/data"
	ROOT_ACCESS_KEY_ID=oafetch ROOT_SECRET_ACCESS_KEY=oafetch-secret \
		setsid "$gw" --access oafetch --secret oafetch-secret --region us-east-1 \
		--port "127.0.0.1:$s3port" posix "$dir/s3/data" >"$dir/s3/server.log" 2>&1 </dev/null &
	echo $! >"$dir/s3/pid"
	if ! wait_tcp "$s3port"; then
		log "versitygw did not start:"
		cat "$dir/s3/server.log" >&2
		return 1
	fi
	log "versitygw on 127.0.0.1:$s3port"

	cat >"$dir/env" <<EOF
export OAFETCH_TEST_POSTGRES_DSN='postgres://postgres@127.0.0.1:$pgport/postgres?sslmode=disable'
export OAFETCH_TEST_S3_ENDPOINT='http://127.0.0.1:$s3port'
export OAFETCH_TEST_S3_ACCESS_KEY='oafetch'
export OAFETCH_TEST_S3_SECRET_KEY='oafetch-secret'
export OAFETCH_TEST_S3_REGION='us-east-1'
EOF
	cat "$dir/env"
}

stop() {
	local bin
	if [ -f "$dir/s3/pid" ]; then
		kill "$(cat "$dir/s3/pid")" 2>/dev/null || true
		rm -f "$dir/s3/pid"
	fi
	if [ -d "$dir/pg/data" ] && bin=$(pgbin); then
		as_pg "$bin/pg_ctl" -D "$dir/pg/data" -m immediate -w stop >&2 2>/dev/null || true
	fi
	rm -rf "$dir"
	log "stopped"
}

case "$cmd" in
start) start ;;
stop) stop ;;
*)
	echo "usage: $0 start|stop [DIR]" >&2
	exit 2
	;;
esac
