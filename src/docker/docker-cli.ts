import { spawn } from 'node:child_process';
import type { DockerCommand } from './image-commands';

/** How a docker CLI run ended: its exit code (-1 when it could not start) and its output. */
export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs a docker CLI command (argv, no shell), writing `stdin` (a password) to it when given, and
 * resolves when it exits; past `timeoutMs` it is killed and counts as failed.
 */
export function runDockerCli(command: DockerCommand, options: { stdin?: string; timeoutMs: number }): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = spawn(command.file, command.args, { env: command.env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => {
      stderr += `\n(stopped after ${options.timeoutMs / 1000} s)`;
      child.kill('SIGKILL');
    }, options.timeoutMs);
    child.stdin.on('error', () => undefined);
    child.stdin.end(options.stdin ?? '');
    child.on('error', (err) => {
      clearTimeout(timer);
      resolve({ code: -1, stdout, stderr: `could not run ${command.file}: ${err.message}` });
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, stdout, stderr });
    });
  });
}
