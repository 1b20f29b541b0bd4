/// File types from content (magic bytes), never from names or Content-Type.
/// The magic table is data, in the spirit of ClamAV's filetypes_int.h; detect() walks it in order,
/// then the few structural checks a fixed magic cannot express (tar checksum, LZMA-alone header,
/// zlib header check), then text classes (mail, mbox, HTML, uuencode, yEnc).
/// The union is shared by format handlers (which type they open) and the matcher (ClamAV target
/// types: 1 PE, 2 OLE2, 3 HTML, 4 mail, 5 graphics, 6 ELF, 7 ASCII text, 9 Mach-O, 10 PDF, 11 SWF, 12 Java).
import type { ByteSource } from './source.js'

export type FileType =
  // executables
  | 'pe' | 'elf' | 'macho' | 'java-class'
  // compressors
  | 'gzip' | 'zlib' | 'bzip2' | 'xz' | 'lzma' | 'zstd' | 'lzip' | 'szdd' | 'lzop'
  // archives
  | 'zip' | 'tar' | 'cpio' | '7z' | 'rar' | 'cab' | 'arj' | 'lzh' | 'iso9660' | 'ar' | 'chm' | 'sis' | 'alz'
  // documents and mail
  | 'ole2' | 'pdf' | 'rtf' | 'html' | 'mail' | 'mbox' | 'tnef' | 'binhex' | 'swf' | 'uuencode' | 'yenc' | 'onenote'
  // media
  | 'graphics'
  // plain
  | 'text' | 'unknown'

interface Magic { readonly type: FileType, readonly offset: number, readonly bytes: readonly number[] }

const ascii = (s: string): number[] => [...s].map(c => c.charCodeAt(0))

/// Fixed magics, most specific first (ClamAV filetypes_int.h order of precedence).
const magics: readonly Magic[] = [
  { type: 'gzip', offset: 0, bytes: [0x1f, 0x8b, 0x08] },
  { type: 'bzip2', offset: 0, bytes: ascii('BZh') },
  { type: 'xz', offset: 0, bytes: [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00] },
  { type: 'zstd', offset: 0, bytes: [0x28, 0xb5, 0x2f, 0xfd] },
  { type: 'lzip', offset: 0, bytes: ascii('LZIP') },
  { type: 'lzop', offset: 0, bytes: [0x89, 0x4c, 0x5a, 0x4f, 0x00, 0x0d, 0x0a, 0x1a, 0x0a] },
  { type: 'szdd', offset: 0, bytes: [0x53, 0x5a, 0x44, 0x44, 0x88, 0xf0, 0x27, 0x33] },
  { type: 'zip', offset: 0, bytes: [0x50, 0x4b, 0x03, 0x04] },
  { type: 'zip', offset: 0, bytes: [0x50, 0x4b, 0x05, 0x06] },
  { type: 'zip', offset: 0, bytes: [0x50, 0x4b, 0x07, 0x08] },
  { type: '7z', offset: 0, bytes: [0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c] },
  { type: 'rar', offset: 0, bytes: [0x52, 0x61, 0x72, 0x21, 0x1a, 0x07] },
  { type: 'cab', offset: 0, bytes: [0x4d, 0x53, 0x43, 0x46, 0, 0, 0, 0] },
  { type: 'arj', offset: 0, bytes: [0x60, 0xea] },
  { type: 'ar', offset: 0, bytes: ascii('!<arch>\n') },
  { type: 'alz', offset: 0, bytes: [0x41, 0x4c, 0x5a, 0x01] },
  { type: 'chm', offset: 0, bytes: ascii('ITSF') },
  { type: 'ole2', offset: 0, bytes: [0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1] },
  // guidFileType of a OneNote section, {7B5C52E4-D88C-4DA7-AEB1-5378D02996D3}, as stored.
  { type: 'onenote', offset: 0, bytes: [0xe4, 0x52, 0x5c, 0x7b, 0x8c, 0xd8, 0xa7, 0x4d, 0xae, 0xb1, 0x53, 0x78, 0xd0, 0x29, 0x96, 0xd3] },
  { type: 'rtf', offset: 0, bytes: ascii('{\\rt') },
  { type: 'tnef', offset: 0, bytes: [0x78, 0x9f, 0x3e, 0x22] },
  { type: 'tar', offset: 257, bytes: ascii('ustar') },
  { type: 'sis', offset: 8, bytes: [0x19, 0x04, 0x00, 0x10] },
  { type: 'cpio', offset: 0, bytes: ascii('07070') },
  { type: 'cpio', offset: 0, bytes: [0xc7, 0x71] },
  { type: 'cpio', offset: 0, bytes: [0x71, 0xc7] },
  { type: 'elf', offset: 0, bytes: [0x7f, 0x45, 0x4c, 0x46] },
  { type: 'macho', offset: 0, bytes: [0xfe, 0xed, 0xfa, 0xce] },
  { type: 'macho', offset: 0, bytes: [0xce, 0xfa, 0xed, 0xfe] },
  { type: 'macho', offset: 0, bytes: [0xfe, 0xed, 0xfa, 0xcf] },
  { type: 'macho', offset: 0, bytes: [0xcf, 0xfa, 0xed, 0xfe] },
  { type: 'java-class', offset: 0, bytes: [0xca, 0xfe, 0xba, 0xbe] },
  { type: 'swf', offset: 1, bytes: ascii('WS') },
  { type: 'graphics', offset: 0, bytes: [0x89, 0x50, 0x4e, 0x47] },
  { type: 'graphics', offset: 0, bytes: ascii('GIF8') },
  { type: 'graphics', offset: 0, bytes: [0xff, 0xd8, 0xff] },
  { type: 'pe', offset: 0, bytes: ascii('MZ') },
]

/// Every layer of every object passes here (and every small body on the I/O thread): a plain loop,
/// its first byte compared before the rest.
function matches (head: Uint8Array, magic: Magic): boolean {
  const { offset, bytes } = magic
  if (head.length < offset + bytes.length || head[offset] !== bytes[0]) return false
  for (let i = 1; i < bytes.length; i++) if (head[offset + i] !== bytes[i]) return false
  return true
}

/// The magics that can match a head, by its first byte: those at offset 0 starting with that byte
/// and every magic at another offset, in the table's order (so precedence is the table's). A head
/// is compared with a handful of entries instead of the whole table.
const magicsByFirstByte: ReadonlyArray<readonly Magic[]> = Array.from({ length: 256 }, (_, first) =>
  magics.filter(m => m.offset !== 0 || m.bytes[0] === first))

/// A zstd skippable frame (magic 0x184D2A50-5F little-endian), which may precede the data frames.
function isZstdSkippable (h: Uint8Array): boolean {
  return h.length >= 8 && ((h[0] as number) & 0xf0) === 0x50 && h[1] === 0x2a && h[2] === 0x4d && h[3] === 0x18
}

/// LHA: "-lh?-" / "-lz?-" method id at offset 2 of the first header.
function isLzh (h: Uint8Array): boolean {
  return h.length > 7 && h[2] === 0x2d && h[3] === 0x6c && (h[4] === 0x68 || h[4] === 0x7a) && h[6] === 0x2d
}

/// Whitespace as String.prototype.trim sees it, among latin1 bytes.
function isTrimmed (b: number): boolean {
  return (b >= 0x09 && b <= 0x0d) || b === 0x20 || b === 0xa0
}

/// A tar header's checksum adds up (the sum of its bytes with the checksum field read as spaces).
export function tarChecksumOk (h: Uint8Array): boolean {
  if (h.length < 512) return false
  // The field parses (below) only if its first byte after whitespace is an octal digit or a sign:
  // told from the bytes first, since most heads are not tar and the parse below costs a Buffer, a
  // string and a regex (every small body matched on the I/O thread passes here).
  let first = 148
  while (first < 156 && isTrimmed(h[first] ?? 0)) first++
  const lead = h[first] ?? 0
  if (first === 156 || !((lead >= 0x30 && lead <= 0x37) || lead === 0x2b || lead === 0x2d)) return false
  const stored = parseInt(Buffer.from(h.subarray(148, 156)).toString('latin1').replace(/\0.*$/, '').trim(), 8)
  if (!Number.isFinite(stored)) return false
  let sum = 0
  for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 0x20 : h[i] ?? 0
  return sum === stored
}

/// Old (v7) tar without the ustar magic: the header checksum must add up.
function isV7Tar (h: Uint8Array): boolean {
  return tarChecksumOk(h) && (h[0] ?? 0) !== 0
}

/// LZMA-alone (.lzma): properties byte < 225 (usually 0x5d), power-of-two-ish dictionary, then an
/// uncompressed size that is unknown (all 0xff) or plausible.
function isLzmaAlone (h: Uint8Array): boolean {
  if (h.length < 13 || h[0] !== 0x5d) return false
  const dict = Buffer.from(h.buffer, h.byteOffset, 13).readUInt32LE(1)
  if (dict < 4096 || ((dict & (dict - 1)) !== 0 && (dict & (dict - 1) & (dict - 2)) !== 0)) return false
  const hi = Buffer.from(h.buffer, h.byteOffset, 13).readUInt32LE(9)
  return hi === 0xffffffff || hi < 0x100
}

/// zlib (RFC 1950): deflate method, 32K window or less, header check divisible by 31, no preset dict.
function isZlib (h: Uint8Array): boolean {
  const cmf = h[0]
  const flg = h[1]
  if (cmf === undefined || flg === undefined || (cmf & 0x0f) !== 8 || (cmf >> 4) > 7) return false
  return ((cmf << 8) | flg) % 31 === 0 && (flg & 0x20) === 0 && cmf === 0x78
}

const textSample = (h: Uint8Array): string => Buffer.from(h.buffer, h.byteOffset, Math.min(h.length, 4096)).toString('latin1')

/// A control character that text does not hold (TAB, LF, VT, FF, CR and ESC are text's).
// eslint-disable-next-line no-control-regex -- control characters are what it looks for
const controlByte = /[\x00-\x08\x0e-\x1a\x1c-\x1f]/

/// Text when fewer than 1 % of the bytes are control characters. Stops as soon as the answer is no
/// (binary data gets there within a few hundred bytes): every object of every layer passes here.
/// `sample`: the head as latin1 text (textSample), in which text without a single control byte,
/// the common case, is told by one native scan (4 KiB: ~1 µs, against ~10 µs for the loop).
function isText (h: Uint8Array, sample: string): boolean {
  if (h.length === 0) return false
  if (sample.length === h.length && !controlByte.test(sample)) return true
  return fewControlBytes(h)
}

/// A control byte (not TAB, LF, VT, FF, CR or ESC) among the first `n` bytes.
function controlByteIn (h: Uint8Array, n: number): boolean {
  const end = Math.min(h.length, n)
  for (let i = 0; i < end; i++) {
    const b = h[i] as number
    if (b < 9 || (b > 13 && b < 32 && b !== 27)) return true
  }
  return false
}

/// 1 for the control bytes text does not hold (isText's), by byte value.
const controlTable = new Uint8Array(256)
for (let b = 0; b < 32; b++) if (b < 9 || (b > 13 && b !== 27)) controlTable[b] = 1

/// isText's count: under 1 % control bytes, stopping soon after there are more (the count is
/// looked at every 64 bytes: an addition per byte instead of a branch).
function fewControlBytes (h: Uint8Array): boolean {
  const allowed = Math.ceil(h.length / 100) - 1
  let bad = 0
  for (let start = 0; start < h.length; start += 64) {
    const end = Math.min(start + 64, h.length)
    for (let i = start; i < end; i++) bad += controlTable[h[i] as number] as number
    if (bad > allowed) return false
  }
  return true
}

/// `%PDF-` within the first 1 KiB, found by its `%` (a native search) rather than through a Buffer
/// view and a string needle.
function hasPdfMagic (h: Uint8Array): boolean {
  const head = h.length > 1024 ? h.subarray(0, 1024) : h
  for (let i = head.indexOf(0x25); i >= 0 && i + 5 <= head.length; i = head.indexOf(0x25, i + 1)) {
    if (h[i + 1] === 0x50 && h[i + 2] === 0x44 && h[i + 3] === 0x46 && h[i + 4] === 0x2d) return true
  }
  return false
}

const headerLine = /^[A-Za-z][A-Za-z0-9-]{0,60}:[ \t]?\S?/
const mailHeader = /^(from|to|subject|received|return-path|message-id|mime-version|content-type|date|delivered-to|reply-to|x-[a-z0-9-]+):/im

const htmlTag = /<(html|head|body|script|iframe|a|img|meta|!doctype\s+html|div|form|object|embed|title|style|p|table|span|font)[\s>]/i

/// Text classes, in ClamAV's order: mbox before mail, mail before HTML (a mail may carry HTML).
function detectText (text: string): FileType {
  if (text.startsWith('From ') && /\n[A-Za-z-]+: /.test(text)) return 'mbox'
  if (headerLine.test(text) && mailHeader.test(text) && /\r?\n[A-Za-z-]+:/.test(text)) return 'mail'
  if (text.includes('(This file must be converted with BinHex')) return 'binhex'
  // Each pattern is tried only where its literal start is in the text: a plain search is several
  // times cheaper than the multi-line or case-insensitive pattern, and plain text holds none of them.
  if (text.includes('begin ') && /^begin [0-7]{3,4} \S/m.test(text)) return 'uuencode'
  if (text.includes('=ybegin ') && /^=ybegin .*name=/m.test(text)) return 'yenc'
  if (text.includes('<') && htmlTag.test(text)) return 'html'
  return 'text'
}

/// The type of a layer from its first bytes (4 KiB is enough for every rule here).
export function detect (head: Uint8Array): FileType {
  for (const magic of magicsByFirstByte[head[0] ?? 0] ?? magics) if (matches(head, magic)) return magic.type
  if (isLzh(head)) return 'lzh'
  if (isZstdSkippable(head)) return 'zstd'
  if (isV7Tar(head)) return 'tar'
  if (isLzmaAlone(head)) return 'lzma'
  if (hasPdfMagic(head)) return 'pdf'
  if (isZlib(head)) return 'zlib'
  // Encoded 8-bit payloads are not text, but their first line says what they are.
  if (head[0] === 0x3d && textSample(head.subarray(0, 8)) === '=ybegin ') return 'yenc'
  // Binary data shows a control byte within its first bytes: then the count alone decides, and
  // the head is made a string only for text (a 4 KiB string per binary body cost more than the count).
  if (head.length > 0 && controlByteIn(head, 256) && !fewControlBytes(head)) return 'unknown'
  const sample = textSample(head)
  if (isText(head, sample)) return detectText(sample)
  return 'unknown'
}

/// ISO 9660 puts its signature at 0x8001, past any head worth reading for every layer.
const isoMagicAt = 0x8001

/// An object held whole in memory whose bytes at 0x8001 are ISO 9660's signature (what detectType
/// probes beyond the head): Engine.scanLeaf hands those to the walk.
export function hasIsoMagic (bytes: Uint8Array): boolean {
  return bytes.length > isoMagicAt + 5 && Buffer.from(bytes.buffer, bytes.byteOffset + isoMagicAt, 5).toString('latin1') === 'CD001'
}

/// detect() plus the probes that need more than the head: the walk calls this once per layer.
export async function detectType (source: ByteSource): Promise<FileType> {
  const type = detect(await source.head(4096))
  if ((type === 'unknown' || type === 'text') && source.size > isoMagicAt + 5) {
    const probe = await source.read(isoMagicAt, 5)
    if (Buffer.from(probe).toString('latin1') === 'CD001') return 'iso9660'
  }
  return type
}
