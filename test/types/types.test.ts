/**
 * The typed API's compile errors, asserted by the compiler: `tsc` checks test/types/typed-api.ts and the README's
 * example (examples/app.ts) with an app's settings (NodeNext, strict). A misspelt type in `enqueue`, `handle` and
 * `defineHandlers`, a wrong payload, and a widened `enqueueMany` array must each fail to compile, where they are
 * marked and for the reason marked.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, '../..');
const CHECKS = join(HERE, 'typed-api.ts');

/** Runs `npx tsc --noEmit -p <tsconfig>`; returns its exit code and output. */
function tsc(tsconfig: string): { code: number | null; output: string } {
  const r = spawnSync('npx', ['--no-install', 'tsc', '--noEmit', '-p', tsconfig], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } });
  return { code: r.status, output: `${r.stdout}${r.stderr}`.split('\n').filter((l) => l && !/^npm warn/.test(l)).join('\n') };
}

/** The compiler's errors by line: `file(line,col): error TSxxxx: message`, with the indented lines that follow it. */
function errorsByLine(output: string): Map<number, string[]> {
  const byLine = new Map<number, string[]>();
  let last: string[] | undefined;
  for (const line of output.split('\n')) {
    const m = /^.+?\((\d+),\d+\): error (TS\d+: .*)$/.exec(line);
    if (m) {
      last = byLine.get(Number(m[1])) ?? [];
      byLine.set(Number(m[1]), last);
      last.push(m[2]);
    } else if (last && /^\s/.test(line)) {
      last[last.length - 1] += ` ${line.trim()}`;
    }
  }
  return byLine;
}

describe('type tests', () => {
  it('the typed API and the README example compile, and every @ts-expect-error line is an error', () => {
    const r = tsc(join(HERE, 'tsconfig.json'));
    expect(r.output).toBe('');
    expect(r.code).toBe(0);
  });

  it('each marked line fails for the reason its marker names, and nothing else fails', () => {
    // The same file without its directives, beside a tsconfig with the same settings, importing the sources by path.
    const source = readFileSync(CHECKS, 'utf8');
    const lines = source.split('\n');
    const expected = new Map<number, string>();
    lines.forEach((l, i) => {
      const m = /\/\/ @ts-expect-error (.+)$/.exec(l);
      if (m) expected.set(i + 2, m[1].trim()); // the line after the directive, 1-based
    });
    expect(expected.size).toBeGreaterThanOrEqual(10); // the markers were found
    const dir = mkdtempSync(join(tmpdir(), 'signalq-types-'));
    const stripped = source.replaceAll('// @ts-expect-error', '// expected error:').replaceAll("'../../src/index.ts'", JSON.stringify(join(ROOT, 'src/index.ts')));
    writeFileSync(join(dir, 'typed-api.ts'), stripped);
    const settings = JSON.parse(readFileSync(join(HERE, 'tsconfig.json'), 'utf8').replace(/^\s*\/\/.*$/gm, ''));
    delete settings.compilerOptions.paths;
    settings.compilerOptions.typeRoots = [join(ROOT, 'node_modules/@types')];
    writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions: settings.compilerOptions, include: ['typed-api.ts'] }));

    const r = tsc(join(dir, 'tsconfig.json'));
    expect(r.code).not.toBe(0);
    const errors = errorsByLine(r.output);
    for (const [line, reason] of expected) {
      const found = errors.get(line) ?? [];
      expect(found.join('\n'), `line ${line}: ${lines[line - 1].trim()}`).toContain(reason);
    }
    expect([...errors.keys()].filter((l) => !expected.has(l)), r.output).toEqual([]);
  });
});
