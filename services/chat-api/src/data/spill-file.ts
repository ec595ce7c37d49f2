import { mkdir, readFile, rename, unlink, appendFile } from 'node:fs/promises';
import { dirname } from 'node:path';

/**
 * A local JSON-lines file for records that could not reach PostgreSQL before the process stopped
 * (or that did not fit in memory): appended to, and read back (then removed) by the next start.
 */
export async function appendSpill(path: string, records: unknown[]): Promise<void> {
  if (records.length === 0) return;
  await mkdir(dirname(path), { recursive: true });
  await appendFile(path, records.map((record) => `${JSON.stringify(record)}\n`).join(''), { mode: 0o600 });
}

/**
 * Takes every record in the file and removes it (renamed first, so records appended meanwhile stay
 * for the next take). A missing file is no records; a torn last line (a crash mid-write) is skipped.
 */
export async function takeSpill(path: string): Promise<unknown[]> {
  const taken = `${path}.replaying`;
  try {
    await rename(path, taken);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  let text: string;
  try {
    text = await readFile(taken, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const records: unknown[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    try {
      records.push(JSON.parse(line));
    } catch {
      // A line cut short by a crash: nothing to recover from it.
    }
  }
  await unlink(taken);
  return records;
}
