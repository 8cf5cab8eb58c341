import { Writer } from 'protobufjs/minimal';
import { readFields } from './protobuf-fields';

/**
 * The messages of BuildKit's file sync (`FileSync.DiffCopy`), as fsutil defines them
 * (`fsutil/types/wire.proto` and `stat.proto`). Only the fields slipway sends or reads.
 */
export enum PacketType {
  /** A file's metadata; one with no stat ends the listing. */
  Stat = 0,
  /** The receiver wants the content of the file with this id. */
  Req = 1,
  /** A chunk of a file's content; an empty one ends that file. */
  Data = 2,
  /** The transfer is over (receiver first, then the sender's answer). */
  Fin = 3,
  /** The other side failed; `data` holds its message. */
  Err = 4,
}

/** A file's metadata in fsutil's form. `mode` is a Go `os.FileMode` (type bits up high), not a Unix mode. */
export interface FileStat {
  path: string;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  /** Nanoseconds since the epoch. */
  modTime: bigint;
  linkname: string;
}

/** One message of the DiffCopy stream, in either direction. */
export interface Packet {
  type: PacketType;
  stat?: FileStat;
  id: number;
  data?: Uint8Array;
}

/** Go's `os.FileMode` bits; `typeBits` is `os.ModeType` (dir, symlink, device, pipe, socket, char device, irregular). */
export const GO_MODE = {
  dir: 2 ** 31,
  symlink: 2 ** 27,
  setuid: 2 ** 23,
  setgid: 2 ** 22,
  sticky: 2 ** 20,
  typeBits: 2 ** 31 + 2 ** 27 + 2 ** 26 + 2 ** 25 + 2 ** 24 + 2 ** 21 + 2 ** 19,
} as const;

export function encodePacket(packet: Packet): Buffer {
  const w = Writer.create();
  if (packet.type !== PacketType.Stat) w.uint32((1 << 3) | 0).int32(packet.type);
  if (packet.stat !== undefined) {
    w.uint32((2 << 3) | 2).fork();
    encodeStat(packet.stat, w);
    w.ldelim();
  }
  if (packet.id !== 0) w.uint32((3 << 3) | 0).uint32(packet.id);
  if (packet.data !== undefined && packet.data.length > 0) w.uint32((4 << 3) | 2).bytes(packet.data);
  return Buffer.from(w.finish());
}

function encodeStat(stat: FileStat, w: Writer): void {
  if (stat.path !== '') w.uint32((1 << 3) | 2).string(stat.path);
  if (stat.mode !== 0) w.uint32((2 << 3) | 0).uint32(stat.mode);
  if (stat.uid !== 0) w.uint32((3 << 3) | 0).uint32(stat.uid);
  if (stat.gid !== 0) w.uint32((4 << 3) | 0).uint32(stat.gid);
  if (stat.size !== 0) w.uint32((5 << 3) | 0).int64(stat.size);
  if (stat.modTime !== 0n) w.uint32((6 << 3) | 0).int64(int64Bits(stat.modTime));
  if (stat.linkname !== '') w.uint32((7 << 3) | 2).string(stat.linkname);
}

/**
 * A 64-bit integer as the low and high words protobufjs writes: a number would lose the
 * nanoseconds, and protobufjs only parses strings exactly when the optional `long` package is there.
 */
function int64Bits(value: bigint): Parameters<Writer['int64']>[0] {
  const bits = BigInt.asUintN(64, value);
  return { low: Number(bits & 0xffffffffn) | 0, high: Number(bits >> 32n) | 0, unsigned: false };
}

/** Decodes a packet; the receiver only ever sends REQ, FIN and ERR, so a stat is skipped, not read. */
export function decodePacket(bytes: Uint8Array): Packet {
  const packet: Packet = { type: PacketType.Stat, id: 0 };
  readFields(bytes, {
    1: (r) => (packet.type = r.int32()),
    3: (r) => (packet.id = r.uint32()),
    4: (r) => (packet.data = r.bytes()),
  });
  return packet;
}
