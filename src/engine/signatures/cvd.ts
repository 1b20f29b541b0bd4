/// .cvd/.cld containers: a 512-byte `ClamAV-VDB:` header (build time, version, signature count,
/// functionality level, MD5 of the payload, digital signature, builder, build time in seconds),
/// then the signature files as tar.gz (.cld as written by freshclam may hold a plain tar).
/// The MD5 is checked; the RSA digital signature needs ClamAV's public key and is not verified here.
import { gunzipSync } from 'node:zlib'
import { createHash } from 'node:crypto'
import { readTar, type TarEntry } from './tar.js'

export interface CvdHeader {
  readonly builtAt: string
  readonly version: number
  readonly signatures: number
  readonly flevel: number
  readonly md5: string
  readonly builder: string
}

/// Parses the header and unpacks the payload; returns the reason when the container is broken.
export function readCvd (file: Uint8Array): { header: CvdHeader, entries: TarEntry[] } | string {
  if (file.length < 512) return 'shorter than the 512-byte header'
  const text = Buffer.from(file.subarray(0, 512)).toString('latin1').replace(/[\s\0]+$/, '')
  const f = text.split(':')
  if (f[0] !== 'ClamAV-VDB' || f.length < 6) return 'no ClamAV-VDB header'
  const header: CvdHeader = { builtAt: f[1] ?? '', version: Number(f[2]), signatures: Number(f[3]), flevel: Number(f[4]), md5: f[5] ?? '', builder: f[7] ?? '' }
  if (!Number.isInteger(header.version)) return `bad version '${f[2] ?? ''}' in header`
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
