import type http from 'node:http';

/**
 * Closes the connection when the request's body has not fully arrived `ms` after the request
 * began: a client trickling a body a byte at a time (slowloris on the body) cannot hold a
 * connection, a form reader or a git process open for longer than that. Bodies the handler never
 * reads count too (Node drains them on a kept-alive connection). Returns a function that lifts the
 * deadline (for an authenticated push, which may legitimately take long).
 */
export function enforceBodyDeadline(req: http.IncomingMessage, ms: number, onExpired: () => void): () => void {
  const timer = setTimeout(() => {
    if (req.complete || req.socket.destroyed) return;
    onExpired();
    req.socket.destroy();
  }, ms);
  // Never keeps the process alive; a finished body lifts the deadline.
  timer.unref();
  const lift = () => clearTimeout(timer);
  req.once('end', lift);
  return lift;
}
