/// The quarantine's encryption key from config: quarantine.keyFile (wins) or quarantine.key, 64 hex
/// digits either way, read and checked once at start so a bad key fails there, naming its key.
import { readFileSync } from 'node:fs'
import { ScanwallError, errorMessage } from '../errors.js'

export interface KeySettings { readonly key: string, readonly keyFile: string }

export function readQuarantineKey (settings: KeySettings): Buffer {
  let text = settings.key
  let where = 'quarantine.key'
  if (settings.keyFile !== '') {
    where = 'quarantine.keyFile'
    try {
      text = readFileSync(settings.keyFile, 'utf8')
    } catch (err) {
      throw new ScanwallError('CONFIG_INVALID', `${where}: cannot read ${settings.keyFile}: ${errorMessage(err)}`)
    }
  }
  const hex = text.trim()
  if (!/^[0-9a-fA-F]{64}$/.test(hex)) throw new ScanwallError('CONFIG_INVALID', `${where}: must be 64 hex digits (a 256-bit AES key), e.g. from \`openssl rand -hex 32\``)
  return Buffer.from(hex, 'hex')
}
