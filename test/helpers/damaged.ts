/// A corpus of damaged and unusual containers, built at test time around one payload (EICAR, for
/// the hostile-container test beside clamscan): junk before and after, truncation, lying sizes and
/// offsets, bad checksums, fake encryption flags, garbage in encodings, missing terminators. Each
/// case says whether the payload's bytes survive intact in it (then a scanner that reads containers
/// as far as they go must find it) and is built from a real tool's output where a tool writes the
/// format (test/helpers/containers.ts), damaged here by hand.
import { createHash } from 'node:crypto'
import { crc32, deflateRawSync, gzipSync } from 'node:zlib'
import { builders, type Inner } from './containers.js'
import { zipOf } from './zipwriter.js'

export interface DamagedCase {
  readonly label: string
  /// The payload's bytes are all in the file, in order, and the container still says where.
  readonly intact: boolean
  readonly bytes: Buffer
}

const built = new Map<string, Buffer>()

/// A real tool's container of the payload (cached: several cases damage the same one).
function container (format: string, inner: Inner): Buffer {
  const key = `${format}:${createHash('md5').update(inner.bytes).digest('hex')}`
  const hit = built.get(key)
  if (hit !== undefined) return Buffer.from(hit)
  const builder = builders.find(b => b.format === format)
  if (builder === undefined) throw new Error(`no builder for ${format}`)
  const bytes = builder.build(inner)
  built.set(key, bytes)
  return Buffer.from(bytes)
}

const junk = (n: number, byte?: number): Buffer => {
  if (byte !== undefined) return Buffer.alloc(n, byte)
  const out = Buffer.alloc(n)
  let seed = 0x2545f491
  for (let i = 0; i < n; i++) { seed = (seed * 1103515245 + 12345) >>> 0; out[i] = seed >>> 24 }
  return out
}

const cut = (b: Buffer, n: number): Buffer => b.subarray(0, b.length - n)

/// Offsets of a zip's records, for damaging them.
function zipRecords (zip: Buffer): { locals: number[], centrals: number[], eocd: number } {
  const find = (sig: number): number[] => {
    const out: number[] = []
    const needle = Buffer.alloc(4)
    needle.writeUInt32LE(sig)
    for (let at = zip.indexOf(needle); at !== -1; at = zip.indexOf(needle, at + 1)) out.push(at)
    return out
  }
  return { locals: find(0x04034b50), centrals: find(0x02014b50), eocd: find(0x06054b50).at(-1) ?? -1 }
}

function editZip (zip: Buffer, edit: (b: Buffer, r: ReturnType<typeof zipRecords>) => void): Buffer {
  const b = Buffer.from(zip)
  edit(b, zipRecords(b))
  return b
}

function setFlag (b: Buffer, r: ReturnType<typeof zipRecords>, flag: number): void {
  for (const at of r.locals) b.writeUInt16LE(b.readUInt16LE(at + 6) | flag, at + 6)
  for (const at of r.centrals) b.writeUInt16LE(b.readUInt16LE(at + 8) | flag, at + 8)
}

function mail (body: string, closing: boolean): Buffer {
  return Buffer.from([
    'From: a@example.test', 'To: b@example.test', 'Subject: test', 'MIME-Version: 1.0',
    'Content-Type: multipart/mixed; boundary="XYZ"', '', '--XYZ', 'Content-Type: application/octet-stream; name="p.com"',
    'Content-Transfer-Encoding: base64', 'Content-Disposition: attachment; filename="p.com"', '', body,
    ...(closing ? ['--XYZ--', ''] : []),
  ].join('\r\n'), 'latin1')
}

export function damagedCorpus (payload: Buffer): DamagedCase[] {
  const inner: Inner = { name: 'payload.com', bytes: payload }
  const zip = container('zip (deflate)', inner)
  const stored = container('zip (stored)', inner)
  // zip(1) stores a payload as small as EICAR: the deflate cases are written here.
  const deflated = zipOf([{ name: 'payload.com', method: 8, data: deflateRawSync(payload), size: payload.length, crc: crc32(payload) }])
  const gz = gzipSync(payload)
  const tar = container('tar (ustar)', inner)
  const b64 = payload.toString('base64')
  const cases: DamagedCase[] = [
    // zip
    { label: 'zip + 16 junk bytes after', intact: true, bytes: Buffer.concat([zip, junk(16)]) },
    { label: 'zip + 80 KiB junk after (EOCD out of reach)', intact: true, bytes: Buffer.concat([zip, junk(80 * 1024)]) },
    { label: 'text junk + zip (prepended)', intact: true, bytes: Buffer.concat([junk(100, 0x41), zip]) },
    { label: 'binary junk + zip (prepended)', intact: true, bytes: Buffer.concat([junk(4096), zip]) },
    { label: 'zip without central directory', intact: true, bytes: zip.subarray(0, zipRecords(zip).centrals[0]) },
    { label: 'zip, end record cut', intact: true, bytes: cut(zip, 10) },
    { label: 'zip, member data cut', intact: false, bytes: zip.subarray(0, (zipRecords(zip).locals[0] ?? 0) + 30 + 11 + 20) },
    { label: 'zip, central dir offset lies', intact: true, bytes: editZip(zip, (b, r) => { b.writeUInt32LE(0x7fff0000, r.eocd + 16) }) },
    { label: 'zip, local header offset lies', intact: true, bytes: editZip(zip, (b, r) => { for (const at of r.centrals) b.writeUInt32LE(0x00abcdef, at + 42) }) },
    { label: 'zip, bad CRCs', intact: true, bytes: editZip(zip, (b, r) => { for (const at of [...r.locals.map(l => l + 14), ...r.centrals.map(c => c + 16)]) b.writeUInt32LE(0xdeadbeef, at) }) },
    { label: 'zip, fake encryption flag', intact: true, bytes: editZip(zip, (b, r) => { setFlag(b, r, 1) }) },
    { label: 'zip (stored), fake encryption flag', intact: true, bytes: editZip(stored, (b, r) => { setFlag(b, r, 1) }) },
    { label: 'zip, packed sizes lie (1 byte)', intact: true, bytes: editZip(zip, (b, r) => { for (const at of [...r.locals.map(l => l + 18), ...r.centrals.map(c => c + 20)]) b.writeUInt32LE(1, at) }) },
    { label: 'zip, member count lies (0)', intact: true, bytes: editZip(zip, (b, r) => { b.writeUInt16LE(0, r.eocd + 8); b.writeUInt16LE(0, r.eocd + 10) }) },
    { label: 'zip (deflate), fake encryption flag', intact: true, bytes: editZip(deflated, (b, r) => { setFlag(b, r, 1) }) },
    { label: 'zip (deflate), packed sizes lie (1 byte)', intact: true, bytes: editZip(deflated, (b, r) => { for (const at of [...r.locals.map(l => l + 18), ...r.centrals.map(c => c + 20)]) b.writeUInt32LE(1, at) }) },
    { label: 'zip (deflate), bad CRCs', intact: true, bytes: editZip(deflated, (b, r) => { for (const at of [...r.locals.map(l => l + 14), ...r.centrals.map(c => c + 16)]) b.writeUInt32LE(0xdeadbeef, at) }) },
    { label: 'zip (deflate), deflate data cut', intact: false, bytes: deflated.subarray(0, 30 + 11 + 20) },
    { label: 'zip (deflate), data descriptor flag, no central directory', intact: true, bytes: editZip(deflated, (b, r) => { setFlag(b, r, 8) }).subarray(0, zipRecords(deflated).centrals[0]) },
    // gzip
    { label: 'gzip + junk after', intact: true, bytes: Buffer.concat([gz, Buffer.from('JUNKJUNK')]) },
    { label: 'gzip(zip) + junk after', intact: true, bytes: Buffer.concat([gzipSync(zip), Buffer.from('JUNKJUNK')]) },
    { label: 'gzip, trailer cut', intact: true, bytes: cut(gz, 8) },
    { label: 'gzip, bad CRC', intact: true, bytes: (() => { const b = Buffer.from(gz); b.writeUInt32LE(0xdeadbeef, b.length - 8); return b })() },
    { label: 'gzip, two members + junk', intact: true, bytes: Buffer.concat([gzipSync(payload.subarray(0, 20)), gzipSync(payload.subarray(20)), junk(64)]) },
    { label: 'gzip, deflate data cut', intact: false, bytes: gz.subarray(0, 10 + Math.floor((gz.length - 18) / 2)) },
    // tar
    { label: 'tar + junk after', intact: true, bytes: Buffer.concat([tar, junk(300)]) },
    { label: 'tar, end blocks cut', intact: true, bytes: tar.subarray(0, 1024) },
    { label: 'tar, bad header checksum', intact: true, bytes: (() => { const b = Buffer.from(tar); b.write('0000001\0', 148, 'latin1'); return b })() },
    { label: 'junk + tar (prepended)', intact: true, bytes: Buffer.concat([junk(512, 0x41), tar]) },
    // other archives and compressors, junk after
    ...['cpio (newc)', 'ar', '7z', 'cab', 'arj', 'lzh', 'bzip2', 'xz', 'zstd'].map(format => ({ label: `${format} + junk after`, intact: true, bytes: Buffer.concat([container(format, inner), junk(64)]) })),
    { label: 'junk + 7z (prepended)', intact: true, bytes: Buffer.concat([junk(1000), container('7z', inner)]) },
    { label: 'cpio, trailer cut', intact: true, bytes: (() => { const c = container('cpio (newc)', inner); return c.subarray(0, c.indexOf('TRAILER!!!') - 110) })() },
    // encodings
    { label: 'mail, no closing boundary', intact: true, bytes: mail(b64, false) },
    { label: 'mail, garbage in base64', intact: true, bytes: mail(b64.replace(/(.{7})/g, '$1!*'), true) },
    { label: 'mail, base64 without padding', intact: true, bytes: mail(b64.replace(/=+$/, ''), true) },
    { label: 'uuencode, no end line', intact: true, bytes: Buffer.from(container('mbox (uuencode)', inner).toString('latin1').replace(/`?\nend\n?$/, '\n'), 'latin1') },
    { label: 'PDF, no endstream', intact: true, bytes: Buffer.from(container('PDF (ASCIIHex+Flate)', inner).toString('latin1').replace(/\nendstream[\s\S]*$/, '\n'), 'latin1') },
    { label: 'PDF, /Length lies', intact: true, bytes: Buffer.from(container('PDF (ASCIIHex+Flate)', inner).toString('latin1').replace(/\/Length \d+/, '/Length 7'), 'latin1') },
  ]
  return cases
}
