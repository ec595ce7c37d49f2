import { describe, expect, it } from 'vitest';
import { schemaValidator } from '../test/fixtures.js';
import { createRandom } from './generator.js';
import { sampleFromSchema } from './schema-sample.js';

const schemas: Record<string, object> = {
  'nested objects, arrays, enums and bounds': {
    type: 'object',
    required: ['id', 'items', 'owner', 'status'],
    properties: {
      id: { type: 'integer', exclusiveMinimum: 0, multipleOf: 5 },
      items: {
        type: 'array',
        minItems: 2,
        maxItems: 5,
        uniqueItems: true,
        items: {
          type: 'object',
          required: ['sku', 'qty'],
          properties: {
            sku: { type: 'string', minLength: 8, maxLength: 8 },
            qty: { type: 'number', maximum: -1 },
          },
          additionalProperties: false,
        },
      },
      owner: {
        type: 'object',
        properties: { email: { type: 'string', format: 'email' } },
        required: ['email'],
      },
      status: { enum: ['open', 'closed'] },
      note: { type: ['string', 'null'] },
      created: { type: 'string', format: 'date-time' },
      site: { type: 'string', format: 'uri' },
      ref: { type: 'string', format: 'uuid' },
    },
    additionalProperties: false,
  },
  '$defs and $ref (as zod and pydantic write them), anyOf, allOf, const': {
    $defs: {
      point: {
        type: 'object',
        properties: { x: { type: 'number' }, y: { type: 'number' } },
        required: ['x', 'y'],
      },
    },
    type: 'object',
    properties: {
      start: { $ref: '#/$defs/point' },
      path: { type: 'array', items: { $ref: '#/$defs/point' } },
      label: { anyOf: [{ type: 'string', maxLength: 3 }, { type: 'null' }] },
      version: { const: 2 },
      meta: {
        allOf: [
          { type: 'object', properties: { a: { type: 'boolean' } }, required: ['a'] },
          { required: ['b'] },
        ],
      },
    },
    required: ['start', 'path', 'label', 'version', 'meta'],
  },
  'a recursive tree ends': {
    $defs: {
      node: {
        type: 'object',
        properties: {
          name: { type: 'string' },
          children: { type: 'array', items: { $ref: '#/$defs/node' } },
        },
        required: ['name'],
      },
    },
    $ref: '#/$defs/node',
  },
  'a bare array at the top': {
    type: 'array',
    items: { type: 'integer', minimum: 10, maximum: 12 },
    minItems: 3,
  },
};

describe('sampleFromSchema', () => {
  for (const [name, schema] of Object.entries(schemas)) {
    it(`is valid against the schema: ${name}`, () => {
      const validate = schemaValidator(schema);
      for (let seed = 0; seed < 50; seed++) {
        const value = sampleFromSchema(schema, createRandom(seed));
        expect(validate(value), `seed ${seed}: ${JSON.stringify(validate.errors)}`).toBe(true);
      }
    });
  }

  it('survives hostile schemas: huge sizes, required self-reference, __proto__', () => {
    const huge = sampleFromSchema(
      { type: 'array', minItems: 1e9, items: { type: 'string', minLength: 1e9 } },
      createRandom(1),
    );
    expect(Array.isArray(huge) && huge.length <= 64).toBe(true);
    const loop = {
      $defs: { a: { type: 'object', required: ['a'], properties: { a: { $ref: '#/$defs/a' } } } },
      $ref: '#/$defs/a',
    };
    expect(JSON.stringify(sampleFromSchema(loop, createRandom(1))).length).toBeLessThan(10_000);
    // As it arrives in a request body: JSON.parse makes `__proto__` an own key.
    const protoSchema: unknown = JSON.parse(
      '{"type":"object","properties":{"__proto__":{"type":"integer"}},"required":["__proto__"]}',
    );
    const proto = sampleFromSchema(protoSchema, createRandom(1));
    expect(Object.getPrototypeOf(proto)).toBe(Object.prototype);
    expect(Object.keys(proto as object)).toEqual(['__proto__']);
  });

  it('is deterministic for a seed and varies between seeds', () => {
    const schema = schemas['nested objects, arrays, enums and bounds'];
    const a = sampleFromSchema(schema, createRandom(1));
    expect(sampleFromSchema(schema, createRandom(1))).toEqual(a);
    expect(sampleFromSchema(schema, createRandom(2))).not.toEqual(a);
  });
});
