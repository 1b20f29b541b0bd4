/// The shape and convict check of updates.trustedKeys: extra RSA public keys (decimal modulus and
/// exponent, as libclamav writes its own) whose signatures on CVDs, cdiffs and .info files are
/// accepted besides ClamAV's. Kept apart so the schema stays a table.
import { fail, reader } from './fields.js'

export interface TrustedKeyConfig {
  name: string
  modulus: string
  exponent: string
}

export function trustedKeys (value: unknown): void {
  if (!Array.isArray(value)) fail('updates.trustedKeys must be an array of {name, modulus, exponent}')
  value.forEach((k: unknown, i) => {
    const where = `updates.trustedKeys[${i}]`
    const r = reader(k, where)
    r.only(['name', 'modulus', 'exponent'])
    if (r.str('name') === '') fail(`${where}.name must not be empty`)
    if (!/^[1-9]\d{100,}$/.test(r.str('modulus'))) fail(`${where}.modulus must be the key's modulus in decimal (at least 1024 bits)`)
    if (!/^[1-9]\d*$/.test(r.str('exponent'))) fail(`${where}.exponent must be a positive decimal number`)
  })
}
