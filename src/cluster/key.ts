/// The shared cluster key: read from cluster.keyFile (wins when set) or cluster.key, and checked, in
/// one place. The node reads it once at start and hands the same bytes to the heartbeat channels and
/// the control socket; the CLI reads it the same way to sign its control requests.
import { readFile } from 'node:fs/promises'
import { ScanwallError, errorMessage } from '../errors.js'

export interface KeySource {
  readonly key: string
  readonly keyFile: string
}

/// Shorter keys are guessable by brute force against a captured heartbeat's HMAC.
export const minKeyLength = 16

export async function readClusterKey (source: KeySource): Promise<Buffer> {
  let text = source.key
  let where = 'cluster.key'
  if (source.keyFile !== '') {
    where = 'cluster.keyFile'
    try {
      text = (await readFile(source.keyFile, 'utf8')).trim()
    } catch (err) {
      throw new ScanwallError('CONFIG_INVALID', `cluster.keyFile: cannot read ${source.keyFile}: ${errorMessage(err)}`)
    }
  }
  if (text.length < minKeyLength) throw new ScanwallError('CONFIG_INVALID', `${where}: a shared key of at least ${minKeyLength} characters is required`)
  return Buffer.from(text, 'utf8')
}
