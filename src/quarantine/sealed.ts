/// A quarantined object at rest: gzip-compressed, then AES-256-GCM encrypted (node:crypto), in one
/// file: "SWQ1", a 12-byte random IV, the ciphertext, the 16-byte authentication tag. Compression
/// first (ciphertext does not compress) and the tag at the end, so both directions stream and a
/// 100 MiB object never sits in memory. The plaintext's SHA-256, SHA-1 and MD5 (ClamAV's hash
/// signatures use MD5) are taken on the way in. No library does this small framing for us.
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto'
import { createReadStream, createWriteStream } from 'node:fs'
import { stat } from 'node:fs/promises'
import { Transform, type Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { createGunzip, createGzip } from 'node:zlib'

const magic = Buffer.from('SWQ1', 'latin1')
const ivBytes = 12
const tagBytes = 16
const headerBytes = magic.length + ivBytes

export interface SealedFacts {
  /// Plaintext bytes.
  readonly size: number
  /// Bytes of the file at rest.
  readonly stored: number
  readonly sha256: string
  readonly sha1: string
  readonly md5: string
}

/// Writes `source` sealed to `file` (created, mode 0600: never executable; it must not exist).
export async function seal (source: Readable, file: string, key: Buffer): Promise<SealedFacts> {
  const iv = randomBytes(ivBytes)
  const cipher = createCipheriv('aes-256-gcm', key, iv)
  const hashes = [createHash('sha256'), createHash('sha1'), createHash('md5')] as const
  let size = 0
  let stored = 0
  const tap = new Transform({
    transform (chunk: Buffer, _encoding, done) {
      size += chunk.length
      for (const h of hashes) h.update(chunk)
      done(null, chunk)
    },
  })
  async function * framed (ciphertext: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
    yield Buffer.concat([magic, iv])
    for await (const chunk of ciphertext) { stored += chunk.length; yield chunk }
    yield cipher.getAuthTag()
  }
  await pipeline(source, tap, createGzip(), cipher, framed, createWriteStream(file, { flags: 'wx', mode: 0o600 }))
  return { size, stored: stored + headerBytes + tagBytes, sha256: hashes[0].digest('hex'), sha1: hashes[1].digest('hex'), md5: hashes[2].digest('hex') }
}

/// The plaintext of a sealed file as a stream; a wrong key or a changed byte fails the stream at
/// its end (the tag is checked when the last block is decrypted), so write where a failure can be
/// thrown away.
export async function unseal (file: string, key: Buffer): Promise<Readable> {
  const { size } = await stat(file)
  if (size < headerBytes + tagBytes) throw new Error(`${file}: too short to be a sealed object`)
  const head = await readRange(file, 0, headerBytes)
  if (!head.subarray(0, magic.length).equals(magic)) throw new Error(`${file}: not a sealed object`)
  const decipher = createDecipheriv('aes-256-gcm', key, head.subarray(magic.length))
  decipher.setAuthTag(await readRange(file, size - tagBytes, tagBytes))
  const body = createReadStream(file, { start: headerBytes, end: size - tagBytes - 1 })
  const gunzip = createGunzip()
  // Errors of any stage reach the reader through the last one.
  pipeline(body, decipher, gunzip).catch(() => {})
  return gunzip
}

async function readRange (file: string, start: number, length: number): Promise<Buffer> {
  const parts: Buffer[] = []
  for await (const chunk of createReadStream(file, { start, end: start + length - 1 })) parts.push(chunk as Buffer)
  return Buffer.concat(parts)
}
