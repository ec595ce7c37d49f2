// Each defect the rehearsal must name, put back with a values file, is named by the checks over
// the rendered chart (the ones that need no image); the fixed chart passes them.
// `pnpm rehearse --defects` runs the same files against the built images (missing commands too).
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  checkAdminPullRoute,
  checkDefaultModel,
  checkReadOnlyRoot,
  checkSecretKeys,
  ingressRoutes,
  readOnlyWrites,
  type Defect,
} from '../src/checks.js';
import { renderChart, secretStore, workloads, type K8sObject } from '../src/manifests.js';
import { DEFECTS_DIR, REHEARSAL_VALUES, existingSecrets, isCorralImage, mergeStores } from '../src/setup.js';

const render = (file?: string) =>
  renderChart({ valuesFiles: [REHEARSAL_VALUES, ...(file ? [join(DEFECTS_DIR, file)] : [])] });

const chatService = (objects: K8sObject[]) =>
  objects.find(
    (o) => o.kind === 'Service' && o.metadata.labels?.['app.kubernetes.io/component'] === 'chat-api',
  )!.metadata.name;

/** The checks that read only the rendered chart; chat-api's own default is `llama3.2`. */
function defectsOf(objects: K8sObject[], pullPath = '/api/admin/models/pull'): Defect[] {
  const all = workloads(objects);
  return [
    ...checkSecretKeys(all, mergeStores(secretStore(objects), existingSecrets())),
    ...checkDefaultModel(all, 'llama3.2'),
    ...checkAdminPullRoute(ingressRoutes(objects), pullPath, chatService(objects)),
    ...checkReadOnlyRoot(all, isCorralImage),
  ];
}

describe('the rehearsal values render a chart with none of the defects', () => {
  it('finds nothing to name', () => {
    expect(defectsOf(render())).toEqual([]);
  });
});

describe('each defect put back is named', () => {
  it('a key the bootstrap admin existingSecret does not hold', () => {
    const found = defectsOf(render('existing-secret-email.yaml'));
    expect(found.map((d) => d.id)).toEqual(['existing-secret-key']);
    expect(found[0]!.message).toMatch(
      /reads key "email" of Secret corral-rehearsal-admin, which holds only \[password\].*CreateContainerConfigError/,
    );
  });

  it('a default model the Ollama pods never pull', () => {
    const found = defectsOf(render('default-model.yaml'));
    expect(found.map((d) => d.id)).toEqual(['default-model']);
    expect(found[0]!.message).toContain('default model not pulled');
    expect(found[0]!.message).toContain('llama3.2:latest');
  });

  it('the admin page posting to /admin/models/pull, which the Ingress sends to web', () => {
    const objects = render('admin-route.yaml');
    const found = defectsOf(objects, '/admin/models/pull');
    expect(found.map((d) => d.id)).toEqual(['admin-route']);
    expect(found[0]!.message).toMatch(/sends to corral-web \(404\)/);
  });

  it('a Corral container without a read-only root', () => {
    const found = defectsOf(render('read-only-root.yaml'));
    expect(new Set(found.map((d) => d.id))).toEqual(new Set(['read-only-root']));
    expect(found.map((d) => d.message).join('\n')).toMatch(
      /Deployment corral-auth, container auth: no readOnlyRootFilesystem/,
    );
  });

  it('a write to the read-only root in a container log', () => {
    const log =
      "Error: EROFS: read-only file system, open '/app/cache.json'\n    at Object.openSync (node:fs:573:18)";
    expect(readOnlyWrites('corral-web', log)).toEqual([
      {
        id: 'read-only-root',
        message:
          "write to a read-only root in corral-web: Error: EROFS: read-only file system, open '/app/cache.json'",
      },
    ]);
  });
});
