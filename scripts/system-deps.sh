#!/usr/bin/env bash
# Installs the Debian packages Tandem needs, where the platform allows it (Debian/Ubuntu with root
# or passwordless sudo); otherwise says what to install and goes on (data can also come from --data,
# $TANDEM_DATA or a download). Usage: scripts/system-deps.sh start|test
set -euo pipefail
what=${1:-start}
# the real Fashion-MNIST; the QEMU Cortex-M4 board, its toolchain and socat (serial fault tests)
pkgs=(dataset-fashion-mnist qemu-system-arm gcc-arm-none-eabi libnewlib-arm-none-eabi)
case "$what" in
  start) ;;
  # socat: serial fault tests; the adb target's tests build the aarch64 runner and run it under qemu-user; chromium: the HTML report renders in a real browser
  test) pkgs+=(socat gcc-aarch64-linux-gnu qemu-user chromium) ;;
  *) echo "usage: $0 start|test" >&2; exit 2 ;;
esac

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if ! command -v apt-get >/dev/null 2>&1; then
  echo "tandem: not a Debian-like system; install these yourself if you want them: ${missing[*]}" >&2
  exit 0
fi
if [ "$(id -u)" -eq 0 ]; then sudo=(); elif sudo -n true 2>/dev/null; then sudo=(sudo -n); else
  echo "tandem: please run: sudo apt-get install -y ${missing[*]}" >&2
  exit 0
fi
echo "tandem: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get install -y -qq "${missing[@]}" >/dev/null 2>&1 || {
  "${sudo[@]}" apt-get update -qq >/dev/null
  "${sudo[@]}" apt-get install -y -qq "${missing[@]}" >/dev/null
}
