import { MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH } from '@corral/contracts';
import { dictionary } from '@zxcvbn-ts/language-common';

export { MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH };
const MIN_DISTINCT_CHARACTERS = 5;

// zxcvbn-ts's list of the most common passwords (from leaked sets), lower-cased: checked as data.
let common: Set<string> | undefined;
const commonPasswords = () =>
  (common ??= new Set(dictionary['passwords-common'].map((p) => p.toLowerCase())));

/** Why a new password is refused, or undefined when it is acceptable. Length counts code points. */
export function passwordProblem(password: string): string | undefined {
  const length = [...password].length;
  if (length < MIN_PASSWORD_LENGTH) return `must be at least ${MIN_PASSWORD_LENGTH} characters`;
  if (length > MAX_PASSWORD_LENGTH) return `must be at most ${MAX_PASSWORD_LENGTH} characters`;
  if (new Set(password.toLowerCase()).size < MIN_DISTINCT_CHARACTERS) {
    return `must use at least ${MIN_DISTINCT_CHARACTERS} different characters`;
  }
  if (commonPasswords().has(password.toLowerCase()))
    return 'is one of the most common passwords; choose another';
  return undefined;
}
