#!/usr/bin/env bash
# Installs what Optim4RL.NET needs on a fresh Debian machine (idempotent, quiet when all is there):
#   - OpenBLAS (single-threaded build) for matrix products: Debian package libopenblas0-serial.
#   - gnuplot (no X11; svg and pngcairo terminals) for `optim4rl plot` and `analyze`: gnuplot-nox.
# NuGet packages are restored by `dotnet build`/`dotnet test` themselves.
set -euo pipefail

need=()
ldconfig -p 2>/dev/null | grep -q 'libopenblas.so.0' || need+=(libopenblas0-serial)
command -v gnuplot >/dev/null 2>&1 || need+=(gnuplot-nox)

if [ ${#need[@]} -gt 0 ]; then
  echo "setup: installing ${need[*]} (Debian packages)…" >&2
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq >/dev/null
  $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi

if ! command -v dotnet >/dev/null 2>&1; then
  echo "setup: the .NET 10 SDK is required (dotnet not found on PATH)." >&2
  exit 1
fi
