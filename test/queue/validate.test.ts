import { describe, expect, it, vi } from 'vitest';
import { UsageError } from '../../src/errors.ts';
import { MAX_RUN_AT_MS, serializePayload, validateEnqueueOptions, validateTypeName } from '../../src/queue/validate.ts';
import { parseDatabaseUrl, redactUrl, resolveOptions } from '../../src/config.ts';
import { describeConnectionError } from '../../src/db/connect.ts';
import { checkServerVersion } from '../../src/db/dialects/mysql.ts';
import { validateHandler } from '../../src/queue/handlers.ts';
import { parseDuration, parseInteger, parseJsonArgument, parseJsonPayload, stripBom } from '../../src/cli/parse.ts';

describe('validateTypeName', () => {
  it('takes 1-50 letters, digits and _ . : -', () => {
    expect(validateTypeName('mail.send:v2-x_y')).toBe('mail.send:v2-x_y');
    for (const bad of ['', 'a b', 'x'.repeat(51), 'é', 5, null]) expect(() => validateTypeName(bad)).toThrow(/is invalid/);
  });
});

describe('serializePayload', () => {
  it('serializes JSON values and leaves out undefined object keys', () => {
    expect(serializePayload({ a: [1, 'x', null, true], b: undefined }, 100)).toBe('{"a":[1,"x",null,true]}');
    expect(serializePayload(null, 100)).toBe('null');
  });
  it('refuses what JSON would not bring back, naming the path', () => {
    expect(() => serializePayload({ a: [1, undefined] }, 100)).toThrow('payload.a[1] is undefined');
    expect(() => serializePayload({ m: new Map() }, 100)).toThrow('payload.m is a Map object');
    expect(() => serializePayload(Infinity, 100)).toThrow('payload is Infinity');
  });
  it('measures the size in UTF-8 bytes', () => {
    expect(() => serializePayload('é'.repeat(60), 100)).toThrow(/is 122 bytes of JSON, over the limit of 100/);
  });
  it('refuses nesting deeper than 200 levels with one line, however deep (no stack overflow)', () => {
    const nest = (n: number) => JSON.parse('['.repeat(n) + ']'.repeat(n));
    expect(serializePayload(nest(200), 1000)).toBe('['.repeat(200) + ']'.repeat(200));
    expect(() => serializePayload(nest(201), 1000)).toThrow(/^payload nests arrays and objects deeper than 200 levels; flatten it/);
    expect(() => serializePayload({ a: nest(20_000) }, 100_000, 'line 3: payload')).toThrow(/^line 3: payload nests arrays and objects deeper than 200 levels/);
    expect(() => serializePayload(JSON.parse('{"a":'.repeat(1_000_000) + '1' + '}'.repeat(1_000_000)), 1e9)).toThrow(UsageError);
  });
  it('allows the same object twice when it is not a cycle', () => {
    const shared = { x: 1 };
    expect(serializePayload({ a: shared, b: shared }, 100)).toBe('{"a":{"x":1},"b":{"x":1}}');
  });
});

describe('validateEnqueueOptions', () => {
  it('accepts sane options and names the bad one', () => {
    expect(() => validateEnqueueOptions({ key: 'k', delayMs: 0, priority: -3, maxTrials: 1, runAt: new Date() })).not.toThrow();
    expect(() => validateEnqueueOptions({ runAt: new Date('nope') })).toThrow(/runAt Invalid Date is not a valid Date/);
    expect(() => validateEnqueueOptions({ key: 'k'.repeat(256) })).toThrow(/key/);
  });
  it('refuses a delay that puts the run time past the latest a Date holds, counting from now', () => {
    const now = 1_800_000_000_000;
    expect(() => validateEnqueueOptions({ delayMs: MAX_RUN_AT_MS - now }, 'enqueue', now)).not.toThrow();
    expect(() => validateEnqueueOptions({ delayMs: MAX_RUN_AT_MS - now + 1 }, 'enqueue', now)).toThrow(
      /^enqueue: delay 8638200000000001 ms would run the item after \+275760-09-13T00:00:00\.000Z/,
    );
    expect(() => validateEnqueueOptions({ delayMs: 1e23 })).toThrow(/^enqueue: delay 1e\+23 ms would run the item after .*; use a shorter delay/);
    expect(() => validateEnqueueOptions({ delayMs: Infinity })).toThrow(/delay Infinity is invalid/);
    expect(() => validateEnqueueOptions({ delayMs: NaN })).toThrow(/delay NaN is invalid/);
    // A Date cannot hold a later time itself, so runAt is held to the same limit by being a valid Date.
    expect(() => validateEnqueueOptions({ runAt: new Date(MAX_RUN_AT_MS) }, 'enqueue', now)).not.toThrow();
    expect(() => validateEnqueueOptions({ runAt: new Date(MAX_RUN_AT_MS + 1) })).toThrow(/runAt Invalid Date is not a valid Date/);
  });
});

describe('parseDatabaseUrl', () => {
  it('understands mysql and sqlite addresses, and refuses others with the fix', () => {
    expect(parseDatabaseUrl('mysql://root@127.0.0.1:3306/test')).toMatchObject({ dialect: 'mysql', display: 'mysql://root@127.0.0.1:3306/test' });
    expect(parseDatabaseUrl('mysql://u:secret@h/db').display).not.toContain('secret');
    expect(parseDatabaseUrl('sqlite:var/x.sqlite')).toMatchObject({ dialect: 'sqlite', filename: 'var/x.sqlite' });
    expect(() => parseDatabaseUrl('postgres://x/y')).toThrow(/is not understood; use mysql:/);
    expect(() => parseDatabaseUrl('mysql://host')).toThrow(/names no database/);
  });
  it('shows the password as *** in display, and leaves the query (driver options) out', () => {
    expect(parseDatabaseUrl('mysql://u:secret@h:3306/db').display).toBe('mysql://u:***@h:3306/db');
    expect(parseDatabaseUrl('mariadb://u:s%40cret@h/db?ssl=x').display).toBe('mysql://u:***@h/db');
    expect(parseDatabaseUrl('mysql://u@h/db').display).toBe('mysql://u@h/db');
    // An unescaped / in the password makes a URL that parses (host "root", port 12): still nothing of it is shown.
    expect(parseDatabaseUrl('mysql://root:12/34@host/db').display).toBe('mysql://root:***@host/db');
  });
  it('refuses every malformed mysql URL as a usage error that never shows the password', () => {
    const cases: [string, RegExp][] = [
      ['mysql://root:s3cretpw@127.0.0.1:notaport/test', /^database URL "mysql:\/\/root:\*\*\*@127\.0\.0\.1:notaport\/test" is not a valid URL/],
      ['mysql://root:s3cretpw@127.0.0.1:99999/test', /is not a valid URL/],
      ['mysql://root:s3cretpw@/test', /is not a valid URL/],
      ['mysql://root:s3c#retpw@127.0.0.1/test', /"mysql:\/\/root:\*\*\*@127\.0\.0\.1\/test" is not a valid URL/],
      ['mysql://root:s3cretpw/127.0.0.1/test', /"mysql:\/\/root:\*\*\*\/127\.0\.0\.1\/test" is not a valid URL/],
      ['mysql://ro%zzot:s3cretpw@127.0.0.1:3306/test', /has a bad %-escape in its user; write a literal % as %25/],
      ['mysql://root:s3cretpw%zz@127.0.0.1:3306/test', /^database URL "mysql:\/\/root:\*\*\*@127\.0\.0\.1:3306\/test" has a bad %-escape in its password/],
      ['mysql://root:s3cretpw@ho%zzst:3306/test', /has a bad %-escape in its host/],
      ['mysql://root:s3cretpw@127.0.0.1:3306/te%zzst', /has a bad %-escape in its database name/],
      ['mysql://root:s3cretpw@127.0.0.1:3306', /names no database/],
      ['postgres://root:s3cretpw@h/db', /^database URL "postgres:\/\/root:\*\*\*@h\/db" is not understood/],
      ['mysql:root:s3cretpw@h/db', /is not understood/],
    ];
    for (const [url, pattern] of cases) {
      let err: unknown;
      try {
        parseDatabaseUrl(url);
      } catch (e) {
        err = e;
      }
      expect(err, url).toBeInstanceOf(UsageError);
      expect((err as Error).message, url).toMatch(pattern);
      expect((err as Error).message, url).not.toMatch(/s3c|retpw/);
    }
  });
});

describe('redactUrl', () => {
  it('hides from the first : after the scheme to the last @, or a port that is not one, erring on the side of hiding', () => {
    expect(redactUrl('mysql://root:pw@h:3306/db')).toBe('mysql://root:***@h:3306/db');
    expect(redactUrl('mysql://root@h:3306/db')).toBe('mysql://root@h:3306/db');
    expect(redactUrl('mysql://root:p@ss:w@rd@h/db')).toBe('mysql://root:***@h/db');
    expect(redactUrl('mysql://root:pw@h/d@b')).toBe('mysql://root:***@b');
    expect(redactUrl('mysql://root:pw/h/db')).toBe('mysql://root:***/h/db');
    expect(redactUrl('mysql://h:3306/db')).toBe('mysql://h:3306/db');
    expect(redactUrl('root:pw@h/db')).toBe('root:***@h/db');
    expect(redactUrl('sqlite:var/q.sqlite')).toBe('sqlite:var/q.sqlite');
  });
});

describe('describeConnectionError', () => {
  const target = parseDatabaseUrl('mysql://app:s3cretpw@127.0.0.1:3306/orders');
  const fail = (code: string, message: string) => describeConnectionError(target, Object.assign(new Error(message), { code }));
  it('tells a refused login from a server that is down, and never shows the password', () => {
    const denied = fail('ER_ACCESS_DENIED_ERROR', "Access denied for user 'app'@'127.0.0.1' (using password: YES)");
    expect(denied).toMatch(/^cannot log in to the database mysql:\/\/app:\*\*\*@127\.0\.0\.1:3306\/orders \(ER_ACCESS_DENIED_ERROR: Access denied/);
    expect(denied).toMatch(/check the user and password in the URL/);
    expect(denied).not.toMatch(/start/);
    expect(fail('ER_ACCESS_DENIED_NO_PASSWORD_ERROR', "Access denied for user 'nobody'@'127.0.0.1'")).toMatch(/^cannot log in .*; check the user and password in the URL/);
    const dbDenied = fail('ER_DBACCESS_DENIED_ERROR', "Access denied for user 'app'@'%' to database 'orders'");
    expect(dbDenied).toMatch(/check the user and password in the URL.*GRANT ALL ON orders\.\* TO/);
    expect(dbDenied).not.toMatch(/start/);
    expect(fail('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:3306')).toMatch(/check that MySQL\/MariaDB is running.*start-stop-daemon/);
    expect(fail('ECONNRESET', 'mysql://app:s3cretpw@127.0.0.1:3306/orders went away')).not.toMatch(/s3cretpw/);
  });
  it('says to create a database that does not exist', () => {
    const missing = fail('ER_BAD_DB_ERROR', "Unknown database 'orders'");
    expect(missing).toMatch(/^the database mysql:\/\/app:\*\*\*@127\.0\.0\.1:3306\/orders does not exist \(ER_BAD_DB_ERROR: Unknown database 'orders'\); create it: CREATE DATABASE orders/);
    expect(missing).not.toMatch(/start/);
    const odd = describeConnectionError(parseDatabaseUrl('mysql://u@h/my-db'), { code: 'ER_BAD_DB_ERROR', message: 'x' });
    expect(odd).toMatch(/CREATE DATABASE `my-db`/);
  });
});

describe('resolveOptions', () => {
  it('fills defaults and refuses nonsense', () => {
    expect(resolveOptions({}, 'h:1')).toMatchObject({ batchSize: 500, leaseMs: 60_000, maxTrials: 10, owner: 'h:1' });
    expect(() => resolveOptions({ batchSize: 0 }, 'h:1')).toThrow('option batchSize=0 must be a whole number of at least 1');
    expect(() => resolveOptions({ leaseMs: 10 }, 'h:1')).toThrow(/too short/);
  });
  it('refuses timer durations past 2^31-1 ms (Node would fire them at once), naming the option, the value and the limit', () => {
    const max = 2_147_483_647;
    for (const k of ['handlerTimeoutMs', 'pollIntervalMs', 'leaseMs', 'settleDelayMs'] as const) {
      expect(resolveOptions({ [k]: max }, 'h:1')[k]).toBe(max);
      expect(() => resolveOptions({ [k]: max + 1 }, 'h:1')).toThrow(new RegExp(`^option ${k}=2147483648 .*at most 2147483647 ms \\(24\\.8 days\\)`));
    }
    expect(() => resolveOptions({ handlerTimeoutMs: 25 * 86_400_000 }, 'h:1')).toThrow(/handlerTimeoutMs=2160000000 \(25 days\)/);
  });
  it('refuses backoff delays that are not finite or longer than a year', () => {
    const year = 365 * 86_400_000;
    expect(resolveOptions({ backoffBaseMs: year, backoffMaxMs: year }, 'h:1')).toMatchObject({ backoffBaseMs: year, backoffMaxMs: year });
    for (const k of ['backoffBaseMs', 'backoffMaxMs'] as const) {
      expect(() => resolveOptions({ [k]: year + 1 }, 'h:1')).toThrow(new RegExp(`^option ${k}=${year + 1} .*at most ${year} ms \\(365 days\\)`));
      expect(() => resolveOptions({ [k]: Infinity }, 'h:1')).toThrow(`option ${k}=Infinity must be a number of at least 0`);
    }
  });
});

describe('validateHandler', () => {
  const handler = (timeoutMs: unknown) => ({ name: 'h', types: ['job'], handle() {}, timeoutMs });
  it('takes a timeoutMs from 1 ms to 2^31-1 ms and refuses longer ones, which Node would fire at once', () => {
    expect(validateHandler(handler(2_147_483_647)).timeoutMs).toBe(2_147_483_647);
    expect(() => validateHandler(handler(2_147_483_648))).toThrow(/^handler "h" has timeoutMs 2147483648; .*at most 2147483647 ms \(24\.8 days\)/);
    expect(() => validateHandler(handler(0))).toThrow(/timeoutMs 0/);
    expect(() => validateHandler(handler(Infinity))).toThrow(/timeoutMs Infinity/);
  });
});

describe('checkServerVersion', () => {
  it('wants MariaDB 10.6+ or MySQL 8.0.1+', () => {
    expect(checkServerVersion('10.11.19-MariaDB-0+deb12u1')).toBeNull();
    expect(checkServerVersion('8.0.36')).toBeNull();
    expect(checkServerVersion('10.5.2-MariaDB')).toMatch(/MariaDB 10.5.2-MariaDB; signalq needs/);
    expect(checkServerVersion('5.7.44')).toMatch(/MySQL 5.7.44/);
    expect(checkServerVersion('8.0.0')).toMatch(/needs MySQL 8.0.1/);
  });
});

describe('command-line values', () => {
  it('parses durations and whole numbers, naming the flag when wrong', () => {
    expect(parseDuration('30s', '--delay')).toBe(30_000);
    expect(parseDuration('7d', '--x')).toBe(7 * 86_400_000);
    expect(parseDuration('45', '--lease')).toBe(45_000);
    expect(() => parseDuration('soon', '--delay')).toThrow('--delay "soon" is not a duration');
    expect(parseInteger('12', '--limit', 1)).toBe(12);
    expect(() => parseInteger('1.5', '--limit', 1)).toThrow('--limit "1.5" is invalid');
    expect(() => parseJsonArgument('{x', 'payload')).toThrow(/payload "\{x" is not valid JSON/);
  });
  it('refuses JSON integers that a number cannot hold exactly, naming the path, instead of storing them rounded', () => {
    expect(parseJsonArgument('{"id":9007199254740991,"n":-9007199254740991,"f":0.5}', 'payload')).toEqual({ id: 9007199254740991, n: -9007199254740991, f: 0.5 });
    expect(() => parseJsonArgument('{"id":12345678901234567890}', 'payload')).toThrow(
      /^payload\.id is an integer beyond ±9007199254740991, which a JavaScript number cannot hold exactly \(it would be stored as 12345678901234567000\); send it as a string/,
    );
    expect(() => parseJsonArgument('[{"a":[1,-9007199254740993]}]', 'payload')).toThrow(/^payload\[0\]\.a\[1\] is an integer beyond/);
    expect(() => parseJsonPayload('9007199254740992', 'line 2 of x.ndjson: payload', () => 'bad')).toThrow(/^line 2 of x\.ndjson: payload is an integer beyond/);
  });
  it('strips a leading byte order mark, which editors on Windows write', () => {
    expect(parseJsonArgument('\uFEFF{"a":1}', 'payload')).toEqual({ a: 1 });
    expect(stripBom('\uFEFF"x"')).toBe('"x"');
    expect(stripBom('"\uFEFF"')).toBe('"\uFEFF"');
  });
  it('reads deep JSON without overflowing the stack, and turns a RangeError of JSON.parse into a usage error', () => {
    expect(() => parseJsonArgument('['.repeat(20_000) + ']'.repeat(20_000), 'payload')).not.toThrow();
    const spy = vi.spyOn(JSON, 'parse').mockImplementationOnce(() => {
      throw new RangeError('Maximum call stack size exceeded');
    });
    try {
      expect(() => parseJsonArgument('[[]]', 'payload')).toThrow(/^payload nests too deeply to read \(Maximum call stack size exceeded\); keep it within 200 levels/);
    } finally {
      spy.mockRestore();
    }
  });
});

describe('chunkRows', () => {
  it('splits by row count and by payload bytes, never leaving a row out', async () => {
    const { chunkRows } = await import('../../src/db/sql/insertItems.ts');
    const row = (bytes: number) => ({ type: 't', payload: 'x'.repeat(bytes), priority: 0, run_at: 0, max_trials: 1, dedupe_key: null, created_at: 0 });
    expect(chunkRows(Array.from({ length: 1200 }, () => row(10))).map((c) => c.length)).toEqual([500, 500, 200]);
    expect(chunkRows([row(600), row(600), row(600)], 500, 1000).map((c) => c.length)).toEqual([1, 1, 1]);
    expect(chunkRows([row(5000)], 500, 1000).map((c) => c.length)).toEqual([1]);
    expect(chunkRows([])).toEqual([]);
  });
});
