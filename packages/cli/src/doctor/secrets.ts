// Secret checks: present, not a development default or well-known value, long and varied enough.
// Values are never printed; only the variable's name and what is wrong with it.
import { readFileSync } from 'node:fs';
import { isWellKnownSecret } from '@corral/contracts';
import type { StoredSecrets } from '../local-state.js';
import { type CheckResult, fail, pass, warnAt } from './report.js';

export interface SecretRule {
  name: string;
  /** Services that refuse to start without it in production. */
  required: boolean;
  minLength: number;
  /** The value a development run uses; refused in production. */
  devDefault?: string;
  fromLocal?: (secrets: StoredSecrets) => string | undefined;
}

export const SECRET_RULES: SecretRule[] = [
  {
    name: 'SIGNING_KEY_SECRET',
    required: true,
    minLength: 32,
    devDefault: 'corral-dev-signing-key-secret-not-for-production',
    fromLocal: (s) => s.signingKeySecret,
  },
  {
    name: 'INTERNAL_SERVICE_TOKEN',
    required: true,
    minLength: 32,
    devDefault: 'corral-dev-internal-service-token-not-for-production',
    fromLocal: (s) => s.internalServiceToken,
  },
  { name: 'GATEWAY_SERVICE_TOKEN', required: true, minLength: 32, fromLocal: (s) => s.gatewayServiceToken },
  { name: 'BOOTSTRAP_ADMIN_PASSWORD', required: false, minLength: 12 },
  { name: 'BACKUP_ENCRYPTION_KEY', required: false, minLength: 16 },
];

/** NAME, else the file NAME_FILE names; `unreadable` when that file cannot be read. */
export function secretFromEnv(
  name: string,
  env: NodeJS.ProcessEnv,
): string | undefined | { unreadable: string } {
  if (env[name]) return env[name];
  const file = env[`${name}_FILE`];
  if (!file) return undefined;
  try {
    return readFileSync(file, 'utf8').replace(/\r?\n$/, '');
  } catch {
    return { unreadable: file };
  }
}

/** Why a value is weak, or undefined when it is fine. */
export function weakness(rule: SecretRule, value: string): string | undefined {
  if (rule.devDefault !== undefined && value === rule.devDefault) return 'is the development default';
  if (isWellKnownSecret(value)) return 'is a well-known value';
  if (value.length < rule.minLength) return `is ${value.length} characters, shorter than ${rule.minLength}`;
  if (new Set(value).size < Math.min(10, rule.minLength / 2)) return 'repeats a few characters (low entropy)';
  return undefined;
}

export function checkSecrets(env: NodeJS.ProcessEnv, local: StoredSecrets | undefined): CheckResult[] {
  return SECRET_RULES.map((rule) => {
    const check = `secret ${rule.name}`;
    const fromEnv = secretFromEnv(rule.name, env);
    if (typeof fromEnv === 'object') {
      return fail(
        check,
        `${rule.name}_FILE names ${fromEnv.unreadable}, which cannot be read`,
        `mount the Secret at that path or fix ${rule.name}_FILE`,
      );
    }
    const value = fromEnv ?? (local && rule.fromLocal ? rule.fromLocal(local) : undefined);
    const make = `set ${rule.name} (or ${rule.name}_FILE) to a random value: openssl rand -base64 32`;
    if (value === undefined) {
      if (!rule.required) return pass(check, 'not set (optional)');
      // Outside a local run the doctor sees only what its own environment carries.
      return local
        ? fail(check, 'not set', make)
        : warnAt(
            check,
            'not visible to the doctor',
            `run it with the services' Secret in its environment (${rule.name} or ${rule.name}_FILE)`,
          );
    }
    const problem = weakness(rule, value);
    if (problem) return fail(check, `${problem}`, `${make}, then restart the services that use it`);
    return pass(check, `set, ${value.length} characters`);
  });
}
