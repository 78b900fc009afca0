/**
 * `defineJob`: a handler for one job type whose payload type follows from its declared parameters.
 */
import type { Static, TObject } from '@sinclair/typebox';
import type { Handler, HandlerContext, Item, JobDeclaration } from '../types.ts';

/** A job as `defineJob` takes it. */
export interface JobDefinition<S extends TObject, K extends string> extends Omit<JobDeclaration, 'params'> {
  /** Its key in each item's results; unique among connected handlers. */
  name: string;
  /** The item type it runs. */
  type: K;
  /** Its parameters, declared with TypeBox (`Type.Object({ ... })`): JSON Schema, checked at enqueue. */
  params: S;
  /**
   * Runs the job. Returning means success, and what it returns is the job's result (shown once the item is
   * finished); throwing means failure. Report with `ctx.progress`, `ctx.history`, `ctx.summary`; stop when
   * `ctx.signal` fires (cancel or timeout).
   */
  handle(item: Item<Static<S>, K>, ctx: HandlerContext): Promise<unknown> | unknown;
  /** Milliseconds before a run counts as failed. Default: the queue's `handlerTimeoutMs` (5 minutes). */
  timeoutMs?: number;
}

/**
 * Declares a job: `defineJob({ name: 'csv-import', type: 'csv.import', help: '...', params: Type.Object({ file:
 * Type.String() }), handle(item, ctx) { item.payload.file } })`. The payload's type is the parameters' static
 * type; export the result as a handler module's default, or `queue.connect` it.
 */
export function defineJob<S extends TObject, K extends string>(job: JobDefinition<S, K>): Handler<Static<S>> {
  const { type, params, handle, ...rest } = job;
  // The schema is stored in the workers table as JSON: TypeBox's symbols are left behind, its JSON Schema stays.
  return { ...rest, types: [type], params: JSON.parse(JSON.stringify(params)), handle: handle as Handler<Static<S>>['handle'] };
}
