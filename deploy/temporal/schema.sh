#!/bin/sh
# Temporal's PostgreSQL schema, created where missing and upgraded to the version the pinned
# temporal-sql-tool carries (the persistence database and the SQL advanced visibility database).
# Idempotent: run at every start by docker-compose.yml's `temporal-schema` job (temporalio/admin-tools)
# and by `make cluster` (devstack/cluster/, with the temporal-sql-tool it built). The connection comes
# from the same variables the server's configuration reads: SQL_PLUGIN, SQL_HOST, SQL_PORT, SQL_USER,
# SQL_PASSWORD, SQL_DATABASE, SQL_VISIBILITY_DATABASE (temporal-sql-tool reads the first six itself).
set -eu

: "${SQL_PLUGIN:?set SQL_PLUGIN (postgres12)}"
: "${SQL_HOST:?set SQL_HOST}"
: "${SQL_PORT:?set SQL_PORT}"
: "${SQL_USER:?set SQL_USER}"
: "${SQL_PASSWORD:?set SQL_PASSWORD}"
: "${SQL_DATABASE:?set SQL_DATABASE}"
: "${SQL_VISIBILITY_DATABASE:?set SQL_VISIBILITY_DATABASE}"
export SQL_PLUGIN SQL_HOST SQL_PORT SQL_USER SQL_PASSWORD
SQL_TOOL=${TEMPORAL_SQL_TOOL:-temporal-sql-tool}

# schema DATABASE EMBEDDED_SCHEMA
schema() {
  db=$1
  name=$2
  # CREATE DATABASE; one that exists already is left as it is.
  "$SQL_TOOL" --db "$db" create-database
  # Version tables and version 0.0 where there are none (a schema already past 0.0 is left alone) ...
  "$SQL_TOOL" --db "$db" setup-schema -v 0.0
  # ... then every versioned step of the embedded schema the tool carries, up to its latest.
  "$SQL_TOOL" --db "$db" update-schema --schema-name "$name"
  echo "schema: $db is at $name's latest version"
}

case "$SQL_PLUGIN" in
  postgres12 | postgres12_pgx) dir=postgresql/v12 ;;
  *) echo "schema: SQL_PLUGIN=$SQL_PLUGIN: this script knows PostgreSQL (postgres12, postgres12_pgx)" >&2; exit 1 ;;
esac
schema "$SQL_DATABASE" "$dir/temporal"
schema "$SQL_VISIBILITY_DATABASE" "$dir/visibility"
