#!/usr/bin/env bash
# Makes a self-signed CA and a serving certificate for the netwatch admission webhook (development clusters,
# local runs). With -o manifests/overlays/self-signed/certs, `kubectl apply -k manifests/overlays/self-signed` installs
# them; clusters with cert-manager should use manifests/overlays/cert-manager instead (README.md).
#
#   certs/dev-certs.sh [-o OUT_DIR] [-n NAMESPACE] [-s SERVICE] [-d DAYS] [--san IP:127.0.0.1 ...]
#
# Writes OUT_DIR/{ca.crt,ca.key,tls.crt,tls.key} and prints the commands that install them: the self-signed
# overlay first, and the manual Secret + caBundle commands for a bare manifests/default install apart.
set -euo pipefail

# Where the overlay reads its files, and how to spell paths for the caller: relative when run from the repository
# root, absolute otherwise.
caller_dir=$(pwd -P)
repo_dir=$(cd "$(dirname "$0")/.." && pwd -P)
if [ "$repo_dir" = "$caller_dir" ]; then repo_prefix=; else repo_prefix=$repo_dir/; fi
overlay=${repo_prefix}manifests/overlays/self-signed

out=./webhook-certs namespace=netwatch-system service=netwatch-webhook days=365
extra=()
while (($#)); do
  case $1 in
    -o) out=$2; shift 2 ;;
    -n) namespace=$2; shift 2 ;;
    -s) service=$2; shift 2 ;;
    -d) days=$2; shift 2 ;;
    --san) extra+=("$2"); shift 2 ;;
    -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1 (see --help)" >&2; exit 2 ;;
  esac
done

command -v openssl >/dev/null || { echo "openssl is required" >&2; exit 1; }
mkdir -p "$out"
umask 077
cd "$out"

sans="DNS:$service,DNS:$service.$namespace,DNS:$service.$namespace.svc,DNS:$service.$namespace.svc.cluster.local"
for s in "${extra[@]}"; do sans="$sans,$s"; done

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout ca.key -out ca.crt -days "$days" \
  -subj "/CN=$service-ca" -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout tls.key -out tls.csr \
  -subj "/CN=$service.$namespace.svc" 2>/dev/null
printf 'subjectAltName=%s\nextendedKeyUsage=serverAuth\nkeyUsage=critical,digitalSignature,keyEncipherment\n' "$sans" > tls.ext
openssl x509 -req -in tls.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out tls.crt -days "$days" -extfile tls.ext 2>/dev/null
rm -f tls.csr tls.ext ca.srl
chmod 644 ca.crt tls.crt

out_dir=$(pwd -P)
overlay_certs_dir=$(cd "$repo_dir/manifests/overlays/self-signed/certs" 2>/dev/null && pwd -P || true)
ca_bundle=$(base64 < ca.crt | tr -d '\n')

cat <<MSG
Wrote $out/ca.crt, $out/ca.key (keep it private or delete it), $out/tls.crt, $out/tls.key
SANs: $sans

Next steps: install the certificate ONE of these two ways, not both (each one owns the Secret
netwatch-webhook-tls and the webhooks' caBundle; mixed, they overwrite each other).

1. Self-signed overlay (recommended without cert-manager). The overlay generates the Secret and every caBundle
   from the files in $overlay/certs/: nothing to paste by hand.
MSG
if [ "$namespace" != netwatch-system ] || [ "$service" != netwatch-webhook ]; then
  cat <<MSG
   Note: the overlay installs the Service netwatch-webhook in netwatch-system, but this certificate is for
   $service.$namespace.svc; for the overlay, run the script again without -n/-s.
MSG
fi
cat <<MSG
     ${repo_prefix}certs/dev-certs.sh -o $overlay/certs && kubectl apply -k $overlay
MSG
if [ -n "$overlay_certs_dir" ] && [ "$out_dir" = "$overlay_certs_dir" ]; then
  echo "   This run already wrote the overlay's files: only \`kubectl apply -k $overlay\` is left."
else
  echo "   This run wrote to $out, which the overlay does not read."
fi
cat <<MSG
   Run both again to rotate; the webhook reloads the mounted Secret in place.

2. Manual, only for a bare \`kubectl apply -k manifests/default\` install (no overlay): create the Secret and
   paste this CA into both webhook configurations.
     kubectl -n $namespace create secret tls netwatch-webhook-tls --cert=$out/tls.crt --key=$out/tls.key \\
       --dry-run=client -o yaml | kubectl apply -f -
     for kind in mutatingwebhookconfiguration validatingwebhookconfiguration; do
       kubectl patch \$kind netwatch-webhook --type=json \\
         -p='[{"op":"add","path":"/webhooks/0/clientConfig/caBundle","value":"$ca_bundle"}]'
     done
MSG
