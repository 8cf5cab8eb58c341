/**
 * Runs as the bare repo's post-receive hook (for HTTP and ssh pushes alike) and hands the push to
 * the running slipway server over its unix socket: the server decides what deploys, enqueues it
 * and follows it, and this prints every line it sends back (git shows them to the pusher as
 * `remote: …`, live). It starts on every push, on the way to live, so it loads node built-ins only:
 * the queue and Redis stay open in the server.
 */
import net from 'node:net';
import path from 'node:path';
import { encodeHookRequest, hookHome, hookRequest, hookSocketPath, parseHookResponse } from '../push/hook-protocol';

// git runs hooks in the bare repo itself: $SLIPWAY_HOME/repos/<app>.git
const repoDir = path.resolve(process.env.GIT_DIR ?? '.');
const home = hookHome(repoDir, process.env);
const socketPath = hookSocketPath(home);
const say = (line: string) => process.stdout.write(`${line}\n`);

async function main(): Promise<number> {
  const request = hookRequest(repoDir, process.env, process.ppid, await readStdin());
  return relay(encodeHookRequest(request), request.app);
}

/** Sends the request and prints the answer's lines until the server says the exit code. */
function relay(requestLine: string, app: string): Promise<number> {
  return new Promise((resolve) => {
    const socket = net.createConnection(socketPath);
    let connected = false;
    let finished = false;
    let pending = '';
    const finish = (code: number) => {
      finished = true;
      socket.destroy();
      resolve(code);
    };
    const lost = (why: string) => {
      say(`slipway: ${why}; the deploy may still be running: follow it with \`slipway deploys ${app}\``);
      finish(1);
    };
    socket.setEncoding('utf8');
    socket.once('connect', () => {
      connected = true;
      socket.write(requestLine);
    });
    socket.on('data', (chunk: string) => {
      pending += chunk;
      for (let end = pending.indexOf('\n'); end >= 0 && !finished; end = pending.indexOf('\n')) {
        const text = pending.slice(0, end);
        pending = pending.slice(end + 1);
        let message;
        try {
          message = parseHookResponse(text);
        } catch (err) {
          return lost(`unreadable answer from the slipway server (${(err as Error).message})`);
        }
        if ('exit' in message) return finish(message.exit);
        say(message.line);
      }
    });
    socket.on('error', (err: NodeJS.ErrnoException) => {
      if (connected || finished) return; // 'close' follows and tells
      if (err.code === 'ENOENT' || err.code === 'ECONNREFUSED') {
        say(`slipway: no running slipway server found under ${home} (${socketPath}); the push is stored but not deployed`);
        finish(0);
      } else {
        say(`slipway: cannot reach the slipway server at ${socketPath} (${err.message}); the push is stored but not deployed`);
        finish(1);
      }
    });
    socket.once('close', () => {
      if (!finished) lost('lost the connection to the slipway server');
    });
  });
}

function readStdin(): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    process.stdin.setEncoding('utf8');
    process.stdin.on('data', (chunk: string) => {
      text += chunk;
    });
    process.stdin.on('end', () => resolve(text));
    process.stdin.on('error', reject);
  });
}

// The pusher went away (git closed our stdout): nothing left to show. Exiting closes the socket,
// which tells the server to stop following; the deploy itself goes on.
process.stdout.on('error', () => process.exit(1));

main().then(
  (code) => process.exit(code),
  (err: Error) => {
    say(`slipway: the deploy hook failed: ${err.message}`);
    process.exit(1);
  },
);
