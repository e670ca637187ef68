/** The machine a benchmark ran on, stated with every table (numbers without it mean little). */
import { arch, cpus, loadavg, release, totalmem, type } from 'node:os';

export interface MachineInfo {
  cores: number;
  cpuModel: string;
  node: string;
  os: string;
  memoryGiB: number;
}

export function machineInfo(): MachineInfo {
  const list = cpus();
  return {
    cores: list.length,
    cpuModel: (list[0]?.model ?? 'unknown').trim(),
    node: process.version,
    os: `${type()} ${release()} ${arch()}`,
    memoryGiB: Math.round((totalmem() / 1024 ** 3) * 10) / 10,
  };
}

export interface LoadSample {
  at: string;
  /** 1, 5 and 15 minute load averages. */
  loadavg: [number, number, number];
}

export function loadNow(): LoadSample {
  const [a, b, c] = loadavg();
  const r = (n: number) => Math.round(n * 100) / 100;
  return { at: new Date().toISOString(), loadavg: [r(a!), r(b!), r(c!)] };
}
