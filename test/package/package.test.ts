/**
 * The package as an app gets it: `npm pack` the repository, install the tarball into a scratch app outside it (its
 * own package.json, the tsconfig `tsc --init` writes), then use it from TypeScript, from plain Node ESM and
 * through `npx signalq`.
 *
 * better-sqlite3 compiles from source on install (~90 s here): the app installs with --ignore-scripts, pins
 * better-sqlite3 to the repository's version and takes the addon the repository's own install compiled.
 * typescript and @types/node are pinned to the repository's versions too, and --prefer-offline takes every
 * package npm's cache already holds, so the install rarely needs the registry.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const INSTALL_TIMEOUT_MS = 300_000;
const STEP_TIMEOUT_MS = 120_000;

/**
 * The app's environment: none of this repository's npm settings. `npm test` hands them down (npm_config_*, and
 * NODE_OPTIONS=--import=tsx from .npmrc), and a preloaded tsx would hide a package that needs a loader.
 */
function appEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!/^npm_/i.test(k) && k !== 'NODE_OPTIONS' && k !== 'SIGNALQ_DB') env[k] = v;
  }
  return env;
}

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

interface Started {
  child: ChildProcess;
  result: Promise<Run>;
  stderr(): string;
}

/** `detached`: in a process group of its own, which a failed test can kill whole. */
function start(cmd: string, args: string[], cwd: string, { detached = false } = {}): Started {
  const child = spawn(cmd, args, { cwd, env: appEnv(), stdio: ['ignore', 'pipe', 'pipe'], detached });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  const result = new Promise<Run>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
  return { child, result, stderr: () => stderr };
}

/** Runs a command to its end; a non-zero exit throws with everything it printed. */
async function run(cmd: string, args: string[], cwd: string): Promise<Run> {
  const r = await start(cmd, args, cwd).result;
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.code ?? r.signal}\n${r.stdout}\n${r.stderr}`);
  return r;
}

async function waitFor<T>(what: string, check: () => T | undefined | Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const versionOf = (name: string) => JSON.parse(readFileSync(join(ROOT, 'node_modules', name, 'package.json'), 'utf8')).version as string;

/**
 * The app's TypeScript file: enqueue, handle, process and read, typed by the app's item map through the package's
 * declaration files. Each @ts-expect-error fails the type-check if its line stops being an error.
 */
const APP_TS = `import { createQueue, defineHandlers, PermanentError, type Item } from 'signalq';

type Items = { 'mail.send': { to: string; subject: string }; audit: { action: string } };

const queue = await createQueue<Items>({ db: \`sqlite:\${process.argv[2]}\` });
const sent: string[] = [];
queue.handle('mail.send', {
  name: 'mailer',
  async handle(item, ctx) {
    if (!item.payload.to.includes('@')) throw new PermanentError(\`no address in \${item.payload.to}\`);
    sent.push(\`\${item.payload.to} \${ctx.idempotencyKey}\`);
  },
});
const handler = defineHandlers<Items>();
queue.connect(handler('audit', { name: 'auditor', handle: (item) => item.payload.action }));

// @ts-expect-error a misspelt type is a compile error
queue.handle('mail.sned', { name: 'typo', handle() {} });
// @ts-expect-error a handler expecting another payload is a compile error
queue.handle('audit', { name: 'wrong', handle(item: Item<{ url: string }>) { return item.payload.url; } });

const { id } = await queue.enqueue('mail.send', { to: 'ada@example.com', subject: 'Hi' });
await queue.enqueueMany([{ action: 'login' }].map((p) => queue.item('audit', p)));
// @ts-expect-error a misspelt type is a compile error
await queue.enqueue('mail.sned', { to: 'ada@example.com', subject: 'Hi' });
// @ts-expect-error a payload that does not match its type is a compile error
await queue.enqueue('mail.send', { to: 'ada@example.com' });
// @ts-expect-error so is a payload of another type
await queue.enqueue('audit', { to: 'ada@example.com', subject: 'Hi' });

const summary = await queue.process();
const item: Item | undefined = await queue.admin.get(id);
const done: number = summary.done;
console.log(done, item?.status, sent);
await queue.close();
`;

/** The same in plain JavaScript, printing what it read. */
const APP_MJS = `import { createQueue, PermanentError } from 'signalq';

// A new database: the queue creates its tables on first use.
const queue = await createQueue({ db: \`sqlite:\${process.argv[2]}\` });
const sent = [];
queue.handle('mail.send', { name: 'mailer', async handle(item) { sent.push(item.payload.to); } });
queue.connect({ name: 'strict', types: ['audit'], async handle() { throw new PermanentError('refused'); } });

const mail = await queue.enqueue('mail.send', { to: 'ada@example.com', subject: 'Hi' });
const audit = await queue.enqueue('audit', { action: 'login' });
const summary = await queue.process();
const read = async (id) => {
  const item = await queue.admin.get(id);
  return { type: item.type, status: item.status, results: Object.fromEntries(Object.entries(item.results).map(([k, v]) => [k, v.ok])) };
};
console.log(JSON.stringify({ done: summary.done, error: summary.error, sent, mail: await read(mail.id), audit: await read(audit.id) }));
await queue.close();
`;

/** A handler module for \`npx signalq work\`: records each payload in a file beside the app. */
const HANDLER_MJS = `import { appendFileSync } from 'node:fs';

export default {
  name: 'notifier',
  types: ['note'],
  async handle(item) {
    appendFileSync(new URL('../handled.ndjson', import.meta.url), JSON.stringify(item.payload) + '\\n');
  },
};
`;

describe('the packed package in a scratch app', () => {
  let work: string;
  let app: string;
  let tarball: string;

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'signalq-package-'));
    app = join(work, 'app');
    mkdirSync(app);

    await run('npm', ['pack', '--pack-destination', work], ROOT);
    tarball = join(work, readdirSync(work).find((f) => f.endsWith('.tgz'))!);

    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'scratch-app', private: true, type: 'module' }, null, 2));
    await run('npm', [
      'install', '--ignore-scripts', '--prefer-offline', '--no-audit', '--no-fund',
      tarball, `better-sqlite3@${versionOf('better-sqlite3')}`, `typescript@${versionOf('typescript')}`, `@types/node@${versionOf('@types/node')}`,
    ], app);
    const addon = 'build/Release/better_sqlite3.node';
    mkdirSync(dirname(join(app, 'node_modules/better-sqlite3', addon)), { recursive: true });
    copyFileSync(join(ROOT, 'node_modules/better-sqlite3', addon), join(app, 'node_modules/better-sqlite3', addon));
  }, INSTALL_TIMEOUT_MS);

  afterAll(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('ships the built JavaScript, its declarations and the compiled migrations, and no TypeScript source or loader', () => {
    const pkg = join(app, 'node_modules/signalq');
    for (const f of ['dist/src/index.js', 'dist/src/index.d.ts', 'dist/src/cli/bin.js', 'dist/migrations/20261122000000_create_items.js']) {
      expect(existsSync(join(pkg, f)), f).toBe(true);
    }
    expect(existsSync(join(pkg, 'src'))).toBe(false);
    expect(existsSync(join(app, 'node_modules/tsx'))).toBe(false);
  });

  it('type-checks an app under the tsconfig tsc --init writes (NodeNext), misspelt types and wrong payloads refused', async () => {
    await run('npx', ['tsc', '--init'], app);
    const tsconfig = readFileSync(join(app, 'tsconfig.json'), 'utf8');
    // The one change tsc --init's own comment asks of a Node app.
    expect(tsconfig).toContain('"types": [],');
    writeFileSync(join(app, 'tsconfig.json'), tsconfig.replace('"types": [],', '"types": ["node"],'));
    expect(tsconfig).toMatch(/"module": "nodenext"/);
    expect(tsconfig).not.toMatch(/^\s*"allowImportingTsExtensions"/m);
    writeFileSync(join(app, 'app.ts'), APP_TS);
    // Exit 0 means the app compiles and every @ts-expect-error met its error.
    await run('npx', ['tsc', '--noEmit'], app);
    // The package's own declaration files compile too (tsc --init skips checking libraries).
    await run('npx', ['tsc', '--noEmit', '--skipLibCheck', 'false'], app);
  }, STEP_TIMEOUT_MS);

  it('runs a plain .mjs file with node: enqueue, process and read on SQLite', async () => {
    writeFileSync(join(app, 'app.mjs'), APP_MJS);
    const { stdout } = await run(process.execPath, ['app.mjs', join(app, 'mjs.sqlite')], app);
    expect(JSON.parse(stdout)).toEqual({
      done: 1,
      error: 1,
      sent: ['ada@example.com'],
      mail: { type: 'mail.send', status: 'done', results: { mailer: true } },
      audit: { type: 'audit', status: 'error', results: { strict: false } },
    });
  }, STEP_TIMEOUT_MS);

  it('npx signalq --help exits 0', async () => {
    const { stdout } = await run('npx', ['signalq', '--help'], app);
    expect(stdout).toMatch(/^Usage: signalq/);
  }, STEP_TIMEOUT_MS);

  it('npx signalq work starts, processes an item from npx signalq enqueue, and stops on SIGTERM with exit 0', async () => {
    const db = `sqlite:${join(app, 'work.sqlite')}`;
    mkdirSync(join(app, 'handlers'));
    writeFileSync(join(app, 'handlers/notifier.mjs'), HANDLER_MJS);
    // A database the repository's sources migrated: the built package finds its migrations under the same names.
    await run(process.execPath, [join(ROOT, 'src/cli/bin.mjs'), 'migrate', '--db', db], app);

    // npx runs the bin through a shell and does not pass SIGTERM on: the worker's own PID, from the workers table,
    // is the process a process manager would stop, and its exit code is what npx exits with.
    const worker = start('npx', ['signalq', 'work', '--db', db], app, { detached: true });
    let stopped: Run | undefined;
    try {
      await waitFor('the working line', () => (/signalq: working on .* with handlers: notifier/.test(worker.stderr()) ? true : undefined));
      const enqueued = await run('npx', ['signalq', 'enqueue', 'note', '{"text":"hello"}', '--db', db, '--json'], app);
      const { id } = JSON.parse(enqueued.stdout);
      const handled = await waitFor('the handler', () => (existsSync(join(app, 'handled.ndjson')) ? readFileSync(join(app, 'handled.ndjson'), 'utf8') : undefined));
      expect(handled).toBe('{"text":"hello"}\n');
      const shown = await waitFor('the item done', async () => {
        const item = JSON.parse((await run('npx', ['signalq', 'show', String(id), '--db', db, '--json'], app)).stdout);
        return item.status === 'done' ? item : undefined;
      });
      expect(shown.results.notifier.ok).toBe(true);

      const workers: { pid: number; handlers: string[]; alive: boolean }[] = JSON.parse((await run('npx', ['signalq', 'workers', '--db', db, '--json'], app)).stdout);
      const live = workers.filter((w) => w.alive && w.handlers.includes('notifier'));
      expect(live).toHaveLength(1);
      process.kill(live[0].pid, 'SIGTERM');
      stopped = await worker.result;
    } finally {
      if (!stopped) process.kill(-worker.child.pid!, 'SIGKILL');
    }
    expect(stopped.stderr).toMatch(/signalq: SIGTERM: finishing running handlers/);
    expect(stopped.stderr).toMatch(/signalq: stopped; claimed 1, done 1/);
    expect(stopped.code).toBe(0);
  }, STEP_TIMEOUT_MS);

  it('a TypeScript handler module without tsx installed: exit 2, naming the module and what to install', async () => {
    mkdirSync(join(app, 'ts-handlers'));
    writeFileSync(join(app, 'ts-handlers/mailer.ts'), `export default { name: 'mailer', types: ['mail.send'], async handle(): Promise<void> {} };\n`);
    const r = await start('npx', ['signalq', 'process', '--no-lock', '--handlers', 'ts-handlers', '--db', `sqlite:${join(app, 'ts.sqlite')}`], app).result;
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/mailer\.ts .*needs tsx.*npm install --save-dev tsx/);
  }, STEP_TIMEOUT_MS);
});
