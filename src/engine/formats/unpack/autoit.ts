/// Compiled AutoIt scripts (AutoIt v3 "EA05" and "EA06" builds): the interpreter executable carries, in
/// its overlay (EA05) or its resources (EA06), a marker (a fixed 16-byte GUID, `AU3!`, `EA05`/`EA06`),
/// 16 bytes of password checksum, then one record per file: the script itself and every file the
/// script embeds with FileInstall (malware droppers put their payload there). Each record's fields are
/// obfuscated with xor constants and a keystream: EA05 uses MT19937 (each byte the generator's output
/// shifted right once), EA06 a lagged-Fibonacci generator with rotations; the data is then an LZSS
/// stream (`EA05`/`EA06`, big-endian size, literal/match bits). Written from public descriptions of the
/// format (AutoIt decompiler write-ups); no npm package reads it. The EA06 script is tokenised
/// bytecode and is yielded as it is (its strings are still plain UTF-16); embedded files come out
/// byte for byte. Every size is checked against the input and `limit` before anything is allocated.
import { lameKeystream, mersenneKeystream } from './autoit-keys.js'
import type { Unpacked } from './unpacker.js'

const marker = Buffer.from('a3484bbe986c4aa9994c530a86d6487d41553321', 'hex') // GUID + "AU3!"
const maxRecords = 1024

interface Variant {
  readonly tag: 'EA05' | 'EA06'
  readonly keys: (length: number, seed: number) => Uint8Array
  /// Width of a character in the record's strings (EA06 strings are UTF-16).
  readonly charBytes: 1 | 2
  readonly fileSeed: number
  readonly typeXor: number
  readonly typeSeed: number
  readonly nameXor: number
  readonly nameSeed: number
  readonly sizeXor: number
  readonly dataSeed: (checksum: number) => number
  /// The bit value that announces a literal in the LZSS stream.
  readonly literalBit: number
}

const variants: readonly Variant[] = [
  { tag: 'EA05', keys: mersenneKeystream, charBytes: 1, fileSeed: 0x16fa, typeXor: 0x29bc, typeSeed: 0xa25e, nameXor: 0x29ac, nameSeed: 0xf25e, sizeXor: 0x45aa, dataSeed: sum => sum + 0x22af, literalBit: 0 },
  { tag: 'EA06', keys: lameKeystream, charBytes: 2, fileSeed: 0x18ee, typeXor: 0xadbc, typeSeed: 0xb33f, nameXor: 0xf820, nameSeed: 0xf479, sizeXor: 0x87bc, dataSeed: () => 0x2477, literalBit: 1 },
]

/// Where the marker is, searching from `from` (callers pass the start of the last section: EA06 keeps
/// the script in .rsrc, EA05 in the overlay after it).
export function findAutoIt (bytes: Uint8Array, from: number): number {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).indexOf(marker, from)
}

function xorWith (bytes: Uint8Array, seed: number, variant: Variant): Uint8Array {
  const keys = variant.keys(bytes.length, seed)
  const out = new Uint8Array(bytes.length)
  for (let i = 0; i < bytes.length; i++) out[i] = bytes[i]! ^ keys[i]!
  return out
}

function text (bytes: Uint8Array, variant: Variant): string {
  return Buffer.from(bytes).toString(variant.charBytes === 2 ? 'utf16le' : 'latin1')
}

export function unpackAutoIt (bytes: Uint8Array, at: number, limit: number): Unpacked[] | string {
  const tag = Buffer.from(bytes.subarray(at + 20, at + 24)).toString('latin1')
  const variant = variants.find(v => v.tag === tag)
  if (variant === undefined) return `AutoIt version ${JSON.stringify(tag)} not supported`
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  let checksum = 0
  for (let i = at + 24; i < Math.min(at + 40, bytes.length); i++) checksum += bytes[i]!
  let offset = at + 40
  const u32 = (xor: number): number => {
    if (offset + 4 > bytes.length) throw new Error('AutoIt record past the end')
    const value = (view.getUint32(offset, true) ^ xor) >>> 0
    offset += 4
    return value
  }
  const take = (length: number): Uint8Array => {
    if (length > bytes.length - offset) throw new Error(`AutoIt field of ${length} bytes past the end`)
    const field = bytes.subarray(offset, offset + length)
    offset += length
    return field
  }
  const found: Unpacked[] = []
  let produced = 0
  try {
    for (let n = 0; n < maxRecords && offset + 4 <= bytes.length; n++) {
      if (text(xorWith(take(4), variant.fileSeed, variant), { ...variant, charBytes: 1 }) !== 'FILE') break
      const typeLength = u32(variant.typeXor)
      const type = text(xorWith(take(typeLength * variant.charBytes), variant.typeSeed + typeLength, variant), variant)
      const nameLength = u32(variant.nameXor)
      const name = text(xorWith(take(nameLength * variant.charBytes), variant.nameSeed + nameLength, variant), variant)
      if (type === '>>>AUTOIT NO CMDEXECUTE<<<') { take(1); take(u32(variant.sizeXor) + 0x18); continue }
      const compressed = take(1)[0] === 1
      const dataSize = u32(variant.sizeXor)
      u32(variant.sizeXor) // uncompressed size, restated inside the LZSS stream
      take(4 + 16) // checksum (Adler-32 of the decrypted data), two FILETIMEs
      const data = xorWith(take(dataSize), variant.dataSeed(checksum), variant)
      const content = compressed ? inflateAutoIt(data, variant, limit - produced) : data
      produced += content.length
      const label = type.startsWith('>') ? 'script.au3' : (name.split(/[\\/]/).pop() ?? '') || `file-${n}`
      found.push({ name: label, bytes: content })
    }
  } catch (error) {
    if (found.length === 0) return (error as Error).message
  }
  return found.length === 0 ? 'no AutoIt records' : found
}

/// The LZSS of AutoIt: bits most significant first; a literal is 8 bits; a match is a 15-bit distance
/// and a length coded in growing fields (2, 3, 5, 8 bits, then runs of 8) plus 3.
function inflateAutoIt (data: Uint8Array, variant: Variant, limit: number): Uint8Array {
  if (data.length < 8 || Buffer.from(data.subarray(0, 4)).toString('latin1') !== variant.tag) throw new Error('AutoIt stream magic missing')
  const size = ((data[4]! << 24) | (data[5]! << 16) | (data[6]! << 8) | data[7]!) >>> 0
  if (size > limit) throw new Error(`AutoIt stream of ${size} bytes over the limit`)
  const out = new Uint8Array(size)
  let bit = 64 // position in bits
  const totalBits = data.length * 8
  const bits = (count: number): number => {
    if (bit + count > totalBits) throw new Error('AutoIt stream ends early')
    let value = 0
    for (let i = 0; i < count; i++, bit++) value = (value << 1) | ((data[bit >>> 3]! >>> (7 - (bit & 7))) & 1)
    return value
  }
  let length = 0
  while (length < size) {
    if (bits(1) === variant.literalBit) { out[length++] = bits(8); continue }
    const distance = bits(15)
    let run = bits(2)
    let extra = 0
    if (run === 3) {
      extra = 3
      run = bits(3)
      if (run === 7) {
        extra = 10
        run = bits(5)
        if (run === 31) {
          extra = 41
          run = bits(8)
          if (run === 255) {
            extra = 296
            while ((run = bits(8)) === 255) extra += 255
          }
        }
      }
    }
    run += 3 + extra
    if (distance === 0 || distance > length) throw new Error(`AutoIt match distance ${distance} before the start`)
    if (length + run > size) run = size - length
    let from = length - distance
    for (let i = 0; i < run; i++) out[length++] = out[from++]!
  }
  return out
}
