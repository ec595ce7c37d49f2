// The defects running the chart would hit, found before (or while) running it. Each names itself.
import { resolveEnv } from './env.js';
import {
  effectiveSecurityContext,
  type Container,
  type K8sObject,
  type SecretStore,
  type Workload,
} from './manifests.js';

export type DefectId =
  'existing-secret-key' | 'default-model' | 'admin-route' | 'missing-command' | 'read-only-root';

export interface Defect {
  id: DefectId;
  message: string;
}

export const containersOf = (w: Workload): Container[] => [
  ...(w.spec.initContainers ?? []),
  ...w.spec.containers,
];

/** Secret and ConfigMap keys every container reads (env, envFrom, volumes) must exist. */
export function checkSecretKeys(all: Workload[], store: SecretStore): Defect[] {
  const defects: Defect[] = [];
  for (const w of all) {
    for (const c of containersOf(w)) {
      const problems = resolveEnv(c, store, `${w.kind} ${w.name}, container ${c.name}`).problems;
      defects.push(...problems.map((message) => ({ id: 'existing-secret-key' as const, message })));
    }
    for (const v of w.spec.volumes ?? []) {
      if (!v.secret) continue;
      const values = store.get(`Secret/${v.secret.secretName}`);
      const missing = values
        ? (v.secret.items ?? []).map((item) => item.key).filter((key) => !(key in values))
        : ['(the Secret itself)'];
      for (const key of missing) {
        defects.push({
          id: 'existing-secret-key',
          message: `${w.kind} ${w.name}: volume ${v.name} mounts key "${key}" of Secret ${v.secret.secretName}, which is missing -> the pod cannot start`,
        });
      }
    }
  }
  return defects;
}

/** `llama3.2` and `llama3.2:latest` are one model to Ollama. */
export const normalizeModel = (name: string): string => (name.includes(':') ? name : `${name}:latest`);

/** The models the Ollama pods pull (the pull-models init container's list). */
export function pulledModels(all: Workload[]): string[] | undefined {
  const ollama = all.find((w) => w.kind === 'StatefulSet' && w.component === 'ollama');
  const pull = ollama?.spec.initContainers?.find((c) => c.name === 'pull-models');
  const list = pull?.env?.find((e) => e.name === 'CORRAL_MODELS')?.value;
  return list === undefined ? undefined : list.split(/\s+/).filter(Boolean);
}

/** chat-api's DEFAULT_MODEL must be a model the pool holds, or `/v1` calls without a model get 404. */
export function checkDefaultModel(all: Workload[], serviceDefault: string): Defect[] {
  const models = pulledModels(all);
  if (!models) return []; // static Ollama URLs: the chart does not know what they hold
  const chat = all.find((w) => w.kind === 'Deployment' && w.component === 'chat-api');
  const set = chat?.spec.containers[0]?.env?.find((e) => e.name === 'DEFAULT_MODEL')?.value;
  const model = set ?? serviceDefault;
  if (models.map(normalizeModel).includes(normalizeModel(model))) return [];
  return [
    {
      id: 'default-model',
      message: `default model not pulled: chat-api's DEFAULT_MODEL is ${model} (${normalizeModel(model)}${set ? '' : ', the service default: the chart sets none'}) but the Ollama pods pull only [${models.join(', ')}] -> conversations and clients that name no model get 404`,
    },
  ];
}

interface IngressPath {
  path: string;
  pathType: string;
  backend: { service: { name: string; port: { number?: number; name?: string } } };
}
export interface Route {
  path: string;
  service: string;
  port: number;
}

/** The Ingress's rules, longest prefix first (how ingress-nginx matches Prefix paths). */
export function ingressRoutes(objects: K8sObject[]): Route[] {
  const ingress = objects.find((obj) => obj.kind === 'Ingress');
  if (!ingress) return [];
  const rules = (ingress.spec as { rules: { http: { paths: IngressPath[] } }[] }).rules;
  return rules
    .flatMap((rule) => rule.http.paths)
    .map((p) => ({ path: p.path, service: p.backend.service.name, port: p.backend.service.port.number ?? 0 }))
    .sort((a, b) => b.path.length - a.path.length);
}

export function routeFor(routes: Route[], path: string): Route | undefined {
  return routes.find(
    (r) => r.path === '/' || path === r.path || path.startsWith(`${r.path.replace(/\/$/, '')}/`),
  );
}

/** The admin page's "Pull a model" must reach chat-api's relay, not web (which answers 404). */
export function checkAdminPullRoute(routes: Route[], pullPath: string, chatApiService: string): Defect[] {
  const route = routeFor(routes, pullPath);
  if (route?.service === chatApiService) return [];
  return [
    {
      id: 'admin-route',
      message: `the /admin route: the admin page posts "Pull a model" to ${pullPath}, which the Ingress sends to ${route?.service ?? 'nothing'} (404); chat-api relays POST /api/admin/models/pull`,
    },
  ];
}

/** Every Corral container runs with a read-only root, so a write outside its volumes fails here as in the cluster. */
export function checkReadOnlyRoot(all: Workload[], isCorralImage: (image: string) => boolean): Defect[] {
  const defects: Defect[] = [];
  for (const w of all) {
    for (const c of containersOf(w)) {
      if (!isCorralImage(c.image)) continue;
      if (effectiveSecurityContext(w.spec, c).readOnlyRootFilesystem !== true) {
        defects.push({
          id: 'read-only-root',
          message: `${w.kind} ${w.name}, container ${c.name}: no readOnlyRootFilesystem, so a write to the root file system would go unnoticed until a hardened cluster refuses it`,
        });
      }
    }
  }
  return defects;
}

/** Lines of a container's log that show a write to the read-only root (EROFS). */
export function readOnlyWrites(describe: string, log: string): Defect[] {
  const lines = log
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => /EROFS:|read-only file system/i.test(line));
  return [...new Set(lines)].slice(0, 3).map((line) => ({
    id: 'read-only-root' as const,
    message: `write to a read-only root in ${describe}: ${line.slice(0, 300)}`,
  }));
}

/** What can tell whether a file or command exists in an image. */
export interface ImageInspector {
  /** Absolute path of `command` on the image's PATH (or the path itself if absolute), or undefined. */
  which(image: string, command: string): Promise<string | undefined>;
  /** Whether `path` (relative to the image's working directory) exists. */
  exists(image: string, path: string, workingDir?: string): Promise<boolean>;
}

/** Tools the chart's shell scripts call; each must exist in the image that runs the script. */
const SCRIPT_TOOLS = [
  'pg_dump',
  'pg_isready',
  'psql',
  'wget',
  'gzip',
  'ollama',
  'find',
  'sha256sum',
  'openssl',
];

/** Every command a Job, CronJob or Deployment container calls must exist in its image. */
export async function checkCommands(all: Workload[], inspector: ImageInspector): Promise<Defect[]> {
  const defects: Defect[] = [];
  const missing = (w: Workload, c: Container, what: string) =>
    defects.push({
      id: 'missing-command',
      message: `missing command in an image: ${w.kind} ${w.name}, container ${c.name} calls ${what}, which image ${c.image} does not have`,
    });
  for (const w of all) {
    for (const c of containersOf(w)) {
      const argv = [...(c.command ?? []), ...(c.args ?? [])];
      const [program] = argv;
      if (!program) continue;
      if (!(await inspector.which(c.image, program))) {
        missing(w, c, program);
        continue;
      }
      // `node <script>`: the script must be in the image too.
      if (/(^|\/)node$/.test(program)) {
        const script = argv.slice(1).find((arg) => !arg.startsWith('-'));
        if (script && !(await inspector.exists(c.image, script, c.workingDir)))
          missing(w, c, `node ${script}`);
      }
      // `sh -c <script>`: the tools it names.
      if (/(^|\/)(ba)?sh$/.test(program)) {
        const script = argv
          .slice(1)
          .filter((arg) => !arg.startsWith('-'))
          .join('\n');
        for (const tool of SCRIPT_TOOLS) {
          if (
            new RegExp(`(^|[\\s;|&(])${tool}(\\s|$)`, 'm').test(script) &&
            !(await inspector.which(c.image, tool))
          ) {
            missing(w, c, tool);
          }
        }
      }
      // `corral backup …` / `corral restore` run PostgreSQL's client tools from the same image.
      if (/(^|\/)corral$/.test(program) && ['backup', 'restore'].includes(argv[1] ?? '')) {
        for (const tool of ['pg_dump', 'pg_restore']) {
          if (!(await inspector.which(c.image, tool))) missing(w, c, `${tool} (through corral ${argv[1]})`);
        }
      }
    }
  }
  return defects;
}
