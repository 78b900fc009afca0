/**
 * The cron-run batch: takes the lock file, runs one batch (or, with --until-empty, batches until nothing is
 * runnable), prints a one-line summary and exits. Same flags and exit codes as `signalq process`:
 *
 *   * * * * * cd /srv/app && npx tsx scripts/process-queue.ts --until-empty >> var/signalq.log 2>&1
 */
import { runCli } from '../src/cli/main.ts';

process.exitCode = await runCli(['process', ...process.argv.slice(2)]);
