/**
 * The csv-import job on SQLite and MariaDB with a generated file of thousands of rows, some bad: each good row
 * imported once, each bad one rejected with a history record naming its line, in order; progress to 100%; its
 * parameters checked at enqueue; a cancel honoured between rows; a second run of the same item imports nothing
 * twice. The kill -9 test with real processes is test/processes/csv-import-kill.test.ts.
 */
import { writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import csvImport, { columnsOf, judgeRow } from '../../handlers/csv-import.ts';
import { DIALECTS } from '../helpers/databases.ts';
import { freshQueue, sameDatabase } from '../helpers/queue.ts';
import { contactsFile } from '../helpers/csv-file.ts';

describe('csv-import rows', () => {
  const columns = { email: 0, name: 1, count: 2 };
  it('accepts a row with an email, lower-cased, and rejects each kind of bad row with its reason', () => {
    const seen = new Map<string, number>();
    expect(judgeRow(['Ada@Example.com', ' Ada '], columns, seen, 2)).toEqual({ ok: true, email: 'ada@example.com', name: 'Ada' });
    expect(judgeRow(['ada@example.COM', 'Again'], columns, seen, 3)).toEqual({ ok: false, reason: 'email ada@example.COM repeats line 2' });
    expect(judgeRow(['', 'x'], columns, seen, 4)).toEqual({ ok: false, reason: 'has no email' });
    expect(judgeRow(['ada at home', 'x'], columns, seen, 5)).toEqual({ ok: false, reason: 'email "ada at home" is not an email address' });
    expect(judgeRow(['b@c.de'], columns, seen, 6)).toEqual({ ok: false, reason: 'has 1 fields, the header has 2' });
    expect(judgeRow(['b@c.de', 'n'.repeat(256)], columns, seen, 7)).toEqual({ ok: false, reason: 'name is 256 characters long, over 255' });
  });

  it('needs an email column in the header', () => {
    expect(columnsOf(['Name', ' EMAIL '], 'a.csv')).toEqual({ email: 1, name: 0, count: 2 });
    expect(() => columnsOf(['name', 'mail'], 'a.csv')).toThrow('a.csv has no email column (its header is "name,mail"); give the file a header line naming an email column');
  });
});

describe.each(DIALECTS)('csv-import job on %s', (dialect) => {
  it('imports every good row of 5,000 once and rejects each bad one with a history record, in order', async () => {
    const q = await freshQueue(dialect, { progressFlushMs: 50 });
    q.connect(csvImport);
    const file = contactsFile(5000);
    const { id } = await q.enqueue('csv.import', { file: file.path, batchSize: 100 });
    expect(await q.process()).toMatchObject({ claimed: 1, done: 1 });
    const item = (await q.admin.get(id))!;
    expect(item.payload).toMatchObject({ table: 'imported_contacts', delimiter: ',', dryRun: false });
    expect(item.results['csv-import'].value).toEqual({ imported: file.good.size, rejected: file.badLines.length, table: 'imported_contacts', dryRun: false });
    expect(item.summary).toBe(`imported ${file.good.size} rows into imported_contacts, rejected ${file.badLines.length}`);
    expect(item.progress).toMatchObject({ percent: 100, message: 'line 5001' });
    const emails = (await q.knex('imported_contacts').select('email')).map((r: { email: string }) => r.email);
    expect(emails).toHaveLength(file.good.size);
    expect(new Set(emails)).toEqual(file.good);
    const history = await q.admin.history(id, { limit: 1000 });
    expect(history.map((h) => h.subject)).toEqual(file.badLines.map((l) => `line ${l}`));
    expect(history.every((h) => h.status === 'rejected' && h.handler === 'csv-import')).toBe(true);
    expect(history.find((h) => h.subject === 'line 501')!.comment).toBe('line 501 email PERSON1@example.com repeats line 2');
    expect(history.find((h) => h.subject === 'line 1010')!.comment).toMatch(/^line 1010 cannot be read as CSV: Invalid Opening Quote/);
    // Run again on the same item (a retry after its outcome was lost): it resumes after the last line, adds nothing.
    await q.knex('signalq_items').where({ id }).update({ status: 'pending' });
    expect(await q.process()).toMatchObject({ done: 1 });
    expect(await q.knex('imported_contacts').count({ c: '*' })).toEqual([{ c: file.good.size }]);
    expect((await q.admin.get(id))!.results['csv-import'].value).toMatchObject({ imported: file.good.size, rejected: file.badLines.length });
    expect((await q.admin.history(id, { limit: 1000 })).filter((h) => h.status === 'rejected')).toHaveLength(file.badLines.length);
  });

  it('refuses bad parameters at enqueue, fails for good on a missing file or header, and writes nothing on a dry run', async () => {
    const q = await freshQueue(dialect);
    q.connect(csvImport);
    await expect(q.enqueue('csv.import', { table: 'a b', delimiter: ';;', dryRun: 'no' })).rejects.toThrow(
      /payload of csv.import is invalid: file is required; table must match pattern .*; delimiter must NOT have more than 1 characters \(got ";;"\); dryRun must be boolean \(got "no"\)/,
    );
    expect((await q.admin.stats()).total).toBe(0);
    const missing = await q.enqueue('csv.import', { file: '/no/such/file.csv' });
    const noHeader = contactsFile(1);
    writeFileSync(noHeader.path, 'name,mail\nAda,ada@example.com\n');
    const headless = await q.enqueue('csv.import', { file: noHeader.path });
    const file = contactsFile(300);
    const dry = await q.enqueue('csv.import', { file: file.path, dryRun: true, table: 'dry_contacts' });
    expect(await q.process()).toMatchObject({ claimed: 3, done: 1, error: 2 });
    expect((await q.admin.get(missing.id))!.results['csv-import'].error).toBe('file /no/such/file.csv cannot be read (ENOENT); give a path the worker can read');
    expect((await q.admin.get(headless.id))!.results['csv-import'].error).toMatch(/has no email column \(its header is "name,mail"\)/);
    expect((await q.admin.get(dry.id))!.summary).toBe(`would import ${file.good.size} rows into dry_contacts, rejected ${file.badLines.length}`);
    expect(await q.knex.schema.hasTable('dry_contacts')).toBe(false);
  });

  it('stops between rows when canceled, keeping the committed batches', async () => {
    const q = await freshQueue(dialect, { progressFlushMs: 50 });
    q.connect(csvImport);
    const file = contactsFile(100_000);
    const { id } = await q.enqueue('csv.import', { file: file.path, batchSize: 5 });
    const processing = q.process();
    const other = await sameDatabase(q);
    for (let i = 0; !((await other.admin.get(id))?.progress?.done ?? 0); i++) {
      if (i > 1500) throw new Error('the import never reported progress');
      await new Promise((r) => setTimeout(r, 20));
    }
    await other.cancel(id, 'ops');
    expect(await processing).toMatchObject({ canceled: 1 });
    const item = (await other.admin.get(id))!;
    expect(item.status).toBe('canceled');
    const imported = Number((await q.knex('imported_contacts').count({ c: '*' }))[0].c);
    expect(imported).toBeGreaterThan(0);
    expect(imported).toBeLessThan(file.good.size);
    const state = await q.knex('imported_contacts_import_state').where({ item_id: id }).first();
    expect(Number(state.imported)).toBe(imported);
  });
});
