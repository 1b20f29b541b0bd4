/// The engine seeds: for every type with a format handler, well-formed containers whose first member
/// is EICAR (built at run time by the real tools, never stored). Each seed says from where it may be
/// damaged (`protect`: the end of EICAR's bytes, or the header for compressed streams) and whether
/// EICAR must still be found when only bytes after that are damaged.
import type { FileType } from '../../src/engine/filetype.js'
import { builders } from '../helpers/containers.js'
import { eicar } from '../helpers/eicar.js'
import { upxElf, upxPe } from '../helpers/upx-writer.js'
import type { LayoutName } from './layout.js'
import { lzop } from '../helpers/format-writers.js'
import { binhex, chmUncompressed, filler, rarStored, sis, twoMember, twoMessageMbox, twoPartMail, uuencoded } from './seed-tools.js'
import { encodedPages, handWritten } from '../helpers/js-pages.js'

/// The JavaScript normaliser's test pages (scripts of every kind it decodes) as one HTML seed head.
const scriptsPage = (): Buffer => Buffer.from([...handWritten.slice(0, 10), ...encodedPages().slice(0, 2)].map(([, page]) => page).join(''), 'latin1')

export interface EngineSeed {
  readonly format: FileType
  readonly variant: string
  readonly bytes: Buffer
  readonly layout: LayoutName
  readonly protect: number
  /// true: EICAR is found whenever the damage lies after `protect`; otherwise why that cannot hold.
  readonly keeps: true | string
}

const compressed = 'the EICAR member is compressed: damage inside its stream can lose it'

/// After the raw EICAR bytes (stored members, text that carries them as they are).
function afterRaw (bytes: Buffer): number {
  const at = bytes.indexOf(eicar)
  if (at < 0) throw new Error('seed does not hold EICAR verbatim')
  return at + eicar.length
}

/// After the last occurrence of an encoded tail of EICAR (base64 in mail and HTML, hex in RTF).
const after = (tail: string) => (bytes: Buffer): number => {
  const at = bytes.indexOf(Buffer.from(tail, 'latin1'))
  if (at < 0) throw new Error(`seed lacks ${tail}`)
  return at + tail.length
}
const fixedAt = (n: number) => (): number => n

interface Spec {
  readonly format: FileType
  readonly variant: string
  readonly build: () => Buffer
  readonly layout: LayoutName
  readonly protect: (bytes: Buffer) => number
  readonly keeps: true | string
}

function fromBuilder (label: string): () => Buffer {
  const builder = builders.find(b => b.format === label)
  if (builder === undefined) throw new Error(`no container builder ${label}`)
  return () => builder.build({ name: 'eicar.com', bytes: eicar })
}

const b64Tail = eicar.toString('base64').slice(-16)

const specs: readonly Spec[] = [
  { format: 'zip', variant: 'zip stored, 2 members', build: twoMember.zipStored, layout: 'zip', protect: afterRaw, keeps: true },
  { format: 'zip', variant: 'zip stored', build: fromBuilder('zip (stored)'), layout: 'zip', protect: afterRaw, keeps: true },
  { format: 'zip', variant: 'zip deflate, 2 members', build: twoMember.zipDeflate, layout: 'zip', protect: fixedAt(30), keeps: compressed },
  { format: 'zip', variant: 'zip bzip2', build: fromBuilder('zip (bzip2)'), layout: 'zip', protect: fixedAt(30), keeps: compressed },
  { format: 'zip', variant: 'zip deflate64', build: fromBuilder('zip (deflate64)'), layout: 'zip', protect: fixedAt(30), keeps: compressed },
  { format: 'zip', variant: 'zip lzma', build: fromBuilder('zip (lzma)'), layout: 'zip', protect: fixedAt(30), keeps: compressed },
  { format: 'tar', variant: 'ustar, 2 members', build: twoMember.tar, layout: 'tar', protect: afterRaw, keeps: true },
  { format: 'tar', variant: 'pax', build: fromBuilder('tar (pax)'), layout: 'tar', protect: afterRaw, keeps: true },
  { format: 'tar', variant: 'gnu', build: fromBuilder('tar (gnu)'), layout: 'tar', protect: afterRaw, keeps: true },
  { format: 'cpio', variant: 'newc, 2 members', build: () => twoMember.cpio('newc'), layout: 'cpio', protect: afterRaw, keeps: true },
  { format: 'cpio', variant: 'odc, 2 members', build: () => twoMember.cpio('odc'), layout: 'cpio', protect: afterRaw, keeps: true },
  { format: 'cpio', variant: 'bin, 2 members', build: () => twoMember.cpio('bin'), layout: 'cpio', protect: afterRaw, keeps: true },
  { format: 'ar', variant: 'ar, 2 members', build: twoMember.ar, layout: 'ar', protect: afterRaw, keeps: true },
  { format: '7z', variant: '7z stored, 2 members', build: twoMember.sevenzStored, layout: '7z', protect: fixedAt(32), keeps: '7z keeps its index after the data: damage there loses every member' },
  { format: '7z', variant: '7z lzma2', build: fromBuilder('7z'), layout: '7z', protect: fixedAt(32), keeps: compressed },
  { format: 'arj', variant: 'arj stored, 2 members', build: twoMember.arjStored, layout: 'none', protect: afterRaw, keeps: true },
  { format: 'arj', variant: 'arj', build: fromBuilder('arj'), layout: 'none', protect: fixedAt(8), keeps: compressed },
  { format: 'cab', variant: 'cab stored, 2 members', build: twoMember.cabStored, layout: 'cab', protect: afterRaw, keeps: 'members share CFDATA blocks under one checksum: damage to the filler in EICAR\'s block fails the block' },
  { format: 'cab', variant: 'cab mszip', build: fromBuilder('cab'), layout: 'cab', protect: fixedAt(36), keeps: compressed },
  { format: 'lzh', variant: 'lzh, 2 members', build: twoMember.lzh, layout: 'none', protect: fixedAt(22), keeps: compressed },
  { format: 'rar', variant: 'rar 4 stored, 2 members', build: () => rarStored([['eicar.com', eicar], ['filler.bin', filler]]), layout: 'rar', protect: afterRaw, keeps: true },
  { format: 'chm', variant: 'chm uncompressed section, 2 files', build: () => chmUncompressed([['eicar.com', eicar], ['filler.bin', filler]]), layout: 'none', protect: afterRaw, keeps: true },
  { format: 'iso9660', variant: 'iso, 2 files', build: twoMember.iso, layout: 'none', protect: afterRaw, keeps: true },
  { format: 'gzip', variant: 'gzip', build: fromBuilder('gzip'), layout: 'gzip', protect: fixedAt(10), keeps: compressed },
  { format: 'zlib', variant: 'zlib', build: fromBuilder('zlib'), layout: 'none', protect: fixedAt(2), keeps: compressed },
  { format: 'bzip2', variant: 'bzip2', build: fromBuilder('bzip2'), layout: 'none', protect: fixedAt(4), keeps: compressed },
  { format: 'xz', variant: 'xz', build: fromBuilder('xz'), layout: 'xz', protect: fixedAt(12), keeps: compressed },
  { format: 'lzma', variant: 'lzma-alone', build: fromBuilder('lzma'), layout: 'lzma', protect: fixedAt(0), keeps: compressed },
  { format: 'zstd', variant: 'zstd', build: fromBuilder('zstd'), layout: 'none', protect: fixedAt(4), keeps: compressed },
  { format: 'lzip', variant: 'lzip', build: fromBuilder('lzip'), layout: 'lzip', protect: fixedAt(6), keeps: compressed },
  { format: 'szdd', variant: 'szdd', build: fromBuilder('szdd'), layout: 'szdd', protect: fixedAt(8), keeps: compressed },
  // Text formats end a member with a delimiter, not a length: the delimiter after EICAR belongs to
  // its member (damage there runs garbage into it), so damage starts after it.
  { format: 'mail', variant: 'mail base64, 2 parts', build: () => twoPartMail('base64'), layout: 'mime', protect: after(`${b64Tail}\r\n--XYZ\r\n`), keeps: true },
  { format: 'mail', variant: 'mail quoted-printable, 2 parts', build: () => twoPartMail('quoted-printable'), layout: 'mime', protect: after('$H+H*\r\n--XYZ\r\n'), keeps: true },
  { format: 'mbox', variant: 'mbox uuencode, 2 messages', build: twoMessageMbox, layout: 'none', protect: after('\n`\nend\n'), keeps: true },
  { format: 'uuencode', variant: 'uuencode, 2 files', build: uuencoded, layout: 'none', protect: after('\n`\nend\n'), keeps: true },
  { format: 'yenc', variant: 'yEnc', build: fromBuilder('yEnc'), layout: 'none', protect: after('\n=yend size=68\n'), keeps: true },
  { format: 'binhex', variant: 'BinHex 4.0', build: () => binhex('eicar.com', eicar), layout: 'none', protect: fixedAt(48), keeps: 'BinHex carries no length a damaged tail leaves intact: damage past the data changes nothing, but the 6-bit stream shifts' },
  { format: 'ole2', variant: 'OLE2 Ole10Native', build: fromBuilder('OLE2 (Ole10Native)'), layout: 'ole2', protect: afterRaw, keeps: true },
  { format: 'pdf', variant: 'PDF ASCIIHex+Flate', build: fromBuilder('PDF (ASCIIHex+Flate)'), layout: 'pdf', protect: fixedAt(9), keeps: compressed },
  { format: 'rtf', variant: 'RTF objdata Package', build: fromBuilder('RTF (objdata Package)'), layout: 'none', protect: after('482b482a'), keeps: true },
  { format: 'html', variant: 'HTML data: URI', build: fromBuilder('HTML (data: URI)'), layout: 'none', protect: after(`${b64Tail}"`), keeps: true },
  // Scripts for the JavaScript normaliser (plain, packed, unescape/eval, JScript.Encode) before the data: URI.
  { format: 'html', variant: 'HTML scripts + data: URI', build: () => Buffer.concat([scriptsPage(), fromBuilder('HTML (data: URI)')()]), layout: 'none', protect: after(`${b64Tail}"`), keeps: true },
  { format: 'tnef', variant: 'TNEF', build: fromBuilder('TNEF'), layout: 'tnef', protect: afterRaw, keeps: true },
  { format: 'sis', variant: 'SIS stored', build: () => sis(eicar), layout: 'sis', protect: afterRaw, keeps: true },
  { format: 'lzh', variant: 'lzh -lh1- (jLHA)', build: fromBuilder('lzh (-lh1-, jLHA)'), layout: 'none', protect: fixedAt(22), keeps: compressed },
  { format: 'iso9660', variant: 'iso, Joliet hides the file', build: fromBuilder('iso9660 (Joliet hides the file)'), layout: 'none', protect: afterRaw, keeps: true },
  { format: 'lzop', variant: 'lzop LZO1X-1', build: fromBuilder('lzop'), layout: 'none', protect: fixedAt(50), keeps: 'a block too short to compress is stored, else LZO1X: damage inside it can lose EICAR' },
  { format: 'lzop', variant: 'lzop LZO1X-999, 3 KiB filler', build: () => lzop({ name: 'filler.bin', bytes: Buffer.concat([eicar, filler]) }, 9), layout: 'none', protect: fixedAt(50), keeps: compressed },
  { format: 'alz', variant: 'ALZ stored', build: fromBuilder('ALZ (stored)'), layout: 'none', protect: afterRaw, keeps: true },
  { format: 'alz', variant: 'ALZ deflate', build: fromBuilder('ALZ (deflate)'), layout: 'none', protect: fixedAt(8), keeps: compressed },
  { format: 'alz', variant: 'ALZ bzip2', build: fromBuilder('ALZ (bzip2)'), layout: 'none', protect: fixedAt(8), keeps: compressed },
  { format: 'onenote', variant: 'OneNote revision store', build: fromBuilder('OneNote (revision store)'), layout: 'none', protect: afterRaw, keeps: true },
  { format: 'onenote', variant: 'OneNote web export', build: fromBuilder('OneNote (web export)'), layout: 'none', protect: afterRaw, keeps: true },
  { format: 'binhex', variant: 'BinHex 4.0 (Convert::BinHex)', build: fromBuilder('BinHex 4.0 (Convert::BinHex)'), layout: 'none', protect: fixedAt(48), keeps: 'BinHex carries no length a damaged tail leaves intact: damage past the data changes nothing, but the 6-bit stream shifts' },
  { format: 'pe', variant: 'UPX NRV2B PE32', build: () => upxPe(Buffer.concat([eicar, filler]), 'nrv2b'), layout: 'none', protect: fixedAt(0x400), keeps: compressed },
  { format: 'elf', variant: 'UPX NRV2E ELF64', build: () => upxElf(Buffer.concat([eicar, filler]), 'nrv2e', { wide: true }), layout: 'none', protect: fixedAt(156), keeps: compressed },
  { format: 'pe', variant: '7-Zip SFX (stored)', build: twoMember.sfx, layout: 'none', protect: fixedAt(0x200), keeps: '7z keeps its index after the data: damage there loses every member' },
]

/// Types with a handler that no seed covers yet (no tool here writes them), named in the report.
export const unseeded: readonly FileType[] = []

/// Builds the seeds of the given formats (all when empty).
export function buildSeeds (formats: ReadonlySet<string>): EngineSeed[] {
  return specs.filter(s => formats.size === 0 || formats.has(s.format)).map(s => {
    const bytes = s.build()
    return { format: s.format, variant: s.variant, bytes, layout: s.layout, protect: s.protect(bytes), keeps: s.keeps }
  })
}
