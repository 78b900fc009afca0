/**
 * The audit-log handler through a real queue on SQLite and MySQL/MariaDB: rows in the app's table, exactly once.
 */
import { describe, expect, it } from 'vitest';
import auditLog, { auditOptionsFromEnv, type AuditPayload, createAuditLogHandler, ensureAuditTable } from '../../handlers/audit-log.ts';
import type { Queue } from '../../src/queue/queue.ts';
import type { HandlerContext, Item } from '../../src/types.ts';
import { DIALECTS } from '../helpers/databases.ts';
import { freshQueue } from '../helpers/queue.ts';
import { NO_JOB } from '../../src/jobs/context.ts';

/** The context the queue gives the handler on an item, for running it by hand as a crashed worker would have. */
function contextFor(q: Queue<any>, item: Item): HandlerContext {
  return { attempt: 1, idempotencyKey: `${item.id}:audit-log`, signal: new AbortController().signal, knex: q.knex, ...NO_JOB.reports, warn: () => {} };
}

describe('audit-log options from the environment', () => {
  it('needs no configuration: table app_audit_log', () => {
    expect(auditOptionsFromEnv({})).toEqual({ table: 'app_audit_log' });
    expect(auditOptionsFromEnv({ SIGNALQ_AUDIT_TABLE: ' shop_audit ' })).toEqual({ table: 'shop_audit' });
  });

  it.each(['audit log', 'x;drop table y', '1audit', 'a'.repeat(42)])('refuses SIGNALQ_AUDIT_TABLE=%s, naming it', (name) => {
    expect(() => auditOptionsFromEnv({ SIGNALQ_AUDIT_TABLE: name })).toThrow(`audit table name ${JSON.stringify(name)} is invalid`);
  });
});

describe.each(DIALECTS)('audit-log handler on %s', (dialect) => {
  it('creates the table and writes one row per item, then goes done', async () => {
    const q = await freshQueue(dialect);
    q.connect(auditLog);
    const { id } = await q.enqueue('audit', { action: 'order.refunded', actor: 'user:7', subject: 'order:42', details: { amount: '9.90', reason: 'damaged' } });
    expect(await q.process()).toMatchObject({ claimed: 1, done: 1 });
    const item = await q.admin.get(id);
    expect(item?.status).toBe('done');
    const rows = await q.knex('app_audit_log').select();
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      item_id: id,
      idempotency_key: `${id}:audit-log`,
      action: 'order.refunded',
      actor: 'user:7',
      subject: 'order:42',
    });
    expect(JSON.parse(rows[0].details)).toEqual({ amount: '9.90', reason: 'damaged' });
    expect(Number(rows[0].occurred_at)).toBe(item!.createdAt.getTime());
    expect(Number(rows[0].created_at)).toBeGreaterThanOrEqual(Number(rows[0].occurred_at));
  });

  it('stores null for the optional fields left out', async () => {
    const q = await freshQueue(dialect);
    q.connect(auditLog);
    const { id } = await q.enqueue('audit', { action: 'login' });
    await q.process();
    expect((await q.admin.get(id))?.status).toBe('done');
    expect(await q.knex('app_audit_log').select('action', 'actor', 'subject', 'details')).toEqual([{ action: 'login', actor: null, subject: null, details: null }]);
  });

  it('writes no second row when rerun for the same item (a crash after the insert)', async () => {
    const q = await freshQueue(dialect);
    q.connect(auditLog);
    const { id } = await q.enqueue('audit', { action: 'user.deleted', actor: 'admin:1' });
    const item = (await q.admin.get(id)) as Item<AuditPayload>;
    // A worker that inserted the row and died before recording the outcome: the item is still pending.
    await auditLog.handle(item, contextFor(q, item));
    await auditLog.handle(item, contextFor(q, item));
    expect(await q.process()).toMatchObject({ claimed: 1, done: 1 });
    const rows = await q.knex('app_audit_log').where({ item_id: id }).select();
    expect(rows).toHaveLength(1);
    expect(rows[0].idempotency_key).toBe(`${id}:audit-log`);
  });

  it('writes every item of a concurrent batch once, creating the table once', async () => {
    const q = await freshQueue(dialect);
    q.connect(auditLog);
    const { inserted } = await q.enqueueMany(Array.from({ length: 25 }, (_, i) => ({ type: 'audit', payload: { action: 'bulk', subject: `row:${i}` } })));
    expect(inserted).toBe(25);
    expect(await q.process()).toMatchObject({ claimed: 25, done: 25, retry: 0, error: 0 });
    const rows = await q.knex('app_audit_log').select('subject');
    expect(rows.map((r) => r.subject).sort()).toEqual(Array.from({ length: 25 }, (_, i) => `row:${i}`).sort());
  });

  it('uses a table the app already made, under the configured name', async () => {
    const q = await freshQueue(dialect);
    await ensureAuditTable(q.knex, 'shop_audit');
    await q.knex('shop_audit').insert({ item_id: 0, idempotency_key: 'manual', action: 'seed', occurred_at: 1, created_at: 1 });
    q.connect(createAuditLogHandler({ table: 'shop_audit' }));
    const { id } = await q.enqueue('audit', { action: 'price.changed' });
    await q.process();
    expect((await q.admin.get(id))?.status).toBe('done');
    expect((await q.knex('shop_audit').select('action').orderBy('id')).map((r) => r.action)).toEqual(['seed', 'price.changed']);
    expect(await q.knex.schema.hasTable('app_audit_log')).toBe(false);
  });

  it.each([
    [{}, '"action" must be a string of 1-100 characters, got nothing'],
    [{ action: '  ' }, '"action" must be a string of 1-100 characters, got "  "'],
    [{ action: 7 }, '"action" must be a string of 1-100 characters, got 7'],
    [{ action: 'x'.repeat(101) }, '"action" must be a string of 1-100 characters'],
    [{ action: 'ok', actor: 12 }, '"actor" must be a string of at most 255 characters, got 12'],
    [{ action: 'ok', subject: 'y'.repeat(256) }, '"subject" must be a string of at most 255 characters'],
    ['login', 'payload must be an object { action, actor?, subject?, details? }, got "login"'],
  ])('refuses payload %j at once, naming the field', async (payload, message) => {
    const q = await freshQueue(dialect);
    q.connect(auditLog);
    const { id } = await q.enqueue('audit', payload);
    expect(await q.process()).toMatchObject({ error: 1 });
    const item = await q.admin.get(id);
    expect(item).toMatchObject({ status: 'error', trials: 1 });
    expect(item?.results['audit-log'].error).toContain(`audit item ${id}: ${message}`);
  });
});
