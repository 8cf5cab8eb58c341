/**
 * An app on every host of a cluster stack (test/support/cluster-stack.ts), and what the multi-host
 * e2e files ask of it: each host's Engine, each host's Apache, request streams through all of them.
 */
import { expect } from 'vitest';
import { HOST_NAMES, type ClusterStack, type HostContainer, type HostName } from './cluster-stack';
import type { GitPushResult } from './git-client';
import type { RequestStream, StreamResult } from './request-stream';
import { createAppWorktree, type AppWorktree } from './test-app';

/** A new app worktree, created on the server and set to run on every host (`hosts:set local,h2,h3`). */
export async function createAppOnEveryHost(stack: ClusterStack): Promise<AppWorktree> {
  const app = await createAppWorktree();
  stack.track(app.name);
  const created = await stack.slipway.cli(['apps:create', app.name]);
  expect(created.code, created.output).toBe(0);
  const set = await stack.slipway.cli(['hosts:set', app.name, HOST_NAMES.join(',')]);
  expect(set.code, set.output).toBe(0);
  return app;
}

/** What `host`'s Apache answers for the app, trimmed. */
export async function servedOn(stack: ClusterStack, host: HostName, app: string): Promise<string> {
  return (await stack.get(host, app)).body.trim();
}

/** The app's containers per host, as the hosts' Engines say. */
export async function containersOnEveryHost(stack: ClusterStack, app: string): Promise<Record<HostName, HostContainer[]>> {
  return Object.fromEntries(await Promise.all(HOST_NAMES.map(async (host) => [host, await stack.containers(host, app)] as const))) as Record<HostName, HostContainer[]>;
}

/** A request stream through every host's Apache, kept >= 2 s (a quiet machine can end a deploy sooner). */
export function streamEveryHost(stack: ClusterStack, app: string, ratePerSecond: number): { stop(): Promise<Record<HostName, StreamResult>> } {
  const started = Date.now();
  const streams = HOST_NAMES.map((host) => [host, stack.stream(host, app, ratePerSecond)] as [HostName, RequestStream]);
  return {
    async stop() {
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, 2_000 - (Date.now() - started))));
      return Object.fromEntries(await Promise.all(streams.map(async ([host, stream]) => [host, await stream.stop()] as const))) as Record<HostName, StreamResult>;
    },
  };
}

/** Failed requests per host. */
export const failuresOf = (results: Record<HostName, StreamResult>) => Object.fromEntries(HOST_NAMES.map((host) => [host, results[host].failed]));

/** Each host's stream in one line, for a failure message. */
export const describeStreams = (results: Record<HostName, StreamResult>) =>
  HOST_NAMES.map((host) => `${host}: ${results[host].failed}/${results[host].total} failed ${results[host].failures.slice(0, 5).join(', ')} bodies ${JSON.stringify([...results[host].bodies])}`).join(
    '\n',
  );

/** The push's `✘` line (the pusher's reason for a failure). */
export const failureLine = (pushed: GitPushResult) =>
  pushed.output
    .split('\n')
    .filter((line) => line.includes('✘'))
    .pop() ?? '';
