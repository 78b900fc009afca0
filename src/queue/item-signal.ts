/**
 * The `processItem` signal of one claimed item, as the processor sends it to every connected handler.
 */
import type { ProcessItemSignal } from '../signals.ts';
import type { HandlerOutcome, Item } from '../types.ts';
import type { ItemRun } from '../jobs/item-run.ts';
import type { JobStateWriter } from '../jobs/job-writer.ts';
import { jobReports, type JobHooks } from '../jobs/context.ts';

/**
 * The `processItem` signal of one item: collects the runs its handlers hand over and gives each its job hooks. A
 * class, so an item costs one object rather than two closures (this is on every item's path).
 */
export class ItemSignal implements ProcessItemSignal {
  readonly results: Item['results'];
  readonly runs: Promise<HandlerOutcome>[] = [];

  constructor(
    readonly item: Item,
    private readonly token: string,
    private readonly itemRun: ItemRun,
    private readonly writer: JobStateWriter,
  ) {
    this.results = item.results;
  }

  run(_handler: string, outcome: Promise<HandlerOutcome>): void {
    this.runs.push(outcome);
  }

  job(handler: string): JobHooks {
    return { reports: jobReports(this.writer, this.item.id, this.token, handler), run: this.itemRun };
  }
}
