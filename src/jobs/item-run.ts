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
  /** Who to tell on cancel: an array, as an item has one or a few (this is on every item's path). */
  private listeners: ((reason: CanceledError) => void)[] = [];

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
    const listeners = this.listeners;
    this.listeners = [];
    for (const l of listeners) l(reason);
  }

  /** Calls `fn` when the run is canceled (at once when it already is). Returns a function that removes it. */
  onCancel(fn: (reason: CanceledError) => void): () => void {
    if (this.reason) {
      fn(this.reason);
      return () => {};
    }
    this.listeners.push(fn);
    return () => {
      const i = this.listeners.indexOf(fn);
      if (i >= 0) this.listeners.splice(i, 1);
    };
  }
}
