/**
 * Generated CSV files of contacts for the csv-import tests: `rows` data rows after the header, some bad in known
 * ways, with what a correct import must end with (the good emails, the rejected lines).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface ContactsFile {
  path: string;
  /** Lower-cased emails of the rows that must be imported, once each. */
  good: Set<string>;
  /** File line numbers (the header is line 1) of the rows that must be rejected. */
  badLines: number[];
}

/**
 * Row i (from 1, on line i + 1) is bad when: i % 97 == 0 (not an email), i % 389 == 0 (no email), i == 500 (repeats
 * row 1's email, in other case), i % 613 == 0 (an extra field), i % 1009 == 0 (a stray quote the parser cannot read).
 */
export function contactsFile(rows: number): ContactsFile {
  const path = join(mkdtempSync(join(tmpdir(), 'signalq-csv-')), 'contacts.csv');
  const good = new Set<string>();
  const badLines: number[] = [];
  const lines = ['email,name,city'];
  for (let i = 1; i <= rows; i++) {
    const email = `person${i}@example.com`;
    let text = `${email},Person ${i},Town ${i % 50}`;
    if (i % 1009 === 0) text = `per"son${i}@example.com,Person ${i},Town`;
    else if (i % 613 === 0) text = `${email},Person ${i},Town,extra`;
    else if (i === 500) text = `PERSON1@example.com,Again,Town`;
    else if (i % 389 === 0) text = `,Person ${i},Town`;
    else if (i % 97 === 0) text = `person ${i} at example,Person ${i},Town`;
    else good.add(email);
    if (!good.has(email)) badLines.push(i + 1);
    lines.push(text);
  }
  writeFileSync(path, lines.join('\n') + '\n');
  return { path, good, badLines };
}
