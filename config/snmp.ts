/// The shapes and convict format checks of the snmp.* configuration keys (users, trap targets,
/// enterprise OID); schema.ts holds the keys and defaults. Kept apart so the schema stays a table.

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

function fail (message: string): never { throw new Error(message) }

export function snmpUsers (value: unknown): void {
  if (!Array.isArray(value)) fail('must be an array of users')
  for (const u of value as Array<Record<string, unknown>>) {
    if (typeof u !== 'object' || u === null) fail('each user must be an object')
    if (typeof u['name'] !== 'string' || u['name'] === '') fail('user.name must be a non-empty string')
    if (!['sha', 'sha256', 'sha512'].includes(String(u['authProtocol']))) fail(`user ${u['name']}: authProtocol must be sha, sha256 or sha512`)
    if (!['aes', 'aes256b', 'aes256r'].includes(String(u['privProtocol']))) fail(`user ${u['name']}: privProtocol must be aes, aes256b or aes256r`)
    // RFC 3414 §11.2: passwords shorter than 8 octets are refused by conforming managers too.
    for (const key of ['authKey', 'privKey']) {
      if (typeof u[key] !== 'string' || (u[key] as string).length < 8) fail(`user ${u['name']}: ${key} must be at least 8 characters`)
    }
  }
}

export function snmpTrapTargets (value: unknown): void {
  if (!Array.isArray(value)) fail('must be an array of targets')
  for (const t of value as Array<Record<string, unknown>>) {
    if (typeof t !== 'object' || t === null) fail('each target must be an object')
    if (typeof t['host'] !== 'string' || t['host'] === '') fail('target.host must be a non-empty string')
    if (!Number.isInteger(t['port']) || (t['port'] as number) < 1 || (t['port'] as number) > 65535) fail(`target ${t['host']}: port must be 1..65535`)
    if (t['version'] === 'v3' && typeof t['user'] !== 'string') fail(`target ${t['host']}: v3 needs user (the name of one of snmp.users)`)
    else if (t['version'] === 'v2c' && (typeof t['community'] !== 'string' || t['community'] === '')) fail(`target ${t['host']}: v2c needs a community`)
    else if (t['version'] !== 'v3' && t['version'] !== 'v2c') fail(`target ${t['host']}: version must be v3 or v2c`)
  }
}

export function enterpriseOid (value: unknown): void {
  if (typeof value !== 'string' || !/^1\.3\.6\.1\.4\.1\.\d+(\.\d+)*$/.test(value)) fail('must be a numeric OID under 1.3.6.1.4.1 (enterprises)')
}
