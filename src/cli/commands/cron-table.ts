/**
 * The `signalq cron` command table (kept beside main.ts's so that file stays a list of the top-level commands).
 */
import { Command, Option } from 'commander';
import type { GlobalFlags } from '../context.ts';
import {
  cronAddCommand, cronExportCommand, cronImportCommand, cronListCommand, cronLogsCommand, cronRemoveCommand, cronSetActivatedCommand, cronSwitchCommand,
} from './cron.ts';

export function registerCronCommands(program: Command, globals: (cmd: Command) => GlobalFlags & Record<string, any>, jsonOption: () => Option): void {
  const cron = program.command('cron').description('the crontab: recurring items, kept in the database and run by `signalq work`');

  cron.command('add').description("add a cron: cron add NAME 'EXPR' TYPE [JSON] (EXPR: 5 fields, or 6 with seconds first)")
    .argument('<name>').argument('<expression>').argument('<type>', 'item type each run enqueues').argument('[json]', 'payload as JSON (default {})')
    .option('--tz <zone>', 'IANA time zone of the expression, e.g. Europe/Paris (default: the worker host\'s)')
    .option('--missed <policy>', 'ticks missed while no worker ran: skip (log NOTRUN), once (one catch-up run) or all (default skip)')
    .option('--no-overlap', 'skip a tick while the previous run\'s item is not finished')
    .option('--disabled', 'add it disabled (cron enable NAME starts it)')
    .addOption(jsonOption())
    .action((name, expression, type, json, _o, cmd) => cronAddCommand(name, expression, type, json, globals(cmd)));

  cron.command('list').description('list the crons: expression in words, next run, last status').addOption(jsonOption())
    .action((_o, cmd) => cronListCommand(globals(cmd)));

  for (const [verb, activated] of [['enable', true], ['disable', false]] as const) {
    cron.command(verb).description(`${verb} one cron (workers apply it within seconds)`).argument('<name>').addOption(jsonOption())
      .action((name, _o, cmd) => cronSetActivatedCommand(name, activated, globals(cmd)));
  }

  cron.command('remove').description('remove a cron and its logs').argument('<name>').addOption(jsonOption())
    .action((name, _o, cmd) => cronRemoveCommand(name, globals(cmd)));

  for (const [verb, on] of [['on', true], ['off', false]] as const) {
    cron.command(verb).description(`turn the whole crontab ${verb}`).addOption(jsonOption())
      .action((_o, cmd) => cronSwitchCommand(on, globals(cmd)));
  }

  cron.command('logs').description('a cron\'s runs, newest first: OK, WARN, FAILURE, NOTRUN (or RUNNING)').argument('<name>')
    .option('--limit <n>', 'at most this many (default 100)').addOption(jsonOption())
    .action((name, _o, cmd) => cronLogsCommand(name, globals(cmd)));

  cron.command('export').description('print the whole crontab as JSON (cron export > crontab.json)')
    .action((_o, cmd) => cronExportCommand(globals(cmd)));

  cron.command('import').description('make the crontab what a JSON file says (idempotent); - reads standard input').argument('<file>')
    .option('--prune', 'also remove the crons the file does not have').addOption(jsonOption())
    .action((file, _o, cmd) => cronImportCommand(file, globals(cmd)));
}
