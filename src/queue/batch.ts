/**
 * A claimed batch's home: its token, how many of its items still await an outcome, what became of the others
 * (one `Tally`, the same shape everywhere outcomes are counted), and a `written` promise that resolves once
 * every item is accounted for: settled and durably written, handed back, or lost to another claim.
 */

/** What became of items: the one count of outcomes (a batch, a worker's totals, the `batchEnd` event, the CLI). */
export interface Tally {
  /** Every handler succeeded; written. */
  done: number;
  /** A handler failed and the item will run again; written. */
  retry: number;
  /** Failed for good; written. */
  error: number;
  /** Canceled while claimed or running (`signalq cancel`); written. */
  canceled: number;
  /** Handed back unstarted (shutdown, or no connected handler takes the item's type). */
  handedBack: number;
  /** Outcomes dropped because the claim was lost (the lease ran out and another processor took the item). */
  lost: number;
}

/** The kinds of outcome a `Tally` counts. */
export type OutcomeKind = keyof Tally;

const OUTCOME_KINDS: readonly OutcomeKind[] = ['done', 'retry', 'error', 'canceled', 'handedBack', 'lost'];

export const emptyTally = (): Tally => ({ done: 0, retry: 0, error: 0, canceled: 0, handedBack: 0, lost: 0 });

/** Adds `from`'s counts into `into` (which may carry other fields) and returns `into`. */
export function addTally<T extends Tally>(into: T, from: Tally): T {
  for (const k of OUTCOME_KINDS) into[k] += from[k];
  return into;
}

/** What one batch did. */
export interface BatchSummary extends Tally {
  claimed: number;
  ms: number;
}

export class Batch {
  readonly tally = emptyTally();
  /** Resolves once every claimed item is accounted for (written, handed back or lost). */
  readonly written: Promise<BatchSummary>;
  private left: number;
  private finish!: (summary: BatchSummary) => void;
  private readonly startedAt = Date.now();

  constructor(
    /** The claim token every write of this batch is fenced by. */
    readonly token: string,
    readonly claimed: number,
  ) {
    this.left = claimed;
    this.written = new Promise((resolve) => (this.finish = resolve));
    if (claimed === 0) this.finish(this.summary());
  }

  /** True while some item of the batch still awaits its outcome (its lease is renewed meanwhile). */
  get open(): boolean {
    return this.left > 0;
  }

  /** Accounts for `n` items whose outcome is `kind`. */
  record(kind: OutcomeKind, n = 1): void {
    if (n <= 0 || this.left <= 0) return;
    this.tally[kind] += n;
    this.left -= n;
    if (this.left <= 0) this.finish(this.summary());
  }

  private summary(): BatchSummary {
    return { claimed: this.claimed, ...this.tally, ms: Date.now() - this.startedAt };
  }
}
