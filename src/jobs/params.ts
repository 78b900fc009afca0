/**
 * Job parameters: a payload checked against the JSON Schema its type declares (`params`), every bad or missing
 * field named in one error, defaults filled in. Schemas come from the handlers connected here and from the live
 * workers' records, so a CLI or a dashboard that connects no handler checks payloads all the same. Validation is
 * ajv's, the JSON Schema validator most of the ecosystem uses, since a schema read back from the workers table is
 * plain JSON (TypeBox's own checker needs the schema objects TypeBox built).
 */
import AjvModule, { type ErrorObject, type ValidateFunction } from 'ajv';
import { UsageError } from '../errors.ts';

// ajv's typings describe a CommonJS default export while Node loads it as one: accept either shape.
const Ajv = ((AjvModule as any).default ?? AjvModule) as typeof AjvModule.default;

const ajv = new Ajv({ allErrors: true, useDefaults: true, strict: false, validateFormats: false, verbose: true });
const compiled = new Map<string, ValidateFunction>();

/** The compiled check of a schema (cached by its JSON). Throws a `UsageError` naming a schema ajv cannot compile. */
function validatorOf(schema: Record<string, unknown>, owner: string): ValidateFunction {
  const key = JSON.stringify(schema);
  let v = compiled.get(key);
  if (!v) {
    try {
      v = ajv.compile(schema);
    } catch (err) {
      throw new UsageError(`${owner} declares params that are not a valid JSON Schema (${(err as Error).message}); fix its declaration`);
    }
    compiled.set(key, v);
  }
  return v;
}

/** Refuses a declaration whose `params` is not a JSON Schema object (checked when a handler is connected). */
export function checkParamsSchema(schema: unknown, owner: string): void {
  if (schema === undefined) return;
  if (!schema || typeof schema !== 'object' || Array.isArray(schema)) {
    throw new UsageError(`${owner} has params ${JSON.stringify(schema)}; declare them as a JSON Schema object, e.g. Type.Object({ file: Type.String() }) with TypeBox`);
  }
  validatorOf(schema as Record<string, unknown>, owner);
}

/**
 * Checks `payload` against each of `schemas` (the declarations of every handler of its type). Returns the payload
 * with declared defaults filled in (a copy: the caller's object is not changed). Throws one `UsageError` naming
 * every bad or missing field.
 */
export function checkPayload(type: string, payload: unknown, schemas: Record<string, unknown>[], where = 'payload'): unknown {
  if (schemas.length === 0) return payload;
  const filled = payload === undefined ? undefined : structuredClone(payload);
  const problems: string[] = [];
  for (const schema of schemas) {
    const validate = validatorOf(schema, `type ${type}`);
    if (!validate(filled)) {
      // A choice (TypeBox's union of literals) fails each branch and then the union: name it once, with the choices.
      for (const e of validate.errors ?? []) if (!/\/anyOf\/\d+\//.test(e.schemaPath)) problems.push(describe(e, filled));
    }
  }
  if (problems.length > 0) {
    const unique = [...new Set(problems)];
    throw new UsageError(`${where} of ${type} is invalid: ${unique.join('; ')}; nothing was enqueued (signalq types shows its parameters)`);
  }
  return filled;
}

/** One ajv error as "field what": `limit must be integer (got "x")`, `file is required`. */
function describe(e: ErrorObject, root: unknown): string {
  const path = e.instancePath.split('/').slice(1).map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~')).join('.');
  const at = (name: string) => (path ? `${path}.${name}` : name);
  switch (e.keyword) {
    case 'required':
      return `${at(String(e.params.missingProperty))} is required`;
    case 'additionalProperties':
      return `${at(String(e.params.additionalProperty))} is not a parameter of this type`;
    case 'anyOf': {
      const consts = ((e.parentSchema as { anyOf?: { const?: unknown }[] })?.anyOf ?? []).filter((a) => 'const' in a).map((a) => a.const);
      if (consts.length > 0) return `${path || 'payload'} must be one of ${consts.map((v) => JSON.stringify(v)).join(', ')} (got ${JSON.stringify(valueAt(root, e.instancePath))})`;
      return `${path || 'payload'} matches none of its allowed forms (got ${JSON.stringify(valueAt(root, e.instancePath))})`;
    }
    case 'enum':
      return `${path || 'payload'} must be one of ${(e.params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')} (got ${JSON.stringify(valueAt(root, e.instancePath))})`;
    default:
      return `${path || 'payload'} ${e.message ?? 'is invalid'} (got ${JSON.stringify(valueAt(root, e.instancePath))})`;
  }
}

function valueAt(root: unknown, pointer: string): unknown {
  let v: any = root;
  for (const p of pointer.split('/').slice(1)) v = v?.[p.replace(/~1/g, '/').replace(/~0/g, '~')];
  return v;
}

/**
 * Turns `--param name=value` texts into a payload, each value converted as its declared type says (`int`,
 * `number`, `boolean`, arrays and objects as JSON); undeclared names and string parameters stay text.
 */
export function payloadFromParams(pairs: string[], schema: Record<string, unknown> | null): Record<string, unknown> {
  const props = ((schema?.properties ?? {}) as Record<string, { type?: string | string[] }>);
  const out: Record<string, unknown> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq < 1) throw new UsageError(`--param ${JSON.stringify(pair)} is not name=value; write it as --param file=data.csv`);
    const name = pair.slice(0, eq);
    const text = pair.slice(eq + 1);
    const declared = props[name]?.type;
    const kind = Array.isArray(declared) ? declared.find((t) => t !== 'null') : declared;
    out[name] = convert(name, text, kind);
  }
  return out;
}

function convert(name: string, text: string, kind: string | undefined): unknown {
  switch (kind) {
    case 'integer':
    case 'number': {
      const n = Number(text);
      // A bad number stays text, so the schema's check names it with the others.
      return text.trim() !== '' && Number.isFinite(n) ? n : text;
    }
    case 'boolean':
      return text === 'true' || text === '1' || text === 'yes' ? true : text === 'false' || text === '0' || text === 'no' ? false : text;
    case 'array':
    case 'object':
      try {
        return JSON.parse(text);
      } catch {
        throw new UsageError(`--param ${name}: ${JSON.stringify(text)} is not JSON; give the ${kind} as JSON`);
      }
    default:
      return text;
  }
}
