/// ClamAV 1.5's detached signature files (`<file>.sign`, e.g. `daily-27001.cdiff.sign`): a first line
/// `#clamsign-1.0`, then one signature per line, `<min flevel>:<max flevel>:pkcs7-pem:<base64 DER>`,
/// each a detached PKCS#7 SignedData over the whole file's bytes whose signer chains to a trusted
/// root (Cisco's code-signing root by default, `updates.trustedCertificates` besides). The file is
/// accepted when one line verifies, as libclamav's codesign does.
/// The flevel range says which engines should read a line; Scanwall reads the one format it knows
/// (pkcs7-pem) whatever the range, since the range is about the signature format, not the scanning
/// features of the DB (ClamAV writes `220::`, above ClamAV 1.4's level that our engine mirrors).
/// PKCS#7 is parsed and verified with pkijs (PKI.js, on Node's WebCrypto): Node's crypto has X.509
/// but no PKCS#7/CMS verifier, and chain building with signed attributes is not ours to hand-write.
import { webcrypto, X509Certificate } from 'node:crypto'
import type * as asn1js from 'asn1js'
import * as pkijs from 'pkijs'
import { clamavRootPem } from './clamav-root.js'

type EngineCrypto = ConstructorParameters<typeof pkijs.CryptoEngine>[0]['crypto']
// Node's WebCrypto is the standard interface pkijs expects; only the DOM type names differ.
pkijs.setEngine('node-webcrypto', new pkijs.CryptoEngine({ name: 'node-webcrypto', crypto: webcrypto as unknown as EngineCrypto }))

/// Longest .sign file read (a line holds one PKCS#7 with its certificates: a few KiB).
const maxSignFileBytes = 256 * 1024

export interface SignLine {
  readonly minFlevel: number
  readonly maxFlevel?: number | undefined
  readonly der: Uint8Array
}

/// The signature lines of a .sign file, or why it is not one. Lines in other formats are skipped.
export function parseSignFile (data: Uint8Array): SignLine[] | string {
  if (data.length > maxSignFileBytes) return `larger than ${maxSignFileBytes} bytes`
  const lines = Buffer.from(data).toString('latin1').split(/\r?\n/)
  const first = lines[0]?.trim() ?? ''
  if (!first.startsWith('#clamsign')) return 'not a ClamAV signature file (no #clamsign header)'
  if (first !== '#clamsign-1.0') return `unsupported signature file version '${first.slice(1)}'`
  const out: SignLine[] = []
  for (const raw of lines.slice(1)) {
    const line = raw.trim()
    if (line === '' || line.startsWith('#')) continue
    const [min = '', max = '', format = '', body = ''] = line.split(':')
    if (format !== 'pkcs7-pem') continue
    if (!/^\d+$/.test(min) || !/^\d*$/.test(max)) return `malformed signature line (flevel '${min}:${max}')`
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(body)) return 'malformed signature line (not base64)'
    out.push({ minFlevel: Number(min), maxFlevel: max === '' ? undefined : Number(max), der: Buffer.from(body, 'base64') })
  }
  return out.length === 0 ? 'no pkcs7-pem signature line' : out
}

const toArrayBuffer = (bytes: Uint8Array): ArrayBuffer => bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer

function certificateOf (pem: string): pkijs.Certificate {
  return pkijs.Certificate.fromBER(toArrayBuffer(new X509Certificate(pem).raw))
}

/// The roots a node trusts for .sign files: Cisco's, then the operator's (PEM texts).
export function trustedRoots (extraPems: readonly string[]): pkijs.Certificate[] {
  return [clamavRootPem, ...extraPems].map(certificateOf)
}

/// Why one line does not vouch for `data`, or undefined when it does.
async function verifyLine (line: SignLine, data: Uint8Array, roots: readonly pkijs.Certificate[]): Promise<string | undefined> {
  let signed: pkijs.SignedData
  try {
    const info = pkijs.ContentInfo.fromBER(toArrayBuffer(line.der))
    if (info.contentType !== pkijs.ContentInfo.SIGNED_DATA) return 'not a PKCS#7 SignedData'
    signed = new pkijs.SignedData({ schema: info.content as asn1js.Sequence })
  } catch (err) {
    return `unreadable PKCS#7: ${err instanceof Error ? err.message : String(err)}`
  }
  if (signed.encapContentInfo.eContent !== undefined) return 'not a detached signature'
  if (signed.signerInfos.length === 0) return 'no signer'
  try {
    const result = await signed.verify({ signer: 0, data: toArrayBuffer(data), trustedCerts: [...roots], checkChain: true, extendedMode: true })
    return result.signatureVerified === true ? undefined : 'signature does not verify'
  } catch (err) {
    // pkijs throws SignedDataVerifyError with a message for a broken chain, digest or signature.
    const message = err instanceof Error ? err.message : typeof err === 'object' && err !== null && 'message' in err ? String((err as { message: unknown }).message) : String(err)
    return message === '' ? 'signature does not verify' : message
  }
}

/// Undefined when some line of the .sign file verifies `data` under a trusted root; else the reasons.
export async function verifySignFile (data: Uint8Array, signFile: Uint8Array, roots: readonly pkijs.Certificate[]): Promise<string | undefined> {
  const lines = parseSignFile(signFile)
  if (typeof lines === 'string') return lines
  const reasons: string[] = []
  for (const line of lines) {
    const why = await verifyLine(line, data, roots)
    if (why === undefined) return undefined
    reasons.push(why)
  }
  return `no signature verifies under a trusted root (${[...new Set(reasons)].join('; ')})`
}
