#!/usr/bin/env bash
# Installs the Debian packages the test suites talk to (real Squid, c-icap-client, net-snmp tools,
# nftables, ClamAV test files …) when they are missing. Needs root for apt-get; fails loudly when a
# peer cannot be had, because a suite whose real peer is missing must fail, never skip.
set -euo pipefail
PKGS=(squid-openssl c-icap libc-icap-mod-virus-scan clamav clamav-daemon clamdscan clamav-testfiles
      snmp snmpd snmptrapd smitools nftables iproute2 curl wrk bc python3
      zip unzip p7zip-full arj genisoimage xz-utils zstd bzip2 cpio lzip binutils
      gcab jlha-utils mscompress sharutils postgresql
      lzop libjlha-java default-jdk-headless libconvert-binhex-perl osslsigncode openssl
      postfix swaks miltertest clamav-milter chromium
      spamassassin spamc gcc libc6-dev)
# squid-openssl, not squid: the same Squid 5.7 built with OpenSSL instead of GnuTLS, because only that
# build speaks ICAP over TLS (icaps://, tls-cafile=…; the GnuTLS one says "requires --with-openssl").
# The two packages conflict; the ICAP client code is the same, so every Squid suite runs on it.
# gcc, libc6-dev: the clamd bench cell builds its C load generator (bench/clamd-load.c) with them.
# No upx: Debian bookworm does not package it (upx-ucl left after bullseye); the UPX tests pack their
# own programs (test/helpers/upx-writer.ts) and use clamav-testfiles' clam-upx.exe for the real one.

# Debian's init scripts start squid (:3128), c-icap (:1344, Scanwall's default port), clamd,
# freshclam (network!) and snmpd (:161) on install. The tests start their own on loopback and free
# ports, so stop the packaged ones, each by the PID in its own Debian pid file (never by name).
stop_packaged_daemons() {
  local svc pidf
  for svc in squid:/run/squid.pid c-icap:/run/c-icap/c-icap.pid clamav-daemon:/run/clamav/clamd.pid \
             clamav-freshclam:/run/clamav/freshclam.pid clamav-milter:/run/clamav/clamav-milter.pid snmpd:/run/snmpd.pid snmptrapd:/run/snmptrapd.pid; do
    pidf="${svc#*:}"; svc="${svc%%:*}"
    if [ -s "$pidf" ] && kill -0 "$(cat "$pidf")" 2>/dev/null; then
      if [ "$(id -u)" != 0 ]; then echo "warning: packaged $svc is running (pid $(cat "$pidf")); not root, left alone" >&2; continue; fi
      echo "test peers: stopping packaged $svc (pid $(cat "$pidf"))"
      /etc/init.d/"$svc" stop >/dev/null 2>&1 || kill -TERM "$(cat "$pidf")" 2>/dev/null || true
    fi
  done
}

missing=()
for p in "${PKGS[@]}"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p"); done
if [ ${#missing[@]} -eq 0 ]; then echo "test peers: all installed"; stop_packaged_daemons; exit 0; fi
echo "test peers: installing ${missing[*]}"
if [ "$(id -u)" != 0 ]; then
  echo "test peers missing (${missing[*]}) and not root: run 'sudo npm test' or install them" >&2; exit 1
fi
export DEBIAN_FRONTEND=noninteractive
# Postfix installed without a system configuration: no /etc/postfix/main.cf, so no system instance
# starts on port 25; the milter tests run their own instance (postfix -c DIR) on loopback ports.
echo 'postfix postfix/main_mailer_type select No configuration' | debconf-set-selections
# Keep the init scripts from starting daemons at all while we install (policy-rc.d exit 101 = "not
# allowed"); only when the machine has no policy of its own, and removed again afterwards.
own_policy=0
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\n# temporary, from scanwall test/setup-peers.sh\nexit 101\n' > /usr/sbin/policy-rc.d
  chmod 755 /usr/sbin/policy-rc.d; own_policy=1
fi
trap 'if [ "$own_policy" = 1 ]; then rm -f /usr/sbin/policy-rc.d; fi' EXIT
apt-get update -qq
if ! apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; then
  echo "test peers: apt-get install ${missing[*]} failed" >&2; exit 1
fi
stop_packaged_daemons
still=()
for p in "${missing[@]}"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || still+=("$p"); done
if [ ${#still[@]} -ne 0 ]; then echo "test peers: still missing after install: ${still[*]}" >&2; exit 1; fi
echo "test peers: installed ${missing[*]}"
