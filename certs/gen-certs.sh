#!/bin/sh
# Makes a test CA, a server certificate, a replica certificate and a client certificate for
# damselfly's TLS/mTLS listeners and replication, following Dragonfly's documented openssl flow
# (`openssl req -newkey ... -nodes` for a key and CSR, `openssl x509 -req -CA ... -CAcreateserial`
# to sign it), non-interactively (`-subj`).
#
# Usage: certs/gen-certs.sh [OUT_DIR]      (default: the directory of this script)
# Environment:
#   KEY_BITS   RSA key size (default 4096, as in the docs; tests use 2048 to run faster)
#   DAYS       validity of the leaf certificates in days (default 365)
#   CA_NAME    common name of the CA (default "damselfly test CA"); use another name to make
#              a second, unrelated CA (negative tests)
#
# Every certificate carries subjectAltName IP:127.0.0.1, DNS:localhost, so clients that check
# the server name (redis-cli, ioredis, node-redis, Deno.connectTls) accept it on loopback.
# Private keys are written unencrypted (-nodes) with mode 600; never commit them.
set -eu

OUT_DIR=${1:-$(dirname "$0")}
KEY_BITS=${KEY_BITS:-4096}
DAYS=${DAYS:-365}
CA_NAME=${CA_NAME:-damselfly test CA}

mkdir -p "$OUT_DIR"
cd "$OUT_DIR"
umask 077

EXT_FILE=$(mktemp)
trap 'rm -f "$EXT_FILE"' EXIT
cat > "$EXT_FILE" <<EXT
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth, clientAuth
subjectAltName = IP:127.0.0.1, IP:::1, DNS:localhost
EXT

# The CA: a self-signed root that signs every other certificate.
openssl req -x509 -newkey "rsa:$KEY_BITS" -nodes -days $((DAYS * 10)) \
  -keyout ca-key.pem -out ca-cert.pem \
  -subj "/C=US/O=damselfly/OU=test/CN=$CA_NAME" \
  -addext "basicConstraints=critical,CA:TRUE" \
  -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null

# One key, CSR and CA-signed certificate per role.
sign() {
  name=$1
  cn=$2
  openssl req -newkey "rsa:$KEY_BITS" -nodes -keyout "$name-key.pem" -out "$name-req.pem" \
    -subj "/C=US/O=damselfly/OU=$name/CN=$cn" 2>/dev/null
  openssl x509 -req -in "$name-req.pem" -days "$DAYS" \
    -CA ca-cert.pem -CAkey ca-key.pem \
    -CAcreateserial -out "$name-cert.pem" -extfile "$EXT_FILE" 2>/dev/null
  rm -f "$name-req.pem"
}

sign server localhost
sign replica-client damselfly-replica
sign client damselfly-client

chmod 644 ca-cert.pem server-cert.pem replica-client-cert.pem client-cert.pem
echo "certificates written to $(pwd)"
