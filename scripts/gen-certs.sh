#!/usr/bin/env bash
# Makes a throw-away CA, a server certificate for localhost/127.0.0.1 and a client certificate, for TLS tests and
# trying TLS by hand:  scripts/gen-certs.sh DIR   → DIR/{ca,server,client}.{crt,key}
set -euo pipefail
dir=${1:-certs}
mkdir -p "$dir"
cd "$dir"
openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=SableDB Test CA" \
  -keyout ca.key -out ca.crt >/dev/null 2>&1
for who in server client; do
  openssl req -newkey rsa:2048 -nodes -subj "/CN=sabledb-$who" -keyout "$who.key" -out "$who.csr" >/dev/null 2>&1
  printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n' > "$who.ext"
  if [ "$who" = client ]; then echo "extendedKeyUsage=clientAuth" >> "$who.ext"; else echo "extendedKeyUsage=serverAuth" >> "$who.ext"; fi
  openssl x509 -req -in "$who.csr" -CA ca.crt -CAkey ca.key -CAcreateserial -days 3650 \
    -extfile "$who.ext" -out "$who.crt" >/dev/null 2>&1
  rm -f "$who.csr" "$who.ext"
done
echo "certificates written to $(pwd)"
