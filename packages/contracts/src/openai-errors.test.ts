import { describe, expect, it } from 'vitest';
import { ERROR_CODES } from './errors.js';
import { openAiErrorBody, openAiErrorResponse, openAiErrorType } from './openai-errors.js';

describe('openAiErrorType', () => {
  it('answers a missing model as OpenAI does: invalid_request_error, code model_not_found', () => {
    expect(openAiErrorBody('model_not_found', 'The model `x` does not exist.')).toEqual({
      error: {
        message: 'The model `x` does not exist.',
        type: 'invalid_request_error',
        param: null,
        code: 'model_not_found',
      },
    });
  });

  it('maps each status family onto the type OpenAI SDKs expect', () => {
    expect(openAiErrorType('validation_failed')).toBe('invalid_request_error');
    expect(openAiErrorType('malformed_json')).toBe('invalid_request_error');
    expect(openAiErrorType('payload_too_large')).toBe('invalid_request_error');
    expect(openAiErrorType('unauthorized')).toBe('authentication_error');
    expect(openAiErrorType('invalid_token')).toBe('authentication_error');
    expect(openAiErrorType('forbidden')).toBe('permission_error');
    expect(openAiErrorType('rate_limited')).toBe('rate_limit_error');
    expect(openAiErrorType('too_many_streams')).toBe('rate_limit_error');
    expect(openAiErrorType('quota_exceeded')).toBe('insufficient_quota');
    expect(openAiErrorType('bad_gateway')).toBe('server_error');
    expect(openAiErrorType('service_unavailable')).toBe('server_error');
  });

  it("uses OpenAI's codes where OpenAI has one", () => {
    expect(openAiErrorBody('unauthorized', 'no key').error.code).toBe('invalid_api_key');
    expect(openAiErrorBody('invalid_token', 'expired').error.code).toBe('invalid_api_key');
    expect(openAiErrorBody('rate_limited', 'slow down').error.code).toBe('rate_limit_exceeded');
    expect(openAiErrorBody('quota_exceeded', 'spent').error.code).toBe('insufficient_quota');
    expect(openAiErrorBody('overloaded', 'busy').error.code).toBe('overloaded');
  });

  it('names the field at fault when given one', () => {
    expect(openAiErrorBody('validation_failed', 'bad', 'messages').error.param).toBe('messages');
  });

  it('gives every code a body its own schema accepts', () => {
    for (const code of ERROR_CODES) {
      expect(openAiErrorResponse.safeParse(openAiErrorBody(code, 'm')).success, code).toBe(true);
    }
  });
});
