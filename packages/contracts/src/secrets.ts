/** Values nobody should deploy with, whatever their length: services refuse them in production, `corral doctor` fails them. */
const WELL_KNOWN_SECRETS: ReadonlySet<string> = new Set([
  'changeme',
  'change-me',
  'secret',
  'password',
  'admin',
  'corral',
  'test',
  'default',
]);

export const isWellKnownSecret = (value: string): boolean => WELL_KNOWN_SECRETS.has(value.toLowerCase());
