import { describe, expect, it } from 'vitest';
import { isDeployIdOf, parseDashboardRoute, safeNext } from '../../src/dashboard/dashboard-routes';
import { csrfMatches, readCookie, SESSION_TTL_MS, sessionCookie, SessionStore } from '../../src/dashboard/dashboard-session';
import { resumeIndex, sseEvent } from '../../src/dashboard/deploy-events';

describe('dashboard sessions', () => {
  it('a session lives 12 h, then is gone', () => {
    let now = 1_000_000;
    const store = new SessionStore(SESSION_TTL_MS, () => now);
    const { id, session } = store.create();
    expect(id).toMatch(/^[A-Za-z0-9_-]{43}$/); // 32 random bytes
    expect(store.get(id)).toBe(session);
    now += SESSION_TTL_MS - 1;
    expect(store.get(id)).toBe(session);
    now += 1;
    expect(store.get(id)).toBeUndefined();
    expect(store.size).toBe(0);
  });

  it('unknown, malformed and destroyed ids have no session', () => {
    const store = new SessionStore();
    const { id } = store.create();
    expect(store.get(undefined)).toBeUndefined();
    expect(store.get('x')).toBeUndefined();
    expect(store.get(`${id.slice(0, -1)}${id.endsWith('A') ? 'B' : 'A'}`)).toBeUndefined();
    store.destroy(id);
    expect(store.get(id)).toBeUndefined();
  });

  it('keeps at most maxSessions, dropping the oldest', () => {
    const store = new SessionStore(SESSION_TTL_MS, Date.now, 2);
    const first = store.create().id;
    store.create();
    store.create();
    expect(store.get(first)).toBeUndefined();
    expect(store.size).toBe(2);
  });

  it('checks the CSRF token exactly', () => {
    const { session } = new SessionStore().create();
    expect(csrfMatches(session, session.csrf)).toBe(true);
    expect(csrfMatches(session, `${session.csrf}x`)).toBe(false);
    expect(csrfMatches(session, '')).toBe(false);
    expect(csrfMatches(session, null)).toBe(false);
  });

  it('reads and writes the cookie', () => {
    expect(readCookie('a=1; slipway_session=abc; b=2', 'slipway_session')).toBe('abc');
    expect(readCookie('xslipway_session=abc', 'slipway_session')).toBeUndefined();
    expect(sessionCookie('abc', false)).toBe('slipway_session=abc; HttpOnly; SameSite=Strict; Path=/; Max-Age=43200');
    expect(sessionCookie('abc', true)).toMatch(/; Secure$/);
  });
});

describe('dashboard routes', () => {
  const id = 'deploy-shop-0123456789ab-1795667529649';
  it('parses the pages and refuses bad names and ids', () => {
    expect(parseDashboardRoute('GET', '/')).toEqual({ name: 'overview' });
    expect(parseDashboardRoute('GET', '/apps/shop')).toEqual({ name: 'app', app: 'shop' });
    expect(parseDashboardRoute('GET', `/apps/shop/deploys/${id}`)).toEqual({ name: 'deploy', app: 'shop', id });
    expect(parseDashboardRoute('GET', `/apps/shop/deploys/${id}/events`)).toEqual({ name: 'events', app: 'shop', id });
    expect(parseDashboardRoute('POST', '/apps/shop/rollback')).toEqual({ name: 'rollback', app: 'shop' });
    expect(parseDashboardRoute('GET', '/apps/shop/rollback')).toEqual({ name: 'method-not-allowed', allow: 'POST' });
    expect(parseDashboardRoute('GET', '/apps/Shop').name).toBe('not-found');
    expect(parseDashboardRoute('GET', '/apps/%73hop').name).toBe('not-found');
    expect(parseDashboardRoute('GET', '/apps/shop/deploys/deploy-other-0123456789ab-1').name).toBe('not-found');
    expect(parseDashboardRoute('GET', '/apps/shop/deploys/..%2f..%2fetc').name).toBe('not-found');
    expect(parseDashboardRoute('GET', '/nope').name).toBe('not-found');
    expect(isDeployIdOf('shop', id)).toBe(true);
    expect(isDeployIdOf('sho', id)).toBe(false);
  });

  it('redirects after login only to local paths', () => {
    expect(safeNext('/apps/shop')).toBe('/apps/shop');
    expect(safeNext('//evil.example')).toBe('/');
    expect(safeNext('/\\evil.example')).toBe('/');
    expect(safeNext('https://evil.example')).toBe('/');
    expect(safeNext(null)).toBe('/');
  });
});

describe('server-sent events', () => {
  it('frames a line with its id, and splits embedded newlines into data fields', () => {
    expect(sseEvent('-----> Building', { id: 3 })).toBe('id: 3\ndata: -----> Building\n\n');
    expect(sseEvent('a\nb', { event: 'end' })).toBe('event: end\ndata: a\ndata: b\n\n');
  });
  it('resumes after Last-Event-ID, else at ?from=', () => {
    expect(resumeIndex('4', '2')).toBe(5);
    expect(resumeIndex(undefined, '2')).toBe(2);
    expect(resumeIndex(undefined, null)).toBe(0);
    expect(resumeIndex('x', '-1')).toBe(0);
  });
});
