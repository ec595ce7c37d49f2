/**
 * Renders docs/configuration.md from the services' zod environment schemas, so the reference
 * cannot drift from what the services actually read. `pnpm docs:config` rewrites it; the chart
 * tests fail when the committed file is stale.
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { format, resolveConfig } from 'prettier';
import { baseEnvShape, describeEnv, type EnvDoc } from '../../../packages/service-kit/src/config.js';
import { authEnvShape } from '../../../services/auth/src/config.js';
import { chatEnvShape } from '../../../services/chat-api/src/config.js';
import { gatewayEnvShape } from '../../../services/inference-gateway/src/config.js';
import { webEnvShape } from '../../../services/web/server/config.js';

export const CONFIG_REFERENCE_PATH = fileURLToPath(
  new URL('../../../docs/configuration.md', import.meta.url),
);

const SERVICES = [
  { name: 'auth', dir: 'services/auth', shape: authEnvShape },
  { name: 'chat-api', dir: 'services/chat-api', shape: chatEnvShape },
  { name: 'inference-gateway', dir: 'services/inference-gateway', shape: gatewayEnvShape },
  { name: 'web', dir: 'services/web', shape: webEnvShape },
] as const;

const cell = (text: string) => text.replaceAll('|', '\\|').replaceAll('\n', ' ');

function table(docs: EnvDoc[]): string {
  const rows = docs.map((doc) => {
    const fallback = doc.required
      ? '**required**'
      : doc.devDefault
        ? 'development default; **required in production**'
        : doc.requiredInProduction
          ? 'unset; **required in production**'
          : doc.default === undefined
            ? 'unset (optional)'
            : `\`${cell(doc.default)}\``;
    const name = doc.secret ? `\`${doc.name}\` (or \`${doc.name}_FILE\`)` : `\`${doc.name}\``;
    return `| ${name} | ${fallback} | ${cell(doc.description)} |`;
  });
  return ['| variable | default | meaning |', '| --- | --- | --- |', ...rows].join('\n');
}

/** The reference as the repository keeps it: rendered, then formatted with the repo's Prettier config. */
export async function renderConfigReference(): Promise<string> {
  const sections = [
    '# Configuration reference',
    '',
    "<!-- Generated from the services' zod schemas by `pnpm docs:config`; do not edit by hand. -->",
    '',
    'Every service reads its configuration from environment variables once at start-up. A missing or',
    "malformed variable stops the process with the variable's name. Every secret can also be given as",
    '`NAME_FILE` (a path, e.g. a mounted Kubernetes Secret). With `NODE_ENV=production`, development',
    'defaults and weak secrets are refused.',
    '',
    '"**required**": the service does not start without it. "**required in production**": it starts',
    'without it in development (with a built-in development value, or without the feature), not with',
    '`NODE_ENV=production`. "unset (optional)": off or not used until set. Secrets are never shown.',
    '',
    '## Every service',
    '',
    table(describeEnv(baseEnvShape)),
  ];
  for (const service of SERVICES) {
    sections.push('', `## ${service.name} (\`${service.dir}\`)`, '', table(describeEnv(service.shape)));
  }
  const options = (await resolveConfig(CONFIG_REFERENCE_PATH)) ?? {};
  return format(`${sections.join('\n')}\n`, { ...options, parser: 'markdown' });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  writeFileSync(CONFIG_REFERENCE_PATH, await renderConfigReference());
  process.stdout.write(`wrote ${CONFIG_REFERENCE_PATH}\n`);
}
