/** Types of common.mjs, for the TypeScript runner (signalq.ts) and bench-peers.ts. */
export interface Percentiles { median: number; p95: number; max: number; n: number }
export interface LatencyProbe {
  samples: number[];
  started(payload: unknown, startedAt?: number): boolean;
  run(count: number, enqueue: (payload: { i: number; t: number; pad: string }) => Promise<unknown>, timeoutMs: number): Promise<Percentiles>;
}
export function packageVersion(name: string): string;
export function intEnv(name: string, fallback: number): number;
export const workload: { n: number; concurrency: number; latencyN: number; phaseTimeoutMs: number };
export function payloadFor(i: number): { i: number; pad: string };
export function sleep(ms: number): Promise<void>;
export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T>;
export function percentiles(values: number[]): Percentiles;
export function completionCounter(target: number): { finished: Promise<number>; readonly count: number; done(k?: number): void };
export function latencyProbe(): LatencyProbe;
export function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }>;
export function perSecond(count: number, ms: number): number;
export function report(result: object): void;
export function reportFailure(system: string, error: unknown): never;
export function log(...args: unknown[]): void;
