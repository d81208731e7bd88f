# A throwaway PostgreSQL cluster for the benchmarks (sourced by bench/postgres/run.sh and
# bench/search/run.sh): pg_cluster_start DIR PORT makes it in DIR/pg (initdb; fsync on, as
# in production), starts it on PORT, creates the database `ehr` and the server's role, and
# sets STORE (the server's connection string), MIGRATE (the owner's, for --store-migrate)
# and PG_ADMIN (a superuser's, which reads every tenant's rows). pg_cluster_stop stops it.
PGBIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
PG_CLUSTER_DIR=""

pg_cluster_start() { # dir port
  PG_CLUSTER_DIR="$1/pg"
  local port=$2
  mkdir -p "$PG_CLUSTER_DIR" && chown postgres: "$PG_CLUSTER_DIR" && chmod 755 "$1"
  runuser -u postgres -- "$PGBIN/initdb" -D "$PG_CLUSTER_DIR/data" -U postgres --auth-local=trust \
    --auth-host=scram-sha-256 -E UTF8 --locale=C > "$PG_CLUSTER_DIR/initdb.log"
  runuser -u postgres -- "$PGBIN/pg_ctl" -D "$PG_CLUSTER_DIR/data" -l "$PG_CLUSTER_DIR/server.log" -w \
    -o "-p $port -k $PG_CLUSTER_DIR -c listen_addresses=127.0.0.1 -c shared_buffers=512MB -c max_connections=100" \
    start > /dev/null
  psql -q -h "$PG_CLUSTER_DIR" -p "$port" -U postgres -c "CREATE ROLE ehr_app LOGIN PASSWORD 'bench-app-1'" \
    -c "CREATE DATABASE ehr" > /dev/null
  STORE="postgresql://ehr_app:bench-app-1@127.0.0.1:$port/ehr"
  MIGRATE="host=$PG_CLUSTER_DIR port=$port user=postgres dbname=ehr"
  PG_ADMIN="postgresql://postgres@/ehr?host=$PG_CLUSTER_DIR&port=$port"
}

pg_cluster_stop() {
  [ -n "$PG_CLUSTER_DIR" ] || return 0
  runuser -u postgres -- "$PGBIN/pg_ctl" -D "$PG_CLUSTER_DIR/data" -m immediate stop > /dev/null 2>&1 || true
  PG_CLUSTER_DIR=""
}
