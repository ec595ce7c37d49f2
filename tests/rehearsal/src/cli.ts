#!/usr/bin/env node
// `pnpm rehearse`: build the images, run the chart's workloads from them, walk the journey.
//   pnpm rehearse                      build (layers cached) and rehearse
//   pnpm rehearse --skip-build         rehearse the images already built
//   pnpm rehearse --values f.yaml      add a values file (e.g. one of tests/rehearsal/defects/)
//   pnpm rehearse --defects            put each known defect back (tests/rehearsal/defects/*.yaml)
//                                      and check that the rehearsal names it
//   pnpm rehearse --skip-upgrade       leave out the upgrade and rollback rehearsal (src/upgrade.ts)
//   pnpm rehearse --upgrade-only       only the upgrade and rollback rehearsal
// After the rehearsal, by default: upgrade and rollback from the previous release's images
// (.ci/previous-release, built by scripts/build-previous-images.sh) to these and back.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { renderChart } from './manifests.js';
import { imageSize } from './podman.js';
import { RehearsalFailed, rehearse, serviceDefaultModel, staticDefects, webPullPath } from './rehearse.js';
import { DEFECTS_DIR, IMAGES, REHEARSAL_VALUES, TOOLS_IMAGE, imageOf } from './setup.js';
import { REPO_ROOT } from './manifests.js';
import { rehearseUpgrade } from './upgrade.js';

const { values } = parseArgs({
  options: {
    'skip-build': { type: 'boolean', default: false },
    values: { type: 'string', multiple: true, default: [] },
    defects: { type: 'boolean', default: false },
    'skip-upgrade': { type: 'boolean', default: false },
    'upgrade-only': { type: 'boolean', default: false },
  },
});
const upgrade = !values['skip-upgrade'] && !values.defects && (values.values ?? []).length === 0;

function buildPreviousImages(): void {
  console.log("== building the previous release's images (scripts/build-previous-images.sh)");
  const started = Date.now();
  execFileSync('bash', ['scripts/build-previous-images.sh'], { cwd: REPO_ROOT, stdio: 'inherit' });
  console.log(`previous release's images built in ${Math.round((Date.now() - started) / 1000)} s`);
}

function buildImages(): void {
  console.log('== building the images (scripts/build-images.sh)');
  const started = Date.now();
  execFileSync('bash', ['scripts/build-images.sh', 'rehearsal'], { cwd: REPO_ROOT, stdio: 'inherit' });
  const base = readFileSync(join(REPO_ROOT, 'Dockerfile'), 'utf8').match(/^ARG NODE_IMAGE=(.+)$/m)?.[1] ?? '';
  const baseRef = base.includes('/') ? base : `docker.io/library/${base}`;
  execFileSync(
    'podman',
    [
      'build',
      '--network',
      'host',
      '--runtime',
      'runc',
      '--ulimit',
      'nofile=1024:1024',
      '--ulimit',
      'nproc=1024:1024',
      '--build-arg',
      `BASE=${baseRef}`,
      '-t',
      TOOLS_IMAGE,
      '-f',
      'tests/rehearsal/Containerfile.tools',
      'tests/rehearsal',
    ],
    { cwd: REPO_ROOT, stdio: 'ignore' },
  );
  console.log(`images built in ${Math.round((Date.now() - started) / 1000)} s`);
}

/** Each defect file names the defect it puts back on its first line: `# defect: <id>`. */
async function defectSelfTest(): Promise<number> {
  const serviceDefault = await serviceDefaultModel();
  let failures = 0;
  for (const file of readdirSync(DEFECTS_DIR)
    .filter((f) => f.endsWith('.yaml'))
    .sort()) {
    const text = readFileSync(join(DEFECTS_DIR, file), 'utf8');
    const expected = text.match(/^# defect: (\S+)/m)?.[1];
    const pullPath = text.match(/^# pull-path: (\S+)/m)?.[1] ?? (await webPullPath());
    const objects = renderChart({ valuesFiles: [REHEARSAL_VALUES, join(DEFECTS_DIR, file)] });
    const found = await staticDefects(objects, { serviceDefault, pullPath, inspect: true });
    const named = found.find((d) => d.id === expected);
    if (named) console.log(`named   ${file}: ${named.message}`);
    else {
      failures += 1;
      console.log(
        `MISSED  ${file}: expected [${expected}], found ${found.map((d) => d.id).join(', ') || 'nothing'}`,
      );
    }
  }
  // The runtime one: the whole rehearsal with a pod that writes to its read-only root.
  const runtime = join(DEFECTS_DIR, 'runtime', 'read-only-write.yaml');
  try {
    await rehearse({ extraValues: [runtime], reporter: { info: () => undefined, step: () => undefined } });
    failures += 1;
    console.log('MISSED  runtime/read-only-write.yaml: the rehearsal passed');
  } catch (error) {
    const named =
      error instanceof RehearsalFailed ? error.defects.find((d) => d.id === 'read-only-root') : undefined;
    if (named) console.log(`named   runtime/read-only-write.yaml: ${named.message}`);
    else {
      failures += 1;
      console.log(
        `MISSED  runtime/read-only-write.yaml: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
  }
  return failures;
}

async function main(): Promise<number> {
  if (!values['skip-build']) {
    buildImages();
    if (upgrade) buildPreviousImages();
  }
  if (values['upgrade-only']) return upgradeRehearsal();
  console.log('== image sizes');
  for (const service of IMAGES)
    console.log(
      `  ${imageOf(service).padEnd(48)} ${((await imageSize(imageOf(service))) / 1e6).toFixed(0)} MB`,
    );
  if (values.defects) return defectSelfTest();
  console.log('== rehearsal');
  const result = await rehearse({
    extraValues: (values.values ?? []).map((f) => join(process.env.INIT_CWD ?? process.cwd(), f)),
    reporter: {
      info: (line) => console.log(`  ${line}`),
      step: (s) => console.log(`  journey: ${s.step.padEnd(18)} ${s.detail}`),
    },
  });
  console.log('== start to ready');
  for (const r of result.ready)
    console.log(`  ${r.workload.name.padEnd(32)} ${((r.readyMs ?? 0) / 1000).toFixed(1)} s`);
  console.log('== browser (Chromium through the front)');
  console.log(`  saved reply ${result.browser.replyChars} chars after a reload; Admin → Model pool shown`);
  for (const file of result.browser.screenshots) console.log(`  screenshot ${file}`);
  if (upgrade) return upgradeRehearsal();
  console.log('rehearsal passed');
  return 0;
}

async function upgradeRehearsal(): Promise<number> {
  console.log('== upgrade and rollback (the previous release -> this tree -> the previous release)');
  const result = await rehearseUpgrade({
    reporter: {
      info: (line) => console.log(`  ${line}`),
      step: (s) => console.log(`  upgrade: ${s.step.padEnd(18)} ${s.detail}`),
    },
  });
  console.log(`== upgrade and rollback timings (previous release ${result.previous})`);
  for (const t of result.timings) console.log(`  ${t.phase.padEnd(72)} ${(t.ms / 1000).toFixed(1)} s`);
  console.log('rehearsal passed (with upgrade and rollback)');
  return 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(
      error instanceof RehearsalFailed
        ? `REHEARSAL FAILED\n${error.message}`
        : `REHEARSAL FAILED: ${error instanceof Error ? error.stack : String(error)}`,
    );
    process.exit(1);
  },
);
