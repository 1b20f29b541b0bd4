/// What a node trusts for update files: ClamAV's RSA keys (CVD, cdiff and .info, always) with the
/// operator's extra ones from updates.trustedKeys (a private signing key for locally built DBs, a
/// test key), and the roots for ClamAV 1.5's detached `.sign` files (Cisco's, with
/// updates.trustedCertificates).
import { readFileSync } from 'node:fs'
import type { Certificate } from 'pkijs'
import { errorMessage, ScanwallError } from '../errors.js'
import { clamavCdiffKey, clamavCvdKey, clamavInfoKey, type RsaPublicKey } from '../engine/signatures/dsig.js'
import { trustedRoots } from './clamsign.js'

export interface UpdateTrust {
  readonly keys: readonly RsaPublicKey[]
  readonly roots: readonly Certificate[]
  /// Refuse a CVD or cdiff that comes without a `.sign` file, as ClamAV 1.5 does in FIPS mode.
  readonly requireSignFiles: boolean
}

export function trustedKeysFrom (extra: ReadonlyArray<{ name: string, modulus: string, exponent: string }>): RsaPublicKey[] {
  return [clamavCvdKey, clamavCdiffKey, clamavInfoKey, ...extra.map(k => ({ name: k.name, modulus: k.modulus, exponent: k.exponent }))]
}

interface TrustSettings {
  readonly trustedKeys: ReadonlyArray<{ name: string, modulus: string, exponent: string }>
  readonly trustedCertificates: readonly string[]
  readonly requireSignFiles: boolean
}

/// The trust the `updates` config section describes; an unreadable certificate file fails the
/// start with the key named.
export function updateTrustFrom (updates: TrustSettings): UpdateTrust {
  const roots = updates.trustedCertificates.map((file, i) => {
    try {
      return trustedRoots([readFileSync(file, 'utf8')]).slice(1)
    } catch (err) {
      throw new ScanwallError('CONFIG_INVALID', `updates.trustedCertificates[${i}] ${JSON.stringify(file)}: ${errorMessage(err)}`)
    }
  })
  return { keys: trustedKeysFrom(updates.trustedKeys), roots: [...trustedRoots([]), ...roots.flat()], requireSignFiles: updates.requireSignFiles }
}
