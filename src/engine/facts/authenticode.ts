/// Authenticode signature blocks of Windows programs and cabinets, found where Windows looks:
/// a PE's security data directory (optional header, entry 4: a file offset and size) holding
/// WIN_CERTIFICATE records (dwLength, wRevision, wCertificateType 2 = PKCS#7 SignedData); a CAB's
/// reserved header area (flag RESERVE_PRESENT, 20 reserved bytes: 0x00100000, then the offset and
/// size of the PKCS#7 blob). Reads the headers and the blob only (at most maxSignatureBytes).
import type { ByteSource } from '../source.js'
import { signedDataSigner, type SignerFacts } from './pkcs7.js'

/// Larger certificate tables are not read (a signed Windows binary's is a few KiB to ~30 KiB).
export const maxSignatureBytes = 256 * 1024

const u16 = (b: Uint8Array, at: number): number => (b[at] ?? 0) | ((b[at + 1] ?? 0) << 8)
const u32 = (b: Uint8Array, at: number): number => (u16(b, at) + u16(b, at + 2) * 0x10000)

export interface PeSignature extends SignerFacts { readonly dll: boolean }

export async function peSignature (source: ByteSource): Promise<PeSignature | undefined> {
  const head = await source.head(4096)
  if (head.length < 64) return undefined
  const pe = u32(head, 0x3c)
  if (pe + 24 + 2 > head.length || u32(head, pe) !== 0x00004550) return undefined
  const dll = (u16(head, pe + 22) & 0x2000) !== 0
  const optional = pe + 24
  const magic = u16(head, optional)
  // Data directories start at 96 (PE32) or 112 (PE32+) into the optional header; the count before them.
  const dirs = optional + (magic === 0x20b ? 112 : 96)
  if ((magic !== 0x10b && magic !== 0x20b) || dirs + 5 * 8 > head.length || u32(head, dirs - 4) < 5) return { signed: false, dll }
  const offset = u32(head, dirs + 4 * 8)
  const size = u32(head, dirs + 4 * 8 + 4)
  if (offset === 0 || size < 8 || offset + size > source.size || size > maxSignatureBytes) return { signed: false, dll }
  const table = await source.read(offset, size)
  // Each WIN_CERTIFICATE is 8-byte aligned; the first PKCS#7 one names the signer.
  for (let at = 0; at + 8 <= table.length;) {
    const length = u32(table, at)
    if (length < 8 || at + length > table.length) break
    if (u16(table, at + 6) === 0x0002) return { ...signedDataSigner(table.subarray(at + 8, at + length)), dll }
    at += (length + 7) & ~7
  }
  return { signed: false, dll }
}

const reservePresent = 0x0004

export async function cabSignature (source: ByteSource): Promise<SignerFacts> {
  const head = await source.head(64)
  if (head.length < 60 || (u16(head, 30) & reservePresent) === 0) return { signed: false }
  const reserved = u16(head, 36)
  if (reserved < 20 || u32(head, 40) !== 0x00100000) return { signed: false }
  const offset = u32(head, 44)
  const size = u32(head, 48)
  if (size === 0 || size > maxSignatureBytes || offset + size > source.size) return { signed: false }
  return signedDataSigner(await source.read(offset, size))
}
