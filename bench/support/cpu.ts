import { readFileSync } from 'node:fs';

/**
 * Where the CPU went during a measured window. On a small machine the client (this
 * Node process) and PostgreSQL share the cores, so a rate is only readable beside it.
 */
export interface CpuSnapshot {
  at: number;
  /** This process, user + system, microseconds. */
  processMicros: number;
  /** The whole host from /proc/stat (Linux), in clock ticks; null elsewhere. */
  host: { busy: number; total: number } | null;
}

export interface CpuUsage {
  /** CPU time this Node process spent per operation, microseconds. */
  clientMicrosPerOp: number;
  /** Share of all the host's cores that was busy (everything: client, server, others), 0-100. */
  hostBusyPercent: number | null;
  /** Host CPU time per operation, microseconds (client + server + whatever else ran). */
  hostMicrosPerOp: number | null;
}

function readHost(): { busy: number; total: number } | null {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0] ?? '';
    const fields = line.trim().split(/\s+/).slice(1).map(Number);
    if (fields.length < 4 || fields.some((value) => !Number.isFinite(value))) return null;
    // user nice system idle iowait irq softirq steal [guest guest_nice, already in user]
    const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = fields;
    const busy = user + nice + system + irq + softirq + steal;
    return { busy, total: busy + idle + iowait };
  } catch {
    return null;
  }
}

export function cpuSnapshot(): CpuSnapshot {
  const usage = process.cpuUsage();
  return { at: performance.now(), processMicros: usage.user + usage.system, host: readHost() };
}

export function cpuBetween(from: CpuSnapshot, to: CpuSnapshot, operations: number, cores: number): CpuUsage {
  const ops = Math.max(1, operations);
  const clientMicrosPerOp = (to.processMicros - from.processMicros) / ops;
  if (!from.host || !to.host || to.host.total <= from.host.total) {
    return { clientMicrosPerOp, hostBusyPercent: null, hostMicrosPerOp: null };
  }
  const busy = to.host.busy - from.host.busy;
  const total = to.host.total - from.host.total;
  return {
    clientMicrosPerOp,
    hostBusyPercent: (busy / total) * 100,
    hostMicrosPerOp: ((busy / total) * cores * (to.at - from.at) * 1000) / ops,
  };
}
