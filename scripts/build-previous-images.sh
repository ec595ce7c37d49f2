#!/usr/bin/env bash
# Builds the previous release's images (the commit in .ci/previous-release, or the one given) from a
# `git archive` of that commit with its own Dockerfile, through scripts/build-images.sh, tagged
# corral/<service>:prev-<commit> so they sit beside the current ones. The upgrade rehearsal
# (`pnpm rehearse --upgrade`) installs them first, upgrades to the current images, rolls back.
#   scripts/build-previous-images.sh [commit]     -> prints the tag on its last line
# Layers are cached by content, so a second run rebuilds nothing.
set -Eeuo pipefail
cd "$(dirname "$0")/.."
pinned=$(sed -n 's/^\([0-9a-f]\{7,40\}\).*/\1/p' .ci/previous-release 2>/dev/null | head -n 1)
ref=${1:-${pinned:?no commit given and none in .ci/previous-release}}
git rev-parse --verify --quiet "$ref^{commit}" >/dev/null \
  || { echo "previous release $ref is not in this clone (a shallow clone? fetch it)" >&2; exit 1; }
short=$(git rev-parse --short=7 "$ref")
tag="prev-$short"
work=$(mktemp -d "${TMPDIR:-/tmp}/corral-previous-XXXXXX")
trap 'rm -rf "$work"' EXIT
git archive "$ref" | tar -x -C "$work"
echo "previous release $short: building its images from its own Dockerfile"
bash scripts/build-base-image.sh "$work/Dockerfile"
# An older Dockerfile may not know this machine's build environment: behind a TLS-intercepting
# egress proxy (NODE_EXTRA_CA_CERTS) its `npm install` fails on the proxy's certificate, and with a
# registry that serves no signatures its corepack refuses pnpm. Then its base gets one layer that
# trusts that CA and turns corepack's signature check off (ENV only), passed as its NODE_IMAGE.
base=$(sed -n 's/^ARG NODE_IMAGE=//p' "$work/Dockerfile" | head -n 1)
[[ "$base" == */* ]] || base="docker.io/library/$base"
PM=$(node -p "require('$work/package.json').packageManager")
ca=${NODE_EXTRA_CA_CERTS:-}
[ -s "$ca" ] || ca=""
nosig=""
[ -n "$(npm view "$PM" dist.signatures 2>/dev/null)" ] || nosig=1
if [ -n "$ca" ] || [ -n "$nosig" ]; then
  shim="localhost/corral/previous-base:$short"
  mkdir -p "$work/.shim"
  if [ -n "$ca" ]; then cp "$ca" "$work/.shim/extra-ca.crt"; else : >"$work/.shim/extra-ca.crt"; fi
  {
    echo "FROM $base"
    echo "COPY extra-ca.crt /usr/local/share/corral-extra-ca.crt"
    [ -z "$ca" ] || echo "ENV NODE_EXTRA_CA_CERTS=/usr/local/share/corral-extra-ca.crt"
    [ -z "$nosig" ] || echo "ENV COREPACK_INTEGRITY_KEYS=0"
  } >"$work/.shim/Containerfile"
  podman build -q --runtime runc --network host -t "$shim" -f "$work/.shim/Containerfile" "$work/.shim" >/dev/null
  what=""
  [ -z "$ca" ] || what="the egress proxy CA (NODE_EXTRA_CA_CERTS)"
  [ -z "$nosig" ] || what="${what:+$what, }COREPACK_INTEGRITY_KEYS=0"
  echo "previous release $short: its base $base + $what -> $shim (this machine's build environment)"
  export CORRAL_BUILD_ARGS="--build-arg NODE_IMAGE=$shim"
fi
CORRAL_BUILD_CONTEXT="$work" CORRAL_BUILD_REVISION="$short" bash scripts/build-images.sh "$tag"
echo "$tag"
