// A container's environment as the kubelet builds it: values, Secret and ConfigMap keys, envFrom,
// and $(VAR) references to variables defined earlier in the list.
import type { Container, SecretStore } from './manifests.js';

export interface ResolvedEnv {
  env: Record<string, string>;
  /** What the kubelet would refuse with CreateContainerConfigError. */
  problems: string[];
}

const expand = (value: string, env: Record<string, string>): string =>
  value.replace(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (whole, name: string) => env[name] ?? whole);

export function resolveEnv(container: Container, store: SecretStore, describe: string): ResolvedEnv {
  const env: Record<string, string> = {};
  const problems: string[] = [];
  for (const from of container.envFrom ?? []) {
    const ref = from.secretRef ? `Secret/${from.secretRef.name}` : `ConfigMap/${from.configMapRef?.name}`;
    const values = store.get(ref);
    if (!values) problems.push(`${describe}: envFrom ${ref} does not exist`);
    else Object.assign(env, values);
  }
  for (const variable of container.env ?? []) {
    if (variable.value !== undefined) {
      env[variable.name] = expand(variable.value, env);
      continue;
    }
    const ref = variable.valueFrom?.secretKeyRef
      ? { kind: 'Secret', ...variable.valueFrom.secretKeyRef }
      : variable.valueFrom?.configMapKeyRef
        ? { kind: 'ConfigMap', ...variable.valueFrom.configMapKeyRef }
        : undefined;
    if (!ref) continue; // fieldRef and friends: nothing the rehearsal's services read
    const values = store.get(`${ref.kind}/${ref.name}`);
    if (values && ref.key in values) env[variable.name] = values[ref.key] as string;
    else if (!ref.optional) {
      const held = values ? `holds only [${Object.keys(values).sort().join(', ')}]` : 'does not exist';
      problems.push(
        `${describe}: env ${variable.name} reads key "${ref.key}" of ${ref.kind} ${ref.name}, which ${held} -> CreateContainerConfigError`,
      );
    }
  }
  return { env, problems };
}
