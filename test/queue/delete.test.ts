/**
 * Deleting one item (`queue.admin.delete`), on SQLite and MySQL/MariaDB: any item that is not running goes, an
 * `in_progress` one is refused naming who holds it and until when, and a missing one is named.
 */
import { describe, expect, it } from 'vitest';
import { PermanentError, UsageError } from '../../src/errors.ts';
import { deleteItem } from '../../src/db/sql/deleteItem.ts';
import { DIALECTS } from '../helpers/databases.ts';
import { freshQueue } from '../helpers/queue.ts';

describe.each(DIALECTS)('delete on %s', (dialect) => {
  it('deletes a pending item of a type no handler takes, a done one and an error one, returning each as it was', async () => {
    const q = await freshQueue(dialect);
    q.connect({ name: 'h', types: ['mail', 'bad'], handle: (item) => { if (item.type === 'bad') throw new PermanentError('no'); } });
    const typo = await q.enqueue('mial', { to: 'ada' });
    const done = await q.enqueue('mail', { to: 'ada' });
    const failed = await q.enqueue('bad', {});
    await q.process();
    expect(await q.admin.delete(typo.id)).toMatchObject({ id: typo.id, type: 'mial', status: 'pending', payload: { to: 'ada' } });
    expect(await q.admin.delete(done.id)).toMatchObject({ id: done.id, status: 'done' });
    expect(await q.admin.delete(failed.id)).toMatchObject({ id: failed.id, status: 'error' });
    expect((await q.admin.stats()).total).toBe(0);
    await expect(q.admin.delete(typo.id)).rejects.toThrow(`no item with id ${typo.id}`);
  });

  it('frees the dedupe key of the item it deletes', async () => {
    const q = await freshQueue(dialect);
    const first = await q.enqueue('t', { v: 1 }, { key: 'order-7' });
    expect((await q.enqueue('t', { v: 2 }, { key: 'order-7' })).created).toBe(false);
    await q.admin.delete(first.id);
    expect((await q.enqueue('t', { v: 3 }, { key: 'order-7' })).created).toBe(true);
  });

  it('refuses an in_progress item, naming its owner and lease, and deletes it once it is settled', async () => {
    const q = await freshQueue(dialect, { owner: 'app-host:4242' });
    let release!: () => void;
    const started = new Promise<void>((resolve) => {
      q.connect({ name: 'slow', types: '*', handle: () => { resolve(); return new Promise<void>((r) => (release = r)); } });
    });
    const { id } = await q.enqueue('t', {});
    const batch = q.process();
    await started;
    const err = await q.admin.delete(id).then(() => null, (e: unknown) => e);
    expect(err).toBeInstanceOf(UsageError);
    expect((err as Error).message).toMatch(
      new RegExp(`^item ${id} is in_progress, held by app-host:4242 with a lease until \\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z; wait until it is settled and delete it then \\(if that processor is gone, the item is taken back once its lease runs out\\)$`),
    );
    expect((await q.admin.get(id))?.status).toBe('in_progress');
    // An item claimed between delete's read (pending) and its statement: the statement leaves it alone.
    expect(await deleteItem(q.knex, id, 'pending')).toBe(false);
    expect((await q.admin.get(id))?.status).toBe('in_progress');
    release();
    expect(await batch).toMatchObject({ done: 1 });
    expect(await q.admin.delete(id)).toMatchObject({ status: 'done' });
  });

  it('refuses an id no item can have, naming it', async () => {
    const q = await freshQueue(dialect);
    for (const id of [0, -1, 1.5, Number.NaN]) await expect(q.admin.delete(id)).rejects.toThrow(`item id ${JSON.stringify(id)} is invalid; use a whole number of at least 1`);
  });
});
