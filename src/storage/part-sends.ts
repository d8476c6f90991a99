/**
 * The parts (S3) or blocks (Azure) an object-store writer is sending: a few at once, and the
 * first failure kept, to be thrown at the next write or when the writer waits for them all.
 */
export class PartSends {
  readonly #inFlight = new Set<Promise<void>>();
  #failure: Error | undefined;

  /** Sends under way. */
  get size(): number {
    return this.#inFlight.size;
  }

  /** Records a failure (the first one stands). */
  fail(err: unknown): void {
    this.#failure ??= err instanceof Error ? err : new Error(String(err));
  }

  /** Throws the first failure, if any. */
  check(): void {
    if (this.#failure) throw this.#failure;
  }

  /** Tracks one send; its failure is recorded, never thrown here. */
  add(send: Promise<unknown>): void {
    const tracked: Promise<void> = send
      .then(() => undefined)
      .catch((err: unknown) => this.fail(err))
      .finally(() => this.#inFlight.delete(tracked));
    this.#inFlight.add(tracked);
  }

  /** Waits until fewer than `limit` sends are under way; throws the first failure. */
  async below(limit: number): Promise<void> {
    while (this.#inFlight.size >= limit) await Promise.race(this.#inFlight);
    this.check();
  }

  /** Waits for every send; throws the first failure. */
  async drain(): Promise<void> {
    await this.below(1);
  }
}
