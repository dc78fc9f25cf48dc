import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

const CLK_TCK = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** CPU seconds (user + system, all threads) used by process `pid`, from /proc/<pid>/stat. */
export function cpuSecondsOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
}

/** Resident set size of process `pid`, bytes, from /proc/<pid>/status. */
export function rssOf(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : Number.NaN;
}

export const hasTaskset = spawnSync('taskset', ['-V']).status === 0;

/** Pins every thread of `pid` to `core` (no-op without taskset or with a single core). */
export function pin(pid: number, core: number, cores: number): boolean {
  if (!hasTaskset || cores < 2) return false;
  return spawnSync('taskset', ['-a', '-cp', String(core), String(pid)]).status === 0;
}
