// One doctor line: what was checked, pass/warn/fail, what was seen and (unless it passed) the fix.
export type CheckStatus = 'pass' | 'warn' | 'fail';

export interface CheckResult {
  check: string;
  status: CheckStatus;
  detail: string;
  fix?: string;
}

export const pass = (check: string, detail: string): CheckResult => ({ check, status: 'pass', detail });
export const warnAt = (check: string, detail: string, fix: string): CheckResult => ({
  check,
  status: 'warn',
  detail,
  fix,
});
export const fail = (check: string, detail: string, fix: string): CheckResult => ({
  check,
  status: 'fail',
  detail,
  fix,
});

export function formatReport(results: CheckResult[]): string {
  const lines = results.map((result) => {
    const head = `${result.status.toUpperCase().padEnd(4)}  ${result.check.padEnd(26)} ${result.detail}`;
    return result.fix ? `${head}\n${' '.repeat(33)}fix: ${result.fix}` : head;
  });
  const count = (status: CheckStatus) => results.filter((result) => result.status === status).length;
  lines.push('', `${count('pass')} passed, ${count('warn')} warnings, ${count('fail')} failed`);
  return lines.join('\n');
}
