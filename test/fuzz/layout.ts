/// Where a seed's length/offset fields and members are, so mutators can aim at them: read
/// structurally for the formats where that is cheap (zip, tar, cpio, ar, OLE2, CAB, TNEF, the
/// compressors' trailers, MIME parts, PDF objects, ICAP chunks), plus generic candidates for every
/// format (ASCII decimal runs, and little-endian u32 values that could be an in-file size or offset).
/// Each reader stops at the first thing it does not understand: a seed is well-formed, and a missed
/// field only means the mutator picks another one.

export type Encoding = 'u16le' | 'u32le' | 'u64le' | 'u32be' | 'octal' | 'dec' | 'hex'
export interface Field { readonly at: number, readonly width: number, readonly enc: Encoding }
export interface Range { readonly start: number, readonly end: number }
export interface Layout {
  /// Fields read from the structure: preferred by the length mutator.
  readonly fields: readonly Field[]
  /// Guesses valid for any format.
  readonly generic: readonly Field[]
  readonly members: readonly Range[]
}

export type LayoutName = 'zip' | 'rar' | 'tar' | 'cpio' | 'ar' | 'gzip' | 'lzip' | 'xz' | '7z' | 'lzma' | 'szdd' | 'ole2' | 'cab' | 'tnef' | 'sis' | 'mime' | 'pdf' | 'chunked' | 'none'

type Reader = (b: Buffer, fields: Field[], members: Range[]) => void

const u16 = (b: Buffer, at: number): number => at + 2 <= b.length ? b.readUInt16LE(at) : 0
const u32 = (b: Buffer, at: number): number => at + 4 <= b.length ? b.readUInt32LE(at) : 0
const field = (at: number, width: number, enc: Encoding): Field => ({ at, width, enc })
const text = (b: Buffer, at: number, width: number): string => b.toString('latin1', at, at + width)

/// Offsets of every occurrence of `magic` in `b`.
function all (b: Buffer, magic: Buffer): number[] {
  const out: number[] = []
  for (let at = b.indexOf(magic); at >= 0; at = b.indexOf(magic, at + 1)) out.push(at)
  return out
}

const zip: Reader = (b, fields, members) => {
  const locals = all(b, Buffer.from('PK\x03\x04', 'latin1'))
  const central = b.indexOf(Buffer.from('PK\x01\x02', 'latin1'))
  locals.forEach((at, i) => {
    fields.push(field(at + 18, 4, 'u32le'), field(at + 22, 4, 'u32le'), field(at + 26, 2, 'u16le'), field(at + 28, 2, 'u16le'))
    members.push({ start: at, end: locals[i + 1] ?? (central > at ? central : b.length) })
  })
  for (const at of all(b, Buffer.from('PK\x01\x02', 'latin1'))) {
    fields.push(field(at + 20, 4, 'u32le'), field(at + 24, 4, 'u32le'), field(at + 28, 2, 'u16le'), field(at + 30, 2, 'u16le'), field(at + 42, 4, 'u32le'))
  }
  for (const at of all(b, Buffer.from('PK\x05\x06', 'latin1'))) {
    fields.push(field(at + 8, 2, 'u16le'), field(at + 10, 2, 'u16le'), field(at + 12, 4, 'u32le'), field(at + 16, 4, 'u32le'), field(at + 20, 2, 'u16le'))
  }
}

const tar: Reader = (b, fields, members) => {
  for (let at = 0; at + 512 <= b.length;) {
    if (b.subarray(at, at + 512).every(x => x === 0)) return
    const size = parseInt(text(b, at + 124, 12).replace(/\0.*$/s, '').trim() || '0', 8)
    if (!Number.isFinite(size)) return
    fields.push(field(at + 124, 12, 'octal'), field(at + 148, 8, 'octal'))
    const end = at + 512 + Math.ceil(size / 512) * 512
    members.push({ start: at, end: Math.min(end, b.length) })
    at = end
  }
}

const cpio: Reader = (b, fields, members) => {
  for (let at = 0; at < b.length;) {
    const magic = text(b, at, 6)
    let end: number
    if (magic === '070701' || magic === '070702') {
      for (let i = 0; i < 13; i++) fields.push(field(at + 6 + 8 * i, 8, 'hex'))
      const name = parseInt(text(b, at + 94, 8), 16)
      const size = parseInt(text(b, at + 54, 8), 16)
      const dataAt = at + Math.ceil((110 + name) / 4) * 4
      end = dataAt + Math.ceil(size / 4) * 4
    } else if (magic === '070707') {
      fields.push(field(at + 59, 6, 'octal'), field(at + 65, 11, 'octal'))
      end = at + 76 + parseInt(text(b, at + 59, 6), 8) + parseInt(text(b, at + 65, 11), 8)
    } else if (u16(b, at) === 0x71c7) {
      fields.push(field(at + 20, 2, 'u16le'), field(at + 22, 2, 'u16le'), field(at + 24, 2, 'u16le'))
      const name = u16(b, at + 20)
      const size = u16(b, at + 22) * 0x10000 + u16(b, at + 24)
      end = at + 26 + name + (name % 2) + size + (size % 2)
    } else return
    if (!Number.isFinite(end) || end <= at) return
    members.push({ start: at, end: Math.min(end, b.length) })
    at = end
  }
}

const ar: Reader = (b, fields, members) => {
  for (let at = 8; at + 60 <= b.length;) {
    const size = parseInt(text(b, at + 48, 10), 10)
    if (!Number.isFinite(size)) return
    fields.push(field(at + 48, 10, 'dec'))
    const end = at + 60 + size + (size % 2)
    members.push({ start: at, end: Math.min(end, b.length) })
    at = end
  }
}

/// RAR 4 blocks after the 7-byte marker: each header's size, a file's packed and unpacked sizes and
/// name length; every block (header plus data) is a member.
const rar: Reader = (b, fields, members) => {
  for (let at = 7; at + 7 <= b.length;) {
    const flags = u16(b, at + 3)
    const size = u16(b, at + 5)
    fields.push(field(at + 5, 2, 'u16le'))
    const long = (flags & 0x8000) !== 0
    if (long) fields.push(field(at + 7, 4, 'u32le'))
    if (b[at + 2] === 0x74) fields.push(field(at + 11, 4, 'u32le'), field(at + 26, 2, 'u16le'))
    const end = at + size + (long ? u32(b, at + 7) : 0)
    if (size < 7) return
    members.push({ start: at, end: Math.min(end, b.length) })
    at = end
  }
}

/// Trailers and headers at fixed places: gzip's CRC32+ISIZE, lzip's sizes, xz's backward size,
/// 7z's next-header offset and size, LZMA-alone's dictionary and size, SZDD's size.
const fixed = (places: (b: Buffer) => Field[]): Reader => (b, fields) => { fields.push(...places(b).filter(f => f.at >= 0 && f.at + f.width <= b.length)) }
const gzip = fixed(b => [field(b.length - 4, 4, 'u32le'), field(b.length - 8, 4, 'u32le')])
const lzip = fixed(b => [field(b.length - 8, 8, 'u64le'), field(b.length - 16, 8, 'u64le'), field(5, 1, 'u16le')])
const xz = fixed(b => [field(b.length - 8, 4, 'u32le'), field(b.length - 12, 4, 'u32le')])
const sevenz = fixed(() => [field(12, 8, 'u64le'), field(20, 8, 'u64le'), field(8, 4, 'u32le')])
const lzma = fixed(() => [field(1, 4, 'u32le'), field(5, 8, 'u64le')])
const szdd = fixed(() => [field(10, 4, 'u32le')])

const ole2: Reader = (b, fields) => {
  for (const at of [0x1e, 0x20]) fields.push(field(at, 2, 'u16le'))
  for (const at of [0x2c, 0x30, 0x3c, 0x40, 0x44, 0x48, 0x4c]) fields.push(field(at, 4, 'u32le'))
  const shift = u16(b, 0x1e)
  if (shift < 7 || shift > 16) return
  const dir = (u32(b, 0x30) + 1) << shift
  for (let at = dir; at + 128 <= b.length && at < dir + (1 << shift); at += 128) {
    fields.push(field(at + 0x40, 2, 'u16le'), field(at + 0x44, 4, 'u32le'), field(at + 0x48, 4, 'u32le'), field(at + 0x4c, 4, 'u32le'), field(at + 0x74, 4, 'u32le'), field(at + 0x78, 4, 'u32le'))
  }
}

const cab: Reader = (b, fields) => {
  fields.push(field(8, 4, 'u32le'), field(16, 4, 'u32le'), field(26, 2, 'u16le'), field(28, 2, 'u16le'))
  const folders = u16(b, 26)
  for (let i = 0; i < folders; i++) fields.push(field(36 + 8 * i, 4, 'u32le'), field(40 + 8 * i, 2, 'u16le'))
  let at = u32(b, 16)
  for (let i = 0; i < u16(b, 28) && at + 16 < b.length; i++) {
    fields.push(field(at, 4, 'u32le'), field(at + 4, 4, 'u32le'), field(at + 8, 2, 'u16le'))
    const nul = b.indexOf(0, at + 16)
    if (nul < 0) return
    at = nul + 1
  }
}

const tnef: Reader = (b, fields, members) => {
  for (let at = 6; at + 9 <= b.length;) {
    const len = u32(b, at + 5)
    fields.push(field(at + 5, 4, 'u32le'))
    const end = at + 9 + len + 2
    members.push({ start: at, end: Math.min(end, b.length) })
    at = end
  }
}

const sis: Reader = (b, fields) => {
  for (const at of [18, 20, 36, 52]) fields.push(field(at, at === 52 ? 4 : 2, at === 52 ? 'u32le' : 'u16le'))
  const record = u32(b, 52)
  for (let i = 0; i < 10; i++) fields.push(field(record + 4 * i, 4, 'u32le'))
}

/// MIME parts between boundary lines (mail, mbox): duplicating or swapping them is structural damage.
const mime: Reader = (b, _fields, members) => {
  const boundary = /boundary="?([^"\r\n;]+)"?/i.exec(b.toString('latin1'))?.[1]
  if (boundary === undefined) return
  const starts = all(b, Buffer.from(`\n--${boundary}`, 'latin1')).map(at => at + 1)
  for (let i = 0; i + 1 < starts.length; i++) members.push({ start: starts[i] ?? 0, end: starts[i + 1] ?? b.length })
}

const pdf: Reader = (b, _fields, members) => {
  const s = b.toString('latin1')
  for (const m of s.matchAll(/\d+ \d+ obj[\s\S]*?endobj\s*/g)) members.push({ start: m.index, end: m.index + m[0].length })
}

/// HTTP/ICAP chunked bodies: each chunk-size line is a hex field, each chunk a member.
const chunked: Reader = (b, fields, members) => {
  const s = b.toString('latin1')
  const body = s.indexOf('\r\n\r\n')
  for (const m of s.slice(body + 4).matchAll(/(?<=^|\r\n)([0-9a-fA-F]+)(;[^\r\n]*)?\r\n/g)) {
    const at = body + 4 + m.index
    const size = parseInt(m[1] ?? '', 16)
    fields.push(field(at, m[1]?.length ?? 1, 'hex'))
    if (size > 0) members.push({ start: at, end: Math.min(at + m[0].length + size + 2, b.length) })
  }
}

const readers: Record<LayoutName, Reader> = { zip, rar, tar, cpio, ar, gzip, lzip, xz, '7z': sevenz, lzma, szdd, ole2, cab, tnef, sis, mime, pdf, chunked, none: () => {} }

/// At most this many generic candidates per kind, spread over the file, so a large seed stays cheap.
const genericCap = 256

/// Decimal runs (MIME sizes, /Length, yEnc size=, Encapsulated offsets) and u32 values that fit in
/// the file (a size or an offset, most likely).
function generic (b: Buffer, fields: Field[]): void {
  const s = b.toString('latin1')
  const decimals = [...s.matchAll(/\d{1,10}/g)]
  const step = Math.max(1, Math.floor(decimals.length / genericCap))
  for (let i = 0; i < decimals.length; i += step) {
    const m = decimals[i]
    if (m !== undefined) fields.push(field(m.index, m[0].length, 'dec'))
  }
  const words: Field[] = []
  for (let at = 0; at + 4 <= b.length; at++) {
    const v = b.readUInt32LE(at)
    if (v > 0 && v <= b.length && v !== 0x20202020) words.push(field(at, 4, 'u32le'))
  }
  const wordStep = Math.max(1, Math.floor(words.length / genericCap))
  for (let i = 0; i < words.length; i += wordStep) fields.push(words[i] ?? field(0, 4, 'u32le'))
}

/// The seed's structural fields and members, and the generic candidates.
export function layoutOf (name: LayoutName, bytes: Buffer): Layout {
  const fields: Field[] = []
  const members: Range[] = []
  try {
    readers[name](bytes, fields, members)
  } catch {
    // A reader that meets something unexpected keeps what it found so far.
  }
  const guesses: Field[] = []
  generic(bytes, guesses)
  const inside = (f: Field): boolean => f.at >= 0 && f.at + f.width <= bytes.length
  return { fields: fields.filter(inside), generic: guesses, members: members.filter(m => m.end > m.start && m.start >= 0) }
}
