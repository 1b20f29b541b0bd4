/// The signer of a PKCS#7 SignedData blob (RFC 2315; Authenticode's WIN_CERTIFICATE content, a JAR's
/// META-INF/*.RSA|DSA|EC block): a minimal DER walk to the first SignerInfo's issuerAndSerialNumber,
/// then the certificate with that serial from the blob's own certificate set, read with Node's
/// X509Certificate. Only presence and the publisher's name are established: no digest or chain is
/// verified (docs/policy.md says so). Written here because the one job (find a signer's subject in a
/// blob of a few KiB, inside the engine's worker) does not warrant an ASN.1 library dependency;
/// every length is checked against its parent, so a hostile blob gives undefined, never a throw.
import { X509Certificate } from 'node:crypto'

interface Tlv { readonly tag: number, readonly start: number, readonly end: number, readonly headerEnd: number }

/// One DER element at `at` inside [at, limit), or undefined when it does not fit.
function tlv (b: Uint8Array, at: number, limit: number): Tlv | undefined {
  if (at + 2 > limit) return undefined
  const tag = b[at] as number
  let len = b[at + 1] as number
  let p = at + 2
  if (len & 0x80) {
    const n = len & 0x7f
    if (n === 0 || n > 4 || p + n > limit) return undefined
    len = 0
    for (let i = 0; i < n; i++) len = len * 256 + (b[p + i] as number)
    p += n
  }
  if (p + len > limit) return undefined
  return { tag, start: at, headerEnd: p, end: p + len }
}

function children (b: Uint8Array, parent: Tlv): Tlv[] {
  const out: Tlv[] = []
  for (let at = parent.headerEnd; at < parent.end && out.length < 64;) {
    const t = tlv(b, at, parent.end)
    if (t === undefined) return out
    out.push(t)
    at = t.end
  }
  return out
}

const signedDataOid = Buffer.from([0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02])

/// The subject a publisher is known by: CN, else O, else the whole subject line.
export function publisherName (cert: X509Certificate): string {
  const lines = cert.subject.split('\n')
  const field = (key: string): string | undefined => lines.find(l => l.startsWith(`${key}=`))?.slice(key.length + 1)
  return field('CN') ?? field('O') ?? lines.join(', ')
}

export interface SignerFacts {
  /// The blob is a SignedData with at least one SignerInfo.
  readonly signed: boolean
  readonly signer?: string
}

export function signedDataSigner (blob: Uint8Array): SignerFacts {
  const top = tlv(blob, 0, blob.length)
  if (top === undefined || top.tag !== 0x30) return { signed: false }
  const [oid, explicit] = children(blob, top)
  if (oid === undefined || explicit === undefined || !Buffer.from(blob.subarray(oid.start, oid.end)).equals(signedDataOid) || explicit.tag !== 0xa0) return { signed: false }
  const signedData = children(blob, explicit)[0]
  if (signedData === undefined || signedData.tag !== 0x30) return { signed: false }
  const parts = children(blob, signedData)
  const signerInfos = parts.at(-1)
  const certificates = parts.find(p => p.tag === 0xa0)
  if (signerInfos === undefined || signerInfos.tag !== 0x31) return { signed: false }
  const first = children(blob, signerInfos)[0]
  if (first === undefined) return { signed: false }
  const issuerAndSerial = children(blob, first)[1]
  const serial = issuerAndSerial === undefined ? undefined : children(blob, issuerAndSerial)[1]
  if (serial === undefined || certificates === undefined) return { signed: true }
  const wanted = Buffer.from(blob.subarray(serial.headerEnd, serial.end)).toString('hex').replace(/^(00)+(?=.)/, '').toUpperCase()
  for (const c of children(blob, certificates)) {
    try {
      const cert = new X509Certificate(blob.subarray(c.start, c.end))
      if (cert.serialNumber.replace(/^(00)+(?=.)/, '').toUpperCase() === wanted) return { signed: true, signer: publisherName(cert) }
    } catch {
      // Not a certificate Node can read: look at the next one.
    }
  }
  return { signed: true }
}
