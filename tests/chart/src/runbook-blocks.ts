/**
 * The runbook steps docs/operations.md marks as runnable here: a fenced sh block right after
 * `<!-- runbook-test: <name> -->`. Tests run the text exactly as the document has it.
 */
export interface RunbookBlock {
  name: string;
  command: string;
}

const MARKED_BLOCK = /<!--\s*runbook-test:\s*([\w.-]+)\s*-->\s*\n\s*```(?:sh|bash|shell)\n([\s\S]*?)\n```/g;

export function runbookBlocks(markdown: string): RunbookBlock[] {
  return [...markdown.matchAll(MARKED_BLOCK)].map((match) => ({
    name: match[1] ?? '',
    command: match[2] ?? '',
  }));
}
