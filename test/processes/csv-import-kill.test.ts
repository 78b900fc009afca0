/**
 * A `signalq work` process killed with -9 in the middle of a CSV import: the item is taken again by another worker
 * after its lease, resumes after the lines the first run committed, keeps the history the first run wrote, and the
 * table ends with each good row exactly once.
 */
import { afterEach, describe, expect, it } from 'vitest';
import csvImport from '../../handlers/csv-import.ts';
import { DIALECTS } from '../helpers/databases.ts';
import { databaseUrl, freshQueue } from '../helpers/queue.ts';
import { contactsFile } from '../helpers/csv-file.ts';
import { fixtureHandlers, startCli, waitFor, type RunningCli } from './cli-helpers.ts';

const running: RunningCli[] = [];
afterEach(() => {
  for (const p of running.splice(0)) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
});

const CSV = fixtureHandlers('handlers-csv');

describe.each(DIALECTS)('csv import killed mid-run on %s', (dialect) => {
  it('is taken again after its lease, keeps its first history and imports each good row once', async () => {
    const q = await freshQueue(dialect);
    q.connect(csvImport); // for the enqueue's parameter check and defaults; this queue runs nothing
    const db = databaseUrl(q);
    const file = contactsFile(20_000);
    const { id } = await q.enqueue('csv.import', { file: file.path, batchSize: 25 });
    const work = ['work', '--lease', '2s', '--handlers', CSV, '--db', db];

    const first = startCli(work);
    running.push(first);
    // Some batches committed and some rejections recorded: the kill lands mid-import.
    await waitFor('the first worker committing batches and recording rejections', async () => {
      if (!(await q.knex.schema.hasTable('imported_contacts_import_state'))) return false;
      const state = await q.knex('imported_contacts_import_state').where({ item_id: id }).first();
      return state && Number(state.last_line) > 0 && (await q.admin.history(id)).length > 0;
    }, 60_000, 20);
    first.child.kill('SIGKILL');
    await first.result;
    const afterKill = (await q.admin.get(id))!;
    expect(afterKill).toMatchObject({ status: 'in_progress', trials: 0 });
    const firstHistory = await q.admin.history(id, { limit: 10_000 });
    const committed = await q.knex('imported_contacts_import_state').where({ item_id: id }).first();
    expect(Number(committed.last_line)).toBeLessThan(20_001);

    const second = startCli(work);
    running.push(second);
    await waitFor('the second worker finishing the import', async () => (await q.admin.get(id))?.status === 'done', 120_000, 100);
    second.child.kill('SIGTERM');
    expect((await second.result).code).toBe(0);

    const item = (await q.admin.get(id))!;
    expect(item.trials).toBe(2); // the killed run counts as a trial once its lease ran out, then the one that finished
    expect(item.results['csv-import'].value).toEqual({ imported: file.good.size, rejected: file.badLines.length, table: 'imported_contacts', dryRun: false });
    expect(item.summary).toBe(`imported ${file.good.size} rows into imported_contacts, rejected ${file.badLines.length} (resumed after line ${committed.last_line})`);
    const emails = (await q.knex('imported_contacts').select('email')).map((r: { email: string }) => r.email);
    expect(emails).toHaveLength(file.good.size);
    expect(new Set(emails)).toEqual(file.good);
    const history = await q.admin.history(id, { limit: 10_000 });
    // What the first run wrote is kept as it was, first.
    expect(history.slice(0, firstHistory.length)).toEqual(firstHistory);
    expect(history[firstHistory.length]).toMatchObject({ status: 'resumed', comment: expect.stringMatching(`^resumed after line ${committed.last_line}, which an earlier run committed`) });
    const rejected = history.filter((h) => h.status === 'rejected').map((h) => h.subject);
    expect(new Set(rejected).size).toBe(rejected.length); // none recorded twice
    const bad = new Set(file.badLines.map((l) => `line ${l}`));
    expect(rejected.every((s) => bad.has(s!))).toBe(true);
    // Only a crash within a moment of a commit can leave that batch's rejections unrecorded.
    expect(rejected.length).toBeGreaterThanOrEqual(file.badLines.length - 25);
  }, 240_000);
});
