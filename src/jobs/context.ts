/**
 * The job part of a handler's context: `ctx.progress`, `ctx.history`, `ctx.warn`, `ctx.summary`, each checked
 * here and handed to the job writer, which coalesces and fences the writes.
 */
import { UsageError } from '../errors.ts';
import type { HandlerContext } from '../types.ts';
import type { ItemRun } from './item-run.ts';
import type { JobStateWriter } from './job-writer.ts';

/** What a handler run reports besides its outcome, bound to one item and handler. */
export type JobReports = Pick<HandlerContext, 'progress' | 'history' | 'summary'>;

/** What `runHandler` needs for a job: its reports, and the item's run (for cancel). */
export interface JobHooks {
  reports: JobReports;
  run: ItemRun | null;
}

/** Reports that go nowhere (a handler run outside a processor, as in a unit test), still checked. */
export const NO_JOB: JobHooks = {
  run: null,
  reports: {
    progress: (done, size, message) => void checkProgress(done, size, message),
    history: (r) => void checkHistory(r),
    summary: (line) => void checkSummary(line),
  },
};

/**
 * The reports of one handler on one claimed item, written through `writer`. A class, so a run costs one small
 * object rather than a closure per method (this is on every item's path).
 */
class BoundReports implements JobReports {
  constructor(
    private readonly writer: JobStateWriter,
    private readonly id: number,
    private readonly token: string,
    private readonly handler: string,
  ) {}

  progress(done: number, size?: number | null, message?: string): void {
    checkProgress(done, size, message);
    this.writer.progress(this.id, this.token, done, size ?? null, message ?? null);
  }

  history(r: { comment: string; subject?: string | number; status?: string }): void {
    checkHistory(r);
    this.writer.addHistory(this.id, this.token, this.handler, r);
  }

  summary(line: string): void {
    checkSummary(line);
    this.writer.summary(this.id, this.token, line);
  }
}

/** The reports of one handler on one claimed item, written through `writer`. */
export function jobReports(writer: JobStateWriter, id: number, token: string, handler: string): JobReports {
  return new BoundReports(writer, id, token, handler);
}

function checkProgress(done: unknown, size: unknown, message: unknown): void {
  if (typeof done !== 'number' || !Number.isFinite(done) || done < 0) {
    throw new UsageError(`ctx.progress: done ${JSON.stringify(done)} is invalid; give a number of units of at least 0`);
  }
  if (size != null && (typeof size !== 'number' || !Number.isFinite(size) || size < 0)) {
    throw new UsageError(`ctx.progress: size ${JSON.stringify(size)} is invalid; give the total number of units (at least 0), or leave it out when unknown`);
  }
  if (message != null && typeof message !== 'string') throw new UsageError(`ctx.progress: message ${JSON.stringify(message)} is not a string`);
}

function checkHistory(r: unknown): void {
  const x = r as { comment?: unknown; subject?: unknown; status?: unknown };
  if (!x || typeof x !== 'object' || typeof x.comment !== 'string') {
    throw new UsageError(`ctx.history: give { comment: string, subject?, status? }, not ${JSON.stringify(r)}`);
  }
  if (x.subject != null && typeof x.subject !== 'string' && typeof x.subject !== 'number') {
    throw new UsageError(`ctx.history: subject ${JSON.stringify(x.subject)} is invalid; give a string or a number (a person, a file, a row id)`);
  }
  if (x.status != null && typeof x.status !== 'string') throw new UsageError(`ctx.history: status ${JSON.stringify(x.status)} is not a string`);
}

function checkSummary(line: unknown): void {
  if (typeof line !== 'string') throw new UsageError(`ctx.summary: ${JSON.stringify(line)} is not a string; give one line`);
}
