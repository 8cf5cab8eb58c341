import { z } from 'zod';

/**
 * Every input slipway reads (slipway.json, its environment, its state files, the hook socket, the
 * dashboard's forms) is checked by a zod schema through this file, so every error has one shape:
 * `<source>: <field>: <rule broken>, got <value>`, e.g.
 * `slipway.json: healthcheck.timeout: expected a number > 0, got "30s"`.
 */

/** One problem in an input: the field (`healthcheck.timeout`, `volumes[0]`, `` for the whole input) and the rule it broke. */
export interface InputIssue {
  path: string;
  /** Path segments as zod gave them, for callers that act on the field (the doctor drops a bad variable). */
  segments: (string | number)[];
  message: string;
}

/** An input that failed its schema (or is not JSON). `issues` are structured; the message names the source, each field and each rule. */
export class InputError extends Error {
  constructor(
    readonly source: string,
    readonly issues: InputIssue[],
  ) {
    // The source once, then each field and rule: `slipway.json: watch: …; tags: …`.
    super(`${source}: ${issues.map(fieldAndRule).join('; ')}`);
    this.name = 'InputError';
  }
}

/** `source: field: message`, or `source: message` for a problem with the whole input. */
export function formatInputIssue(source: string, issue: Pick<InputIssue, 'path' | 'message'>): string {
  return `${source}: ${fieldAndRule(issue)}`;
}

function fieldAndRule(issue: Pick<InputIssue, 'path' | 'message'>): string {
  return issue.path === '' ? issue.message : `${issue.path}: ${issue.message}`;
}

/** Checks `value` against `schema`; throws an {@link InputError} naming `source` and every broken rule. */
export function parseInput<S extends z.ZodType>(schema: S, value: unknown, source: string): z.output<S> {
  const result = schema.safeParse(value, { reportInput: true, error: issueMessage });
  if (!result.success) throw new InputError(source, result.error.issues.map(toInputIssue));
  return result.data;
}

/** Parses JSON text and checks it against `schema`; text that is not JSON (truncated, empty) is an {@link InputError} too. */
export function parseJsonInput<S extends z.ZodType>(schema: S, text: string, source: string): z.output<S> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new InputError(source, [{ path: '', segments: [], message: `not valid JSON (${(err as Error).message})` }]);
  }
  return parseInput(schema, value, source);
}

/**
 * An object that refuses unknown fields (a typo fails loudly instead of being ignored) and names
 * the fields it knows in that error.
 */
export function strictFields<Shape extends z.core.$ZodLooseShape>(shape: Shape) {
  const known = Object.keys(shape).join(', ');
  return z.strictObject(shape, {
    error: (issue) => (issue.code === 'unrecognized_keys' ? `unknown field ${issue.keys.map((k) => JSON.stringify(k)).join(', ')} (known: ${known})` : undefined),
  });
}

function toInputIssue(issue: z.core.$ZodIssue): InputIssue {
  const segments = issue.path.map((s) => (typeof s === 'symbol' ? String(s) : s));
  // A schema's own message ("expected a host name") says the rule; the value found is added here, once for all.
  const withValue =
    issue.message.includes(', got ') || issue.input === undefined || issue.code === 'invalid_key' || issue.code === 'unrecognized_keys' ? issue.message : `${issue.message}, got ${shown(issue.input)}`;
  return { path: pathText(segments), segments, message: withValue };
}

/** `healthcheck.timeout`, `volumes[0]`, `env["A B"]`. */
function pathText(segments: (string | number)[]): string {
  return segments
    .map((s, i) => {
      if (typeof s === 'number') return `[${s}]`;
      if (!/^[A-Za-z_][A-Za-z0-9_-]*$/.test(s)) return `[${JSON.stringify(s)}]`;
      return i === 0 ? s : `.${s}`;
    })
    .join('');
}

/** A value as the error shows it: JSON, cut short. */
export function shown(value: unknown): string {
  if (value === undefined) return 'nothing';
  const text = typeof value === 'number' && !Number.isFinite(value) ? String(value) : JSON.stringify(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

const TYPE_WORDS: Record<string, string> = { object: 'a JSON object', array: 'an array', string: 'a string', number: 'a number', boolean: 'true or false', int: 'a whole number', null: 'null' };

/** The message of an issue whose schema gave none: the rule, in plain words, and the value found. */
function issueMessage(issue: z.core.$ZodRawIssue): string | undefined {
  const got = `got ${shown(issue.input)}`;
  switch (issue.code) {
    case 'invalid_type':
      if (issue.input === undefined) return 'is required';
      return `expected ${TYPE_WORDS[issue.expected] ?? issue.expected}, ${got}`;
    case 'too_small':
      if (issue.origin === 'string') return Number(issue.minimum) === 1 ? `expected a non-empty string, ${got}` : `expected at least ${issue.minimum} characters, ${got}`;
      if (issue.origin === 'array' || issue.origin === 'set') return `expected at least ${issue.minimum} items`;
      return `expected a number ${issue.inclusive ? '≥' : '>'} ${issue.minimum}, ${got}`;
    case 'too_big':
      if (issue.origin === 'string') return `expected at most ${issue.maximum} characters`;
      if (issue.origin === 'array' || issue.origin === 'set') return `expected at most ${issue.maximum} items`;
      return `expected a number ${issue.inclusive ? '≤' : '<'} ${issue.maximum}, ${got}`;
    case 'unrecognized_keys':
      return `unknown field ${issue.keys.map((k) => JSON.stringify(k)).join(', ')}`;
    case 'invalid_value':
      return `expected ${issue.values.map((v) => shown(v)).join(' or ')}, ${got}`;
    case 'invalid_union': {
      const expected = issue.errors.flatMap((errors) => errors.filter((e) => e.code === 'invalid_type').map((e) => TYPE_WORDS[e.expected] ?? e.expected));
      return expected.length === issue.errors.length ? `expected ${expected.slice(0, -1).join(', ')} or ${expected.at(-1)}, ${got}` : `matches none of the accepted forms, ${got}`;
    }
    case 'invalid_key':
      return `invalid key: ${issue.issues.map((i) => i.message).join('; ')}`;
    case 'invalid_format':
      return `expected ${issue.format === 'regex' ? `text matching ${issue.pattern}` : `a valid ${issue.format}`}, ${got}`;
    default:
      return undefined;
  }
}
