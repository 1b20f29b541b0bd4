/// Installer and script-compiler payloads built here, for the unpackers' tests and fuzz seeds: a
/// minimal PE with an overlay; compiled AutoIt records (EA05, EA06: the layout and xor constants of
/// the format, the keystreams of src/engine/formats/unpack/autoit-keys.ts, proven separately on
/// clamav-testfiles' real clam.ea05.exe and clam.ea06.exe); InstallShield setup overlays, plain and
/// encrypted (nibble swap, xor with the name-derived key, inversion, zlib).
import { deflateSync } from 'node:zlib'
import { lameKeystream, mersenneKeystream } from '../../src/engine/formats/unpack/autoit-keys.js'
import { longestMatch } from './lz-match.js'

/// A PE32 whose sections (each 0x200-aligned, the first at file offset 0x400 and RVA 0x1000, one
/// 0x1000 page each) hold `sections`; the entry point is `entryOffset` into section `entrySection`.
export function peWithSections (sections: ReadonlyArray<readonly [string, Uint8Array]>, entrySection = 0, entryOffset = 0): Buffer {
  const head = Buffer.alloc(0x400)
  head.write('MZ', 0, 'latin1')
  head.writeUInt32LE(0x80, 0x3c)
  head.write('PE\0\0', 0x80, 'latin1')
  head.writeUInt16LE(0x14c, 0x84)
  head.writeUInt16LE(sections.length, 0x86)
  head.writeUInt16LE(0xe0, 0x94)
  head.writeUInt16LE(0x102, 0x96)
  const opt = 0x98
  head.writeUInt16LE(0x10b, opt)
  head.writeUInt32LE(0x1000 * (entrySection + 1) + entryOffset, opt + 16)
  head.writeUInt32LE(0x400000, opt + 28)
  head.writeUInt32LE(0x1000, opt + 32)
  head.writeUInt32LE(0x200, opt + 36)
  head.writeUInt32LE(0x1000 * (sections.length + 1), opt + 56)
  head.writeUInt32LE(0x400, opt + 60)
  const bodies: Buffer[] = []
  let raw = 0x400
  sections.forEach(([name, bytes], i) => {
    const at = opt + 0xe0 + i * 40
    const size = Math.ceil(Math.max(bytes.length, 1) / 0x200) * 0x200
    head.write(name, at, 'latin1')
    head.writeUInt32LE(size, at + 8)
    head.writeUInt32LE(0x1000 * (i + 1), at + 12)
    head.writeUInt32LE(size, at + 16)
    head.writeUInt32LE(raw, at + 20)
    const body = Buffer.alloc(size)
    body.set(bytes)
    bodies.push(body)
    raw += size
  })
  return Buffer.concat([head, ...bodies])
}

/// A PE32 with one 0x200-byte code section (a `ret`), followed by `overlay`.
export function peWithOverlay (overlay: Uint8Array): Buffer {
  return Buffer.concat([peWithSections([['.text', Uint8Array.of(0xc3)]]), overlay])
}

/// AutoIt's LZSS, encoded greedily: literals, and matches of 3-12 bytes within 32 KiB.
function autoItCompress (tag: 'EA05' | 'EA06', data: Uint8Array): Buffer {
  const bits: number[] = []
  const put = (value: number, count: number): void => { for (let i = count - 1; i >= 0; i--) bits.push((value >>> i) & 1) }
  const literal = tag === 'EA06' ? 1 : 0
  let i = 0
  while (i < data.length) {
    const { length: best, distance } = longestMatch(data, i, 0x7fff, 12)
    if (best < 3) { put(literal, 1); put(data[i]!, 8); i++; continue }
    put(literal ^ 1, 1)
    put(distance, 15)
    if (best <= 5) put(best - 3, 2); else { put(3, 2); put(best - 6, 3) }
    i += best
  }
  const out = Buffer.alloc(8 + Math.ceil(bits.length / 8))
  out.write(tag, 0, 'latin1')
  out.writeUInt32BE(data.length, 4)
  bits.forEach((b, n) => { if (b === 1) out[8 + (n >>> 3)]! |= 0x80 >>> (n & 7) })
  return out
}

export interface AutoItFile { readonly type: string, readonly name: string, readonly bytes: Uint8Array, readonly compress: boolean }

/// The marker, the password checksum and one record per file, as AutoIt appends or embeds them.
export function autoItScript (tag: 'EA05' | 'EA06', files: readonly AutoItFile[]): Buffer {
  const keys = tag === 'EA05' ? mersenneKeystream : lameKeystream
  const c = tag === 'EA05'
    ? { file: 0x16fa, typeXor: 0x29bc, typeSeed: 0xa25e, nameXor: 0x29ac, nameSeed: 0xf25e, size: 0x45aa, crc: 0xc3d2 }
    : { file: 0x18ee, typeXor: 0xadbc, typeSeed: 0xb33f, nameXor: 0xf820, nameSeed: 0xf479, size: 0x87bc, crc: 0xa685 }
  const xor = (data: Uint8Array, seed: number): Buffer => { const k = keys(data.length, seed); return Buffer.from(data.map((b, i) => b ^ k[i]!)) }
  const u32 = (v: number): Buffer => { const b = Buffer.alloc(4); b.writeUInt32LE(v >>> 0); return b }
  const text = (s: string): Buffer => Buffer.from(s, tag === 'EA06' ? 'utf16le' : 'latin1')
  const checksumBytes = Buffer.alloc(16, 0x11)
  const dataSeed = tag === 'EA05' ? 16 * 0x11 + 0x22af : 0x2477
  const parts: Buffer[] = [Buffer.from('a3484bbe986c4aa9994c530a86d6487d41553321', 'hex'), Buffer.from(tag, 'latin1'), checksumBytes]
  for (const f of files) {
    const data = f.compress ? autoItCompress(tag, f.bytes) : Buffer.from(f.bytes)
    parts.push(xor(Buffer.from('FILE', 'latin1'), c.file))
    parts.push(u32(f.type.length ^ c.typeXor), xor(text(f.type), c.typeSeed + f.type.length))
    parts.push(u32(f.name.length ^ c.nameXor), xor(text(f.name), c.nameSeed + f.name.length))
    parts.push(Buffer.from([f.compress ? 1 : 0]), u32(data.length ^ c.size), u32(f.bytes.length ^ c.size), u32(0 ^ c.crc), Buffer.alloc(16))
    parts.push(xor(data, dataSeed))
  }
  return Buffer.concat(parts)
}

/// The plain InstallShield overlay: name, path, version and decimal size, then the bytes.
export function installShieldPlain (files: ReadonlyArray<readonly [string, Uint8Array]>): Buffer {
  return Buffer.concat(files.flatMap(([name, bytes]) => [Buffer.from([name, `Disk1\\${name}`, '1.0.0.0', String(bytes.length), ''].join('\0'), 'latin1'), Buffer.from(bytes)]))
}

/// The encrypted `InstallShield\0` overlay (version 1 headers), each file deflated then encrypted.
export function installShieldEncrypted (files: ReadonlyArray<readonly [string, Uint8Array]>): Buffer {
  const header = Buffer.alloc(46)
  header.write('InstallShield\0', 0, 'latin1')
  header.writeUInt16LE(files.length, 14)
  const parts: Buffer[] = [Buffer.from('NB10\0\0\0\0', 'latin1'), header]
  for (const [name, bytes] of files) {
    const entry = Buffer.alloc(312)
    entry.write(name, 0, 'latin1')
    const packed = deflateSync(bytes)
    entry.writeUInt32LE(6, 260) // flags: 4 = key restarts every 1024 bytes
    entry.writeUInt32LE(packed.length, 268)
    entry.writeUInt16LE(1, 280) // compressed
    const key = Buffer.from(name, 'latin1').map((b, i) => b ^ [0x13, 0x35, 0x86, 0x07][i % 4]!)
    const encrypted = packed.map((p, i) => {
      const x = (~p ^ key[(i % 1024) % key.length]!) & 0xff
      return ((x << 4) | (x >>> 4)) & 0xff
    })
    parts.push(entry, Buffer.from(encrypted))
  }
  return Buffer.concat(parts)
}
