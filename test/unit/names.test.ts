import { describe, expect, it } from 'vitest';
import { appNameClash, appNameProblem, isValidRefName } from '../../src/names';

describe('app names', () => {
  it.each(['a', 'myapp', 'shop-api', 'a1', 'x'.repeat(40)])('accepts %s', (name) => {
    expect(appNameProblem(name)).toBeUndefined();
  });
  it.each(['', '1app', 'My-App', '-x', 'a_b', '../x', '%2e%2e', '/abs', 'a\0b', 'x'.repeat(41), 'a'.repeat(1024), '$(touch /tmp/pwn)', '`id`', 'a;b', '-rf'])(
    'refuses %j with a readable reason',
    (name) => {
      expect(appNameProblem(name)).toMatch(/not a valid app name/);
    },
  );
  it('shortens huge names in the message', () => {
    expect(appNameProblem('b'.repeat(1024))!.length).toBeLessThan(200);
  });
});

describe('ref names', () => {
  it.each(['refs/heads/main', 'refs/heads/feature-v1.00-fix', 'refs/tags/v1.2.3', 'refs/heads/a/b'])('accepts %s', (ref) => {
    expect(isValidRefName(ref)).toBe(true);
  });
  it.each([
    'main',
    'refs/heads/a..b',
    'refs/heads/a b',
    'refs/heads/x.lock',
    'refs/heads/.hidden',
    'refs/heads/a@{1}',
    `refs/heads/${'x'.repeat(250)}`,
    'refs/heads/$(x)?',
    'refs/heads/a\\b',
    'refs/heads/',
  ])('refuses %j', (ref) => {
    expect(isValidRefName(ref)).toBe(false);
  });
});

describe('a new app name that would clash with container names', () => {
  it.each([
    ['shop-web-2', 'it is a container name of the app "shop"'],
    ['shop-pending', 'it is a container name of the app "shop"'],
    ['shop-worker-1', 'it is a container name of the app "shop"'],
    ['shop-clock-3-next', 'it is a container name of the app "shop"'],
    ['shop-release', 'it is a container name of the app "shop"'],
    ['shop-run-3f2a1c', 'it is a container name of the app "shop"'],
    ['sh', undefined],
    ['shop-admin', undefined],
    ['shop-web', undefined],
    ['shopx-web-2', undefined],
  ])('%s beside shop', (name, why) => {
    const problem = appNameClash(name, ['shop']);
    if (why === undefined) expect(problem).toBeUndefined();
    else expect(problem).toContain(why);
  });
  it('an existing app that would be a container of the new one', () => {
    expect(appNameClash('api', ['api-web-2', 'other'])).toContain('the app "api-web-2" has the name one of its containers would get');
  });
  it('the app itself (a push to an app that exists) is no clash', () => {
    expect(appNameClash('shop', ['shop'])).toBeUndefined();
  });
});
