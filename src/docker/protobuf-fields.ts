import { Reader } from 'protobufjs/minimal';

/**
 * Reads one protobuf message: each field whose number `readers` names is read by its reader (in
 * the order the fields come, a repeated field once per occurrence); any other field is skipped.
 */
export function readFields(bytes: Uint8Array, readers: Record<number, (r: Reader) => void>): void {
  const r = Reader.create(bytes);
  while (r.pos < r.len) {
    const tag = r.uint32();
    const read = readers[tag >>> 3];
    if (read) read(r);
    else r.skipType(tag & 7);
  }
}
