import * as models from 'kubernetes-models';
import type { K8sObject } from './helm.js';

interface ModelClass {
  new (data: unknown): { validate(): void };
}

/** `networking.k8s.io` → `networkingK8sIo`, the namespace kubernetes-models exports it under. */
function groupExportName(group: string): string {
  const [first = '', ...rest] = group.split('.');
  return first + rest.map((part) => part.charAt(0).toUpperCase() + part.slice(1)).join('');
}

/** The kubernetes-models class of an apiVersion/kind, or undefined for CRDs it does not ship. */
export function modelClassFor(apiVersion: string, kind: string): ModelClass | undefined {
  const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : ['', apiVersion];
  const root = models as unknown as Record<string, Record<string, Record<string, unknown>>>;
  const groupModule =
    group === '' ? { [version as string]: root[version as string] } : root[groupExportName(group as string)];
  const versionModule = groupModule?.[version as string] as Record<string, unknown> | undefined;
  const model = versionModule?.[kind];
  return typeof model === 'function' ? (model as ModelClass) : undefined;
}

/** Custom resources the chart renders, with the fields their controllers require. */
const CRD_SHAPES: Record<string, { apiVersion: string; requiredSpec: string[] }> = {
  ServiceMonitor: { apiVersion: 'monitoring.coreos.com/v1', requiredSpec: ['selector', 'endpoints'] },
  PrometheusRule: { apiVersion: 'monitoring.coreos.com/v1', requiredSpec: ['groups'] },
  ScaledObject: { apiVersion: 'keda.sh/v1alpha1', requiredSpec: ['scaleTargetRef', 'triggers'] },
};

/** Throws with the object's kind/name when it does not validate against its schema. */
export function validateObject(obj: K8sObject): void {
  const where = `${obj.kind}/${obj.metadata?.name ?? '(no name)'}`;
  if (!obj.metadata?.name) throw new Error(`${where}: metadata.name is missing`);
  const crd = CRD_SHAPES[obj.kind];
  if (crd) {
    if (obj.apiVersion !== crd.apiVersion) throw new Error(`${where}: expected apiVersion ${crd.apiVersion}`);
    for (const field of crd.requiredSpec) {
      if (obj.spec?.[field] === undefined) throw new Error(`${where}: spec.${field} is missing`);
    }
    return;
  }
  const Model = modelClassFor(obj.apiVersion, obj.kind);
  if (!Model) throw new Error(`${where}: no schema for ${obj.apiVersion} ${obj.kind}`);
  try {
    new Model(obj).validate();
  } catch (error) {
    throw new Error(
      `${where} (${obj.apiVersion}) is invalid: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
}
