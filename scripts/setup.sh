#!/usr/bin/env bash
# Installs what citysim needs from Debian 12 packages, only if something is missing.
# Idempotent: when everything is present it only checks, in well under a second.
set -euo pipefail

packages=(
  # build
  cmake ninja-build g++ pkg-config git
  # C++ libraries
  libboost-graph-dev libboost-math-dev libboost-random-dev libtbb-dev libyaml-cpp-dev libhdf5-dev catch2
  libcli11-dev librandom123-dev libfmt-dev
  # the live classroom page (citysim serve): web server, charts, and the browser its test drives
  libcpp-httplib-dev libjs-chart.js chromium chromium-driver python3-selenium
  # distributed sweeps
  openmpi-bin libopenmpi-dev
  # the Slurm test (tests/slurm): a one-node Slurm on localhost
  slurmctld slurmd slurm-client
  # reading and checking output (hdf5-tools also has h5clear, for a killed run's file)
  hdf5-tools netcdf-bin
  # the sanitizer and fuzzing tree (scripts/sanitize.sh): clang with ASan, UBSan and libFuzzer;
  # llvm-symbolizer (llvm-14) gives reports file:line
  clang libclang-rt-14-dev llvm-14
  # analysis (run with /usr/bin/python3)
  python3 python3-numpy python3-h5py python3-h5netcdf python3-xarray python3-matplotlib python3-pandas python3-scipy python3-yaml python3-jinja2
)

missing=()
for p in "${packages[@]}"; do
  if [ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)" != "install ok installed" ]; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#packages[@]} packages present"
  exit 0
fi

echo "setup: installing ${missing[*]}"
sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then sudo_cmd=(sudo); fi
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -q
"${sudo_cmd[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
