import { randomBytes } from 'node:crypto';
import type http from 'node:http';

/** Largest form body the dashboard reads (its forms hold a token, a CSRF token and a number). */
export const MAX_FORM_BYTES = 16 * 1024;

/** A fresh CSP nonce for one response. */
export function newNonce(): string {
  return randomBytes(16).toString('base64');
}

/** The headers every dashboard page carries: CSP (inline code only under the nonce), no framing, no caching. */
export function securityHeaders(nonce: string): Record<string, string> {
  return {
    'Content-Security-Policy': `default-src 'self'; script-src 'nonce-${nonce}'; style-src 'nonce-${nonce}'; img-src 'self' data:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'`,
    'X-Frame-Options': 'DENY',
    'Cache-Control': 'no-store',
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'same-origin',
  };
}

/** Sends a page (headers only for HEAD). */
export function sendHtml(req: http.IncomingMessage, res: http.ServerResponse, status: number, nonce: string, html: string, headers: Record<string, string | string[]> = {}): void {
  res.writeHead(status, { ...securityHeaders(nonce), 'Content-Type': 'text/html; charset=utf-8', 'Content-Length': Buffer.byteLength(html), ...headers });
  res.end(req.method === 'HEAD' ? undefined : html);
}

/** A plain-text answer (for the event stream's errors and API-style refusals). */
export function sendText(res: http.ServerResponse, status: number, text: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store', 'X-Content-Type-Options': 'nosniff', ...headers });
  res.end(`${text}\n`);
}

/** 303 See Other to a local path (after a POST, the browser GETs the target). */
export function redirect(res: http.ServerResponse, location: string, headers: Record<string, string | string[]> = {}): void {
  res.writeHead(303, { Location: location, 'Cache-Control': 'no-store', 'Content-Length': 0, ...headers });
  res.end();
}

/** Why a form could not be read, as an HTTP status and words. */
export class FormError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** Reads an `application/x-www-form-urlencoded` body of at most `MAX_FORM_BYTES`. */
export async function readForm(req: http.IncomingMessage, maxBytes = MAX_FORM_BYTES): Promise<URLSearchParams> {
  const type = String(req.headers['content-type'] ?? '')
    .split(';')[0]
    .trim()
    .toLowerCase();
  if (type !== 'application/x-www-form-urlencoded') throw new FormError(415, 'expected a form (application/x-www-form-urlencoded)');
  if (Number(req.headers['content-length'] ?? 0) > maxBytes) throw new FormError(413, 'form too large');
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBytes) throw new FormError(413, 'form too large');
    chunks.push(chunk);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

/**
 * False when a browser says the request comes from another site: `Sec-Fetch-Site` other than
 * same-origin/none, or an `Origin` whose host is not ours (the Host header, or the one a reverse
 * proxy forwarded). Requests with neither header (curl, scripts) pass. Browsers attach cached
 * Basic credentials to cross-site form posts, so header-authorized POSTs need this check.
 */
export function isSameSiteRequest(req: http.IncomingMessage): boolean {
  const site = req.headers['sec-fetch-site'];
  if (typeof site === 'string' && site !== 'same-origin' && site !== 'none') return false;
  const origin = req.headers.origin;
  if (origin === undefined) return true;
  let host: string;
  try {
    host = new URL(origin).host;
  } catch {
    return false;
  }
  const forwarded = String(req.headers['x-forwarded-host'] ?? '')
    .split(',')[0]
    .trim();
  return host !== '' && (host === req.headers.host || (forwarded !== '' && host === forwarded));
}

/** True when the browser reached us over https (directly, or through a TLS-terminating proxy). */
export function isHttps(req: http.IncomingMessage): boolean {
  return (
    (req.socket as { encrypted?: boolean }).encrypted === true ||
    String(req.headers['x-forwarded-proto'] ?? '')
      .split(',')[0]
      .trim() === 'https'
  );
}
