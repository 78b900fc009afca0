/**
 * The README's "In app code" example cannot drift: its code block is examples/app.ts, byte for byte, and that file
 * runs as written, as an app would run it: its own folder (an ES module package) with `signalq` in node_modules
 * (here this checkout's sources), no SIGNALQ_DB, so on the embedded SQLite default. (test/types type-checks it.)
 */
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { createQueue, type Queue } from '../../src/queue/queue.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const EXAMPLE = join(ROOT, 'examples/app.ts');

const open: Queue[] = [];
afterEach(async () => {
  for (const q of open.splice(0)) await q.close();
});

/** The first ```ts block of the README's "In app code" section. */
function readmeBlock(): string {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const section = readme.split(/^## In app code\n/m)[1]?.split(/^## /m)[0];
  expect(section, 'the README has an "## In app code" section').toBeDefined();
  const block = /^```ts\n([\s\S]*?)^```$/m.exec(section!);
  expect(block, 'that section has a ```ts block').not.toBeNull();
  return block![1];
}

/** An app's folder: package.json ("type": "module"), node_modules/signalq resolving to this checkout's sources. */
function appFolder(): string {
  const dir = mkdtempSync(join(tmpdir(), 'signalq-app-'));
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'example-app', private: true, type: 'module' }));
  const pkg = join(dir, 'node_modules', 'signalq');
  mkdirSync(pkg, { recursive: true });
  writeFileSync(join(pkg, 'package.json'), JSON.stringify({ name: 'signalq', type: 'module', exports: './index.ts' }));
  writeFileSync(join(pkg, 'index.ts'), `export * from ${JSON.stringify(pathToFileURL(join(ROOT, 'src/index.ts')).href)};\n`);
  copyFileSync(EXAMPLE, join(dir, 'app.ts'));
  return dir;
}

function run(dir: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.SIGNALQ_DB;
  delete env.NODE_OPTIONS;
  // tsx runs the TypeScript as `node --import tsx` would in the app, loaded from this checkout (the app has none).
  const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
  const child = spawn(process.execPath, ['--import', tsx, 'app.ts'], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
  child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  const guard = setTimeout(() => child.kill('SIGKILL'), 45_000);
  return new Promise((res) => child.once('close', (code) => {
    clearTimeout(guard);
    res({ code, stdout, stderr });
  }));
}

describe('the README app example', () => {
  it('is the README\'s "In app code" block, byte for byte', () => {
    expect(readmeBlock()).toBe(readFileSync(EXAMPLE, 'utf8'));
  });

  it('runs as written in an empty folder: enqueues, works, reads back, stops and closes, exit 0', async () => {
    const dir = appFolder();
    const r = await run(dir);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain('mail to ada@example.com: Hi (idempotency key 1:mailer)');
    expect(r.stdout).toContain('log: mail to ada@example.com');
    expect(r.stdout).toMatch(/id: 1,\s+type: 'mail\.send',[\s\S]*status: 'done'/); // what admin.get(id) read back

    // It used the embedded default, var/signalq.sqlite in its folder, and left it settled.
    const file = join(dir, 'var', 'signalq.sqlite');
    expect(existsSync(file)).toBe(true);
    const q = await createQueue({ db: `sqlite:${file}` });
    open.push(q);
    expect(await q.admin.get(1)).toMatchObject({ type: 'mail.send', status: 'done', results: { mailer: { ok: true }, log: { ok: true } } });
    const stats = await q.admin.stats();
    expect(stats.total).toBe(5);
    expect(stats.counts.in_progress).toBe(0);
    expect(stats.counts.error).toBe(0);
    expect(await q.admin.workers()).toEqual([]);
  });
});
