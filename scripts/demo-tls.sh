# Sourced by the demo scripts, with DATA and LISTEN set: sets TLS (the `ehr serve` flags),
# SCHEME and CURL.
# TLS: a self-signed certificate for localhost, the loopback addresses and the listen host,
# made once (key mode 0600). Clients trust it with `curl --cacert $DATA/tls/cert.pem`.
TLS=()
SCHEME=http
CURL=curl
if [ "${EHR_TLS:-on}" != off ]; then
  if [ ! -f "$DATA/tls/cert.pem" ] || [ ! -f "$DATA/tls/key.pem" ]; then
    HOST=${LISTEN%:*}; HOST=${HOST#[}; HOST=${HOST%]}
    SAN="DNS:localhost,IP:127.0.0.1,IP:::1"
    case "$HOST" in
      localhost|127.0.0.1|::1|0.0.0.0|::|'') ;;
      *[!0-9.]*) case "$HOST" in *:*) SAN="$SAN,IP:$HOST" ;; *) SAN="$SAN,DNS:$HOST" ;; esac ;;
      *) SAN="$SAN,IP:$HOST" ;;
    esac
    echo "Making a self-signed TLS certificate in $DATA/tls ($SAN) ..."
    mkdir -p "$DATA/tls"
    ( umask 077
      openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -noenc -sha256 -days 825 \
        -subj "/CN=ehr demo (self-signed)" -addext "subjectAltName=$SAN" \
        -keyout "$DATA/tls/key.pem" -out "$DATA/tls/cert.pem" 2> /dev/null )
    chmod 600 "$DATA/tls/key.pem"
    chmod 644 "$DATA/tls/cert.pem"
  fi
  TLS=(--tls-cert "$DATA/tls/cert.pem" --tls-key "$DATA/tls/key.pem")
  SCHEME=https
  CURL="curl --cacert $DATA/tls/cert.pem"
fi
