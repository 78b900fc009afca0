/**
 * The tables exist before a queue's first read or write: created or updated by the migrations on first use (once
 * per queue, however many calls wait, and once per database however many processes start at once), or, for teams
 * whose deploy runs the migrations (`migrate: false`), checked once.
 */
import type { Knex } from 'knex';
import type { DatabaseTarget } from '../config.ts';
import { migrateToLatest } from '../db/migrate.ts';
import { ITEMS } from '../db/rows.ts';
import { UsageError } from '../errors.ts';

export class Tables {
  /** Known to exist and be up to date: the check before each read or write is then one test. */
  ready = false;
  /** The check under way, which every caller waits on; forgotten when it fails, so the next call tries again. */
  private check: Promise<void> | null = null;

  constructor(private readonly knex: Knex, private readonly target: DatabaseTarget, private readonly migrate: boolean) {}

  /** Applies pending migrations and returns their names; the tables are then ready. */
  migrateNow(): Promise<string[]> {
    const run = migrateToLatest(this.knex);
    this.keep(run.then(() => {}));
    return run;
  }

  /** Resolves once the tables exist. */
  ensure(): Promise<void> {
    if (this.ready) return Promise.resolve();
    if (this.check) return this.check;
    if (this.migrate) return this.keep(migrateToLatest(this.knex).then(() => {}));
    return this.keep(
      this.knex.schema.hasTable(ITEMS).then((exists) => {
        if (!exists) {
          throw new UsageError(
            `the table ${ITEMS} does not exist in ${this.target.display} and the queue was created with migrate: false; run the migrations (npx signalq migrate, or await queue.migrate()) or leave migrate: false out`,
          );
        }
      }),
    );
  }

  /**
   * `ensure` for a write in the app's transaction. On SQLite that transaction holds the only connection, so a
   * migration would wait for it for ever: there the table is read through the transaction instead, and only a
   * database signalq has never been set up on is refused (saying what to do).
   */
  async ensureIn(trx: Knex.Transaction): Promise<void> {
    if (this.ready) return;
    if (this.target.dialect !== 'sqlite') return this.ensure();
    if (!(await trx.schema.hasTable(ITEMS))) {
      throw new UsageError(
        `the table ${ITEMS} does not exist yet in ${this.target.display}, and on SQLite it cannot be created while a transaction holds the connection; call await queue.migrate() once before the first enqueue in a transaction`,
      );
    }
  }

  private keep(check: Promise<void>): Promise<void> {
    const kept: Promise<void> = check.then(() => {
      this.ready = true;
    });
    this.check = kept;
    kept.catch(() => {
      if (this.check === kept) this.check = null;
    });
    return kept;
  }
}
