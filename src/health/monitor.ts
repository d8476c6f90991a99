/**
 * Health checks run periodically, each with its own interval and failure threshold, as
 * distribution's `health` package does: a check is failing once it has failed `threshold` times
 * in a row (at the first failure when the threshold is 0 or 1), and healthy again at its next
 * success. Unlike distribution, each check also runs once at start-up instead of waiting one
 * interval, so readiness is known from the start.
 */
export interface HealthCheck {
  /** The key in /debug/health's answer (distribution's: `storagedriver_<driver>`, the file, the URI, the address). */
  readonly name: string;
  readonly intervalMs: number;
  readonly threshold: number;
  /** Resolves when healthy; rejects with the reason otherwise. */
  run(): Promise<void>;
}

interface CheckState {
  failures: number;
  error: string | undefined;
  running: boolean;
}

export class HealthMonitor {
  private readonly states = new Map<HealthCheck, CheckState>();
  private readonly timers: NodeJS.Timeout[] = [];

  constructor(readonly checks: readonly HealthCheck[]) {
    for (const check of checks) this.states.set(check, { failures: 0, error: undefined, running: false });
  }

  /** Runs every check now and then at its interval. */
  start(): void {
    for (const check of this.checks) {
      void this.runOnce(check);
      const timer = setInterval(() => void this.runOnce(check), Math.max(check.intervalMs, 100));
      timer.unref();
      this.timers.push(timer);
    }
  }

  stop(): void {
    for (const timer of this.timers.splice(0)) clearInterval(timer);
  }

  /** Runs one check and records its outcome (a run still going is not started again). */
  async runOnce(check: HealthCheck): Promise<void> {
    const state = this.states.get(check);
    if (state === undefined || state.running) return;
    state.running = true;
    try {
      await check.run();
      state.failures = 0;
      state.error = undefined;
    } catch (err) {
      state.failures++;
      if (state.failures >= Math.max(check.threshold, 1)) state.error = err instanceof Error ? err.message : String(err);
    } finally {
      state.running = false;
    }
  }

  /** Every failing check and its error, as /debug/health answers (empty when all is well). */
  failing(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [check, state] of this.states) if (state.error !== undefined) out[check.name] = state.error;
    return out;
  }
}

/** Whether this instance should get traffic: not while draining, not while a check fails. */
export class Readiness {
  private drainingSince: number | undefined;

  constructor(private readonly monitor: HealthMonitor | undefined) {}

  /** From now on the instance reports not ready (it is shutting down). */
  drain(): void {
    this.drainingSince ??= Date.now();
  }

  get draining(): boolean {
    return this.drainingSince !== undefined;
  }

  /** Ready or not, and why not: failing checks by name, and `draining` while shutting down. */
  status(): { readonly ready: boolean; readonly failing: Readonly<Record<string, string>> } {
    const failing: Record<string, string> = { ...this.monitor?.failing() };
    if (this.drainingSince !== undefined) failing['draining'] = 'the server is shutting down';
    return { ready: Object.keys(failing).length === 0, failing };
  }
}
