/**
 * The start form of a job type from its TypeBox parameters, and a posted form's payload: pure, no database.
 */
import { describe, expect, it } from 'vitest';
import { Type } from '../../src/index.ts';
import { formFields, payloadFromForm } from '../../src/dashboard/job-form.ts';
import { checkPayload } from '../../src/jobs/params.ts';

const params = JSON.parse(JSON.stringify(Type.Object({
  file: Type.String({ minLength: 1, description: 'CSV file to import' }),
  limit: Type.Integer({ minimum: 1, default: 100 }),
  ratio: Type.Optional(Type.Number({ maximum: 1 })),
  dryRun: Type.Boolean({ default: true }),
  mode: Type.Union([Type.Literal('append'), Type.Literal('replace')], { default: 'append' }),
  level: Type.Union([Type.Literal(1), Type.Literal(2)]),
  tags: Type.Optional(Type.Array(Type.String())),
  color: Type.Optional(Type.String({ enum: ['red', 'green'] })),
}))); // as read back from the workers table: plain JSON

describe('job start form', () => {
  it('renders each parameter by its declared kind, with required, defaults and help', () => {
    const f = formFields(params);
    expect(f.map((x) => [x.name, x.kind, x.required, x.value])).toEqual([
      ['file', 'text', true, ''],
      ['limit', 'integer', false, '100'],
      ['ratio', 'number', false, ''],
      ['dryRun', 'checkbox', false, 'true'],
      ['mode', 'select', false, 'append'],
      ['level', 'select', true, ''],
      ['tags', 'json', false, ''],
      ['color', 'select', false, ''],
    ]);
    expect(f[0].help).toBe('CSV file to import');
    expect(f[4].choices).toEqual(['append', 'replace']);
    expect(f[5].choices).toEqual(['1', '2']);
    expect(f[7].choices).toEqual(['red', 'green']);
    expect(formFields(undefined)).toEqual([]);
  });

  it('turns a posted form into the declared types, leaving empty fields to their defaults', () => {
    const form = { type: 'import', _csrf: 'x', 'param.file': 'a.csv', 'param.limit': '', 'param.ratio': '0.5', 'param.mode': 'replace', 'param.level': '2', 'param.tags': '["a"]' };
    const payload = payloadFromForm(form, params);
    expect(payload).toEqual({ file: 'a.csv', ratio: 0.5, dryRun: false, mode: 'replace', level: 2, tags: ['a'] });
    expect(checkPayload('import', payload, [params])).toEqual({ ...payload, limit: 100 });
    expect(payloadFromForm({ 'param.dryRun': 'true', 'param.level': '1', 'param.file': 'b' }, params)).toMatchObject({ dryRun: true, level: 1 });
  });

  it('leaves a bad value as text for the check to name, as the CLI does', () => {
    const payload = payloadFromForm({ 'param.limit': 'ten', 'param.level': '3' }, params);
    expect(payload).toEqual({ limit: 'ten', level: '3', dryRun: false });
    expect(() => checkPayload('import', payload, [params])).toThrow(/payload of import is invalid: file is required; limit must be integer \(got "ten"\); level/);
    expect(() => payloadFromForm({ 'param.tags': '[nope' }, params)).toThrow('parameter tags: "[nope" is not JSON; give the array as JSON');
  });
});
