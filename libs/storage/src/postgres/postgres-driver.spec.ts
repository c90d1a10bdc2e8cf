import { describe, expect, it } from 'vitest';
import { toPostgresPlaceholders } from './postgres-driver';

describe('toPostgresPlaceholders', () => {
  it('numbers placeholders left to right', () => {
    expect(toPostgresPlaceholders('SELECT a FROM t WHERE a = ? AND b IN (?, ?)')).toBe(
      'SELECT a FROM t WHERE a = $1 AND b IN ($2, $3)',
    );
  });

  it('leaves ? inside literals, quoted identifiers, comments and dollar quotes alone', () => {
    const sql = `SELECT '?', 'it''s ?', "odd?col", E'a\\'?' , $$ ? $$, $fn$ ? $fn$ -- why?
      FROM t /* ? */ WHERE x = ?`;
    const out = toPostgresPlaceholders(sql);
    expect(out.match(/\$\d+/g)).toEqual(['$1']);
    expect(out).toContain(`'it''s ?'`);
    expect(out).toContain(`"odd?col"`);
    expect(out).toContain(`E'a\\'?'`);
    expect(out).toContain('$fn$ ? $fn$');
    expect(out.endsWith('x = $1')).toBe(true);
  });

  it('does not mistake positional $n or identifiers with $ for dollar quotes', () => {
    expect(toPostgresPlaceholders('SELECT a$b, ? FROM t')).toBe('SELECT a$b, $1 FROM t');
  });
});
