#!/usr/bin/env bash
# deps.sh: install the Debian packages sunwire needs to build, test and run,
# but only those that are missing. Safe to run again; does nothing when all are there.
set -euo pipefail

# Build and test toolchain, then libraries (one line per purpose).
PACKAGES=(
  build-essential cmake ninja-build pkg-config python3
  libcmocka-dev                # unit test framework
  libjansson-dev               # JSON input (state files, test vectors)
  libpcap-dev                  # pcap/pcapng capture reading
  clang libclang-rt-14-dev     # libFuzzer targets (the test run fuzzes every decoder briefly)
  libinih-dev                  # configuration file parser (sunwire run --config)
  libmosquitto-dev mosquitto   # MQTT output; the broker is used by the integration tests
  mosquitto-clients            # mosquitto_sub/pub: the MQTT integration tests watch the broker with them
  libmicrohttpd-dev            # HTTP server: Prometheus /metrics and the dashboard
  libcurl4-openssl-dev         # InfluxDB 2 write endpoint
  libsqlite3-dev sqlite3       # embedded history
  chromium chromium-driver python3-selenium  # headless browser tests of the dashboard
  openssl iproute2 binutils    # test tools: a throw-away CA for MQTT over TLS, ss, readelf
  prometheus                   # a real Prometheus server and promtool: the /metrics and dashboard tests scrape and lint with them
  influxdb victoria-metrics    # real InfluxDB 1.x (v1 write API) and VictoriaMetrics (v2 API) the Influx tests write to
  python3-jinja2               # renders Home Assistant value templates in the discovery validator test
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "sunwire: installing missing Debian packages: ${missing[*]}" >&2
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    SUDO="sudo"
  else
    echo "sunwire: these packages are missing and this user cannot install them:" >&2
    echo "  apt-get install ${missing[*]}" >&2
    echo "Run that as root, then try again." >&2
    exit 1
  fi
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "sunwire: packages installed." >&2
