/**
 * signalq's public API.
 */
export { createQueue, Queue, type EnqueueResult, type EnqueueManyResult, type TypedEnqueueItem } from './queue/queue.ts';
export { defineHandlers, type HandlerTypes } from './queue/typed-handlers.ts';
export type { EnqueueOptions, EnqueueManyItem } from './queue/enqueue.ts';
export type { BatchSummary, Tally } from './queue/batch.ts';
export type { WorkTotals } from './worker/work-loop.ts';
export type { QueueStats, WorkerInfo, HistoryRecord } from './admin/admin.ts';
export { defineJob, type JobDefinition } from './jobs/define.ts';
export { CanceledError } from './jobs/item-run.ts';
export type { CancelResult } from './jobs/cancel.ts';
export type { JobType } from './jobs/declarations.ts';
export { MAX_HISTORY_PER_ITEM } from './jobs/job-writer.ts';
export { Type, type Static } from '@sinclair/typebox';
export { loadHandlers } from './queue/load-handlers.ts';
export { parseDatabaseUrl, type QueueOptions } from './config.ts';
export { UsageError, PermanentError, RetryLaterError, LockBusyError, DatabaseError, HandlerTimeoutError } from './errors.ts';
export type { SignalqEvents, QueueEvents, ProcessItemSignal } from './signals.ts';
export * from './types.ts';
import type { Handler } from './types.ts';

/**
 * Types a handler's payload: `export default defineHandler<{ url: string }>({ name, types, handle })`. Its types are
 * not checked against an item map; `defineHandlers<Items>()` and `queue.handle` check both.
 */
export function defineHandler<P = unknown>(handler: Handler<P>): Handler<P> {
  return handler;
}
export { migrationSource, MIGRATIONS_TABLE } from './db/migrate.ts';
export { CrontabAdmin, type CronListing, type CronLogEntry, type CrontabDocument } from './schedules/admin.ts';
export { CrontabRunner, type CrontabRunnerOptions, type DueSummary } from './schedules/scheduler.ts';
export type { CronSpec, Cron, CrontabOptions } from './schedules/crontab.ts';
export type { MissedPolicy } from './schedules/policy.ts';
export type { CronRunStatus } from './schedules/log-status.ts';
