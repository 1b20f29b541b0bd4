/// .cvd/.cld containers: a 512-byte `ClamAV-VDB:` header (build time, version, signature count,
/// functionality level, MD5 of the payload, digital signature, builder, build time in seconds),
/// then the signature files as tar.gz (.cld as written by freshclam may hold a plain tar).
/// Loading checks the MD5 only (a freshclam-maintained directory was verified by freshclam);
/// verifyCvd checks the digital signature as libclamav does (dsig.ts), which the updater requires of
/// every CVD it fetches; buildCld writes the unpacked copy a cdiff was applied to back as a .cld.
import { gunzipSync } from 'node:zlib'
import { createHash } from 'node:crypto'
import { readTar, writeTar, type TarEntry } from './tar.js'
import { firstKey, verifyMd5Signature, type RsaPublicKey } from './dsig.js'

export interface CvdHeader {
  readonly builtAt: string
  readonly version: number
  readonly signatures: number
  readonly flevel: number
  readonly md5: string
  readonly builder: string
  /// The digital signature field (ClamAV's base-64 variant); '' in a .cld.
  readonly dsig: string
  /// Build time in seconds since the epoch (the last field).
  readonly time: number
}

/// Parses the 512-byte header alone (what a Range request for bytes 0-511 returns).
export function parseCvdHeader (head: Uint8Array): CvdHeader | string {
  if (head.length < 512) return 'shorter than the 512-byte header'
  const text = Buffer.from(head.subarray(0, 512)).toString('latin1').replace(/[\s\0]+$/, '')
  const f = text.split(':')
  if (f[0] !== 'ClamAV-VDB' || f.length < 6) return 'no ClamAV-VDB header'
  const header: CvdHeader = { builtAt: f[1] ?? '', version: Number(f[2]), signatures: Number(f[3]), flevel: Number(f[4]), md5: f[5] ?? '', dsig: f[6] ?? '', builder: f[7] ?? '', time: Number(f[8] ?? 0) }
  if (!Number.isInteger(header.version)) return `bad version '${f[2] ?? ''}' in header`
  return header
}

/// The CVD's payload MD5 and digital signature under one of the keys; the key that verified it, or
/// the reason it is refused.
/// `vouched`: a detached `.sign` signature over the whole file already verified, so the header's
/// own signature is not required (the MD5 still is: it says the header describes this payload).
export function verifyCvd (file: Uint8Array, keys: readonly RsaPublicKey[], vouched = false): { header: CvdHeader, key?: RsaPublicKey } | string {
  const header = parseCvdHeader(file)
  if (typeof header === 'string') return header
  const actual = createHash('md5').update(file.subarray(512)).digest('hex')
  if (actual !== header.md5.toLowerCase()) return `payload MD5 ${actual} does not match the header's '${header.md5}'`
  if (vouched) return { header }
  if (header.dsig === '') return 'unsigned (no digital signature in the header)'
  const key = firstKey(keys, k => verifyMd5Signature(actual, header.dsig, k))
  return key === undefined ? `digital signature does not verify under any trusted key (${keys.map(k => k.name).join(', ')})` : { header, key }
}

/// A .cld as freshclam writes one: the header with the new version, an MD5 of the plain tar payload
/// and no digital signature (the files' own .info DSIG vouches for them), then the tar.
export function buildCld (header: CvdHeader, entries: readonly TarEntry[]): Uint8Array {
  const tar = writeTar(entries)
  const md5 = createHash('md5').update(tar).digest('hex')
  const fields = ['ClamAV-VDB', header.builtAt, String(header.version), String(header.signatures), String(header.flevel), md5, '', header.builder, String(header.time)]
  const head = Buffer.alloc(512, 0x20)
  head.write(fields.join(':'), 'latin1')
  return Buffer.concat([head, tar])
}

/// Parses the header and unpacks the payload; returns the reason when the container is broken.
export function readCvd (file: Uint8Array): { header: CvdHeader, entries: TarEntry[] } | string {
  const header = parseCvdHeader(file)
  if (typeof header === 'string') return header
  const payload = file.subarray(512)
  if (/^[0-9a-f]{32}$/i.test(header.md5)) {
    const actual = createHash('md5').update(payload).digest('hex')
    if (actual !== header.md5.toLowerCase()) return `payload MD5 ${actual} does not match the header's ${header.md5}`
  }
  let tar: Uint8Array
  try {
    tar = payload[0] === 0x1f && payload[1] === 0x8b ? gunzipSync(payload) : payload
  } catch (err) {
    return `payload does not inflate: ${err instanceof Error ? err.message : String(err)}`
  }
  try {
    return { header, entries: [...readTar(tar)] }
  } catch (err) {
    return err instanceof Error ? err.message : String(err)
  }
}
