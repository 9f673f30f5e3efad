#!/bin/bash
# Fetch the RDS certificate authorities the app verifies its database connection against, on
# every instance, before the app starts: AWS publishes them as one bundle ("Using SSL/TLS to
# encrypt a connection to a DB instance or cluster", RDS user guide). Beanstalk runs prebuild
# hooks as root in the staging folder that becomes the app's folder; a failure stops the deploy.
set -euo pipefail

get_config="${EB_GET_CONFIG:-/opt/elasticbeanstalk/bin/get-config}"
region="$("$get_config" environment -k AWS_REGION)"
case "$region" in
    us-gov-*) url="https://truststore.pki.us-gov-west-1.rds.amazonaws.com/global/global-bundle.pem" ;;
    cn-*) echo "no RDS certificate bundle address is known for $region" >&2; exit 1 ;;
    *) url="https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem" ;;
esac

curl --fail --silent --show-error --location --retry 3 --max-time 30 \
    --output rds-ca-bundle.pem.download "$url"
if ! grep -q -- "-----BEGIN CERTIFICATE-----" rds-ca-bundle.pem.download; then
    echo "$url did not answer with PEM certificates" >&2
    rm -f rds-ca-bundle.pem.download
    exit 1
fi
mv rds-ca-bundle.pem.download rds-ca-bundle.pem
chmod 0644 rds-ca-bundle.pem
