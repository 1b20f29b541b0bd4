/// Builds containers at test time with the real Debian tools (zip, 7z, tar, cpio, arj, gcab, lha,
/// genisoimage, gzip, bzip2, xz, zstd, lzip, mscompress, uuencode, lzop, jLHA, Convert::BinHex), or by
/// hand where no tool writes the format (mail, mbox, yEnc, OLE2 via cfb, PDF, RTF, HTML, TNEF, ALZ,
/// OneNote). Each builder wraps one named
/// file; nesting builders gives depth.
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { deflateSync } from 'node:zlib'
import * as CFB from 'cfb'
import { alz, binhexPerl, isoVariant, lzhWithJlha, lzop, oneNote, oneNoteWebExport } from './format-writers.js'

export interface Inner { readonly name: string, readonly bytes: Buffer }

export interface Builder {
  /// Format label (README table, test names).
  readonly format: string
  /// File extension of what it builds (the name the next level stores it under).
  readonly ext: string
  /// Whether the child keeps the inner file's name (archives) or gets a generated one (compressors).
  readonly named: boolean
  /// Layers one level adds to the path (mbox: the message, then its attachment).
  readonly layers?: number
  build (inner: Inner): Buffer
}

/// Runs `cmd` in a fresh directory holding the inner file; returns the bytes of `out` there.
function tool (inner: Inner, out: string, cmd: string, args: (file: string, out: string) => string[]): Buffer {
  const dir = mkdtempSync(join(tmpdir(), 'scanwall-build-'))
  try {
    writeFileSync(join(dir, inner.name), inner.bytes)
    execFileSync(cmd, args(inner.name, out), { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] })
    // '*': the tool names its output itself (mscompress): the one new file.
    const made = out === '*' ? readdirSync(dir).find(n => n !== inner.name) ?? out : out
    return readFileSync(join(dir, made))
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

function pipe (inner: Inner, cmd: string, args: string[]): Buffer {
  return execFileSync(cmd, args, { input: inner.bytes, maxBuffer: 1 << 30 })
}

const b64 = (b: Buffer): string => b.toString('base64').replace(/.{76}/g, '$&\n')

function qp (b: Buffer): string {
  let line = ''
  let out = ''
  for (const byte of b) {
    const enc = (byte >= 33 && byte <= 126 && byte !== 61) ? String.fromCharCode(byte) : `=${byte.toString(16).toUpperCase().padStart(2, '0')}`
    if (line.length + enc.length > 75) { out += `${line}=\n`; line = '' }
    line += enc
  }
  return out + line
}

function yenc (inner: Inner): string {
  let body = ''
  for (const byte of inner.bytes) {
    const c = (byte + 42) & 255
    body += (c === 0 || c === 10 || c === 13 || c === 61) ? `=${String.fromCharCode((c + 64) & 255)}` : String.fromCharCode(c)
  }
  return `=ybegin line=128 size=${inner.bytes.length} name=${inner.name}\n${body.replace(/.{128}/gs, '$&\n')}\n=yend size=${inner.bytes.length}\n`
}

function mail (inner: Inner, encoding: 'base64' | 'quoted-printable'): Buffer {
  const body = encoding === 'base64' ? b64(inner.bytes) : qp(inner.bytes)
  return Buffer.from([
    'From: a@example.test', 'To: b@example.test', 'Subject: test', 'MIME-Version: 1.0',
    'Content-Type: multipart/mixed; boundary="XYZ"', '', 'preamble', '--XYZ', 'Content-Type: text/plain', '', 'hello',
    '--XYZ', `Content-Type: application/octet-stream; name="${inner.name}"`, `Content-Transfer-Encoding: ${encoding}`,
    `Content-Disposition: attachment; filename="${inner.name}"`, '', body, '--XYZ--', '',
  ].join('\r\n'), 'latin1')
}

/// OLE1 Package native data around a file (what Word stores for a dropped file).
function ole1Package (inner: Inner): Buffer {
  const z = (s: string): Buffer => Buffer.from(`${s}\0`, 'latin1')
  const u32 = (n: number): Buffer => { const b = Buffer.alloc(4); b.writeUInt32LE(n); return b }
  const tmp = z(`C:\\tmp\\${inner.name}`)
  return Buffer.concat([Buffer.from([2, 0]), z(inner.name), z(`C:\\${inner.name}`), u32(0x00030000), u32(tmp.length), tmp, u32(inner.bytes.length), inner.bytes])
}

function ole2 (inner: Inner): Buffer {
  const doc = CFB.utils.cfb_new()
  CFB.utils.cfb_add(doc, 'WordDocument', Buffer.alloc(600, 1))
  const native = ole1Package(inner)
  const size = Buffer.alloc(4)
  size.writeUInt32LE(native.length)
  CFB.utils.cfb_add(doc, 'ObjectPool/_1/\x01Ole10Native', Buffer.concat([size, native]))
  return Buffer.from(CFB.write(doc, { type: 'buffer' }) as Uint8Array)
}

function rtf (inner: Inner): Buffer {
  const native = ole1Package(inner)
  const lenString = (s: string): Buffer => { const v = Buffer.from(`${s}\0`, 'latin1'); const l = Buffer.alloc(4); l.writeUInt32LE(v.length); return Buffer.concat([l, v]) }
  const head = Buffer.alloc(8)
  head.writeUInt32LE(0x0501, 0)
  head.writeUInt32LE(2, 4)
  const size = Buffer.alloc(4)
  size.writeUInt32LE(native.length)
  const ole1 = Buffer.concat([head, lenString('Package'), lenString(''), lenString(''), size, native])
  return Buffer.from(`{\\rtf1\\ansi{\\object\\objemb{\\*\\objclass Package}{\\*\\objdata ${ole1.toString('hex').replace(/.{128}/g, '$&\n')}}}}`, 'latin1')
}

function pdf (inner: Inner): Buffer {
  const flate = deflateSync(inner.bytes)
  const hex = Buffer.from(`${flate.toString('hex')}>`, 'latin1')
  const parts = [
    '%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\n',
    `2 0 obj\n<< /Type /EmbeddedFile /Filter [/ASCIIHexDecode /FlateDecode] /Length ${hex.length} >>\nstream\n`,
  ]
  return Buffer.concat([Buffer.from(parts.join(''), 'latin1'), hex, Buffer.from('\nendstream\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n', 'latin1')])
}

function tnef (inner: Inner): Buffer {
  const attr = (level: number, id: number, data: Buffer): Buffer => {
    const h = Buffer.alloc(9)
    h[0] = level
    h.writeUInt32LE(id, 1)
    h.writeUInt32LE(data.length, 5)
    let sum = 0
    for (const b of data) sum = (sum + b) & 0xffff
    const c = Buffer.alloc(2)
    c.writeUInt16LE(sum)
    return Buffer.concat([h, data, c])
  }
  return Buffer.concat([
    Buffer.from([0x78, 0x9f, 0x3e, 0x22, 0x01, 0x00]),
    attr(1, 0x00089006, Buffer.from([0, 0, 1, 0])),
    attr(2, 0x00069002, Buffer.alloc(14)),
    attr(2, 0x0006800f, inner.bytes),
    attr(2, 0x00018010, Buffer.from(`${inner.name}\0`, 'latin1')),
  ])
}

function iso (inner: Inner): Buffer {
  const dir = mkdtempSync(join(tmpdir(), 'scanwall-iso-'))
  try {
    mkdirSync(join(dir, 'root'))
    writeFileSync(join(dir, 'root', inner.name), inner.bytes)
    execFileSync('genisoimage', ['-quiet', '-J', '-R', '-o', join(dir, 'out.iso'), join(dir, 'root')], { stdio: ['ignore', 'ignore', 'pipe'] })
    return readFileSync(join(dir, 'out.iso'))
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

export const builders: readonly Builder[] = [
  { format: 'zip (deflate)', ext: 'zip', named: true, build: i => tool(i, 'o.zip', 'zip', (f, o) => ['-q', o, f]) },
  { format: 'zip (stored)', ext: 'zip', named: true, build: i => tool(i, 'o.zip', 'zip', (f, o) => ['-q', '-0', o, f]) },
  { format: 'zip (bzip2)', ext: 'zip', named: true, build: i => tool(i, 'o.zip', 'zip', (f, o) => ['-q', '-Z', 'bzip2', o, f]) },
  { format: 'zip (deflate64)', ext: 'zip', named: true, build: i => tool(i, 'o.zip', '7z', (f, o) => ['a', '-bd', '-tzip', '-mm=Deflate64', o, f]) },
  { format: 'zip (lzma)', ext: 'zip', named: true, build: i => tool(i, 'o.zip', '7z', (f, o) => ['a', '-bd', '-tzip', '-mm=LZMA', o, f]) },
  { format: 'tar (ustar)', ext: 'tar', named: true, build: i => tool(i, 'o.tar', 'tar', (f, o) => ['--format=ustar', '-cf', o, f]) },
  { format: 'tar (pax)', ext: 'tar', named: true, build: i => tool(i, 'o.tar', 'tar', (f, o) => ['--format=pax', '-cf', o, f]) },
  { format: 'tar (gnu)', ext: 'tar', named: true, build: i => tool(i, 'o.tar', 'tar', (f, o) => ['--format=gnu', '-cf', o, f]) },
  { format: 'cpio (newc)', ext: 'cpio', named: true, build: i => tool(i, 'o.cpio', 'sh', (f, o) => ['-c', `printf '%s\\n' '${f}' | cpio -o --quiet -H newc > ${o}`]) },
  { format: 'cpio (odc)', ext: 'cpio', named: true, build: i => tool(i, 'o.cpio', 'sh', (f, o) => ['-c', `printf '%s\\n' '${f}' | cpio -o --quiet -H odc > ${o}`]) },
  { format: 'cpio (bin)', ext: 'cpio', named: true, build: i => tool(i, 'o.cpio', 'sh', (f, o) => ['-c', `printf '%s\\n' '${f}' | cpio -o --quiet -H bin > ${o}`]) },
  { format: 'ar', ext: 'a', named: true, build: i => tool(i, 'o.a', 'ar', (f, o) => ['rc', o, f]) },
  { format: '7z', ext: '7z', named: true, build: i => tool(i, 'o.7z', '7z', (f, o) => ['a', '-bd', o, f]) },
  { format: 'arj', ext: 'arj', named: true, build: i => tool(i, 'o.arj', 'arj', (f, o) => ['a', '-y', '-i', o, f]) },
  { format: 'cab', ext: 'cab', named: true, build: i => tool(i, 'o.cab', 'gcab', (f, o) => ['-c', '-z', o, f]) },
  { format: 'lzh', ext: 'lzh', named: true, build: i => tool(i, 'o.lzh', 'lha', (f, o) => ['a', o, f]) },
  { format: 'iso9660', ext: 'iso', named: true, build: iso },
  { format: 'gzip', ext: 'gz', named: false, build: i => pipe(i, 'gzip', ['-c']) },
  { format: 'zlib', ext: 'zz', named: false, build: i => deflateSync(i.bytes) },
  { format: 'bzip2', ext: 'bz2', named: false, build: i => pipe(i, 'bzip2', ['-c']) },
  { format: 'xz', ext: 'xz', named: false, build: i => pipe(i, 'xz', ['-c']) },
  { format: 'lzma', ext: 'lzma', named: false, build: i => pipe(i, 'xz', ['--format=lzma', '-c']) },
  { format: 'zstd', ext: 'zst', named: false, build: i => pipe(i, 'zstd', ['-q', '-c']) },
  { format: 'lzip', ext: 'lz', named: false, build: i => pipe(i, 'lzip', ['-c']) },
  { format: 'szdd', ext: 'bin', named: false, build: i => tool(i, '*', 'mscompress', f => [f]) },
  { format: 'mail (base64)', ext: 'eml', named: true, build: i => mail(i, 'base64') },
  { format: 'mail (quoted-printable)', ext: 'eml', named: true, build: i => mail(i, 'quoted-printable') },
  { format: 'mbox (uuencode)', ext: 'mbox', named: true, layers: 2, build: i => Buffer.concat([Buffer.from('From a@example.test Thu Jan  1 00:00:00 2026\nFrom: a@example.test\nSubject: x\n\n'), pipe(i, 'uuencode', [i.name])]) },
  { format: 'yEnc', ext: 'yenc', named: true, build: i => Buffer.from(yenc(i), 'latin1') },
  { format: 'OLE2 (Ole10Native)', ext: 'doc', named: true, build: ole2 },
  { format: 'PDF (ASCIIHex+Flate)', ext: 'pdf', named: false, build: pdf },
  { format: 'RTF (objdata Package)', ext: 'rtf', named: true, build: rtf },
  { format: 'HTML (data: URI)', ext: 'html', named: false, build: i => Buffer.from(`<html><body><a href="data:application/octet-stream;base64,${i.bytes.toString('base64')}">x</a></body></html>`) },
  { format: 'TNEF', ext: 'dat', named: true, build: tnef },
  // Issue #11 item 3 (test/helpers/format-writers.ts).
  { format: 'lzop', ext: 'lzo', named: true, build: i => lzop(i, 1) },
  { format: 'lzop (LZO1X-999)', ext: 'lzo', named: true, build: i => lzop(i, 9) },
  { format: 'lzh (-lh1-, jLHA)', ext: 'lzh', named: true, build: i => lzhWithJlha(i, 'lh1', 1) },
  { format: 'iso9660 (no Joliet)', ext: 'iso', named: false, build: i => isoVariant(i, 'no-joliet') },
  { format: 'iso9660 (Joliet hides the file)', ext: 'iso', named: false, build: i => isoVariant(i, 'joliet-hides') },
  { format: 'ALZ (stored)', ext: 'alz', named: true, build: i => alz(i, 0) },
  { format: 'ALZ (deflate)', ext: 'alz', named: true, build: i => alz(i, 2) },
  { format: 'ALZ (bzip2)', ext: 'alz', named: true, build: i => alz(i, 1) },
  { format: 'BinHex 4.0 (Convert::BinHex)', ext: 'hqx', named: true, build: binhexPerl },
  { format: 'OneNote (revision store)', ext: 'one', named: false, build: oneNote },
  { format: 'OneNote (web export)', ext: 'one', named: false, build: oneNoteWebExport },
]
