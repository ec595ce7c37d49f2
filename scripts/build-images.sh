#!/usr/bin/env bash
# Builds the four Corral service images and the CLI image (`corral` + PostgreSQL client tools, the
# Dockerfile's `cli` target) from the one Dockerfile with podman (buildah), the base images first
# (scripts/build-base-image.sh: pulled where a registry answers, else built locally).
#   scripts/build-images.sh [tag]      -> corral/<service>:<tag>, corral/cli:<tag> (default: rehearsal)
#   CORRAL_BUILD_CONTEXT=dir scripts/build-images.sh prev-abc1234
#                                      -> the same from another tree (e.g. a `git archive` of the
#                                         previous release, scripts/build-previous-images.sh), with
#                                         that tree's own Dockerfile and base image
# Layers up to `pnpm install` are shared by the five builds; the pnpm store is a cache mount.
set -Eeuo pipefail
cd "$(dirname "$0")/.."
TAG=${1:-rehearsal}
CONTEXT=$(cd "${CORRAL_BUILD_CONTEXT:-.}" && pwd)
REVISION=${CORRAL_BUILD_REVISION:-$(git rev-parse --short HEAD 2>/dev/null || echo unknown)}
# Older trees' Dockerfiles have no `cli` target: their CLI image is not built.
CLI=""; grep -q '^FROM .* AS cli$' "$CONTEXT/Dockerfile" && CLI=cli
SERVICES=${SERVICES:-auth chat-api inference-gateway web $CLI}
# Root podman on hosts with a hybrid cgroup layout needs runc; ulimits no higher than the caller's.
PODMAN_RUN_FLAGS=(--network host --runtime runc --ulimit nofile=1024:1024 --ulimit nproc=1024:1024)

bash scripts/build-base-image.sh "$CONTEXT/Dockerfile"
# Behind a TLS-intercepting egress proxy the host trusts an extra CA; the build gets it as a secret.
SECRET_FLAGS=()
if [ -n "${NODE_EXTRA_CA_CERTS:-}" ] && [ -s "$NODE_EXTRA_CA_CERTS" ]; then
  SECRET_FLAGS=(--secret "id=extra-ca,src=$NODE_EXTRA_CA_CERTS")
fi
# corepack verifies pnpm's npm signatures; a registry mirror that strips them would fail every build.
PM=$(node -p "require('$CONTEXT/package.json').packageManager")
if [ -z "$(npm view "$PM" dist.signatures 2>/dev/null)" ]; then
  echo "warning: the npm registry serves no signatures for $PM; corepack's signature check is off for this build" >&2
  SECRET_FLAGS+=(--build-arg COREPACK_SKIP_SIGNATURES=1)
fi
# Extra build arguments, one per word (scripts/build-previous-images.sh passes its base this way).
read -r -a EXTRA_FLAGS <<<"${CORRAL_BUILD_ARGS:-}"
for service in $SERVICES; do
  start=$(date +%s)
  if [ "$service" = cli ]; then TARGET=(--target cli); else TARGET=(--build-arg "SERVICE=$service"); fi
  podman build "${PODMAN_RUN_FLAGS[@]}" "${SECRET_FLAGS[@]}" "${EXTRA_FLAGS[@]}" --layers "${TARGET[@]}" \
    --build-arg "REVISION=$REVISION" \
    -t "corral/$service:$TAG" -f "$CONTEXT/Dockerfile" "$CONTEXT" >"${TMPDIR:-/tmp}/corral-build-$service-$TAG.log" 2>&1 \
    || { tail -n 40 "${TMPDIR:-/tmp}/corral-build-$service-$TAG.log" >&2; echo "image build failed: $service" >&2; exit 1; }
  size=$(podman image inspect --format '{{.Size}}' "corral/$service:$TAG")
  printf 'built corral/%s:%s  %s MB  in %ss\n' "$service" "$TAG" "$((size / 1000000))" "$(($(date +%s) - start))"
done
