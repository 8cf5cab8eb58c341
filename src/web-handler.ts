import type http from 'node:http';

/**
 * Anything the slipway HTTP server serves besides git (the dashboard and its API). The server
 * has already checked the request's `Authorization` header; `authorized` says whether it passed,
 * so the handler can serve its login page to anyone and everything else only to the authorized
 * (by header, or by a session it issued itself). `client` is the address the request comes from
 * (client-address.ts: the peer, or the forwarded client behind a trusted proxy).
 */
export interface WebHandler {
  handle(req: http.IncomingMessage, res: http.ServerResponse, authorized: boolean, client: string): Promise<void>;
}
