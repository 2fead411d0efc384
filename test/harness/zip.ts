/**
 * Minimal reader for the .vsix (an OPC zip): central directory, stored and deflated
 * entries, CRC-32 check. Enough for tfx output; no ZIP64, no encryption.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';

export interface ZipEntry {
  name: string;
  method: number;
  compressedSize: number;
  size: number;
  crc32: number;
  isDirectory: boolean;
  read(): Buffer;
}

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

export function crc32(buf: Buffer): number {
  let c = 0xffffffff;
  for (let i = 0; i < buf.length; i++) c = CRC_TABLE[(c ^ buf[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

export function readZip(fileOrBuffer: string | Buffer): ZipEntry[] {
  const buf = typeof fileOrBuffer === 'string' ? fs.readFileSync(fileOrBuffer) : fileOrBuffer;
  // End of central directory: 22 bytes plus a comment of up to 64 KB.
  let eocd = -1;
  for (let i = buf.length - 22; i >= Math.max(0, buf.length - 22 - 0xffff); i--) {
    if (buf.readUInt32LE(i) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new Error('not a zip file (no end of central directory)');
  const count = buf.readUInt16LE(eocd + 10);
  let p = buf.readUInt32LE(eocd + 16);
  if (p === 0xffffffff) throw new Error('ZIP64 archives are not supported');
  const entries: ZipEntry[] = [];
  for (let i = 0; i < count; i++) {
    if (buf.readUInt32LE(p) !== 0x02014b50) throw new Error(`bad central directory entry ${i}`);
    const method = buf.readUInt16LE(p + 10);
    const crc = buf.readUInt32LE(p + 16);
    const compressedSize = buf.readUInt32LE(p + 20);
    const size = buf.readUInt32LE(p + 24);
    const nameLen = buf.readUInt16LE(p + 28);
    const extraLen = buf.readUInt16LE(p + 30);
    const commentLen = buf.readUInt16LE(p + 32);
    const localOffset = buf.readUInt32LE(p + 42);
    const name = buf.toString('utf8', p + 46, p + 46 + nameLen);
    p += 46 + nameLen + extraLen + commentLen;
    entries.push({
      name,
      method,
      compressedSize,
      size,
      crc32: crc,
      isDirectory: name.endsWith('/'),
      read(): Buffer {
        if (buf.readUInt32LE(localOffset) !== 0x04034b50) throw new Error(`bad local header for ${name}`);
        const start =
          localOffset + 30 + buf.readUInt16LE(localOffset + 26) + buf.readUInt16LE(localOffset + 28);
        const raw = buf.subarray(start, start + compressedSize);
        let data: Buffer;
        if (method === 0) data = Buffer.from(raw);
        else if (method === 8) data = zlib.inflateRawSync(raw);
        else throw new Error(`${name}: unsupported compression method ${method}`);
        if (data.length !== size) throw new Error(`${name}: size ${data.length}, expected ${size}`);
        if (crc32(data) !== crc) throw new Error(`${name}: CRC mismatch`);
        return data;
      },
    });
  }
  return entries;
}

/** Extracts entries whose name starts with `prefix` into `dest`, stripping the prefix. */
export function extractZip(entries: ZipEntry[], dest: string, prefix = ''): string[] {
  const written: string[] = [];
  for (const e of entries) {
    if (e.isDirectory || !e.name.startsWith(prefix)) continue;
    const rel = e.name.slice(prefix.length);
    const target = path.resolve(dest, rel);
    if (!target.startsWith(path.resolve(dest) + path.sep))
      throw new Error(`${e.name} escapes the target folder`);
    fs.mkdirSync(path.dirname(target), { recursive: true });
    fs.writeFileSync(target, e.read());
    written.push(target);
  }
  return written;
}
