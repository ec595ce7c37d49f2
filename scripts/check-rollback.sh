#!/usr/bin/env bash
# Rollback check: the previous release's services, run against the schema the current migrations
# make, still pass `corral doctor --smoke`. That is what `helm rollback` does (code goes back, the
# schema stays), so a pass means "redeploy the previous image tag" works. It also runs the web UI's
# main path (a conversation, a streamed reply, the messages read back) against it.
#
#   scripts/check-rollback.sh            # previous = ROLLBACK_REF, else .ci/previous-release, else the last tag, else HEAD~1
#   ROLLBACK_REF=main~3 scripts/check-rollback.sh
#
# Steps: a git worktree of the previous release (its own pnpm install from the shared store); the
# current tree's `corral start` creates the database and applies the current migrations, then stops;
# the previous tree's `corral start` runs on that same database (its migrations are all applied
# already, so it changes nothing); the current `corral doctor --smoke` checks it end to end.
set -Eeuo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

# .ci/previous-release names the release operators would roll back to (the last one that shipped),
# not merely the commit before this one, which may be a half-step of the same change.
pinned=$(sed -n 's/^\([0-9a-f]\{7,40\}\).*/\1/p' .ci/previous-release 2>/dev/null | head -n 1)
ref=${ROLLBACK_REF:-${pinned:-$(git describe --tags --abbrev=0 2>/dev/null || echo HEAD~1)}}
if ! git rev-parse --verify --quiet "$ref^{commit}" >/dev/null; then
  echo "rollback check skipped: $ref is not in this clone (a shallow clone? fetch with --depth 2 or more)" >&2
  exit 0
fi
work=$(mktemp -d "${TMPDIR:-/tmp}/corral-rollback-XXXXXX")
chmod 755 "$work" # embedded PostgreSQL runs as the postgres OS user when started as root
home="$work/.corral"
prev="$work/previous"
pid=""

cleanup() {
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill -INT "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  fi
  git -C "$root" worktree remove --force "$prev" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

log() { printf '\n== %s\n' "$*"; }

free_port() { node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"; }

# `corral start` from tree $1 in the background, logging to $2; returns once it is running.
start_corral() {
  local tree=$1 out=$2
  (cd "$tree" && exec node --conditions=corral-source --import tsx packages/cli/src/cli.ts start) >"$out" 2>&1 &
  pid=$!
  for _ in $(seq 1 300); do
    grep -q 'Corral is running' "$out" && return 0
    kill -0 "$pid" 2>/dev/null || break
    sleep 1
  done
  echo "corral start ($tree) did not come up:" >&2
  tail -n 40 "$out" >&2
  return 1
}

stop_corral() {
  kill -INT "$pid"
  wait "$pid" || true
  pid=""
}

export CORRAL_HOME="$home" PORT=$(free_port) CORRAL_POSTGRES_PORT=$(free_port) NO_COLOR=1
unset DATABASE_URL AUTH_URL OLLAMA_URLS REDIS_URL

log "previous release: $ref ($(git rev-parse --short "$ref"))"
git worktree add --detach "$prev" "$ref" >/dev/null
(cd "$prev" && { pnpm install --frozen-lockfile --offline --reporter=silent || pnpm install --frozen-lockfile --reporter=silent; })

log "current schema: corral start from this tree (applies every current migration), then stop"
start_corral "$root" "$work/current.log"
stop_corral

log "previous services on the current schema"
start_corral "$prev" "$work/previous.log"

log "corral doctor --smoke against the previous release"
status=0
node --conditions=corral-source --import tsx packages/cli/src/cli.ts doctor --smoke || status=$?

log "the web UI's path: a conversation, a streamed reply, its messages read back"
node --input-type=module - <<'JS' || status=$?
import { readFileSync } from 'node:fs';
const home = process.env.CORRAL_HOME;
const web = JSON.parse(readFileSync(`${home}/state.json`, 'utf8')).services.web;
const password = readFileSync(`${home}/admin-password`, 'utf8').trim();
const json = { 'content-type': 'application/json' };
const login = await fetch(`${web}/api/auth/login`, { method: 'POST', headers: json, body: JSON.stringify({ email: 'admin@corral.local', password }) });
if (!login.ok) throw new Error(`login: ${login.status}`);
const auth = { ...json, authorization: `Bearer ${(await login.json()).accessToken}` };
const created = await fetch(`${web}/api/conversations`, { method: 'POST', headers: auth, body: JSON.stringify({ title: 'rollback check', model: 'llama3.2' }) });
if (created.status !== 201) throw new Error(`create conversation: ${created.status} ${await created.text()}`);
const { conversation } = await created.json();
const sent = await fetch(`${web}/api/conversations/${conversation.id}/messages`, { method: 'POST', headers: auth, body: JSON.stringify({ content: 'Hello from the rollback check' }) });
if (!sent.ok) throw new Error(`send: ${sent.status} ${await sent.text()}`);
await sent.text(); // the whole stream
const listed = await fetch(`${web}/api/conversations/${conversation.id}/messages`, { headers: auth });
const body = await listed.json();
const messages = body.items ?? body.messages ?? body;
const assistant = messages.find((m) => m.role === 'assistant');
if (!listed.ok || !assistant || !assistant.content) throw new Error(`messages: ${listed.status} ${JSON.stringify(body).slice(0, 300)}`);
console.log(`conversation ${conversation.id}: ${messages.length} messages, the reply has ${assistant.content.length} characters`);
JS
stop_corral
if [ "$status" -ne 0 ]; then
  echo "rollback check FAILED: $ref does not work on the current schema (see above, and its log below)" >&2
  tail -n 40 "$work/previous.log" >&2
  exit 1
fi
echo "rollback check passed: $ref runs on the current schema"
