import { type ChildProcess, spawn } from 'node:child_process';
import axios from 'axios';
import { LineSplitter } from './log-format.js';
import type { LogSink } from './log-sink.js';
import { delay } from './process-util.js';

const KEEP_LINES = 40;

/** One service running as a child process, its output sent to the shared terminal. */
export class ServiceProcess {
  readonly recent: string[] = [];
  private child: ChildProcess | undefined;
  private exitInfo: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private resolveExit!: (info: { code: number | null; signal: NodeJS.Signals | null }) => void;

  constructor(
    readonly label: string,
    readonly url: string,
    private readonly sink: LogSink,
  ) {
    this.exited = new Promise((resolve) => {
      this.resolveExit = resolve;
    });
  }

  start(args: string[], options: { cwd: string; env: NodeJS.ProcessEnv }): void {
    // Own process group: Ctrl-C reaches corral only, which then stops each service in order.
    const child = spawn(process.execPath, args, {
      cwd: options.cwd,
      env: options.env,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    const onLine = (line: string) => {
      this.recent.push(line);
      if (this.recent.length > KEEP_LINES) this.recent.shift();
      this.sink.line(this.label, line);
    };
    const out = new LineSplitter(onLine);
    const err = new LineSplitter(onLine);
    child.stdout?.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr?.on('data', (chunk: Buffer) => err.push(chunk));
    child.once('error', (error) => onLine(`failed to start: ${error.message}`));
    child.once('close', (code, signal) => {
      out.flush();
      err.flush();
      this.exitInfo = { code, signal };
      this.resolveExit(this.exitInfo);
    });
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get hasExited(): boolean {
    return this.exitInfo !== undefined;
  }

  describeExit(): string {
    if (!this.exitInfo) return 'is running';
    const { code, signal } = this.exitInfo;
    return signal ? `was killed by ${signal}` : `exited with code ${code}`;
  }

  /** Polls GET /readyz until 200; false if the process exits first, `shouldStop` says so, or time runs out. */
  async waitReady(timeoutMs: number, shouldStop: () => boolean): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (!this.hasExited && !shouldStop() && Date.now() < deadline) {
      try {
        const response = await axios.get(`${this.url}/readyz`, { timeout: 2000, validateStatus: () => true });
        if (response.status === 200) return true;
      } catch {
        // not listening yet
      }
      await Promise.race([delay(250), this.exited]);
    }
    return false;
  }

  /** SIGTERM, then SIGKILL after `timeoutMs`. */
  async stop(timeoutMs: number): Promise<void> {
    const child = this.child;
    if (!child || this.hasExited || child.pid === undefined) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => {
      if (!this.hasExited) {
        this.sink.say(`${this.label} did not stop within ${timeoutMs} ms; killing it`, 'warn');
        child.kill('SIGKILL');
      }
    }, timeoutMs);
    await this.exited;
    clearTimeout(timer);
  }

  kill(): void {
    if (this.child && !this.hasExited) this.child.kill('SIGKILL');
  }
}
