import { Writer } from 'protobufjs/minimal';
import { describe, expect, it } from 'vitest';
import { decodePacket, encodePacket, GO_MODE, PacketType, type FileStat } from '../../src/docker/fsutil-packet';

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');

function stat(fields: Partial<FileStat>): FileStat {
  return { path: '', mode: 0, uid: 0, gid: 0, size: 0, modTime: 0n, linkname: '', ...fields };
}

describe('encodePacket', () => {
  it('encodes a STAT packet byte for byte, with the 64-bit modTime exact', () => {
    const bytes = encodePacket({ type: PacketType.Stat, id: 0, stat: stat({ path: 'a', mode: 0o644, size: 5, modTime: 1795692419952123456n }) });
    // Packet.stat (field 2, length 18) { path 'a', mode 420, size 5, modTime }; type STAT (0) and id 0 are left out.
    expect(hex(bytes)).toBe('1212' + '0a0161' + '10a403' + '2805' + '30c0bcee88df97e5f518');
  });
  it('does not round the modTime through a JS number', () => {
    const bytes = encodePacket({ type: PacketType.Stat, id: 0, stat: stat({ modTime: 1795692419952123456n }) });
    expect(hex(bytes)).toBe('120a30c0bcee88df97e5f518');
    // What Number(1795692419952123456n) would have given.
    expect(hex(bytes)).not.toContain('80bcee88df97e5f518');
  });
  it('encodes a modTime before 1970 as a 10-byte two\u2019s complement varint', () => {
    const bytes = encodePacket({ type: PacketType.Stat, id: 0, stat: stat({ modTime: -1_500_000_000n }) });
    expect(hex(bytes)).toBe('120b' + '3080a2dfb4faffffffff01');
  });
  it('encodes a directory mode with the high Go bit, uid, gid and a size above 4 GiB', () => {
    const bytes = encodePacket({ type: PacketType.Stat, id: 0, stat: stat({ path: 'd', mode: GO_MODE.dir + 0o755, uid: 1, gid: 2, size: 2 ** 32 + 1 }) });
    expect(hex(bytes)).toBe('1213' + '0a0164' + '10ed83808008' + '1801' + '2002' + '288180808010');
  });
  it('encodes a symlink stat with its linkname', () => {
    const bytes = encodePacket({ type: PacketType.Stat, id: 0, stat: stat({ path: 'l', mode: GO_MODE.symlink + 0o777, size: 1, linkname: 'x' }) });
    expect(hex(bytes)).toBe('120d' + '0a016c' + '10ff838040' + '2801' + '3a0178');
  });
  it('encodes the empty STAT that ends the listing as zero bytes', () => {
    expect(encodePacket({ type: PacketType.Stat, id: 0 }).length).toBe(0);
  });
  it('encodes a DATA packet with its type, id and bytes', () => {
    const bytes = encodePacket({ type: PacketType.Data, id: 3, data: Buffer.from('hi') });
    expect(hex(bytes)).toBe('0802' + '1803' + '22026869');
  });
  it('leaves the data out of the empty DATA that ends a file', () => {
    expect(hex(encodePacket({ type: PacketType.Data, id: 300, data: new Uint8Array(0) }))).toBe('0802' + '18ac02');
    expect(hex(encodePacket({ type: PacketType.Data, id: 300 }))).toBe('0802' + '18ac02');
  });
  it('encodes FIN as its type alone', () => {
    expect(hex(encodePacket({ type: PacketType.Fin, id: 0 }))).toBe('0803');
  });
});

describe('decodePacket', () => {
  it('reads a REQ with its id', () => {
    const bytes = Writer.create().uint32((1 << 3) | 0).int32(PacketType.Req).uint32((3 << 3) | 0).uint32(70000).finish();
    const packet = decodePacket(bytes);
    expect(packet.type).toBe(PacketType.Req);
    expect(packet.id).toBe(70000);
    expect(packet.data).toBeUndefined();
  });
  it('reads a FIN', () => {
    const packet = decodePacket(Writer.create().uint32((1 << 3) | 0).int32(PacketType.Fin).finish());
    expect(packet).toEqual({ type: PacketType.Fin, id: 0 });
  });
  it('reads an ERR with its message', () => {
    const bytes = Writer.create().uint32((1 << 3) | 0).int32(PacketType.Err).uint32((4 << 3) | 2).bytes(Buffer.from('no space left')).finish();
    const packet = decodePacket(bytes);
    expect(packet.type).toBe(PacketType.Err);
    expect(Buffer.from(packet.data ?? []).toString('utf8')).toBe('no space left');
  });
  it('reads an empty message as a STAT with id 0', () => {
    expect(decodePacket(new Uint8Array(0))).toEqual({ type: PacketType.Stat, id: 0 });
  });
  it('skips unknown fields of every wire type and a stat', () => {
    const w = Writer.create();
    w.uint32((9 << 3) | 0).uint64(123456789);
    w.uint32((1 << 3) | 0).int32(PacketType.Req);
    w.uint32((9 << 3) | 2).bytes(Buffer.from('unknown'));
    w.uint32((2 << 3) | 2).fork().uint32((1 << 3) | 2).string('path').uint32((2 << 3) | 0).uint32(0o644).ldelim();
    w.uint32((10 << 3) | 1).fixed64(7);
    w.uint32((3 << 3) | 0).uint32(42);
    w.uint32((11 << 3) | 5).fixed32(9);
    const packet = decodePacket(w.finish());
    expect(packet).toEqual({ type: PacketType.Req, id: 42 });
  });
  it('reads back what encodePacket writes for the receiver\u2019s packets', () => {
    expect(decodePacket(encodePacket({ type: PacketType.Req, id: 12 }))).toEqual({ type: PacketType.Req, id: 12 });
    const err = decodePacket(encodePacket({ type: PacketType.Err, id: 0, data: Buffer.from('boom') }));
    expect(err.type).toBe(PacketType.Err);
    expect(Buffer.from(err.data ?? []).toString()).toBe('boom');
  });
});
