import { readFileSync } from 'node:fs';

/** Resident set size of a process in MiB (VmRSS from /proc/<pid>/status); NaN if it is gone. */
export function rssMiB(pid: number): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
    return match ? Number(match[1]) / 1024 : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

const CLOCK_TICKS_PER_SECOND = 100;

/** CPU time (user + system) a process has used so far, in seconds; NaN if it is gone. */
export function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may contain spaces) start after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND;
  } catch {
    return Number.NaN;
  }
}

/** Samples a value every `intervalMs` until stopped; returns the samples taken. */
export function startSampler(sample: () => number, intervalMs = 250): { stop: () => number[] } {
  const values: number[] = [sample()];
  const timer = setInterval(() => values.push(sample()), intervalMs);
  return {
    stop: () => {
      clearInterval(timer);
      values.push(sample());
      return values.filter((v) => Number.isFinite(v));
    },
  };
}

/** Busy and total jiffies of the whole machine (all cores), from /proc/stat. */
export function machineCpuTicks(): { busy: number; total: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
  const values = line.trim().split(/\s+/).slice(1).map(Number);
  const total = values.reduce((sum, v) => sum + v, 0);
  const idle = (values[3] ?? 0) + (values[4] ?? 0);
  return { busy: total - idle, total };
}

/** Measures whole-machine CPU use (0–100 % of all cores) between start() and the returned stop(). */
export function startMachineCpu(): () => number {
  const first = machineCpuTicks();
  return () => {
    const now = machineCpuTicks();
    return ((now.busy - first.busy) / Math.max(1, now.total - first.total)) * 100;
  };
}
