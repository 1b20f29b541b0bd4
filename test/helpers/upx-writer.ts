/// UPX-packed test programs, built here because Debian bookworm ships no `upx` (upx-ucl left the
/// archive after bullseye; test/setup-peers.sh notes it). An NRV2B/NRV2D/NRV2E encoder (greedy LZ77,
/// the bit codes of the UCL decoders: literal flag, Elias-gamma offsets and lengths, 32-bit LE bit
/// words interleaved with whole bytes) and the two container layouts UPX writes: a PE32/PE32+ with an
/// empty UPX0, the compressed image at the start of UPX1 and the PackHeader after the section table;
/// an ELF32/ELF64 with l_info, p_info and b_info blocks after the program headers. The image that
/// comes back out must equal `payload` byte for byte, so a hash signature of the payload proves it.
/// LZMA (method 14) streams come from xz-utils (test/setup-peers.sh installs it).
import { execFileSync } from 'node:child_process'
import { longestMatch } from './lz-match.js'

export type NrvWriterMethod = 'nrv2b' | 'nrv2d' | 'nrv2e'
export type UpxWriterMethod = NrvWriterMethod | 'lzma'

/// UPX's LZMA layout: a raw LZMA stream (xz-utils' `xz --format=raw --lzma1`, lc=3 lp=0 pb=2 as UPX
/// uses) behind UPX's two header bytes, (lc + lp) << 3 | pb and lp << 4 | lc.
function lzmaEncode (input: Uint8Array): Uint8Array {
  const raw = execFileSync('xz', ['--format=raw', '--lzma1=preset=6,lc=3,lp=0,pb=2', '-c'], { input, maxBuffer: 1 << 26 })
  return Buffer.concat([Buffer.from([(3 << 3) | 2, 3]), raw])
}

function compress (method: UpxWriterMethod, input: Uint8Array): Uint8Array {
  return method === 'lzma' ? lzmaEncode(input) : nrvEncode(method, input)
}

class BitWriter {
  readonly bytes: number[] = []
  #word = 0
  #count = 32
  #at = -1

  bit (b: number): void {
    if (this.#count === 32) {
      this.flush()
      this.#at = this.bytes.length
      this.bytes.push(0, 0, 0, 0)
      this.#word = 0
      this.#count = 0
    }
    if (b !== 0) this.#word |= 1 << (31 - this.#count)
    this.#count++
  }

  byte (b: number): void { this.bytes.push(b & 0xff) }

  flush (): void {
    if (this.#at < 0) return
    const w = this.#word >>> 0
    this.bytes[this.#at] = w & 0xff
    this.bytes[this.#at + 1] = (w >>> 8) & 0xff
    this.bytes[this.#at + 2] = (w >>> 16) & 0xff
    this.bytes[this.#at + 3] = w >>> 24
  }
}

/// value >= 2: the bits after the leading one, each followed by 0 (more) or 1 (last).
function gamma (w: BitWriter, value: number): void {
  const bits = value.toString(2).slice(1)
  for (let i = 0; i < bits.length; i++) { w.bit(Number(bits[i])); w.bit(i === bits.length - 1 ? 1 : 0) }
}

/// The NRV2D/NRV2E offset code: each step a data bit and a stop bit, a continued step folds one more.
function offsetCode (value: number): number[] {
  const continued = (p: number): number[] => {
    const m = (p >> 1) + 1
    const q = m >> 1
    return [...(q === 1 ? [] : continued(q)), m & 1, 0, p & 1]
  }
  const p = value >> 1
  return [...(p === 1 ? [] : continued(p)), value & 1, 1]
}

export function nrvEncode (method: NrvWriterMethod, input: Uint8Array): Uint8Array {
  const w = new BitWriter()
  const threshold = method === 'nrv2b' ? 0xd00 : 0x500
  let i = 0
  while (i < input.length) {
    const { length: bestLength, distance: bestOffset } = longestMatch(input, i, 0x1800, 280)
    const extra = bestOffset > threshold ? 1 : 0
    if (bestLength < 4 + extra) { w.bit(1); w.byte(input[i]!); i++; continue }
    w.bit(0)
    const ml = bestLength - 1 - extra
    if (method === 'nrv2b') {
      gamma(w, ((bestOffset - 1) >> 8) + 3)
      w.byte((bestOffset - 1) & 0xff)
      if (ml <= 3) { w.bit(ml >> 1); w.bit(ml & 1) } else { w.bit(0); w.bit(0); gamma(w, ml - 2) }
    } else {
      const low = method === 'nrv2d' ? (ml <= 3 ? ml >> 1 : 0) : (ml <= 2 ? 1 : 0)
      const code = ((bestOffset - 1) * 2) | (low ^ 1)
      for (const b of offsetCode((code >> 8) + 3)) w.bit(b)
      w.byte(code & 0xff)
      if (method === 'nrv2d') {
        if (ml <= 3) w.bit(ml & 1); else { w.bit(0); gamma(w, ml - 2) }
      } else if (low === 1) w.bit(ml - 1)
      else if (ml <= 4) { w.bit(1); w.bit(ml - 3) } else { w.bit(0); gamma(w, ml - 3) }
    }
    i += bestLength
  }
  w.bit(0) // end marker: the largest offset code and 0xff
  if (method === 'nrv2b') gamma(w, 0x1000002); else for (const b of offsetCode(0x1000002)) w.bit(b)
  w.byte(0xff)
  w.flush()
  return Uint8Array.from(w.bytes)
}

const methodNumber: Record<UpxWriterMethod, number> = { nrv2b: 2, nrv2d: 5, nrv2e: 8, lzma: 14 }

/// UPX's ctok32 filter 0x26 (what its stub undoes): each E8/E9 whose target falls inside the buffer
/// gets its operand replaced by the marker byte and the 24-bit absolute target, big-endian.
export function ctoFilter (code: Uint8Array, cto: number): Uint8Array {
  const out = Uint8Array.from(code)
  for (let at = 0; at < out.length - 5; at++) {
    if (out[at] !== 0xe8 && out[at] !== 0xe9) continue
    const o = at + 1
    const target = ((out[o]! | (out[o + 1]! << 8) | (out[o + 2]! << 16) | (out[o + 3]! << 24)) + o) >>> 0
    if (target >= out.length) continue
    out[o] = cto; out[o + 1] = (target >>> 16) & 0xff; out[o + 2] = (target >>> 8) & 0xff; out[o + 3] = target & 0xff
    at += 4
  }
  return out
}

export function upxPe (payload: Uint8Array, method: UpxWriterMethod, options: { wide?: boolean, filter?: number, cto?: number } = {}): Buffer {
  const wide = options.wide === true
  const filter = options.filter ?? 0
  const packed = compress(method, filter === 0x26 ? ctoFilter(payload, options.cto ?? 0) : payload)
  const rawSize = Math.ceil((packed.length + 0x40) / 0x200) * 0x200
  const file = Buffer.alloc(0x400 + rawSize)
  file.write('MZ', 0, 'latin1')
  file.writeUInt32LE(0x80, 0x3c)
  const pe = 0x80
  file.write('PE\0\0', pe, 'latin1')
  const optionalSize = wide ? 0xf0 : 0xe0
  file.writeUInt16LE(wide ? 0x8664 : 0x14c, pe + 4)
  file.writeUInt16LE(2, pe + 6)
  file.writeUInt16LE(optionalSize, pe + 20)
  file.writeUInt16LE(wide ? 0x22 : 0x102, pe + 22)
  const opt = pe + 24
  file.writeUInt16LE(wide ? 0x20b : 0x10b, opt)
  const virtualSize = Math.ceil(payload.length / 0x1000) * 0x1000
  const upx1Address = 0x1000 + virtualSize
  file.writeUInt32LE(upx1Address + packed.length, opt + 16) // entry point: the stub after the data
  if (wide) file.writeBigUInt64LE(0x140000000n, opt + 24); else file.writeUInt32LE(0x400000, opt + 28)
  file.writeUInt32LE(0x1000, opt + 32)
  file.writeUInt32LE(0x200, opt + 36)
  file.writeUInt32LE(upx1Address + 0x1000 + Math.ceil(rawSize / 0x1000) * 0x1000, opt + 56)
  file.writeUInt32LE(0x400, opt + 60)
  const table = opt + optionalSize
  const section = (at: number, name: string, vsize: number, address: number, raw: number, rawAt: number): void => {
    file.write(name, at, 'latin1')
    file.writeUInt32LE(vsize, at + 8); file.writeUInt32LE(address, at + 12)
    file.writeUInt32LE(raw, at + 16); file.writeUInt32LE(rawAt, at + 20)
    file.writeUInt32LE(0xe0000080, at + 36)
  }
  section(table, 'UPX0', virtualSize, 0x1000, 0, 0x400)
  section(table + 40, 'UPX1', rawSize, upx1Address, rawSize, 0x400)
  const header = 0x3e0 // PackHeader, as UPX places it just before the first section's data
  file.write('UPX!', header, 'latin1')
  file[header + 4] = 13
  file[header + 5] = wide ? 36 : 9
  file[header + 6] = methodNumber[method]
  file[header + 7] = 8
  file.writeUInt32LE(payload.length, header + 16)
  file.writeUInt32LE(packed.length, header + 20)
  file.writeUInt32LE(file.length, header + 24)
  file[header + 28] = filter
  file[header + 29] = options.cto ?? 0
  Buffer.from(packed).copy(file, 0x400)
  return file
}

export function upxElf (payload: Uint8Array, method: UpxWriterMethod, options: { wide?: boolean } = {}): Buffer {
  const wide = options.wide === true
  const packed = compress(method, payload)
  const ehsize = wide ? 64 : 52
  const phsize = wide ? 56 : 32
  const info = ehsize + phsize
  const data = info + 24 + 12
  const end = data + packed.length + ((4 - (packed.length % 4)) % 4)
  const file = Buffer.alloc(end + 12 + 4)
  file.set([0x7f, 0x45, 0x4c, 0x46, wide ? 2 : 1, 1, 1], 0)
  file.writeUInt16LE(2, 16)
  file.writeUInt16LE(wide ? 62 : 3, 18)
  file.writeUInt32LE(1, 20)
  if (wide) {
    file.writeBigUInt64LE(0x400000n + BigInt(ehsize + phsize), 0x18)
    file.writeBigUInt64LE(BigInt(ehsize), 0x20)
    file.writeUInt16LE(ehsize, 0x34); file.writeUInt16LE(phsize, 0x36); file.writeUInt16LE(1, 0x38)
    file.writeUInt32LE(1, ehsize); file.writeUInt32LE(5, ehsize + 4)
    file.writeBigUInt64LE(0x400000n, ehsize + 16); file.writeBigUInt64LE(BigInt(file.length), ehsize + 32); file.writeBigUInt64LE(BigInt(file.length), ehsize + 40)
  } else {
    file.writeUInt32LE(0x400000 + ehsize + phsize, 0x18)
    file.writeUInt32LE(ehsize, 0x1c)
    file.writeUInt16LE(ehsize, 0x28); file.writeUInt16LE(phsize, 0x2a); file.writeUInt16LE(1, 0x2c)
    file.writeUInt32LE(1, ehsize); file.writeUInt32LE(0x400000, ehsize + 8)
    file.writeUInt32LE(file.length, ehsize + 16); file.writeUInt32LE(file.length, ehsize + 20)
  }
  file.write('UPX!', info + 4, 'latin1') // l_info: checksum, magic, size, version, format
  file[info + 10] = 13
  file[info + 11] = wide ? 22 : 12
  file.writeUInt32LE(payload.length, info + 16) // p_info: progid, file size, block size
  file.writeUInt32LE(payload.length, info + 20)
  file.writeUInt32LE(payload.length, info + 24) // b_info: sizes, method, filter
  file.writeUInt32LE(packed.length, info + 28)
  file[info + 32] = methodNumber[method]
  Buffer.from(packed).copy(file, data)
  file.write('UPX!', end + 12, 'latin1') // after the empty b_info that ends the blocks
  return file
}
