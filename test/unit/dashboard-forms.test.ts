import { describe, expect, it } from 'vitest';
import { LOGIN_FORM, LOGOUT_FORM, parseForm, ROLLBACK_FORM } from '../../src/dashboard/dashboard-forms';

const form = (text: string) => new URLSearchParams(text);

describe('dashboard forms', () => {
  it('read what the pages post', () => {
    expect(parseForm(LOGIN_FORM, form('next=%2Fapps%2Fshop&token=abc'), 'login form')).toEqual({ next: '/apps/shop', token: 'abc' });
    expect(parseForm(LOGIN_FORM, form(''), 'login form')).toEqual({ token: '' });
    expect(parseForm(LOGOUT_FORM, form('csrf=x'), 'logout form')).toEqual({ csrf: 'x' });
    expect(parseForm(ROLLBACK_FORM, form('csrf=x&release=12'), 'rollback form')).toEqual({ csrf: 'x', release: 12 });
    expect(parseForm(ROLLBACK_FORM, form('release=+v7+'), 'rollback form').release).toBe(7);
    expect(parseForm(ROLLBACK_FORM, form('release='), 'rollback form').release).toBeUndefined();
    expect(parseForm(ROLLBACK_FORM, form(''), 'rollback form').release).toBeUndefined();
  });
  it('take the first of repeated fields', () => {
    expect(parseForm(ROLLBACK_FORM, form('release=3&release=4'), 'rollback form').release).toBe(3);
  });
  it('refuse a field the page never sends, or a value of the wrong form, naming it', () => {
    expect(() => parseForm(ROLLBACK_FORM, form('release=twelve'), 'rollback form')).toThrow('rollback form: release: expected a release number like 12 or v12, got "twelve"');
    expect(() => parseForm(ROLLBACK_FORM, form('release=1.5'), 'rollback form')).toThrow(/release: expected a release number/);
    expect(() => parseForm(LOGIN_FORM, form('token=a&admin=1'), 'login form')).toThrow('login form: unknown field "admin" (known: next, token)');
  });
});
