/** A unix socket file as a killed process leaves it: bound once, nobody listening, never unlinked. */
import { promises as fs } from 'node:fs';
import net from 'node:net';

/**
 * Creates such a file at `socketPath` (its directory must exist). A closing net.Server unlinks its
 * socket file, so the file is moved aside while the server closes and then put back.
 */
export async function leaveStaleSocket(socketPath: string): Promise<void> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(socketPath, () => resolve()));
  const aside = `${socketPath}.aside`;
  await fs.rename(socketPath, aside);
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await fs.rename(aside, socketPath);
}
