#!/usr/bin/env bash
# Installs what Optim4RL.NET needs on a fresh Debian machine (idempotent, quiet when all is there):
#   - OpenBLAS for matrix products: Debian package libopenblas0-pthread (the flavour built with locking,
#     so parallel agents may call it concurrently; Optim4RL.NET keeps it to one thread per call).
#   - gnuplot (no X11; svg and pngcairo terminals) for `optim4rl plot` and `analyze`: gnuplot-nox.
#   - MuJoCo 2.2.2 (physics of the continuous-control tasks): libmujoco2.2.2 (the engine) and
#     libmujoco-dev (its headers), plus a C compiler (gcc) and libc headers (libc6-dev), with which
#     `dotnet build` compiles the small C shim src/Optim4RL.MuJoCo/Native/o4r_mujoco.c.
#   - MPICH (mpich: mpiexec and libmpich.so.12; libmpich-dev: its headers and mpicc) for running sweeps over
#     MPI ranks (`mpiexec -np N ./optim4rl sweep --run …`, README "Running on a cluster"); without
#     mpiexec nothing loads it.
# NuGet packages are restored by `dotnet build`/`dotnet test` themselves.
set -euo pipefail

need=()
dpkg -s libopenblas0-pthread >/dev/null 2>&1 || need+=(libopenblas0-pthread)
command -v gnuplot >/dev/null 2>&1 || need+=(gnuplot-nox)
# dpkg, not `ldconfig -p | grep -q`: under pipefail grep's early exit can SIGPIPE ldconfig and
# report the library missing when it is not.
dpkg -s libmujoco2.2.2 >/dev/null 2>&1 || need+=(libmujoco2.2.2)
[ -f /usr/include/mujoco/mujoco.h ] || need+=(libmujoco-dev)
command -v gcc >/dev/null 2>&1 || need+=(gcc)
[ -f /usr/include/setjmp.h ] || need+=(libc6-dev)
dpkg -s mpich >/dev/null 2>&1 || need+=(mpich)
dpkg -s libmpich-dev >/dev/null 2>&1 || need+=(libmpich-dev)

if [ ${#need[@]} -gt 0 ]; then
  echo "setup: installing ${need[*]} (Debian packages)…" >&2
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  # Wait for another apt/dpkg (up to 10 minutes) instead of failing on its lock.
  $SUDO apt-get -o DPkg::Lock::Timeout=600 update -qq >/dev/null
  $SUDO apt-get -o DPkg::Lock::Timeout=600 install -y -qq "${need[@]}" >/dev/null
fi

if ! command -v dotnet >/dev/null 2>&1; then
  echo "setup: the .NET 10 SDK is required (dotnet not found on PATH)." >&2
  exit 1
fi
