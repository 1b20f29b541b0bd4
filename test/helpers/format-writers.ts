/// Writers for the formats of issue #11 item 3, each wrapping one named file: by the real Debian
/// tools where one writes the format (lzop, jLHA for -lh1-, genisoimage, Convert::BinHex, zip -s),
/// by hand from the public format descriptions where none does (ALZip, OneNote). Used by the
/// container builders (round trip, detection), the fuzz seeds and the clamscan agreement test.
import { execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { crc32, deflateRawSync } from 'node:zlib'

export interface Named { readonly name: string, readonly bytes: Buffer }

/// Runs `cmd` in a fresh directory holding the files; returns every file it made, by name.
function inDir (files: readonly Named[], cmd: string, args: string[]): Map<string, Buffer> {
  const dir = mkdtempSync(join(tmpdir(), 'scanwall-writer-'))
  try {
    for (const f of files) {
      mkdirSync(dirname(join(dir, f.name)), { recursive: true })
      writeFileSync(join(dir, f.name), f.bytes)
    }
    execFileSync(cmd, args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] })
    const inputs = new Set(files.map(f => f.name.split('/')[0]))
    return new Map(readdirSync(dir).filter(n => !inputs.has(n)).map(n => [n, readFileSync(join(dir, n))]))
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

function one (made: Map<string, Buffer>, name: string): Buffer {
  const bytes = made.get(name)
  if (bytes === undefined) throw new Error(`the tool wrote no ${name} (made: ${[...made.keys()].join(', ')})`)
  return bytes
}

/// lzop, level 1 (LZO1X-1) or 9 (LZO1X-999).
export const lzop = (f: Named, level: 1 | 9 = 1): Buffer => one(inDir([f], 'lzop', [`-${level}`, '-q', '-o', 'o.lzo', f.name]), 'o.lzo')

const javaSource = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'test', 'helpers', 'java', 'MakeLzh.java')

/// An LHA archive of one member in `method` (lh1 …), header level 0-2, by Debian's jLHA library.
export const lzhWithJlha = (f: Named, method: string, level: 0 | 1 | 2): Buffer =>
  one(inDir([f], 'java', ['-cp', '/usr/share/java/jlha.jar', javaSource, 'o.lzh', `-${method}-`, String(level), f.name, f.name]), 'o.lzh')

/// ISO 9660 by genisoimage: without Joliet (plain 8.3 names, no Rock Ridge), or with a Joliet tree
/// that hides the file (ClamAV's iso_no_joliet case: only the primary tree lists it).
export function isoVariant (f: Named, variant: 'no-joliet' | 'joliet-hides'): Buffer {
  const args = variant === 'no-joliet' ? ['-quiet', '-o', 'o.iso', 'root'] : ['-quiet', '-J', '-hide-joliet', f.name, '-o', 'o.iso', 'root']
  return one(inDir([{ name: `root/${f.name}`, bytes: f.bytes }], 'genisoimage', args), 'o.iso')
}

/// BinHex 4.0 by Perl's Convert::BinHex (Debian libconvert-binhex-perl), with real CRCs.
export function binhexPerl (f: Named): Buffer {
  const script = 'use Convert::BinHex; local $/; my $d = <STDIN>; my $h = Convert::BinHex->new; $h->filename($ARGV[0]); ' +
    '$h->type("BINA"); $h->creator("????"); $h->flags(0); $h->data(Data => $d); $h->resource(Data => ""); $h->encode(\\*STDOUT);'
  // stderr ignored: the module warns about the unset resource-fork fields it packs as zero.
  return execFileSync('perl', ['-e', script, f.name], { input: f.bytes, stdio: ['pipe', 'pipe', 'ignore'] })
}

/// A split zip (`zip -s`): the parts in order, .z01 … then .zip (which holds the central directory).
export function splitZip (files: readonly Named[], partBytes: number): Buffer[] {
  const made = inDir(files, 'zip', ['-q', '-0', '-s', `${Math.ceil(partBytes / 1024)}k`, 'o.zip', ...files.map(f => f.name)])
  const parts = [...made.keys()].filter(n => /^o\.z\d\d$/.test(n)).sort().map(n => one(made, n))
  return [...parts, one(made, 'o.zip')]
}

/// ALZip, one member: stored (0), bzip2 (1, by Debian's bzip2) or deflate (2), 2-byte size fields.
export function alz (f: Named, method: 0 | 1 | 2): Buffer {
  const packed = method === 0 ? f.bytes : method === 2 ? deflateRawSync(f.bytes) : execFileSync('bzip2', ['-c'], { input: f.bytes })
  const width = f.bytes.length < 0x10000 && packed.length < 0x10000 ? 2 : 4
  const name = Buffer.from(f.name, 'latin1')
  const h = Buffer.alloc(13 + 6 + 2 * width)
  h.write('BLZ\x01', 0, 'latin1')
  h.writeUInt16LE(name.length, 4)
  h[6] = 0x20 // archive attribute
  h.writeUInt32LE(0x5a21_0000, 7) // a DOS date in 2025
  h[11] = width << 4
  h[13] = method
  h.writeUInt32LE(crc32(f.bytes), 15)
  h.writeUIntLE(packed.length, 19, width)
  h.writeUIntLE(f.bytes.length, 19 + width, width)
  const head = Buffer.from('ALZ\x01\x0a\x00\x00\x00', 'latin1')
  const end = Buffer.from('CLZ\x01\x00\x00\x00\x00\x00\x00\x00\x00CLZ\x02', 'latin1')
  return Buffer.concat([head, h, name, packed, end])
}

const guid = (hex: string): Buffer => Buffer.from(hex, 'hex')
/// [MS-ONESTORE] GUIDs as stored (little-endian fields): the .one file type, the two file formats,
/// and the FileDataStoreObject header and footer.
const oneSection = guid('e4525c7b8cd8a74daeb15378d02996d3')
const revisionStore = guid('3fdd9a101b91f549a5d01791edc8aed8')
const alternativePackaging = guid('2fe98d63d4a6c14b9a36b3fc2511a5b7')
const fileDataHeader = guid('e716e3bd65261145a4c48d4d0b7a9eac')
const fileDataFooter = guid('22a7fb71790f0b4abb13899256426b24')

/// A revision-store OneNote section ([MS-ONESTORE] 2.3.1 header, 1024 bytes) whose file data store
/// holds the file as a FileDataStoreObject (2.6.13), as OneNote 2010+ keeps an attachment. The file
/// node lists that would reference it are left empty: what is tested is finding the object.
export function oneNote (f: Named): Buffer {
  const header = Buffer.alloc(1024)
  oneSection.copy(header, 0)
  guid('00112233445566778899aabbccddeeff').copy(header, 0x10) // guidFile
  revisionStore.copy(header, 0x30)
  header.writeUInt32LE(0x2a, 0x40) // ffvLastCodeThatWroteToThisFile … (OneNote 2010)
  header.writeUInt32LE(0x2a, 0x44)
  header.writeUInt32LE(0x2a, 0x48)
  header.writeUInt32LE(0x2a, 0x4c)
  const lengths = Buffer.alloc(20)
  lengths.writeBigUInt64LE(BigInt(f.bytes.length), 0) // cbLength; unused (4) and reserved (8) stay 0
  // The object is padded to a multiple of 8 bytes from its header GUID (36 bytes with the lengths).
  const padding = Buffer.alloc((8 - ((36 + f.bytes.length) % 8)) % 8)
  return Buffer.concat([header, fileDataHeader, lengths, f.bytes, padding, fileDataFooter])
}

/// [MS-FSSHTTPB] compact unsigned 64-bit integer (2.2.1.1), the widths a writer picks by value.
function compactUint64 (n: number): Buffer {
  if (n === 0) return Buffer.from([0])
  if (n < 0x80) return Buffer.from([(n << 1) | 1])
  if (n < 0x4000) { const b = Buffer.alloc(2); b.writeUInt16LE((n << 2) | 2); return b }
  if (n < 0x200000) { const b = Buffer.alloc(3); b.writeUIntLE(n * 8 + 4, 0, 3); return b }
  if (n < 0x10000000) { const b = Buffer.alloc(4); b.writeUInt32LE((n * 16 + 8) >>> 0); return b }
  const b = Buffer.alloc(9)
  b[0] = 0x80
  b.writeBigUInt64LE(BigInt(n), 1)
  return b
}

/// A stream object header start for a non-compound object (2.2.1.5.1-2): 16-bit when the type and
/// length fit, else 32-bit with the length past 32766 carried in a compact uint64.
function streamObject (type: number, content: Buffer): Buffer {
  if (type < 64 && content.length < 128) {
    const h = Buffer.alloc(2)
    h.writeUInt16LE((type << 3) | (content.length << 9))
    return Buffer.concat([h, content])
  }
  const large = content.length >= 32767
  const h = Buffer.alloc(4)
  h.writeUInt32LE((2 | (type << 3) | ((large ? 32767 : content.length) << 17)) >>> 0)
  return Buffer.concat([h, large ? compactUint64(content.length) : Buffer.alloc(0), content])
}

/// A OneNote web export ([MS-ONESTORE] 2.8 alternative packaging): the header, the packaging start
/// (type 0x7A) and a data element holding the file as an Object Data BLOB (type 0x02, a binary item:
/// compact length then bytes), among property-set bytes of other objects.
export function oneNoteWebExport (f: Named): Buffer {
  const header = Buffer.alloc(0x44)
  oneSection.copy(header, 0)
  guid('00112233445566778899aabbccddeeff').copy(header, 0x10)
  guid('00112233445566778899aabbccddeeff').copy(header, 0x20)
  alternativePackaging.copy(header, 0x30)
  const start = Buffer.alloc(4)
  start.writeUInt32LE((2 | (0x7a << 3) | (0 << 17)) >>> 0)
  const other = streamObject(0x1f, Buffer.from('property set bytes of a page outline', 'latin1'))
  const blob = streamObject(0x02, Buffer.concat([compactUint64(f.bytes.length), f.bytes]))
  return Buffer.concat([header, start, other, blob, Buffer.from([0x01, 0x00])])
}

/// The header tricks of ClamAV's mail scan tests, around a base64 attachment: a comment in the
/// Content-Type header name (top level or in a nested part), two boundaries in one Content-Type, two
/// Content-Type headers. The first boundary a reader picks shows only a harmless text part.
export type MailTrick = 'comment-header-name' | 'nested-comment-header-name' | 'multiple-boundaries' | 'multiple-content-type'

export function trickMail (f: Named, trick: MailTrick): Buffer {
  const text = ['--X', 'Content-Type: text/plain; charset="us-ascii"', '', 'Nothing to see here.', '--X--']
  const attachment = ['--Y', 'Content-Type: application/octet-stream', 'Content-Transfer-Encoding: base64',
    `Content-Disposition: attachment; filename="${f.name}"`, '', f.bytes.toString('base64').replace(/.{76}/g, '$&\r\n'), '--Y--']
  const head = ['From: a@example.test', 'To: b@example.test', `Subject: ${trick}`, 'MIME-Version: 1.0']
  const types: Record<MailTrick, string[]> = {
    'comment-header-name': ['Content-Type(meow): multipart/mixed; boundary="Y"'],
    'nested-comment-header-name': ['Content-Type: multipart/mixed; boundary="OUT"'],
    'multiple-boundaries': ['Content-Type: multipart/mixed; boundary=X; boundary=Y'],
    'multiple-content-type': ['Content-Type: multipart/mixed; boundary=X', 'Content-Type: multipart/mixed; boundary=Y'],
  }
  const body = trick === 'nested-comment-header-name'
    ? ['--OUT', 'Content-Type(meow): multipart/mixed; boundary="Y"', '', ...text, ...attachment, '--OUT--']
    : [...text, ...attachment]
  return Buffer.from([...head, ...types[trick], '', ...body, ''].join('\r\n'), 'latin1')
}
