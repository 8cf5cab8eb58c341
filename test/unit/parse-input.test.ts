import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { InputError, parseInput, parseJsonInput, shown, strictFields } from '../../src/parse-input';

describe('input errors', () => {
  const schema = strictFields({ a: z.number().min(1), list: z.array(z.string()).optional(), kind: z.enum(['x', 'y']).optional() });
  const issuesOf = (run: () => unknown) => {
    try {
      run();
    } catch (err) {
      expect(err).toBeInstanceOf(InputError);
      return { message: (err as InputError).message, issues: (err as InputError).issues };
    }
    throw new Error('no error');
  };
  it('name the source, the field and the rule, with the value found', () => {
    const { message, issues } = issuesOf(() => parseInput(schema, { a: 0, list: ['ok', 3] }, 'f.json'));
    expect(message).toBe('f.json: a: expected a number ≥ 1, got 0; list[1]: expected a string, got 3');
    expect(issues.map((i) => i.segments)).toEqual([['a'], ['list', 1]]);
  });
  it('refuse unknown fields, naming the known ones', () => {
    expect(issuesOf(() => parseInput(schema, { a: 1, b: 2 }, 'f.json')).message).toBe('f.json: unknown field "b" (known: a, list, kind)');
  });
  it('say what is missing and which values are allowed', () => {
    expect(issuesOf(() => parseInput(schema, { kind: 'z' }, 'f.json')).message).toBe('f.json: a: is required; kind: expected "x" or "y", got "z"');
  });
  it('call truncated or empty text "not valid JSON", naming the source', () => {
    expect(issuesOf(() => parseJsonInput(schema, '{"a": 1', 'apps/shop.json')).message).toMatch(/^apps\/shop.json: not valid JSON \(/);
    expect(issuesOf(() => parseJsonInput(schema, '', 'apps/shop.json')).message).toMatch(/^apps\/shop.json: not valid JSON/);
  });
  it('cut long values short', () => {
    expect(shown('x'.repeat(100))).toHaveLength(60);
    expect(shown(undefined)).toBe('nothing');
  });
});
