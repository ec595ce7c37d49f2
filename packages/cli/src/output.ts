/** Writes for library modules (the lint rule keeps console.* to cli.ts). */
export const say = (line = ''): void => void process.stdout.write(`${line}\n`);
export const warn = (line: string): void => void process.stderr.write(`${line}\n`);
