import { readdirSync, readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';

const TICKS_PER_SECOND = Number(spawnSync('getconf', ['CLK_TCK']).stdout?.toString().trim() || 100);

export interface ProcInfo {
  readonly pid: number;
  readonly ppid: number;
  /** user + system CPU seconds. */
  readonly cpu: number;
  readonly cmdline: string;
}

/** Every process on the machine with its parent, CPU time and command line (Linux /proc; empty elsewhere). */
export function processes(): ProcInfo[] {
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((d) => /^\d+$/.test(d));
  } catch {
    return [];
  }
  const out: ProcInfo[] = [];
  for (const d of pids) {
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const cmdline = readFileSync(`/proc/${d}/cmdline`, 'utf8').replace(/\0/g, ' ');
      out.push({ pid: Number(d), ppid: Number(f[1]), cpu: (Number(f[11]) + Number(f[12])) / TICKS_PER_SECOND, cmdline });
    } catch {
      /* gone meanwhile */
    }
  }
  return out;
}

/** `root` and all its descendants. */
export function tree(all: readonly ProcInfo[], root: number): ProcInfo[] {
  const children = new Map<number, ProcInfo[]>();
  for (const p of all) children.set(p.ppid, [...(children.get(p.ppid) ?? []), p]);
  const out: ProcInfo[] = [];
  const visit = (pid: number) => {
    const self = all.find((p) => p.pid === pid);
    if (self) out.push(self);
    for (const c of children.get(pid) ?? []) visit(c.pid);
  };
  visit(root);
  return out;
}

/**
 * CPU seconds used so far by each named component: `components` maps a name
 * to the processes it counts (chosen from a fresh /proc listing). Processes
 * that end between two snapshots drop out, so compare snapshots of one run.
 */
export function cpuSnapshot(components: Record<string, (all: readonly ProcInfo[]) => readonly ProcInfo[]>): Record<string, number> {
  const all = processes();
  return Object.fromEntries(Object.entries(components).map(([name, pick]) => [name, pick(all).reduce((s, p) => s + p.cpu, 0)]));
}

/** CPU seconds the whole machine has been busy (all cores; /proc/stat), for "what else ran meanwhile". */
export function machineBusySeconds(): number {
  try {
    const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
    const [user, nice, system, idle, iowait, irq, softirq, steal] = f as [number, number, number, number, number, number, number, number];
    void idle;
    void iowait;
    return (user + nice + system + irq + softirq + (steal ?? 0)) / TICKS_PER_SECOND;
  } catch {
    return NaN;
  }
}
