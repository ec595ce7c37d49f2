// How people reach Corral and who may sign up, as values: web's proxy for port-forward (Ingress
// off) and the registration settings.
import { describe, expect, it } from 'vitest';
import { CHART_DIR, findOne, type Loose, RELEASE, NAMESPACE, renderChart, runHelm } from './helm.js';

function envOf(set: string[], deployment: string, container: string): Record<string, Loose> {
  const objects = renderChart({ set });
  const spec = findOne(objects, 'Deployment', deployment).spec as Loose;
  const found = (spec.template.spec.containers as Loose[]).find((c) => c.name === container);
  return Object.fromEntries((found.env as Loose[]).map((e) => [e.name, e.value ?? e.valueFrom]));
}

const webEnv = (set: string[]) => envOf(set, 'corral-web', 'web');
const authEnv = (set: string[]) => envOf(set, 'corral-auth', 'auth');

function notes(set: string[]): string {
  const args = ['install', RELEASE, CHART_DIR, '--namespace', NAMESPACE, '--dry-run=client'];
  for (const pair of set) args.push('--set', pair);
  const result = runHelm(args);
  if (result.status !== 0) throw new Error(result.stderr);
  return result.stdout.slice(result.stdout.indexOf('NOTES:'));
}

describe('Ingress off: web proxies the API so one port-forward is the app', () => {
  it('gives web the in-cluster auth and chat-api only when the Ingress is off (web.proxy.enabled: auto)', () => {
    expect(webEnv(['ingress.enabled=false'])).toMatchObject({
      AUTH_URL: 'http://corral-auth:5001',
      CHAT_API_URL: 'http://corral-chat-api:5002',
    });
    expect(webEnv(['ingress.enabled=false']).GATEWAY_URL).toBeUndefined();
    expect(webEnv([]).AUTH_URL).toBeUndefined();
    expect(webEnv(['web.proxy.enabled=true']).CHAT_API_URL).toBe('http://corral-chat-api:5002');
    expect(webEnv(['ingress.enabled=false', 'web.proxy.enabled=false']).AUTH_URL).toBeUndefined();
  });

  it('NOTES.txt gives the one port-forward command, and no longer asks for more', () => {
    const text = notes(['ingress.enabled=false']);
    expect(text).toContain('kubectl -n corral port-forward svc/corral-web 3000:3000');
    expect(text).toContain('streaming included');
    expect(text).not.toMatch(/forward auth|5001\) and chat-api/);
    expect(notes(['ingress.enabled=false', 'web.proxy.enabled=false'])).toContain(
      'web.proxy.enabled is false',
    );
  });

  it('refuses a value that is not auto, true or false', () => {
    const result = runHelm(['template', RELEASE, CHART_DIR, '--set', 'web.proxy.enabled=sometimes']);
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain('/web/proxy/enabled');
  });
});

describe('registration as values (auth.registration)', () => {
  it('maps mode to ENABLE_REGISTRATION and DEFAULT_USER_STATUS', () => {
    expect(authEnv([])).toMatchObject({ ENABLE_REGISTRATION: 'true', DEFAULT_USER_STATUS: 'pending' });
    expect(authEnv(['auth.registration.mode=open'])).toMatchObject({
      ENABLE_REGISTRATION: 'true',
      DEFAULT_USER_STATUS: 'active',
    });
    expect(authEnv(['auth.registration.mode=closed'])).toMatchObject({ ENABLE_REGISTRATION: 'false' });
  });

  it('takes the code from an existing Secret, and refuses requireCode without one', () => {
    const env = authEnv([
      'auth.registration.requireCode=true',
      'auth.registration.existingSecret=corral-signup',
    ]);
    expect(env.REQUIRE_REGISTRATION_CODE).toBe('true');
    expect(env.REGISTRATION_CODE).toEqual({
      secretKeyRef: { name: 'corral-signup', key: 'registration-code' },
    });
    const refused = runHelm(['template', RELEASE, CHART_DIR, '--set', 'auth.registration.requireCode=true']);
    expect(refused.status).not.toBe(0);
    expect(refused.stderr).toContain('auth.registration.existingSecret');
    const typo = runHelm(['template', RELEASE, CHART_DIR, '--set', 'auth.registration.mode=invite']);
    expect(typo.stderr).toContain('/auth/registration/mode');
  });
});
