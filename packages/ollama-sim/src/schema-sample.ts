/**
 * A deterministic value that satisfies a JSON schema: what a model constrained by Ollama's `format`
 * (or asked for a tool's arguments) would produce. Covers the keywords app schemas use (types, enum,
 * const, required, nested objects and arrays, bounds, common string formats, $ref/$defs, allOf,
 * anyOf/oneOf); `pattern` and `not` are not satisfied on purpose.
 */
type Schema = Record<string, unknown>;

const WORDS = ['alpha', 'bravo', 'lorem', 'ipsum', 'dolor', 'amet', 'simulata', 'machina', 'nulla', 'magna'];
const MAX_DEPTH = 8;
// Limits that keep a hostile schema (minItems: 1e9, required recursion) from exhausting the process.
const HARD_DEPTH = 32;
const MAX_ITEMS = 64;
const MAX_STRING = 4096;

interface SampleContext {
  root: Schema;
  random: () => number;
}

export function sampleFromSchema(schema: unknown, random: () => number): unknown {
  const root = isSchema(schema) ? schema : {};
  return sample(root, { root, random }, 0);
}

function isSchema(value: unknown): value is Schema {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function resolveRef(ref: string, root: Schema): Schema {
  if (ref === '#') return root;
  if (!ref.startsWith('#/')) return {};
  let node: unknown = root;
  for (const raw of ref.slice(2).split('/')) {
    const key = decodeURIComponent(raw).replace(/~1/g, '/').replace(/~0/g, '~');
    node = isSchema(node) ? node[key] : undefined;
  }
  return isSchema(node) ? node : {};
}

// Folds $ref and allOf into one schema, so the rest only deals with plain keywords.
function flatten(schema: Schema, root: Schema, depth: number): Schema {
  let out: Schema = schema;
  if (typeof out.$ref === 'string' && depth < MAX_DEPTH) {
    const { $ref, ...rest } = out;
    out = { ...flatten(resolveRef($ref as string, root), root, depth + 1), ...rest };
  }
  if (Array.isArray(out.allOf)) {
    const { allOf, ...rest } = out;
    let merged: Schema = rest;
    for (const part of allOf) {
      if (!isSchema(part)) continue;
      const flat = flatten(part, root, depth + 1);
      merged = {
        ...flat,
        ...merged,
        properties: { ...(flat.properties as Schema), ...(merged.properties as Schema) },
        required: [...asStrings(flat.required), ...asStrings(merged.required)],
      };
    }
    out = merged;
  }
  return out;
}

function asStrings(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

function pick<T>(items: readonly T[], random: () => number): T {
  return items[Math.floor(random() * items.length)] as T;
}

function typeOf(schema: Schema): string {
  const type = schema.type;
  if (typeof type === 'string') return type;
  if (Array.isArray(type)) {
    const concrete = type.filter((t) => typeof t === 'string' && t !== 'null');
    return (concrete[0] as string | undefined) ?? 'null';
  }
  if (isSchema(schema.properties)) return 'object';
  if (schema.items !== undefined || Array.isArray(schema.prefixItems)) return 'array';
  if (typeof schema.minimum === 'number' || typeof schema.maximum === 'number') return 'number';
  return 'string';
}

function sample(raw: Schema, ctx: SampleContext, depth: number): unknown {
  if (depth > HARD_DEPTH) return null;
  const schema = flatten(raw, ctx.root, depth);
  if ('const' in schema) return schema.const;
  if (Array.isArray(schema.enum) && schema.enum.length > 0) return pick(schema.enum, ctx.random);
  const choices = Array.isArray(schema.anyOf)
    ? schema.anyOf
    : Array.isArray(schema.oneOf)
      ? schema.oneOf
      : null;
  if (choices) {
    const branches = choices.filter(isSchema);
    const concrete = branches.find((b) => b.type !== 'null') ?? branches[0];
    return concrete ? sample({ ...withoutChoices(schema), ...concrete }, ctx, depth + 1) : null;
  }
  switch (typeOf(schema)) {
    case 'object':
      return sampleObject(schema, ctx, depth);
    case 'array':
      return sampleArray(schema, ctx, depth);
    case 'integer':
      return sampleNumber(schema, ctx.random, true);
    case 'number':
      return sampleNumber(schema, ctx.random, false);
    case 'boolean':
      return ctx.random() < 0.5;
    case 'null':
      return null;
    default:
      return sampleString(schema, ctx.random);
  }
}

function withoutChoices(schema: Schema): Schema {
  const { anyOf: _anyOf, oneOf: _oneOf, ...rest } = schema;
  return rest;
}

function sampleObject(schema: Schema, ctx: SampleContext, depth: number): Record<string, unknown> {
  const properties = isSchema(schema.properties) ? schema.properties : {};
  const required = new Set(asStrings(schema.required));
  const out: Record<string, unknown> = {};
  for (const [key, sub] of Object.entries(properties)) {
    // Deep optional branches stop, so recursive schemas end.
    if (!required.has(key) && depth >= MAX_DEPTH / 2) continue;
    setOwn(out, key, sample(isSchema(sub) ? sub : {}, ctx, depth + 1));
  }
  for (const key of required) {
    if (!(key in out)) {
      const extra = isSchema(schema.additionalProperties) ? schema.additionalProperties : {};
      setOwn(out, key, sample(extra, ctx, depth + 1));
    }
  }
  return out;
}

// A property named `__proto__` must become an own property, not the object's prototype.
function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

function sampleArray(schema: Schema, ctx: SampleContext, depth: number): unknown[] {
  const prefix = Array.isArray(schema.prefixItems) ? schema.prefixItems.filter(isSchema) : [];
  const items = isSchema(schema.items) ? schema.items : {};
  const min = Math.min(MAX_ITEMS, typeof schema.minItems === 'number' ? schema.minItems : 0);
  const max = Math.min(MAX_ITEMS, typeof schema.maxItems === 'number' ? schema.maxItems : Math.max(min, 3));
  const lower = Math.min(max, Math.max(min, prefix.length, 1));
  const count =
    depth >= MAX_DEPTH ? lower : lower + Math.floor(ctx.random() * (Math.min(max, lower + 2) - lower + 1));
  const out: unknown[] = [];
  const seen = new Set<string>();
  for (let i = 0, attempts = 0; out.length < count && attempts < count * 10; attempts++) {
    const value = sample(prefix[i] ?? items, ctx, depth + 1);
    if (schema.uniqueItems === true) {
      const key = JSON.stringify(value);
      if (seen.has(key)) continue;
      seen.add(key);
    }
    out.push(value);
    i++;
  }
  return out;
}

function sampleNumber(schema: Schema, random: () => number, integer: boolean): number {
  const step =
    typeof schema.multipleOf === 'number' && schema.multipleOf > 0 ? schema.multipleOf : integer ? 1 : 0;
  let low = typeof schema.minimum === 'number' ? schema.minimum : -Infinity;
  let high = typeof schema.maximum === 'number' ? schema.maximum : Infinity;
  const tiny = step || 0.001;
  if (typeof schema.exclusiveMinimum === 'number') low = Math.max(low, schema.exclusiveMinimum + tiny);
  if (typeof schema.exclusiveMaximum === 'number') high = Math.min(high, schema.exclusiveMaximum - tiny);
  if (!Number.isFinite(low)) low = Number.isFinite(high) ? high - 100 : 0;
  if (!Number.isFinite(high)) high = low + 100;
  let value = low + random() * (high - low);
  if (step > 0) {
    const first = Math.ceil(low / step);
    const last = Math.floor(high / step);
    value = (first + Math.floor(random() * (last - first + 1))) * step;
    if (integer) value = Math.round(value);
  } else {
    value = Math.round(value * 100) / 100;
    if (value < low || value > high) value = low;
  }
  return value;
}

function sampleString(schema: Schema, random: () => number): string {
  const n = Math.floor(random() * 1000);
  let text: string;
  switch (schema.format) {
    case 'date-time':
      text = new Date(Date.UTC(2026, n % 12, (n % 28) + 1, n % 24, n % 60)).toISOString();
      break;
    case 'date':
      text = `2026-${String((n % 12) + 1).padStart(2, '0')}-${String((n % 28) + 1).padStart(2, '0')}`;
      break;
    case 'time':
      text = `${String(n % 24).padStart(2, '0')}:${String(n % 60).padStart(2, '0')}:00Z`;
      break;
    case 'email':
      text = `${pick(WORDS, random)}${n}@example.com`;
      break;
    case 'uri':
    case 'url':
      text = `https://example.com/${pick(WORDS, random)}/${n}`;
      break;
    case 'uuid':
      text = `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
      break;
    case 'ipv4':
      text = `192.0.2.${n % 255}`;
      break;
    default:
      text = `${pick(WORDS, random)} ${pick(WORDS, random)}`;
  }
  const min = Math.min(MAX_STRING, typeof schema.minLength === 'number' ? schema.minLength : 0);
  const max = typeof schema.maxLength === 'number' ? schema.maxLength : Infinity;
  if (text.length < min) text = text.padEnd(min, 'x');
  if (text.length > max) text = text.slice(0, max);
  return text;
}
