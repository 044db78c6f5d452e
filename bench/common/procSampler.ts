// Samples one process's memory and CPU from /proc (Linux): VmRSS and VmHWM (the kernel's peak RSS)
// from /proc/<pid>/status, utime + stime from /proc/<pid>/stat. Threads count too (Temporal's Rust
// core runs in the worker process), children do not. Sampling costs a few file reads per tick.
import * as fs from 'node:fs';

/** Clock ticks per second of /proc/<pid>/stat times (USER_HZ; 100 on Linux x86-64 and arm64). */
const CLOCK_TICKS = 100;

export interface ProcSample {
  /** ms since the sampler started. */
  atMs: number;
  rssMiB: number;
  /** CPU seconds used since the process started (user + system). */
  cpuSeconds: number;
}

export interface ProcSummary {
  pid: number;
  samples: number;
  wallSeconds: number;
  /** Peak resident memory: max of VmHWM (kernel peak) and the sampled VmRSS. */
  peakRssMiB: number;
  /** RSS at the last sample. */
  lastRssMiB: number;
  /** CPU seconds used while sampled. */
  cpuSeconds: number;
  /** cpuSeconds / wallSeconds, in % of one core. */
  avgCpuPercent: number;
  /** Highest CPU use over any `windowSeconds` window, in % of one core. */
  peakCpuPercent: number;
  windowSeconds: number;
}

function readKiB(status: string, key: string): number | undefined {
  const m = new RegExp(`^${key}:\\s+(\\d+)\\s+kB`, 'm').exec(status);
  return m ? Number(m[1]) : undefined;
}

/** One reading, or undefined once the process is gone. */
export function readProc(pid: number): { rssMiB: number; hwmMiB: number; cpuSeconds: number } | undefined {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may contain spaces) start after the last ')'; utime and
    // stime are fields 14 and 15 of the whole line, i.e. 12th and 13th after it.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    return {
      rssMiB: (readKiB(status, 'VmRSS') ?? 0) / 1024,
      hwmMiB: (readKiB(status, 'VmHWM') ?? 0) / 1024,
      cpuSeconds: ticks / CLOCK_TICKS,
    };
  } catch {
    return undefined;
  }
}

export class ProcSampler {
  private readonly samples: ProcSample[] = [];
  private hwmMiB = 0;
  /** When the sampler started (epoch ms); samples' atMs count from here. */
  readonly startedAtMs = Date.now();
  private readonly timer: NodeJS.Timeout;

  constructor(
    readonly pid: number,
    intervalMs = 1000,
    private readonly windowSeconds = 10,
  ) {
    this.sample();
    this.timer = setInterval(() => this.sample(), intervalMs);
    this.timer.unref();
  }

  private sample(): void {
    const r = readProc(this.pid);
    if (!r) return;
    this.hwmMiB = Math.max(this.hwmMiB, r.hwmMiB);
    this.samples.push({ atMs: Date.now() - this.startedAtMs, rssMiB: r.rssMiB, cpuSeconds: r.cpuSeconds });
  }

  /** Takes a last sample, stops, and summarizes. */
  stop(): ProcSummary {
    this.sample();
    clearInterval(this.timer);
    return this.summary();
  }

  /**
   * The samples taken between two epoch times: highest RSS, CPU seconds used and the span they cover
   * (undefined with fewer than two samples in the window).
   */
  between(fromMs: number, toMs: number): { maxRssMiB: number; cpuSeconds: number; seconds: number } | undefined {
    const inside = this.samples.filter((x) => x.atMs + this.startedAtMs >= fromMs && x.atMs + this.startedAtMs <= toMs);
    if (inside.length < 2) return undefined;
    const first = inside[0];
    const last = inside[inside.length - 1];
    return {
      maxRssMiB: Math.max(...inside.map((x) => x.rssMiB)),
      cpuSeconds: last.cpuSeconds - first.cpuSeconds,
      seconds: (last.atMs - first.atMs) / 1000,
    };
  }

  summary(): ProcSummary {
    const s = this.samples;
    const first = s[0];
    const last = s[s.length - 1];
    const wallSeconds = first && last ? (last.atMs - first.atMs) / 1000 : 0;
    const cpuSeconds = first && last ? last.cpuSeconds - first.cpuSeconds : 0;
    let peak = 0;
    let j = 0;
    for (let i = 0; i < s.length; i++) {
      while (j < i && s[i].atMs - s[j].atMs > this.windowSeconds * 1000) j++;
      const span = (s[i].atMs - s[j].atMs) / 1000;
      if (span >= this.windowSeconds * 0.5) peak = Math.max(peak, ((s[i].cpuSeconds - s[j].cpuSeconds) / span) * 100);
    }
    return {
      pid: this.pid,
      samples: s.length,
      wallSeconds: Math.round(wallSeconds * 10) / 10,
      peakRssMiB: Math.round(Math.max(this.hwmMiB, ...s.map((x) => x.rssMiB))),
      lastRssMiB: Math.round(last?.rssMiB ?? 0),
      cpuSeconds: Math.round(cpuSeconds * 10) / 10,
      avgCpuPercent: wallSeconds > 0 ? Math.round((cpuSeconds / wallSeconds) * 1000) / 10 : 0,
      peakCpuPercent: Math.round(peak * 10) / 10,
      windowSeconds: this.windowSeconds,
    };
  }
}
