#!/usr/bin/env bash
# Installs the Debian packages Satellite's end-to-end tests and real-server demo use, if
# missing: Prosody (with prosody-modules, for mod_privilege), ejabberd, slixmpp (an independent XMPP client), openssl,
# ngircd (the IRC server of examples/irc-gateway's tests, scripts/ngircd), biboumi (the XMPP–IRC
# gateway examples/irc-gateway is compared with, scripts/biboumi), postgresql-15 (the
# PostgreSQL storage tests, scripts/postgres; its Debian service is not used).
# Needs root (or sudo). Safe to run again: does nothing when everything is present.
set -euo pipefail
want=(prosody prosody-modules ejabberd python3-slixmpp openssl ngircd biboumi postgresql-15)
missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -eq 0 ]; then
  echo "debian packages present: ${want[*]}"
  exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null 2>&1 || { echo "need root to install: ${missing[*]}" >&2; exit 1; }
  SUDO="sudo"
fi
echo "installing: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# The packages' own services are not used (and do not start on these machines).
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || { echo "failed to install $p" >&2; exit 1; }
done
echo "installed: ${missing[*]}"
