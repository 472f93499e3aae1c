#!/usr/bin/env bash
# Installs the Debian packages the native servers and the browser tests need (PostgreSQL, Redis,
# Java 17, Maven, Chromium) when they are missing. As root with apt-get it installs them;
# otherwise it says what to install.
set -euo pipefail

missing=()
have_pg() { ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null 2>&1; }
have_pg || missing+=(postgresql)
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
command -v java >/dev/null 2>&1 || missing+=(openjdk-17-jre-headless)
command -v mvn >/dev/null 2>&1 || missing+=(maven)
command -v setpriv >/dev/null 2>&1 || missing+=(util-linux)
# The browser tests (./run test:e2e) drive Debian's Chromium; DejaVu gives it a font to render.
if [ -z "${CHROMIUM:-}" ]; then command -v chromium >/dev/null 2>&1 || missing+=(chromium); fi
[ -e /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || missing+=(fonts-dejavu-core)

[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "system-deps: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
else
  echo "system-deps: missing ${missing[*]}; install them (Debian: sudo apt-get install ${missing[*]})," >&2
  echo "system-deps: or run the tests with Docker (Testcontainers) or TEST_POSTGRES_URL/TEST_REDIS_URL/TEST_KAFKA_BROKERS." >&2
fi
