#!/usr/bin/env bash
# Installs the Debian packages the test suites talk to (real Squid, c-icap-client, net-snmp tools,
# nftables, ClamAV test files …) when they are missing. Needs root for apt-get; fails loudly when a
# peer cannot be had, because a suite whose real peer is missing must fail, never skip.
set -euo pipefail
PKGS=(squid c-icap libc-icap-mod-virus-scan clamav clamav-daemon clamdscan clamav-testfiles
      snmp snmpd snmptrapd smitools nftables iproute2 curl wrk bc python3
      zip unzip p7zip-full arj genisoimage xz-utils zstd bzip2 cpio lzip binutils
      gcab jlha-utils mscompress sharutils)
missing=()
for p in "${PKGS[@]}"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p"); done
if [ ${#missing[@]} -eq 0 ]; then echo "test peers: all installed"; exit 0; fi
echo "test peers: installing ${missing[*]}"
if [ "$(id -u)" != 0 ]; then
  echo "test peers missing (${missing[*]}) and not root: run 'sudo npm test' or install them" >&2; exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# Debian's packages may start their daemons via init scripts; the tests start their own on loopback.
for svc in squid c-icap clamav-daemon clamav-freshclam snmpd; do service "$svc" stop >/dev/null 2>&1 || true; done
echo "test peers: installed ${missing[*]}"
