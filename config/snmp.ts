/// The shapes and convict format checks of the snmp.* configuration keys (users, trap targets,
/// enterprise OID); schema.ts holds the keys and defaults. Kept apart so the schema stays a table.
import { fail, reader } from './fields.js'

/// An SNMPv3 USM user (authPriv only: SHA or SHA-2 authentication, AES privacy).
export interface SnmpUserConfig {
  name: string
  authProtocol: 'sha' | 'sha256' | 'sha512'
  authKey: string
  privProtocol: 'aes' | 'aes256b' | 'aes256r'
  privKey: string
}

/// Where notifications go: SNMPv3 with one of snmp.users (by name), or SNMPv2c with a community.
export interface SnmpTrapTargetConfig {
  host: string
  port: number
  version: 'v3' | 'v2c'
  user?: string
  community?: string
}

export function snmpUsers (value: unknown): void {
  if (!Array.isArray(value)) fail('snmp.users must be an array of users')
  value.forEach((u: unknown, i) => {
    const r = reader(u, `snmp.users[${i}]`)
    r.only(['name', 'authProtocol', 'authKey', 'privProtocol', 'privKey'])
    if (r.str('name') === '') fail(`snmp.users[${i}].name must not be empty`)
    r.oneOf('authProtocol', ['sha', 'sha256', 'sha512'], undefined)
    r.oneOf('privProtocol', ['aes', 'aes256b', 'aes256r'], undefined)
    // RFC 3414 §11.2: passwords shorter than 8 octets are refused by conforming managers too. The
    // keys are secrets: the message never shows them.
    for (const key of ['authKey', 'privKey']) {
      const secret = r.raw[key]
      if (typeof secret !== 'string' || secret.length < 8) fail(`snmp.users[${i}].${key} must be a string of at least 8 characters`)
    }
  })
}

export function snmpTrapTargets (value: unknown): void {
  if (!Array.isArray(value)) fail('snmp.trapTargets must be an array of targets')
  value.forEach((t: unknown, i) => {
    const where = `snmp.trapTargets[${i}]`
    const r = reader(t, where)
    r.only(['host', 'port', 'version', 'user', 'community'])
    if (r.str('host') === '') fail(`${where}.host must not be empty`)
    r.int('port', undefined, 1, 65535)
    if (r.oneOf('version', ['v3', 'v2c'], undefined) === 'v3') r.str('user')
    else if (typeof r.raw['community'] !== 'string' || r.raw['community'] === '') fail(`${where}.community must be a non-empty string for version v2c`)
  })
}

export function enterpriseOid (value: unknown): void {
  if (typeof value !== 'string' || !/^1\.3\.6\.1\.4\.1\.\d+(\.\d+)*$/.test(value)) fail('must be a numeric OID under 1.3.6.1.4.1 (enterprises)')
}
