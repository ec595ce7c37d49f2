import { ApiError, describeError } from '../api/index.js';

/** How many of the server's findings a failed import lists. */
const SHOWN_ISSUES = 3;

interface Issue {
  path: string;
  message: string;
}

function issuesOf(error: ApiError): Issue[] {
  const raw = error.problem.errors;
  if (!Array.isArray(raw)) return [];
  return raw.filter(
    (issue): issue is Issue =>
      typeof issue === 'object' &&
      issue !== null &&
      typeof (issue as Issue).path === 'string' &&
      typeof (issue as Issue).message === 'string',
  );
}

/** "body.conversations.0.messages.3.role" → "conversation 1, message 4: role". */
function where(path: string): string {
  const parts = path.replace(/^body\.?/, '').split('.');
  const named: string[] = [];
  const fields: string[] = [];
  for (let i = 0; i < parts.length; i += 1) {
    const part = parts[i] ?? '';
    const next = parts[i + 1];
    if ((part === 'conversations' || part === 'messages') && next !== undefined && /^\d+$/.test(next)) {
      named.push(`${part === 'conversations' ? 'conversation' : 'message'} ${Number(next) + 1}`);
      i += 1;
    } else if (part) {
      fields.push(part);
    }
  }
  return [...named, fields.join('.')].filter(Boolean).join(', ') || 'the file';
}

/** What a failed import says: which file, and what was wrong with it, in the user's terms. */
export function describeImportFailure(error: unknown, fileName: string): { title: string; message: string } {
  const title = `Could not import ${fileName}`;
  if (error instanceof ApiError) {
    if (error.code === 'malformed_json') {
      return { title, message: 'The file is not valid JSON. Choose a file saved by “Download export”.' };
    }
    if (error.code === 'validation_failed') {
      const issues = issuesOf(error);
      const listed = issues.slice(0, SHOWN_ISSUES).map((issue) => `${where(issue.path)}: ${issue.message}`);
      const more = issues.length > SHOWN_ISSUES ? ` (and ${issues.length - SHOWN_ISSUES} more)` : '';
      return {
        title,
        message: `The file is not a Corral export this version can read. ${
          listed.length > 0 ? `${listed.join('; ')}${more}.` : error.message
        }`,
      };
    }
  }
  return { title, message: describeError(error).message };
}
