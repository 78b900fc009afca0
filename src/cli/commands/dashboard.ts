/**
 * `signalq dashboard [--port 8080] [--host 127.0.0.1]`: serves the operator dashboard until SIGINT/SIGTERM. It
 * connects no handlers: which handlers exist is what the live workers recorded. Also `startDashboardFromFlags`,
 * which `signalq work --dashboard [port]` uses to serve it beside the worker.
 */
import type { Queue } from '../../queue/queue.ts';
import { messageOf } from '../../errors.ts';
import { startDashboard, type RunningDashboard } from '../../dashboard/server.ts';
import { checkBind, type DashboardTokens } from '../../dashboard/security.ts';
import { openQueue, type GlobalFlags } from '../context.ts';
import { parseInteger } from '../parse.ts';

export interface DashboardFlags extends GlobalFlags {
  port?: string;
  host?: string;
}

/** Where and with which tokens the dashboard is to run. */
export interface DashboardSettings extends DashboardTokens {
  port: number;
  host: string;
}

/**
 * The port and host flags and the tokens of the environment, read and checked (an unsafe bind is refused here,
 * before the database is opened).
 */
export function dashboardSettings(port: string | undefined, host: string | undefined, flag = '--port'): DashboardSettings {
  const settings: DashboardSettings = {
    port: port === undefined ? 8080 : parseInteger(port, flag, 0, 65_535),
    host: host ?? '127.0.0.1',
    token: process.env.SIGNALQ_DASHBOARD_TOKEN || undefined,
    readonlyToken: process.env.SIGNALQ_DASHBOARD_READONLY_TOKEN || undefined,
  };
  checkBind(settings.host, settings);
  return settings;
}

/** Starts the dashboard over `queue`, and prints where it answers. */
export async function startDashboardFromFlags(queue: Queue, settings: DashboardSettings, verbose: boolean): Promise<RunningDashboard> {
  const running = await startDashboard(queue, {
    ...settings,
    onError: (err) => process.stderr.write(`signalq: dashboard error: ${messageOf(err)}\n${verbose && err instanceof Error && err.stack ? err.stack + '\n' : ''}`),
  });
  const locked = settings.token ? ' (token required)' : '';
  process.stderr.write(`signalq: dashboard at ${running.url}${locked}\n`);
  return running;
}

export async function dashboardCommand(f: DashboardFlags): Promise<void> {
  const address = dashboardSettings(f.port, f.host); // bad flags and an unsafe bind fail before the database is opened
  const queue = await openQueue(f);
  let running: RunningDashboard | undefined;
  try {
    running = await startDashboardFromFlags(queue, address, !!f.verbose);
    await new Promise<void>((resolve) => {
      const stop = (sig: NodeJS.Signals) => {
        process.stderr.write(`signalq: ${sig}: dashboard stopping\n`);
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
        resolve();
      };
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
    });
  } finally {
    await running?.close();
    await queue.close().catch(() => {});
  }
}
