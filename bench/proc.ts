/**
 * Server resource use from /proc: peak RSS (VmHWM, reset per phase through clear_refs, plus VmRSS
 * polled every 50 ms as a fallback) and CPU seconds (utime + stime from /proc/<pid>/stat), and the
 * load generator's own CPU (process.cpuUsage).
 */
import { readFileSync, writeFileSync } from 'node:fs';

const TICKS_PER_SECOND = 100; // USER_HZ; `getconf CLK_TCK` is 100 on Linux/x86-64

function statusKiB(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'latin1');
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
    return match?.[1] === undefined ? 0 : Number(match[1]);
  } catch {
    return 0;
  }
}

/** utime + stime of `pid`, in seconds. */
export function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    // fields after the parenthesised command name; utime and stime are fields 14 and 15
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
  } catch {
    return 0;
  }
}

/** Resets VmHWM to the current RSS (writing 5 to clear_refs); false if not allowed. */
function resetPeak(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

/** A measured window, in CLOCK_MONOTONIC microseconds (the clock V8 CPU profiles use). */
export interface PhaseWindow {
  readonly label: string;
  readonly startUs: number;
  readonly endUs: number;
}

const nowUs = (): number => Number(process.hrtime.bigint() / 1000n);

export interface PhaseUse {
  /** Server CPU seconds (user + system) during the phase. */
  readonly serverCpuS: number;
  /** Server peak RSS during the phase, MiB. */
  readonly serverPeakRssMiB: number;
  /** The harness's own CPU seconds during the phase. */
  readonly loadgenCpuS: number;
  readonly wallS: number;
}

/** Watches one server process across phases, keeping its peak RSS over the whole run. */
export class ProcWatch {
  private wholePeakKiB = 0;
  private phasePeakKiB = 0;
  private timer: NodeJS.Timeout | undefined;
  private cpu0 = 0;
  private lg0: NodeJS.CpuUsage = process.cpuUsage();
  private t0 = 0;
  private label = '';
  private startUs = 0;
  /** Every measured window so far, for slicing a CPU profile by phase. */
  readonly windows: PhaseWindow[] = [];

  constructor(readonly pid: number) {
    this.sample();
  }

  private sample(): void {
    const rss = statusKiB(this.pid, 'VmRSS');
    if (rss > this.phasePeakKiB) this.phasePeakKiB = rss;
    if (rss > this.wholePeakKiB) this.wholePeakKiB = rss;
  }

  private foldHwm(): number {
    const hwm = statusKiB(this.pid, 'VmHWM');
    if (hwm > this.wholePeakKiB) this.wholePeakKiB = hwm;
    return hwm;
  }

  begin(label: string): void {
    this.label = label;
    this.startUs = nowUs();
    this.foldHwm();
    resetPeak(this.pid);
    this.phasePeakKiB = 0;
    this.sample();
    this.timer = setInterval(() => this.sample(), 50);
    this.cpu0 = cpuSeconds(this.pid);
    this.lg0 = process.cpuUsage();
    this.t0 = performance.now();
  }

  end(): PhaseUse {
    this.windows.push({ label: this.label, startUs: this.startUs, endUs: nowUs() });
    const wallS = (performance.now() - this.t0) / 1000;
    const lg = process.cpuUsage(this.lg0);
    const serverCpuS = cpuSeconds(this.pid) - this.cpu0;
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    this.sample();
    const hwm = this.foldHwm();
    return {
      serverCpuS,
      serverPeakRssMiB: Math.max(hwm, this.phasePeakKiB) / 1024,
      loadgenCpuS: (lg.user + lg.system) / 1e6,
      wallS,
    };
  }

  /** Peak RSS over everything watched so far, MiB (call before the process exits). */
  wholeRunPeakMiB(): number {
    this.sample();
    this.foldHwm();
    return this.wholePeakKiB / 1024;
  }
}
