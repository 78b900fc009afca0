/**
 * The `signalq` command line: a thin command table over the library. Exit codes: 0 done, 2 bad usage or input,
 * 75 lock busy, 1 anything else. A user's mistake prints one line; `--verbose` adds the stack.
 */
import { Command, CommanderError, Option } from 'commander';
import { DatabaseError, LockBusyError, UsageError, messageOf } from '../errors.ts';
import { enqueueCommand } from './commands/enqueue.ts';
import { cancelCommand, typesCommand } from './commands/jobs.ts';
import { migrateCommand, processCommand, workCommand } from './commands/run.ts';
import { registerCronCommands } from './commands/cron-table.ts';
import { dashboardCommand } from './commands/dashboard.ts';
import { ExitWith, runJobCommand } from './commands/run-job.ts';
import { deleteCommand, listCommand, purgeCommand, retryCommand, showCommand, statsCommand, workersCommand } from './commands/inspect.ts';

/** Builds the command table (a fresh one per run: commander keeps parsed state on it). */
function buildProgram(): Command {
  const program = new Command('signalq')
    .description('A database-backed work queue: typed items fanned out to every connected handler.')
    .option('--db <url>', 'database: mysql://user@host:3306/db or sqlite:path/file.sqlite (default: $SIGNALQ_DB, else sqlite:var/signalq.sqlite)')
    .option('--verbose', 'print stack traces and every handler failure')
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s.startsWith('error:') ? `signalq: ${s.trimEnd()} (see signalq --help)\n` : s) });

  const globals = (cmd: Command) => ({ ...program.opts(), ...cmd.opts() });
  const jsonOption = () => new Option('--json', 'print JSON');

  program.command('migrate').description('create or update the tables').addOption(jsonOption())
    .action((_o, cmd) => migrateCommand(globals(cmd)));

  program.command('enqueue').description('add an item: enqueue TYPE JSON, or enqueue TYPE --file ITEMS.ndjson')
    .argument('<type>', 'item type').argument('[json]', 'payload as JSON')
    .option('--key <key>', 'dedupe key: nothing is written while an unfinished item has it')
    .option('--delay <duration>', 'wait before running, e.g. 30s, 5m')
    .option('--priority <n>', 'lower runs first (default 0)')
    .option('--max-trials <n>', 'trials before error (default 10)')
    .option('--file <path>', 'one JSON payload per line; - reads standard input')
    .option('--invoker <who>', 'who asks for it (a user id, say): list --invoker shows theirs')
    .option('--scope <scope>', 'the scope it belongs to (a tenant, say)')
    .option('--handlers <dir>', 'check payloads against the parameters declared in this folder too (default ./handlers, when it exists)')
    .addOption(jsonOption())
    .action((type, json, _o, cmd) => enqueueCommand(type, json, globals(cmd)));

  const runOptions = (cmd: Command) => cmd
    .option('--handlers <dir>', 'folder of handler modules (default ./handlers)')
    .option('--lease <duration>', 'how long a claim holds without renewal (default 60s)')
    .option('--limit <n>', 'items per batch (default 500)')
    .option('--concurrency <n>', 'items run at once within a batch (default 50)')
    .option('--backoff <duration>', 'first retry delay, doubling per trial with jitter, capped at 1h (default 2s)')
    .option('--handler-timeout <duration>', 'a handler run longer than this fails (default 5m)')
    .option('--poll <duration>', 'how often an idle worker looks for items (default 10ms)');

  runOptions(program.command('process').description('run one batch and exit (the cron-run form)'))
    .option('--until-empty', 'repeat batches until nothing is runnable')
    .option('--lock-file <path>', 'lock file (default var/signalq.lock)')
    .option('--no-lock', 'run without the lock file (safe: claiming is atomic)')
    .addOption(jsonOption())
    .action((_o, cmd) => processCommand(globals(cmd)));

  runOptions(program.command('work').description('process items and run the crontab until stopped (SIGTERM/SIGINT stop gracefully)'))
    .option('--no-crontab', 'do not run the crontab in this worker')
    .option('--dashboard [port]', 'also serve the dashboard (default port 8080)')
    .option('--dashboard-host <host>', 'with --dashboard: address to listen on (default 127.0.0.1; others need SIGNALQ_DASHBOARD_TOKEN)')
    .action((_o, cmd) => workCommand(globals(cmd)));

  program.command('run').description('run one job now in this process: run TYPE --param name=value ... (Ctrl-C cancels it)')
    .argument('<type>', 'job type (signalq types lists them)')
    .option('--param <name=value>', 'a parameter, converted as the type declares it (repeat for each)', (v: string, all: string[]) => [...all, v], [])
    .option('--invoker <who>', 'who asks for it (a user id)').option('--scope <scope>', 'the scope it belongs to (a tenant)')
    .option('--handlers <dir>', 'folder of handler modules (default ./handlers)')
    .addOption(jsonOption())
    .action((type, _o, cmd) => runJobCommand(type, globals(cmd)));

  program.command('stats').description('count items per status and type, and which types no live worker takes').addOption(jsonOption())
    .action((_o, cmd) => statsCommand(globals(cmd)));

  program.command('list').description('list items, newest first').addOption(jsonOption())
    .option('--status <status>', 'only items with this status').option('--type <type>', 'only items of this type')
    .option('--invoker <who>', 'only items enqueued by this invoker').option('--scope <scope>', 'only items of this scope')
    .option('--limit <n>', 'at most this many (default 50)')
    .action((_o, cmd) => listCommand(globals(cmd)));

  program.command('show').description('show one item').argument('<id>').addOption(jsonOption())
    .action((id, _o, cmd) => showCommand(id, globals(cmd)));

  program.command('retry').description('put an error item back to pending (only its failed handlers run again)').argument('[id]').addOption(jsonOption())
    .option('--all', 'every error item (with --type T: of that type)').option('--type <type>', 'with --all: only items of this type')
    .action((id, _o, cmd) => retryCommand(id, globals(cmd)));

  program.command('delete').description('delete an item that is not running, and its history (a finished job, one of a misspelt type)').argument('<id>').addOption(jsonOption())
    .action((id, _o, cmd) => deleteCommand(id, globals(cmd)));

  program.command('types').description('list the item types live workers (and ./handlers) take, with their help and parameters').addOption(jsonOption())
    .option('--handlers <dir>', 'also list the handlers of this folder (default ./handlers, when it exists)')
    .action((_o, cmd) => typesCommand(globals(cmd)));

  program.command('cancel').description('cancel an item: a queued one at once, a running one within 2 s').argument('<id>').addOption(jsonOption())
    .option('--by <who>', 'who cancels, for its history (default $USER)')
    .action((id, _o, cmd) => cancelCommand(id, globals(cmd)));

  program.command('workers').description('list running workers: host, PID, handlers, last seen').addOption(jsonOption())
    .action((_o, cmd) => workersCommand(globals(cmd)));

  program.command('dashboard').description('serve the operator dashboard (web page and JSON API)')
    .option('--port <n>', 'port to listen on (default 8080; 0 picks a free one)')
    .option('--host <host>', 'address to listen on (default 127.0.0.1; any other needs SIGNALQ_DASHBOARD_TOKEN)')
    .action((_o, cmd) => dashboardCommand(globals(cmd)));

  program.command('purge').description('delete done items finished long enough ago').addOption(jsonOption())
    .option('--done-older-than <duration>', 'e.g. 7d')
    .action((_o, cmd) => purgeCommand(globals(cmd)));

  registerCronCommands(program, globals, jsonOption);
  return program;
}

/** Maps an error to its exit code and prints it as one line. */
function fail(err: unknown, verbose: boolean): number {
  if (err instanceof CommanderError) {
    if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.exitCode === 0) return 0;
    return 2; // commander already printed its one line
  }
  if (err instanceof ExitWith) return err.code; // the command printed what it had to say
  const code = err instanceof UsageError ? 2 : err instanceof LockBusyError ? 75 : 1;
  const known = err instanceof UsageError || err instanceof LockBusyError || err instanceof DatabaseError;
  process.stderr.write(`signalq: ${messageOf(err)}${known || verbose ? '' : ' (run with --verbose for details)'}\n`);
  if (verbose && err instanceof Error && err.stack) process.stderr.write(err.stack + '\n');
  return code;
}

/** Runs the command line `argv` (without `node` and the script) and returns the exit code. */
export async function runCli(argv: string[]): Promise<number> {
  try {
    await buildProgram().parseAsync(argv, { from: 'user' });
    return 0;
  } catch (err) {
    return fail(err, argv.includes('--verbose'));
  }
}
