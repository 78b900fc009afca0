/**
 * `signalq cron ...`: the crontab's commands, a thin shell over `queue.crontab` (src/schedules/admin.ts). Arguments
 * are checked before the database is opened, so a refusal writes nothing.
 */
import { readFileSync } from 'node:fs';
import { UsageError, messageOf } from '../../errors.ts';
import { checkCronSpec, resolveCrontabOptions, validateCronName, type CronSpec } from '../../schedules/crontab.ts';
import type { CronListing, CronLogEntry } from '../../schedules/admin.ts';
import { output, withQueue, type GlobalFlags } from '../context.ts';
import { formatTime } from '../format.ts';
import { parseInteger, parseJsonArgument, stripBom } from '../parse.ts';

interface JsonFlag extends GlobalFlags {
  json?: boolean;
}

export interface CronAddFlags extends JsonFlag {
  tz?: string;
  missed?: string;
  overlap?: boolean;
  disabled?: boolean;
}

/** Refuses a change before the database is opened when this host's crontab is read-only. */
function refuseIfReadOnly(what: string): void {
  if (resolveCrontabOptions().readOnly) {
    throw new UsageError(`cannot ${what}: the crontab is read-only on this host (SIGNALQ_CRONTAB_READONLY=1); change the app's crontab file and import it where it is not read-only`);
  }
}

export function cronAddCommand(name: string, expression: string, type: string, json: string | undefined, f: CronAddFlags) {
  refuseIfReadOnly('add a cron');
  const spec: CronSpec = {
    name, expression, type,
    payload: json === undefined ? {} : parseJsonArgument(json, 'payload'),
    timezone: f.tz ?? null,
    missed: (f.missed ?? 'skip') as CronSpec['missed'],
    noOverlap: f.overlap === false,
    activated: !f.disabled,
  };
  checkCronSpec(spec, Number.MAX_SAFE_INTEGER); // the queue checks the payload size against its own limit
  return withQueue(f, async (q) => {
    const cron = await q.crontab.add(spec);
    output(!!f.json, cron, () => `added cron ${cron.name}: ${cron.description}, enqueues ${cron.type}; next run ${cron.nextRunAt ? formatTime(cron.nextRunAt) : 'never'}`);
  });
}

export function cronListCommand(f: JsonFlag) {
  return withQueue(f, async (q) => {
    const crons = await q.crontab.list();
    const enabled = await q.crontab.enabled();
    output(!!f.json, { enabled, crons }, () => formatCronList(enabled, crons));
  });
}

export function cronSetActivatedCommand(name: string, activated: boolean, f: JsonFlag) {
  refuseIfReadOnly(activated ? 'enable a cron' : 'disable a cron');
  validateCronName(name);
  return withQueue(f, async (q) => {
    const cron = await q.crontab.setActivated(name, activated);
    output(!!f.json, cron, () => `cron ${name} ${activated ? `enabled; next run ${cron.nextRunAt ? formatTime(cron.nextRunAt) : 'never'}` : 'disabled'}`);
  });
}

export function cronRemoveCommand(name: string, f: JsonFlag) {
  refuseIfReadOnly('remove a cron');
  validateCronName(name);
  return withQueue(f, async (q) => {
    await q.crontab.remove(name);
    output(!!f.json, { removed: name }, () => `removed cron ${name}`);
  });
}

export function cronSwitchCommand(on: boolean, f: JsonFlag) {
  refuseIfReadOnly(on ? 'turn the crontab on' : 'turn the crontab off');
  return withQueue(f, async (q) => {
    await q.crontab.setEnabled(on);
    output(!!f.json, { enabled: on }, () => `the crontab is ${on ? 'on' : 'off'}`);
  });
}

export function cronLogsCommand(name: string, f: JsonFlag & { limit?: string }) {
  validateCronName(name);
  const limit = f.limit !== undefined ? parseInteger(f.limit, '--limit', 1, 100_000) : 100;
  return withQueue(f, async (q) => {
    const logs = await q.crontab.logs(name, { limit });
    output(!!f.json, logs, () => (logs.length ? logs.map(formatLogLine).join('\n') : `no log entries for cron ${name} yet`));
  });
}

export function cronExportCommand(f: GlobalFlags) {
  return withQueue(f, async (q) => {
    output(true, await q.crontab.export(), () => '');
  });
}

export function cronImportCommand(file: string, f: JsonFlag & { prune?: boolean }) {
  refuseIfReadOnly('import a crontab');
  let text: string;
  try {
    text = readFileSync(file === '-' ? 0 : file, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read ${file} (${messageOf(err)}); give the path of a file cron export wrote, or - for standard input`);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(stripBom(text));
  } catch (err) {
    throw new UsageError(`${file} is not valid JSON (${messageOf(err)}); give a file cron export wrote`);
  }
  return withQueue(f, async (q) => {
    const r = await q.crontab.import(doc, { prune: !!f.prune, source: file === '-' ? 'standard input' : file });
    output(!!f.json, r, () => `imported ${file}: ${r.added.length} added, ${r.changed.length} changed, ${r.unchanged.length} unchanged${f.prune ? `, ${r.removed.length} removed` : ''}`);
  });
}

function formatCronList(enabled: boolean, crons: CronListing[]): string {
  const lines = [`the crontab is ${enabled ? 'on' : 'OFF (signalq cron on turns it on)'}`];
  if (crons.length === 0) lines.push('no crons (add one: signalq cron add NAME EXPR TYPE [JSON])');
  for (const c of crons) {
    const state = c.activated ? 'enabled' : 'disabled';
    const next = c.activated && enabled && c.nextRunAt ? `next ${formatTime(c.nextRunAt)}` : 'next -';
    lines.push(`${c.name}  ${c.expression}${c.timezone ? ` ${c.timezone}` : ''}  (${c.description})  ${c.type}  ${state}  missed:${c.missed}${c.noOverlap ? '  no-overlap' : ''}  ${next}  last ${c.lastStatus ?? '-'}`);
    if (c.noHandler) lines.push(`  warning: no live worker takes ${c.type}; its items wait until a worker with a handler for it runs`);
  }
  return lines.join('\n');
}

function formatLogLine(e: CronLogEntry): string {
  return `${formatTime(e.scheduledAt)}  ${e.status.padEnd(7)}  ${e.message}`; // an item's message names it
}
