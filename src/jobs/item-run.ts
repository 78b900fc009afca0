/**
 * One claimed item's run in this process, as cancel sees it: whether the item was canceled, and who to tell
 * (each handler run's abort signal, an isolated run's child process).
 */

/** What a run of a canceled item ends with: its item becomes `canceled`, not retried. */
export class CanceledError extends Error {
  override name = 'CanceledError';
}

export class ItemRun {
  private reason: CanceledError | null = null;
  private readonly listeners = new Set<(reason: CanceledError) => void>();

  constructor(
    readonly id: number,
    /** The claim token its writes are fenced by. */
    readonly token: string,
  ) {}

  get canceled(): boolean {
    return this.reason !== null;
  }

  /** Cancels the run: every listener is told once (at once for those added later). */
  cancel(reason = new CanceledError(`item ${this.id} was canceled`)): void {
    if (this.reason) return;
    this.reason = reason;
    for (const l of [...this.listeners]) l(reason);
    this.listeners.clear();
  }

  /** Calls `fn` when the run is canceled (at once when it already is). Returns a function that removes it. */
  onCancel(fn: (reason: CanceledError) => void): () => void {
    if (this.reason) {
      fn(this.reason);
      return () => {};
    }
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }
}
