/**
 * Human-readable output for jobs: the types list, progress, and history records.
 */
import type { HistoryRecord } from '../admin/admin.ts';
import type { JobType } from '../jobs/declarations.ts';
import type { Progress } from '../types.ts';

interface ParamSchema {
  type?: string | string[];
  description?: string;
  default?: unknown;
  enum?: unknown[];
  anyOf?: { const?: unknown; enum?: unknown[] }[];
  minimum?: number;
  maximum?: number;
}

/** A parameter's kind in a word: `int`, `boolean`, `select: a|b`, `string`, ... */
function kindOf(p: ParamSchema): string {
  const choices = p.enum ?? (p.anyOf?.every((a) => 'const' in a) ? p.anyOf.map((a) => a.const) : undefined);
  if (choices) return `select: ${choices.map(String).join('|')}`;
  const t = Array.isArray(p.type) ? p.type.join('|') : p.type;
  return t === 'integer' ? 'int' : t ?? 'any';
}

/** Each type with its handlers, help and parameters, as `signalq types` prints them. */
export function formatJobTypes(types: JobType[]): string {
  if (types.length === 0) return 'no item types: no live worker runs and no handlers folder here declares any (start `signalq work`)';
  const lines: string[] = [];
  for (const t of types) {
    const where = t.live ? '' : '  (no live worker takes it)';
    lines.push(`${t.type}  [${t.handlers.join(', ')}]${t.isolated ? '  isolated' : ''}${where}`);
    if (t.help) lines.push(`  ${t.help}`);
    for (const schema of t.params) {
      const props = (schema.properties ?? {}) as Record<string, ParamSchema>;
      const required = new Set((schema.required ?? []) as string[]);
      for (const [name, p] of Object.entries(props)) {
        const bits = [kindOf(p), required.has(name) && p.default === undefined ? 'required' : 'optional'];
        if (p.default !== undefined) bits.push(`default ${JSON.stringify(p.default)}`);
        if (p.minimum !== undefined) bits.push(`min ${p.minimum}`);
        if (p.maximum !== undefined) bits.push(`max ${p.maximum}`);
        lines.push(`  --param ${name}=…  ${bits.join(', ')}${p.description ? `: ${p.description}` : ''}`);
      }
    }
  }
  return lines.join('\n');
}

/** `500/1000 (50%) record 500` */
export function formatProgress(p: Progress): string {
  const of = p.size != null ? `/${p.size}` : '';
  const pct = p.percent != null ? ` (${p.percent}%)` : '';
  return `${p.done}${of}${pct}${p.message ? ` ${p.message}` : ''}`;
}

/** One history record per line: time, status, subject, comment. */
export function formatHistory(records: HistoryRecord[]): string[] {
  return records.map((r) => `  ${r.at.toISOString()}  ${r.status ?? '-'}  ${r.subject ?? '-'}  ${r.comment}${r.handler === 'signalq' ? '' : `  (${r.handler})`}`);
}
