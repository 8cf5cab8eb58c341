/**
 * The command line that joins a host (`slipway hosts:add` prints it, the operator runs it on the
 * host): the server's Redis address and TLS port, the host token, and the sha256 fingerprint of the
 * cluster CA, which the agent checks before it trusts the server (like kubeadm's discovery hash).
 */
export interface JoinLine {
  address: string;
  port: number;
  token: string;
  caFingerprint: string;
}

/** Where an IPv6 address needs brackets to carry a port. */
function hostPort(address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}

/** The argv of `slipway agent` that joins the host (after `slipway`). */
export function joinArgs(join: JoinLine): string[] {
  return ['agent', '--server', hostPort(join.address, join.port), '--token', join.token, '--ca-sha256', join.caFingerprint];
}

/** The join line as printed: every argument is free of shell metacharacters (checked by the unit test), so no quoting is needed. */
export function formatJoinLine(join: JoinLine): string {
  return ['slipway', ...joinArgs(join)].join(' ');
}

/** Reads `--server ADDRESS:PORT` (`[v6]:PORT` for IPv6); throws in plain words. */
export function parseServerAddress(text: string): { address: string; port: number } {
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([0-9.]+)):(\d{1,5})$/.exec(text);
  const port = Number(match?.[3]);
  if (!match || port < 1 || port > 65535) throw new Error(`--server: expected ADDRESS:PORT as \`slipway hosts:add\` printed it, got ${text}`);
  return { address: match[1] ?? match[2], port };
}

/** Reads `--ca-sha256`: 32 hex pairs, `:`-separated or not, any case; returns them as Node prints a fingerprint. */
export function parseCaFingerprint(text: string): string {
  const hex = text
    .replace(/^sha256:/i, '')
    .replace(/:/g, '')
    .toUpperCase();
  if (!/^[0-9A-F]{64}$/.test(hex)) throw new Error("--ca-sha256: expected the cluster CA's sha256 fingerprint (64 hex digits) as `slipway hosts:add` printed it");
  return hex.match(/../g)!.join(':');
}
