#!/usr/bin/env bash
# Creates a local CA and a server certificate for the local stack (127.0.0.1, localhost, ::1, and the
# localhost names *.localhost and *.blob.core.localhost: the host-style storage URLs Microsoft's SDKs build
# from the cloud's storage suffix, devstoreaccount1.blob.core.localhost). Idempotent: does nothing when a
# valid pair with those names already exists. Usage: scripts/certs.sh [dir]
set -euo pipefail
dir="${1:-.data/certs}"
mkdir -p "$dir"
if [ -s "$dir/ca.pem" ] && [ -s "$dir/server.pem" ] && [ -s "$dir/server-key.pem" ] \
   && openssl x509 -checkend 86400 -noout -in "$dir/server.pem" >/dev/null 2>&1 \
   && openssl x509 -noout -checkhost devstoreaccount1.blob.core.localhost -in "$dir/server.pem" 2>/dev/null | grep -q 'does match'; then
  exit 0
fi
command -v openssl >/dev/null || { echo "certs: openssl is missing; install it (Debian: apt-get install openssl)" >&2; exit 1; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=finetune-flow local CA" \
  -keyout "$tmp/ca-key.pem" -out "$tmp/ca.pem" \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" -keyout "$tmp/server-key.pem" -out "$tmp/server.csr" 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1,DNS:localhost,IP:::1,DNS:*.localhost,DNS:*.blob.core.localhost\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n' > "$tmp/ext.cnf"
openssl x509 -req -in "$tmp/server.csr" -CA "$tmp/ca.pem" -CAkey "$tmp/ca-key.pem" -CAcreateserial \
  -days 825 -extfile "$tmp/ext.cnf" -out "$tmp/server.pem" 2>/dev/null
cp "$tmp/ca.pem" "$tmp/server.pem" "$tmp/server-key.pem" "$dir/"
chmod 600 "$dir/server-key.pem"
echo "certs: wrote $dir/ca.pem, server.pem, server-key.pem"
