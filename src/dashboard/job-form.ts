/**
 * The start form of a job type, generated from its declared parameters (a JSON Schema object, as TypeBox writes
 * it), and the payload a posted form stands for. Both pure: the page renders the fields, the route converts the
 * form and hands the payload to `enqueue`, which checks it against the same schema (so a bad value gets the same
 * message as `signalq enqueue --param`).
 */
import { UsageError } from '../errors.ts';
import { payloadFromParams } from '../jobs/params.ts';

/** How a parameter is entered. */
export type FieldKind = 'checkbox' | 'integer' | 'number' | 'select' | 'text' | 'json';

/** One input of a start form. */
export interface FormField {
  name: string;
  kind: FieldKind;
  required: boolean;
  /** The declared default, as the input shows it ('' when none). */
  value: string;
  /** The declared description, shown as help. */
  help: string | null;
  /** For `select`: the choices, as shown and posted (their declared values in `choiceValues`). */
  choices: string[];
  choiceValues: unknown[];
  /** For numbers: the declared bounds. */
  min: number | null;
  max: number | null;
}

/** A posted form's field name for parameter `name` (a prefix keeps it apart from `type` and `_csrf`). */
export const fieldName = (name: string) => `param.${name}`;

type Schema = Record<string, any>;

/** The declared choices of a schema (`enum`, or `anyOf`/`oneOf` of `const`, as TypeBox's Union of Literals), or null. */
export function choicesOf(s: Schema): unknown[] | null {
  if (Array.isArray(s.enum)) return s.enum;
  const options = s.anyOf ?? s.oneOf;
  if (Array.isArray(options) && options.length > 0 && options.every((o: Schema) => o && 'const' in o)) return options.map((o: Schema) => o.const);
  return null;
}

/** The declared type of a schema, ignoring `null` (`["string", "null"]` is a string). */
function typeOf(s: Schema): string | undefined {
  return Array.isArray(s.type) ? s.type.find((t: string) => t !== 'null') : s.type;
}

/** The fields of a start form, in the order the schema declares its properties. */
export function formFields(schema: Schema | undefined): FormField[] {
  const props: Record<string, Schema> = schema?.properties ?? {};
  const required = new Set<string>(Array.isArray(schema?.required) ? schema.required : []);
  return Object.entries(props).map(([name, s]) => {
    const choices = choicesOf(s);
    const t = typeOf(s);
    const kind: FieldKind = choices ? 'select' : t === 'boolean' ? 'checkbox' : t === 'integer' ? 'integer' : t === 'number' ? 'number' : t === 'array' || t === 'object' ? 'json' : 'text';
    const shown = (v: unknown) => (v === undefined ? '' : typeof v === 'string' ? v : JSON.stringify(v));
    return {
      name,
      kind,
      required: required.has(name) && s.default === undefined,
      value: shown(s.default),
      help: typeof s.description === 'string' ? s.description : null,
      choices: (choices ?? []).map(shown),
      choiceValues: choices ?? [],
      min: typeof s.minimum === 'number' ? s.minimum : null,
      max: typeof s.maximum === 'number' ? s.maximum : null,
    };
  });
}

/**
 * The payload a posted start form stands for: each field converted as its parameter is declared (numbers,
 * booleans, JSON; a choice to its declared value). An empty field is left out, so the declared default applies (or
 * the check names it as required); an unticked checkbox is `false`. Values are not checked here: `enqueue` checks
 * them against the schema and names every bad one.
 */
export function payloadFromForm(form: Record<string, unknown>, schema: Schema | undefined): Record<string, unknown> {
  const fields = formFields(schema);
  const pairs: string[] = [];
  const out: Record<string, unknown> = {};
  for (const f of fields) {
    const raw = form[fieldName(f.name)];
    if (raw !== undefined && typeof raw !== 'string') throw new UsageError(`parameter ${f.name} was sent as a file; give it as text`);
    if (f.kind === 'checkbox') {
      out[f.name] = raw !== undefined && raw !== '' && raw !== 'false';
      continue;
    }
    if (raw === undefined || raw === '') continue;
    if (f.kind === 'select') {
      const i = f.choices.indexOf(raw);
      out[f.name] = i >= 0 ? f.choiceValues[i] : raw; // an unknown choice is named by the check, with the choices
      continue;
    }
    pairs.push(`${f.name}=${raw}`);
  }
  try {
    return { ...payloadFromParams(pairs, schema ?? null), ...out };
  } catch (err) {
    // payloadFromParams speaks of --param; on the form, the field is named by its parameter.
    if (err instanceof UsageError) throw new UsageError(err.message.replace(/^--param /, 'parameter '));
    throw err;
  }
}
