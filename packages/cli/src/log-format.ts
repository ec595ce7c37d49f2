/**
 * Turns the services' JSON log lines into one readable terminal stream:
 * `auth     | 12:03:04.123 info  message key=value …`, coloured when the terminal is a TTY.
 */

const ANSI = {
  reset: '\u001b[0m',
  dim: '\u001b[2m',
  bold: '\u001b[1m',
  red: '\u001b[31m',
  green: '\u001b[32m',
  yellow: '\u001b[33m',
  blue: '\u001b[34m',
  magenta: '\u001b[35m',
  cyan: '\u001b[36m',
  gray: '\u001b[90m',
} as const;

type Colour = keyof typeof ANSI;

const SERVICE_COLOURS: Colour[] = ['cyan', 'magenta', 'blue', 'green', 'yellow'];
const LEVEL_COLOURS: Record<string, Colour> = {
  error: 'red',
  warn: 'yellow',
  info: 'green',
  http: 'gray',
  verbose: 'gray',
  debug: 'gray',
  silly: 'gray',
};
/** Fields shown in their own column (or dropped: the prefix already names the service). */
const HEADER_FIELDS = new Set(['level', 'message', 'service', 'timestamp', 'time']);

export interface PrefixOptions {
  /** Width the service names are padded to, so the columns line up. */
  width: number;
  colour: boolean;
  /** Index into the service palette (stable per service). */
  colourIndex?: number;
}

export interface FormatOptions extends PrefixOptions {
  /** Keep raw JSON lines (only the prefix is added). */
  json: boolean;
}

const paint = (enabled: boolean, colour: Colour, text: string): string =>
  enabled ? `${ANSI[colour]}${text}${ANSI.reset}` : text;

export function formatPrefix(name: string, options: PrefixOptions): string {
  const colour = SERVICE_COLOURS[(options.colourIndex ?? 0) % SERVICE_COLOURS.length] ?? 'cyan';
  return `${paint(options.colour, colour, name.padEnd(options.width))} ${paint(options.colour, 'dim', '|')} `;
}

const pad2 = (n: number): string => String(n).padStart(2, '0');

/** Local wall-clock time of an ISO timestamp, `HH:MM:SS.mmm`; the input unchanged if it is not a date. */
export function formatTime(value: unknown): string {
  if (typeof value !== 'string' && typeof value !== 'number') return '';
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) return String(value);
  const ms = String(date.getMilliseconds()).padStart(3, '0');
  return `${pad2(date.getHours())}:${pad2(date.getMinutes())}:${pad2(date.getSeconds())}.${ms}`;
}

/** `key=value`: bare when the value is a simple word, JSON-quoted otherwise. */
export function formatField(key: string, value: unknown): string {
  if (value === null || value === undefined) return `${key}=${String(value)}`;
  if (typeof value === 'number' || typeof value === 'boolean') return `${key}=${value}`;
  if (typeof value === 'string') {
    return /^[\w.:/@+\-[\],]+$/.test(value) ? `${key}=${value}` : `${key}=${JSON.stringify(value)}`;
  }
  return `${key}=${JSON.stringify(value)}`;
}

function stackOf(value: unknown): string | undefined {
  if (value && typeof value === 'object' && 'stack' in value && typeof value.stack === 'string') {
    return value.stack;
  }
  return undefined;
}

/** One service log line → one (or, for an error with a stack, several) terminal lines, no prefix. */
export function prettifyLogLine(line: string, colour = false): string {
  const trimmed = line.trim();
  if (!trimmed.startsWith('{')) return line;
  let entry: unknown;
  try {
    entry = JSON.parse(trimmed);
  } catch {
    return line;
  }
  if (!entry || typeof entry !== 'object' || Array.isArray(entry)) return line;
  const record = entry as Record<string, unknown>;
  const level = typeof record.level === 'string' ? record.level : 'info';
  const message = typeof record.message === 'string' ? record.message : JSON.stringify(record.message ?? '');
  const parts: string[] = [];
  const time = formatTime(record.timestamp ?? record.time);
  if (time) parts.push(paint(colour, 'gray', time));
  parts.push(paint(colour, LEVEL_COLOURS[level] ?? 'reset', level.padEnd(5)));
  parts.push(level === 'error' ? paint(colour, 'bold', message) : message);
  const stacks: string[] = [];
  for (const [key, value] of Object.entries(record)) {
    if (HEADER_FIELDS.has(key)) continue;
    const stack = stackOf(value);
    if (stack) {
      const { stack: _stack, ...rest } = value as Record<string, unknown>;
      parts.push(formatField(key, rest));
      stacks.push(stack);
    } else {
      parts.push(paint(colour, 'dim', formatField(key, value)));
    }
  }
  const head = parts.join(' ');
  if (stacks.length === 0) return head;
  const indented = stacks.flatMap((stack) => stack.split('\n').map((text) => `    ${text}`));
  return [head, ...indented].join('\n');
}

/** A complete output line: prefix, then the prettified (or raw with `json`) text; multi-line texts repeat the prefix. */
export function formatServiceLine(name: string, line: string, options: FormatOptions): string {
  const prefix = formatPrefix(name, options);
  const body = options.json ? line : prettifyLogLine(line, options.colour);
  return body
    .split('\n')
    .map((text) => `${prefix}${text}`)
    .join('\n');
}

/** Splits a byte stream into lines (the last partial line is kept until its newline or `flush`). */
export class LineSplitter {
  private rest = '';
  constructor(private readonly onLine: (line: string) => void) {}

  push(chunk: Buffer | string): void {
    const text = this.rest + chunk.toString();
    const lines = text.split(/\r?\n/);
    this.rest = lines.pop() ?? '';
    for (const line of lines) if (line.length > 0) this.onLine(line);
  }

  flush(): void {
    if (this.rest.length > 0) this.onLine(this.rest);
    this.rest = '';
  }
}
