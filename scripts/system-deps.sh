#!/usr/bin/env bash
# System packages the test suite drives for real: Chromium (browser tests), Slurm and munge (cluster
# tests), Debian's Fashion-MNIST; and wrk, the load generator of the service benchmark. With --fonts, also
# the handwriting fonts of benchmarks/handwriting_fonts.py and those `digitrec data fonts` draws training
# digits from (digitrec.training.fonts.TRAINING_FONT_PACKAGES). Installs only what is missing; needs root (or
# the packages present).
set -euo pipefail
need=()
if [ "${1:-}" = "--fonts" ]; then
  for font in fonts-bwht fonts-breip fonts-dkg-handwriting fonts-humor-sans fonts-klee fonts-rufscript \
              fonts-seto fonts-nanum-extra fonts-yusei-magic fonts-sjfonts fonts-comic-neue fonts-kristi \
              fonts-dancingscript \
              fonts-kiloji fonts-tomsontalks fonts-tlwg-purisa-otf fonts-dustin fonts-kaushanscript \
              fonts-leckerli-one fonts-aoyagi-kouzan-t fonts-aoyagi-soseki fonts-kouzan-mouhitsu fonts-navilu \
              fonts-havana fonts-lobster; do
    dpkg -s "$font" >/dev/null 2>&1 || need+=("$font")
  done
fi
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v slurmctld >/dev/null 2>&1 || need+=(slurm-wlm)
command -v munged >/dev/null 2>&1 || need+=(munge)
[ -d /usr/share/datasets/fashion-mnist ] || need+=(dataset-fashion-mnist)
command -v wrk >/dev/null 2>&1 || need+=(wrk)
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ]; then
  echo "error: missing system packages: ${need[*]} — install them (apt-get install ${need[*]}) or run as root" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
echo "installing system packages: ${need[*]}"
apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null 2>&1 \
  || { apt-get update -qq >/dev/null && apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null; }
