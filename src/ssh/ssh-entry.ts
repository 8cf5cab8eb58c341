/**
 * slipway's ssh entry: the `command=` of every key line `slipway keys:add` writes runs this
 * instead of whatever the client asked for (`node ssh-entry.js <key name>`, with SLIPWAY_HOME).
 * It runs git-upload-pack or git-receive-pack on an existing app's repo, nothing else (see
 * ssh-command.ts). For a push it announces receive-pack to the running slipway server first (who
 * pushes: `ssh:<key name>`) and holds receive-pack's report-status until the deploy has ended, as
 * the HTTP server does, so a failed deploy fails `git push` over ssh too (git/held-report.ts).
 * It starts on every push, on the way to live: node built-ins and small modules only.
 */
import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import net from 'node:net';
import { ReportHoldingStream, type Rejections } from '../git/held-report';
import { HELD_ANSWER, hookSocketPath, OUTCOME_QUESTION } from '../push/hook-protocol';
import { TOKEN_NAME_PATTERN } from '../names';
import { settingSpec } from '../settings-schema';
import { repoPath } from '../settings';
import { parseSshCommand } from './ssh-command';

/** How long the entry waits for the server to take the push's announcement. */
const ANNOUNCE_TIMEOUT_MS = 10_000;

const refuse = (message: string): never => {
  process.stderr.write(`slipway: ${message}\n`);
  process.exit(1);
};

async function main(): Promise<number> {
  const keyName = process.argv[2] ?? '';
  if (!TOKEN_NAME_PATTERN.test(keyName)) return refuse('this authorized_keys line names no valid key; re-add the key with `slipway keys:add`');
  const home = process.env.SLIPWAY_HOME || String(settingSpec('SLIPWAY_HOME').default);
  const parsed = parseSshCommand(process.env.SSH_ORIGINAL_COMMAND);
  if ('refused' in parsed) return refuse(parsed.refused);
  const { service, app } = parsed.command;
  const repo = repoPath(home, app);
  // ssh creates no apps: `slipway apps:create` (or a first push over HTTP) does.
  const exists = await fs.stat(`${repo}/HEAD`).then(
    () => true,
    () => false,
  );
  if (!exists) return refuse(`no app named "${app}" on this server; create it there with \`slipway apps:create ${app}\``);

  if (service === 'git-upload-pack') {
    const child = spawn('git', ['upload-pack', repo], { stdio: 'inherit' });
    return new Promise((resolve) => child.once('close', (code) => resolve(code ?? 1)));
  }
  return receivePack(home, repo, `ssh:${keyName}`);
}

/** Runs git-receive-pack for the push, with its report held while the server follows the deploy. */
async function receivePack(home: string, repo: string, pusher: string): Promise<number> {
  const child = spawn('git', ['receive-pack', repo], { stdio: ['pipe', 'pipe', 'inherit'], env: { ...process.env, SLIPWAY_HOME: home } });
  const closed = new Promise<number>((resolve) => child.once('close', (code) => resolve(code ?? 1)));
  const server = await announce(hookSocketPath(home), child.pid as number, pusher);
  const stdout = server ? child.stdout.pipe(new ReportHoldingStream({ advertisement: true }, server.outcome)) : child.stdout;
  stdout.pipe(process.stdout);
  // receive-pack reads the push only now, so its hook cannot reach the server before the announcement.
  process.stdin.pipe(child.stdin);
  child.stdin.on('error', () => undefined);
  const code = await closed;
  if (stdout !== child.stdout) await new Promise((resolve) => stdout.once('end', resolve));
  server?.close();
  return code;
}

/**
 * Tells the server which receive-pack serves this key's push; resolves with how to ask for the
 * outcome, or undefined when no server takes it (the hook then says so, and the push reports
 * what receive-pack did).
 */
function announce(socketPath: string, receivePackPid: number, pusher: string): Promise<{ outcome: (updated: Set<string>) => Promise<Rejections>; close(): void } | undefined> {
  return new Promise((resolve) => {
    const socket = net.createConnection(socketPath);
    const replies: ((line: string | undefined) => void)[] = [];
    let pending = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      pending += chunk;
      for (let end = pending.indexOf('\n'); end >= 0; end = pending.indexOf('\n')) {
        replies.shift()?.(pending.slice(0, end));
        pending = pending.slice(end + 1);
      }
    });
    socket.on('error', () => undefined);
    socket.once('close', () => {
      for (const reply of replies.splice(0)) reply(undefined);
    });
    const next = () => new Promise<string | undefined>((reply) => (socket.destroyed ? reply(undefined) : replies.push(reply)));
    const timer = setTimeout(() => socket.destroy(), ANNOUNCE_TIMEOUT_MS);
    socket.once('connect', () => socket.write(`${JSON.stringify({ holdReport: { receivePackPid, pusher } })}\n`));
    void next().then((line) => {
      clearTimeout(timer);
      if (line !== HELD_ANSWER) {
        socket.destroy();
        return resolve(undefined);
      }
      resolve({
        async outcome(updated) {
          if (updated.size === 0) return new Map();
          socket.write(`${OUTCOME_QUESTION}\n`);
          const answer = await next();
          const rejected = answer === undefined ? {} : ((JSON.parse(answer) as { rejected?: Record<string, string> }).rejected ?? {});
          return new Map(Object.entries(rejected).filter(([, reason]) => typeof reason === 'string'));
        },
        close: () => socket.destroy(),
      });
    });
  });
}

// sshd closed our output (the client went away): nothing left to show.
process.stdout.on('error', () => process.exit(1));

main().then(
  (code) => process.exit(code),
  (err: Error) => refuse(`the ssh entry failed: ${err.message}`),
);
