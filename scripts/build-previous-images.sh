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
CORRAL_BUILD_CONTEXT="$work" CORRAL_BUILD_REVISION="$short" bash scripts/build-images.sh "$tag"
echo "$tag"
