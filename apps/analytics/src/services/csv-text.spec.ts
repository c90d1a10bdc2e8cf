import { describe, expect, it } from 'vitest';
import { csvText } from './stats.service';

describe('csvText: spreadsheet formula injection', () => {
  it('neutralises cells a spreadsheet would run as a formula, after a tab or CR too', () => {
    for (const value of ['=1+1', '+1', '-1', '@SUM(A1)', '\t=cmd|x', '\r=cmd|x']) {
      const cell = csvText(value);
      expect(cell.replace(/^"/, '').startsWith("'"), JSON.stringify(value)).toBe(true);
    }
  });

  it('quotes cells with a comma, quote, CR or LF, and leaves plain text alone', () => {
    expect(csvText('a,b')).toBe('"a,b"');
    expect(csvText('say "hi"')).toBe('"say ""hi"""');
    expect(csvText('\r=x')).toBe(`"'\r=x"`);
    expect(csvText('store-a')).toBe('store-a');
  });
});
