import { promises as fs } from 'node:fs';
import type { ContextFile } from './context-files';
import { GO_MODE, PacketType, type Packet } from './fsutil-packet';

/**
 * Content goes in chunks this big: below gRPC's 4 MiB message limit with room to spare, and large
 * enough that a 100 MB first transfer is a hundred messages, not thousands.
 */
const CHUNK_BYTES = 1 << 20;

/** What one transfer sent: the files the receiver asked for and their bytes. */
export interface SentFiles {
  files: number;
  bytes: number;
}

/**
 * The sender's half of fsutil's DiffCopy: the stat of every file first (an empty stat ends the
 * list), then the content of each file the receiver asks for, by its index in that list. BuildKit
 * keeps the previous build's copy of the context and asks only for files whose stat changed, so a
 * push that changed one file sends one file. Resolves when the receiver says FIN and has been
 * answered, with what was sent; rejects on an ERR from the receiver, a request for an unknown id,
 * or a failed send.
 */
export async function sendFiles(files: ContextFile[], incoming: AsyncIterable<Packet>, send: (packet: Packet) => Promise<void>): Promise<SentFiles> {
  const sent: SentFiles = { files: 0, bytes: 0 };
  // Sends are chained so a file's chunks never interleave with the listing or another file.
  let outgoing: Promise<void> = Promise.resolve();
  let sendError: Error | undefined;
  const queue = (job: () => Promise<void>): void => {
    // After a failed send nothing more is sent; the failure ends the transfer below.
    outgoing = outgoing
      .then(() => (sendError === undefined ? job() : undefined))
      .catch((err: unknown) => {
        sendError ??= err instanceof Error ? err : new Error(String(err));
      });
  };
  queue(async () => {
    for (const file of files) await send({ type: PacketType.Stat, stat: file.stat, id: 0 });
    await send({ type: PacketType.Stat, id: 0 });
  });
  for await (const packet of incoming) {
    if (sendError !== undefined) break;
    if (packet.type === PacketType.Req) {
      const file = files[packet.id];
      if (file === undefined || !isRegularFile(file.stat.mode)) throw new Error(`the builder asked for file #${packet.id}, which was not offered`);
      sent.files += 1;
      queue(async () => {
        sent.bytes += await sendContent(file.absolutePath, packet.id, send);
      });
    } else if (packet.type === PacketType.Fin) {
      await outgoing;
      if (sendError !== undefined) break;
      await send({ type: PacketType.Fin, id: 0 });
      return sent;
    } else if (packet.type === PacketType.Err) {
      throw new Error(`the builder failed while receiving the context: ${Buffer.from(packet.data ?? []).toString('utf8')}`);
    }
  }
  await outgoing;
  throw sendError ?? new Error('the builder closed the file transfer before it finished');
}

/** fsutil's `fileCanRequestData`: only regular files have content; both ends count ids the same way. */
function isRegularFile(goMode: number): boolean {
  return (goMode & GO_MODE.typeBits) === 0;
}

/** Sends one file's content and its end marker; resolves with the bytes sent. */
async function sendContent(file: string, id: number, send: (packet: Packet) => Promise<void>): Promise<number> {
  let bytes = 0;
  const handle = await fs.open(file, 'r');
  try {
    for (;;) {
      // A fresh buffer per chunk: the transport may serialise a message after the next read.
      const buffer = Buffer.allocUnsafe(CHUNK_BYTES);
      const { bytesRead } = await handle.read(buffer, 0, CHUNK_BYTES, null);
      if (bytesRead === 0) break;
      bytes += bytesRead;
      await send({ type: PacketType.Data, id, data: buffer.subarray(0, bytesRead) });
    }
  } finally {
    await handle.close();
  }
  await send({ type: PacketType.Data, id });
  return bytes;
}
