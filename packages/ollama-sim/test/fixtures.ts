import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';

const ajv = new Ajv2020({ strict: false, allErrors: true });
addFormats.default(ajv);

/** A JSON-schema validator (ajv, draft 2020-12, with formats) for what the sim generates. */
export function schemaValidator(schema: unknown): ValidateFunction {
  return ajv.compile(schema as object);
}

/** A 1x1 transparent PNG, base64. */
export const PNG =
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==';

/** Valid base64 of bytes that are no image. */
export const NOT_AN_IMAGE = Buffer.from('just some text, not a picture').toString('base64');

export const weatherTool = {
  type: 'function',
  function: {
    name: 'get_weather',
    description: 'Current weather in a city',
    parameters: {
      type: 'object',
      required: ['city', 'unit'],
      properties: {
        city: { type: 'string', description: 'city name' },
        unit: { type: 'string', enum: ['celsius', 'fahrenheit'] },
        days: { type: 'integer', minimum: 1, maximum: 7 },
      },
    },
  },
} as const;

export const clockTool = {
  type: 'function',
  function: {
    name: 'get_time',
    description: 'Current time in a time zone',
    parameters: { type: 'object', required: ['zone'], properties: { zone: { type: 'string' } } },
  },
} as const;
