/// The keys a node trusts for update files: ClamAV's own (CVD, cdiff and .info keys, always) and the
/// operator's extra ones from updates.trustedKeys (a private signing key for locally built DBs, a
/// test key).
import { clamavCdiffKey, clamavCvdKey, clamavInfoKey, type RsaPublicKey } from '../engine/signatures/dsig.js'

export function trustedKeysFrom (extra: ReadonlyArray<{ name: string, modulus: string, exponent: string }>): RsaPublicKey[] {
  return [clamavCvdKey, clamavCdiffKey, clamavInfoKey, ...extra.map(k => ({ name: k.name, modulus: k.modulus, exponent: k.exponent }))]
}
