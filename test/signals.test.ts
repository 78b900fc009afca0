/**
 * The signal bus's own promises: a listener is removed from exactly the event it is removed from, and a listener
 * that throws or rejects is reported as `listenerError` without stopping the others.
 */
import { describe, expect, it } from 'vitest';
import { Signals } from '../src/signals.ts';

describe('Signals', () => {
  it('one function on two events: off from the first leaves it on the second, and it no longer hears the first', () => {
    const signals = new Signals();
    const heard: string[] = [];
    const listener = (e: { count: number }) => heard.push(`count ${e.count}`);
    signals.on('claimLost', listener);
    signals.on('leasesExpired', listener);

    signals.off('claimLost', listener);
    signals.emit('claimLost', { count: 1 });
    signals.emit('leasesExpired', { count: 2 });

    expect(heard).toEqual(['count 2']);
    expect(signals.has('claimLost')).toBe(false);
    expect(signals.has('leasesExpired')).toBe(true);
  });

  it('the same function twice on one event: each off removes one of the two', () => {
    const signals = new Signals();
    let calls = 0;
    const listener = () => calls++;
    signals.on('claimLost', listener);
    signals.on('claimLost', listener);
    signals.off('claimLost', listener);
    signals.emit('claimLost', { count: 1 });
    expect(calls).toBe(1);
    signals.off('claimLost', listener);
    signals.emit('claimLost', { count: 1 });
    expect(calls).toBe(1);
    expect(signals.has('claimLost')).toBe(false);
  });

  it('a listener that throws, or rejects, is reported as listenerError and the next listener still runs', async () => {
    const signals = new Signals();
    const reported: { event: string; error: unknown }[] = [];
    const boom = new Error('boom');
    const later = new Error('later');
    let after = 0;
    signals.on('listenerError', (e) => reported.push(e));
    signals.on('claimLost', () => {
      throw boom;
    });
    signals.on('claimLost', () => Promise.reject(later));
    signals.on('claimLost', () => after++);

    expect(() => signals.emit('claimLost', { count: 1 })).not.toThrow();
    await new Promise((r) => setImmediate(r));

    expect(after).toBe(1);
    expect(reported).toEqual([{ event: 'claimLost', error: boom }, { event: 'claimLost', error: later }]);
  });

  it('a listenerError listener that throws is not reported again (no loop)', () => {
    const signals = new Signals();
    let calls = 0;
    signals.on('listenerError', () => {
      calls++;
      throw new Error('broken error listener');
    });
    signals.on('claimLost', () => {
      throw new Error('boom');
    });
    expect(() => signals.emit('claimLost', { count: 1 })).not.toThrow();
    expect(calls).toBe(1);
  });
});
