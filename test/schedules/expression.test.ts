/**
 * Cron expressions: refusals naming the value, next ticks (in a time zone), due ticks walking back from now, words.
 */
import { describe, expect, it } from 'vitest';
import { describeExpression, dueTicks, nextTick, validateExpression, validateTimezone } from '../../src/schedules/expression.ts';
import { UsageError } from '../../src/errors.ts';

const MIN = 60_000;
const T0 = Date.UTC(2026, 0, 1, 12, 0);

describe('cron expressions', () => {
  it('takes 5 fields, or 6 with seconds first', () => {
    expect(validateExpression(' */5  * * * * ')).toBe('*/5 * * * *');
    expect(validateExpression('*/10 * * * * *')).toBe('*/10 * * * * *');
  });

  it('refuses a bad expression, naming it', () => {
    for (const bad of ['', '* * *', '61 * * * *', 'every day', '* * * * * * *']) {
      expect(() => validateExpression(bad)).toThrow(UsageError);
      expect(() => validateExpression(bad)).toThrow(JSON.stringify(bad));
    }
  });

  it('refuses an unknown time zone, naming it', () => {
    expect(() => validateTimezone('Mars/Base')).toThrow('time zone "Mars/Base" is unknown');
    expect(validateTimezone('Europe/Paris')).toBe('Europe/Paris');
    expect(validateTimezone(null)).toBeNull();
  });

  it('next tick is strictly after, and read in the time zone', () => {
    expect(nextTick({ expression: '* * * * *', timezone: null }, T0)).toBe(T0 + MIN);
    // 03:00 in Paris on 1 January is 02:00 UTC.
    expect(nextTick({ expression: '0 3 * * *', timezone: 'Europe/Paris' }, T0)).toBe(Date.UTC(2026, 0, 2, 2, 0));
  });

  it('due ticks: those in [from, now], ascending; the latest `limit` and whether there are more', () => {
    const s = { expression: '* * * * *', timezone: null };
    expect(dueTicks(s, T0, T0, 5)).toEqual({ ticks: [T0], more: false });
    expect(dueTicks(s, T0, T0 + 2 * MIN + 30_000, 5)).toEqual({ ticks: [T0, T0 + MIN, T0 + 2 * MIN], more: false });
    expect(dueTicks(s, T0 - 7 * 24 * 60 * MIN, T0, 2)).toEqual({ ticks: [T0 - MIN, T0], more: true });
  });

  it('says the expression in words', () => {
    expect(describeExpression({ expression: '*/5 * * * *', timezone: null })).toBe('Every 5 minutes');
    expect(describeExpression({ expression: '0 3 * * *', timezone: 'Europe/Paris' })).toBe('At 03:00 (Europe/Paris)');
  });
});
