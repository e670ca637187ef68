/**
 * Publishes the latest value of something that changes often (a progress card) at most once per interval, one
 * publish at a time, and always publishes the last value: intermediate values are dropped, never reordered.
 * Failed publishes are reported and retried with the next change or the final flush.
 */

export interface CoalescerTimers {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

const realTimers: CoalescerTimers = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => {
    const t = setTimeout(fn, ms);
    t.unref?.();
    return t;
  },
  clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
};

export interface CoalescerOptions<T> {
  publish: (value: T) => Promise<void>;
  minIntervalMs: number;
  onError?: (err: unknown) => void;
  timers?: CoalescerTimers;
}

export class Coalescer<T> {
  private latest: { value: T } | null = null;
  private dirty = false;
  private inFlight: Promise<void> | null = null;
  private timer: unknown = null;
  private lastStart = -Infinity;
  private closed = false;
  private readonly timers: CoalescerTimers;

  constructor(private readonly options: CoalescerOptions<T>) {
    this.timers = options.timers ?? realTimers;
  }

  /** A new value: published now if the interval allows, else when it has passed (only the newest survives). */
  set(value: T): void {
    if (this.closed) return;
    this.latest = { value };
    this.dirty = true;
    this.schedule();
  }

  get value(): T | null {
    return this.latest ? this.latest.value : null;
  }

  private schedule(): void {
    if (this.inFlight || this.timer !== null || !this.dirty || this.closed) return;
    const wait = this.lastStart + this.options.minIntervalMs - this.timers.now();
    if (wait <= 0) {
      void this.publishNow().catch((err) => this.options.onError?.(err));
      return;
    }
    this.timer = this.timers.setTimeout(() => {
      this.timer = null;
      this.schedule();
    }, wait);
  }

  private publishNow(): Promise<void> {
    const current = this.latest!;
    this.dirty = false;
    this.lastStart = this.timers.now();
    const run = this.options
      .publish(current.value)
      .catch((err: unknown) => {
        // Keep it owed: the next change or the final flush tries again with the newest value.
        if (this.latest === current) this.dirty = true;
        throw err;
      })
      .finally(() => {
        this.inFlight = null;
        if (!this.closed) this.schedule();
      });
    this.inFlight = run.catch(() => undefined);
    return run;
  }

  /**
   * The final publish: waits for the one in flight, respects the interval, then publishes the newest value if it
   * has not been published yet. Rejects if that last publish fails (the caller can hand it to something durable).
   * Later `set` calls are ignored.
   */
  async flush(): Promise<void> {
    this.closed = true;
    if (this.timer !== null) {
      this.timers.clearTimeout(this.timer);
      this.timer = null;
    }
    while (this.inFlight) await this.inFlight;
    if (!this.dirty || !this.latest) return;
    const wait = this.lastStart + this.options.minIntervalMs - this.timers.now();
    if (wait > 0) await new Promise<void>((resolve) => this.timers.setTimeout(resolve, wait));
    await this.publishNow();
  }

  /** Stops without publishing anything else (shutdown). */
  cancel(): void {
    this.closed = true;
    if (this.timer !== null) this.timers.clearTimeout(this.timer);
    this.timer = null;
  }
}
