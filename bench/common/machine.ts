// The machine a figure was measured on: cores, RAM, CPU model (from /proc/cpuinfo), Node version, and
// the load average when the bench ended (other processes share the cores: figures are only comparable
// side by side within one run).
import * as fs from 'node:fs';
import * as os from 'node:os';

export interface MachineInfo {
  cpus: number;
  cpuModel: string;
  memGiB: number;
  node: string;
  platform: string;
  /** 1, 5 and 15 minute load averages. */
  loadAvg: number[];
}

function cpuModel(): string {
  try {
    const line = fs
      .readFileSync('/proc/cpuinfo', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('model name'));
    if (line) return line.split(':').slice(1).join(':').trim();
  } catch {
    // no /proc (macOS)
  }
  return os.cpus()[0]?.model ?? 'unknown';
}

export function machineInfo(): MachineInfo {
  return {
    cpus: os.cpus().length,
    cpuModel: cpuModel(),
    memGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    platform: `${os.platform()} ${os.release()}`,
    loadAvg: os.loadavg().map((l) => Math.round(l * 100) / 100),
  };
}

/** One line for the top of a bench's table. */
export function describeMachine(m: MachineInfo = machineInfo()): string {
  return `${m.cpus} CPUs (${m.cpuModel}), ${m.memGiB} GiB, node ${m.node}, load ${m.loadAvg.join(' ')}`;
}
