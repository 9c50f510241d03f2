# Sourced by scripts/test.sh: the real Azure IoT device SDKs the e2e tests run pki's printed
# snippets with (tests/e2e/sdk.rs), installed inside the build directory so that nothing of the
# machine changes: a Python venv with azure-iot-device (PyPI) and an npm folder with
# azure-iot-device and azure-iot-device-mqtt. Versions are pinned; an install that fails fails
# the run (the tests would fail anyway, saying what is missing).

# sdks_install DIR: installs what is missing under DIR (DIR/venv, DIR/node).
sdks_install() {
  local dir="$1"
  mkdir -p "$dir"
  if ! [ -x "$dir/venv/bin/python" ] || ! "$dir/venv/bin/python" -c 'import azure.iot.device' 2>/dev/null; then
    python3 -m venv "$dir/venv"
    "$dir/venv/bin/pip" install --quiet --disable-pip-version-check 'azure-iot-device==2.14.0'
  fi
  if ! [ -d "$dir/node/node_modules/azure-iot-device-mqtt" ]; then
    command -v npm >/dev/null 2>&1 || { echo "test.sh: npm is missing (Debian: apt-get install -y npm)" >&2; exit 2; }
    mkdir -p "$dir/node"
    (cd "$dir/node" && npm install --silent --no-audit --no-fund --prefix . \
      azure-iot-device@1.18.4 azure-iot-device-mqtt@1.16.4)
  fi
}
