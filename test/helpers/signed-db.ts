/// Builds ClamAV update files signed with a test key, the way ClamAV's sigtool lays them out: a CVD
/// (512-byte header with MD5 and raw-RSA dsig of the tar.gz payload, whose .info lists every file
/// with a PSS DSIG line) and cdiffs (gzip'd script, `:` and a PSS signature over what precedes it).
/// The tests configure the key as trusted; ClamAV's own keys stay the default.
import { createHash, generateKeyPairSync, sign, constants, type KeyObject } from 'node:crypto'
import { gzipSync } from 'node:zlib'
import { encodeSignatureNumber, modPow, type RsaPublicKey } from '../../src/engine/signatures/dsig.js'
import { writeTar } from '../../src/engine/signatures/tar.js'

export interface TestKey {
  readonly trusted: RsaPublicKey
  readonly privateKey: KeyObject
  readonly n: bigint
  readonly d: bigint
}

const bigFromB64url = (s: string): bigint => BigInt('0x' + Buffer.from(s, 'base64url').toString('hex'))

/// A fresh 2048-bit key (PSS blocks are 2048 bits in ClamAV's format).
export function testKey (name = 'test-key'): TestKey {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
  const jwk = privateKey.export({ format: 'jwk' })
  const n = bigFromB64url(jwk.n ?? '')
  const d = bigFromB64url(jwk.d ?? '')
  const e = bigFromB64url(jwk.e ?? '')
  return { trusted: { name, modulus: n.toString(), exponent: e.toString() }, privateKey, n, d }
}

/// The PSS signature sigtool would write over SHA-256(data), in ClamAV's base-64 variant.
export function pssSign (key: TestKey, data: Uint8Array): string {
  const sig = sign('sha256', data, { key: key.privateKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 })
  return encodeSignatureNumber(BigInt('0x' + sig.toString('hex')))
}

/// A .info for the files, signed (DSIG line).
function infoFile (version: number, files: ReadonlyArray<{ name: string, data: Uint8Array }>, key: TestKey): Uint8Array {
  const lines = [`ClamAV-VDB:02 Dec 2026 10-00 +0000:${version}:${files.length}:90:X:X:tests:1780000000`]
  for (const f of files) lines.push(`${f.name}:${f.data.length}:${createHash('sha256').update(f.data).digest('hex')}`)
  const body = lines.map(l => l + '\n').join('')
  return Buffer.from(`${body}DSIG:${pssSign(key, Buffer.from(body, 'latin1'))}\n`)
}

export interface DbContent { readonly [file: string]: string }

/// `<db>.cvd` of version `version` holding the files (text), signed with the key.
export function buildCvd (db: string, version: number, content: DbContent, key: TestKey): Uint8Array {
  const files = Object.entries(content).map(([name, text]) => ({ name, data: Buffer.from(text, 'latin1') }))
  const entries = [{ name: `${db}.info`, data: infoFile(version, files, key) }, ...files]
  const payload = gzipSync(writeTar(entries))
  const md5 = createHash('md5').update(payload).digest()
  const dsig = encodeSignatureNumber(modPow(BigInt('0x' + md5.toString('hex')), key.d, key.n))
  const head = Buffer.alloc(512, 0x20)
  head.write(`ClamAV-VDB:02 Dec 2026 10-00 +0000:${version}:${files.length}:90:${md5.toString('hex')}:${dsig}:tests:1780000000`, 'latin1')
  return Buffer.concat([head, payload])
}

/// `<db>-<version>.cdiff` turning version-1's content into `next`, signed: the .info is rewritten
/// (XCHG of every line, then the new DSIG) and each changed file is replaced by UNLINK + ADDs.
export function buildCdiff (db: string, version: number, previous: DbContent, next: DbContent, key: TestKey): Uint8Array {
  const nextFiles = Object.entries(next).map(([name, text]) => ({ name, data: Buffer.from(text, 'latin1') }))
  const script: string[] = []
  for (const name of Object.keys(previous)) {
    if (previous[name] === next[name]) continue
    script.push(`OPEN ${name}`, 'UNLINK', 'CLOSE')
  }
  for (const [name, text] of Object.entries(next)) {
    if (previous[name] === text) continue
    script.push(`OPEN ${name}`, ...text.split('\n').filter(l => l !== '').map(l => `ADD ${l}`), 'CLOSE')
  }
  const info = Buffer.from(infoFile(version, nextFiles, key)).toString('latin1').split('\n').filter(l => l !== '')
  script.push(`OPEN ${db}.info`, 'UNLINK', 'CLOSE', `OPEN ${db}.info`, ...info.map(l => `ADD ${l}`), 'CLOSE')
  const text = script.join('\n') + '\n'
  const signed = Buffer.concat([Buffer.from(`ClamAV-Diff:${version}:${text.length}:`), gzipSync(text)])
  return Buffer.concat([signed, Buffer.from(`:${pssSign(key, signed)}`)])
}
