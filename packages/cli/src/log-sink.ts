import { formatServiceLine, formatPrefix } from './log-format.js';

export type Level = 'info' | 'warn' | 'error';

const NAMES = ['corral', 'postgres', 'gateway', 'auth', 'chat-api', 'web'];

export interface LogSinkOptions {
  /** Raw JSON lines (corral's own lines become JSON too). */
  json: boolean;
  colour: boolean;
  out?: NodeJS.WritableStream;
}

/** The one terminal every process writes to: each line prefixed by who wrote it. */
export class LogSink {
  private readonly width = Math.max(...NAMES.map((name) => name.length));
  private readonly out: NodeJS.WritableStream;

  constructor(private readonly options: LogSinkOptions) {
    this.out = options.out ?? process.stdout;
  }

  get json(): boolean {
    return this.options.json;
  }

  private colourIndex(name: string): number {
    const index = NAMES.indexOf(name);
    return index < 0 ? 0 : index;
  }

  /** A line a service (or PostgreSQL) wrote; non-JSON lines are wrapped in JSON with `--json`. */
  line(name: string, text: string): void {
    if (this.options.json) {
      const isJson = text.trimStart().startsWith('{');
      this.out.write(`${isJson ? text : JSON.stringify({ level: 'info', message: text, service: name })}\n`);
      return;
    }
    const formatted = formatServiceLine(name, text, {
      width: this.width,
      colour: this.options.colour,
      colourIndex: this.colourIndex(name),
      json: false,
    });
    this.out.write(`${formatted}\n`);
  }

  /** corral's own messages. */
  say(message: string, level: Level = 'info', fields: Record<string, unknown> = {}): void {
    if (this.options.json) {
      this.out.write(
        `${JSON.stringify({ level, message, service: 'corral', timestamp: new Date().toISOString(), ...fields })}\n`,
      );
      return;
    }
    const prefix = formatPrefix('corral', { width: this.width, colour: this.options.colour, colourIndex: 0 });
    const paint = (code: string) => (this.options.colour ? `\u001b[${code}m${message}\u001b[0m` : message);
    const text = level === 'error' ? paint('31') : level === 'warn' ? paint('33') : message;
    for (const line of text.split('\n')) this.out.write(`${prefix}${line}\n`);
  }

  /** A line that must stand out (the URL, the password): bold, unprefixed. */
  banner(message: string, fields: Record<string, unknown> = {}): void {
    if (this.options.json) {
      this.say(message, 'info', fields);
      return;
    }
    this.out.write(`${this.options.colour ? `\u001b[1m${message}\u001b[0m` : message}\n`);
  }
}
