import { describe, expect, it } from 'vitest';
import { ApiError, problemFrom } from '../api/errors.js';
import { describeImportFailure } from './import-failure.js';
import { labelledDays } from './UsageChart.js';

const problem = (code: string, detail: string, extra: Record<string, unknown> = {}) =>
  new ApiError(problemFrom({ code, detail, title: 'Request validation failed', ...extra }, 400));

describe('a failed import', () => {
  it('names the file and the fields the server refused, in the user’s terms', () => {
    const said = describeImportFailure(
      problem('validation_failed', 'body.format: Invalid input', {
        errors: [
          { path: 'body.format', message: 'Invalid input: expected "corral.conversations"' },
          { path: 'body.conversations.0.messages.3.role', message: 'Invalid option' },
        ],
      }),
      'notes.json',
    );
    expect(said.title).toBe('Could not import notes.json');
    expect(said.message).toBe(
      'The file is not a Corral export this version can read. format: Invalid input: expected "corral.conversations"; conversation 1, message 4, role: Invalid option.',
    );
  });

  it('says a file that is not JSON is not JSON', () => {
    const said = describeImportFailure(
      problem('malformed_json', 'The request body is not valid JSON.'),
      'a.png',
    );
    expect(said.message).toContain('not valid JSON');
  });
});

describe('usage chart date labels', () => {
  it('labels today and every n-th day back, n wide enough that labels never meet', () => {
    expect([...labelledDays(30, 20)].sort((a, b) => a - b)).toEqual([2, 5, 8, 11, 14, 17, 20, 23, 26, 29]);
    expect(labelledDays(30, 60).size).toBe(30);
  });
});
