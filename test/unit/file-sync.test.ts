import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listContextFiles, type ContextFile } from '../../src/docker/context-files';
import { sendFiles } from '../../src/docker/file-sync';
import { PacketType, type Packet } from '../../src/docker/fsutil-packet';

const MiB = 1 << 20;

/** The receiver's side of the stream: packets pushed here come out of the async iterable in order. */
class Incoming implements AsyncIterable<Packet> {
  private readonly items: Packet[] = [];
  private closed = false;
  private wake: (() => void) | undefined;

  push(...packets: Packet[]): void {
    this.items.push(...packets);
    this.wake?.();
  }
  close(): void {
    this.closed = true;
    this.wake?.();
  }
  async *[Symbol.asyncIterator](): AsyncIterator<Packet> {
    for (;;) {
      const next = this.items.shift();
      if (next !== undefined) yield next;
      else if (this.closed) return;
      else await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }
}

const req = (id: number): Packet => ({ type: PacketType.Req, id });
const FIN: Packet = { type: PacketType.Fin, id: 0 };

/** Records every packet sent, copying the data, and yields to the event loop on each send. */
function recorder() {
  const packets: Packet[] = [];
  const send = async (packet: Packet): Promise<void> => {
    packets.push({ ...packet, ...(packet.data !== undefined ? { data: Buffer.from(packet.data) } : {}) });
    await new Promise((resolve) => setImmediate(resolve));
  };
  return { packets, send };
}

const dataOf = (packets: Packet[], id: number) => packets.filter((p) => p.type === PacketType.Data && p.id === id);

let root: string;
let files: ContextFile[];
let big: Buffer;
let indexOf: (p: string) => number;

beforeAll(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'slipway-filesync-'));
  big = randomBytes(2 * MiB + 12345);
  await fs.mkdir(path.join(root, 'dir'));
  await fs.writeFile(path.join(root, 'dir', 'big.bin'), big);
  await fs.writeFile(path.join(root, 'dir', 'small.txt'), 'small file\n');
  await fs.writeFile(path.join(root, 'empty'), '');
  await fs.writeFile(path.join(root, 'other.txt'), 'other content');
  await fs.symlink('other.txt', path.join(root, 'link'));
  files = await listContextFiles(root, { includePatterns: [], excludePatterns: [], followPaths: [] });
  indexOf = (p) => files.findIndex((f) => f.stat.path === p);
});
afterAll(async () => {
  await fs.rm(root, { recursive: true, force: true });
});

describe('sendFiles', () => {
  it('works on the listing the tests expect', () => {
    expect(files.map((f) => f.stat.path)).toEqual(['dir', 'dir/big.bin', 'dir/small.txt', 'empty', 'link', 'other.txt']);
  });

  it('sends every stat in list order, then one empty stat, and answers FIN with FIN', async () => {
    const incoming = new Incoming();
    const { packets, send } = recorder();
    incoming.push(FIN);
    await expect(sendFiles(files, incoming, send)).resolves.toEqual({ files: 0, bytes: 0 });
    expect(packets).toEqual([...files.map((f) => ({ type: PacketType.Stat, stat: f.stat, id: 0 })), { type: PacketType.Stat, id: 0 }, { type: PacketType.Fin, id: 0 }]);
  });

  it('sends a requested file as DATA with its id, then an empty DATA', async () => {
    const incoming = new Incoming();
    const { packets, send } = recorder();
    const id = indexOf('other.txt');
    incoming.push(req(id), FIN);
    await expect(sendFiles(files, incoming, send)).resolves.toEqual({ files: 1, bytes: 'other content'.length });
    const after = packets.slice(files.length + 1);
    expect(after).toEqual([
      { type: PacketType.Data, id, data: Buffer.from('other content') },
      { type: PacketType.Data, id },
      { type: PacketType.Fin, id: 0 },
    ]);
  });

  it('sends a large file in chunks of at most 1 MiB that add up to its content', async () => {
    const incoming = new Incoming();
    const { packets, send } = recorder();
    const id = indexOf('dir/big.bin');
    incoming.push(req(id), FIN);
    await expect(sendFiles(files, incoming, send)).resolves.toEqual({ files: 1, bytes: big.length });
    const data = dataOf(packets, id);
    const chunks = data.slice(0, -1).map((p) => Buffer.from(p.data ?? []));
    expect(chunks.length).toBeGreaterThanOrEqual(3);
    for (const chunk of chunks) {
      expect(chunk.length).toBeGreaterThan(0);
      expect(chunk.length).toBeLessThanOrEqual(MiB);
    }
    expect(Buffer.concat(chunks).equals(big)).toBe(true);
    expect(data.at(-1)?.data ?? new Uint8Array(0)).toHaveLength(0);
  });

  it('sends an empty file as its end marker alone', async () => {
    const incoming = new Incoming();
    const { packets, send } = recorder();
    const id = indexOf('empty');
    incoming.push(req(id), FIN);
    await expect(sendFiles(files, incoming, send)).resolves.toEqual({ files: 1, bytes: 0 });
    expect(dataOf(packets, id)).toEqual([{ type: PacketType.Data, id }]);
  });

  it('never interleaves the chunks of two requested files, nor with the listing, and finishes them before FIN', async () => {
    const incoming = new Incoming();
    const { packets, send } = recorder();
    const bigId = indexOf('dir/big.bin');
    const smallId = indexOf('dir/small.txt');
    // Both requests and the FIN arrive at once, while the listing is still being sent.
    incoming.push(req(bigId), req(smallId), FIN);
    const result = await sendFiles(files, incoming, send);
    expect(result).toEqual({ files: 2, bytes: big.length + 'small file\n'.length });
    const kinds = packets.map((p) => (p.type === PacketType.Stat ? 'stat' : p.type === PacketType.Fin ? 'fin' : `data${p.id}`));
    const bigChunks = dataOf(packets, bigId).length;
    expect(kinds).toEqual([
      ...Array<string>(files.length + 1).fill('stat'),
      ...Array<string>(bigChunks).fill(`data${bigId}`),
      `data${smallId}`,
      `data${smallId}`,
      'fin',
    ]);
    expect(Buffer.from(dataOf(packets, smallId)[0]?.data ?? []).toString()).toBe('small file\n');
  });

  it('serves requests that come after the listing, in the order asked', async () => {
    const incoming = new Incoming();
    const { packets, send } = recorder();
    const done = sendFiles(files, incoming, send);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(packets).toHaveLength(files.length + 1);
    incoming.push(req(indexOf('other.txt')), req(indexOf('dir/small.txt')));
    await new Promise((resolve) => setTimeout(resolve, 20));
    incoming.push(FIN);
    await expect(done).resolves.toEqual({ files: 2, bytes: 'other content'.length + 'small file\n'.length });
    expect(packets.slice(files.length + 1).map((p) => [p.type, p.id])).toEqual([
      [PacketType.Data, indexOf('other.txt')],
      [PacketType.Data, indexOf('other.txt')],
      [PacketType.Data, indexOf('dir/small.txt')],
      [PacketType.Data, indexOf('dir/small.txt')],
      [PacketType.Fin, 0],
    ]);
  });

  it("rejects a request for a directory's id", async () => {
    const incoming = new Incoming();
    incoming.push(req(indexOf('dir')), FIN);
    await expect(sendFiles(files, incoming, recorder().send)).rejects.toThrow('the builder asked for file #0, which was not offered');
  });

  it("rejects a request for a symlink's id", async () => {
    const incoming = new Incoming();
    const id = indexOf('link');
    incoming.push(req(id), FIN);
    await expect(sendFiles(files, incoming, recorder().send)).rejects.toThrow(`the builder asked for file #${id}, which was not offered`);
  });

  it('rejects a request for an id past the end of the list', async () => {
    const incoming = new Incoming();
    incoming.push(req(files.length), FIN);
    await expect(sendFiles(files, incoming, recorder().send)).rejects.toThrow(`the builder asked for file #${files.length}, which was not offered`);
  });

  it('rejects with the text of an ERR from the receiver', async () => {
    const incoming = new Incoming();
    incoming.push({ type: PacketType.Err, id: 0, data: Buffer.from('disk quota exceeded') });
    await expect(sendFiles(files, incoming, recorder().send)).rejects.toThrow('the builder failed while receiving the context: disk quota exceeded');
  });

  it('rejects when the receiver ends the stream before FIN', async () => {
    const incoming = new Incoming();
    incoming.push(req(indexOf('other.txt')));
    incoming.close();
    await expect(sendFiles(files, incoming, recorder().send)).rejects.toThrow('the builder closed the file transfer before it finished');
  });

  it('rejects with the error of a failed send and does not answer FIN', async () => {
    const incoming = new Incoming();
    const sent: Packet[] = [];
    const send = async (packet: Packet): Promise<void> => {
      if (sent.length === 2) throw new Error('stream reset');
      sent.push(packet);
    };
    incoming.push(FIN);
    await expect(sendFiles(files, incoming, send)).rejects.toThrow('stream reset');
    expect(sent.some((p) => p.type === PacketType.Fin)).toBe(false);
  });

  it('sends nothing more after a failed send, not even a file asked for meanwhile', async () => {
    const incoming = new Incoming();
    const attempts: Packet[] = [];
    const send = async (packet: Packet): Promise<void> => {
      attempts.push(packet);
      if (attempts.length === 1) {
        // The request arrives while the first send is failing.
        incoming.push(req(indexOf('other.txt')), FIN);
        await new Promise((resolve) => setImmediate(resolve));
        throw new Error('stream reset');
      }
    };
    await expect(sendFiles(files, incoming, send)).rejects.toThrow('stream reset');
    expect(attempts).toHaveLength(1);
  });

  it('works with hand-built files, counting ids over the whole list', async () => {
    const file = path.join(root, 'other.txt');
    const stat = (p: string, mode: number) => ({ path: p, mode, uid: 0, gid: 0, size: 0, modTime: 1n, linkname: '' });
    const handBuilt: ContextFile[] = [
      { absolutePath: root, stat: stat('a', 2 ** 31 + 0o755) },
      { absolutePath: file, stat: stat('a/x', 0o644) },
      { absolutePath: file, stat: stat('b', 0o600) },
    ];
    const incoming = new Incoming();
    const { packets, send } = recorder();
    incoming.push(req(2), FIN);
    await expect(sendFiles(handBuilt, incoming, send)).resolves.toEqual({ files: 1, bytes: 'other content'.length });
    expect(packets.slice(0, 4).map((p) => p.stat?.path)).toEqual(['a', 'a/x', 'b', undefined]);
    expect(dataOf(packets, 2).map((p) => Buffer.from(p.data ?? []).toString())).toEqual(['other content', '']);
  });
});
