/**
 * Below this much free space a push is refused before git writes anything: the pack, the refs, the
 * release record, the port map and the deploy log all need room, and a push refused in plain words
 * beats one git gives up on halfway ("unable to write loose object file").
 */
export const MIN_FREE_BYTES_FOR_PUSH = 1024 * 1024;

/**
 * Why a push cannot be taken with `freeBytes` left on the filesystem of `where`, or undefined when
 * it can. `bodyBytes` is the request's Content-Length (0 when unknown: git streams big packs chunked).
 */
export function pushRoomProblem(freeBytes: number, bodyBytes: number, where: string): string | undefined {
  const needed = Math.max(MIN_FREE_BYTES_FOR_PUSH, bodyBytes);
  if (freeBytes >= needed) return undefined;
  return `no space left on device at ${where} (${kib(freeBytes)} free, a push needs ${kib(needed)} at least): free some space on that filesystem and push again; nothing was stored`;
}

function kib(bytes: number): string {
  return `${Math.floor(bytes / 1024)} KiB`;
}
