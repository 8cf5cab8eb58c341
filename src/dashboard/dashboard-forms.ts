import { z } from 'zod';
import { parseInput, strictFields } from '../parse-input';

/*
 * The dashboard's forms, each a schema: a posted form with a field the page never sends, or a
 * value of the wrong form, is refused with the field and the rule named.
 */

/** POST /login: the admin token and where to go after. */
export const LOGIN_FORM = strictFields({ next: z.string().optional(), token: z.string().default('') });

/** POST /logout: the session's CSRF token. */
export const LOGOUT_FORM = strictFields({ csrf: z.string().optional() });

/** POST /apps/<app>/{restart,stop,start,maintenance-on,maintenance-off}: the session's CSRF token only. */
export const CONTROL_FORM = strictFields({ csrf: z.string().optional() });

/** POST /apps/<app>/rollback: the CSRF token and the release to go back to (`12` or `v12`; empty: the previous one). */
export const ROLLBACK_FORM = strictFields({
  csrf: z.string().optional(),
  release: z
    .string()
    .trim()
    .regex(/^(v?\d{1,9})?$/, 'expected a release number like 12 or v12')
    .optional()
    .transform((raw) => (raw === undefined || raw === '' ? undefined : Number(raw.replace(/^v/, '')))),
});

/** A posted form's fields (the first value of each) checked against `schema`; throws an InputError naming `source`. */
export function parseForm<S extends z.ZodType>(schema: S, form: URLSearchParams, source: string): z.output<S> {
  const fields: Record<string, string> = {};
  for (const [key, value] of form) if (!Object.hasOwn(fields, key)) fields[key] = value;
  return parseInput(schema, fields, source);
}
