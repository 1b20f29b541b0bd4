/// The `policy.*` keys: policy profiles (name → profile, pure data) and which profile each ICAP
/// service uses. convict cannot describe a map of objects, so the schema's format for
/// `policy.profiles` runs parseProfiles (every problem names its field, e.g.
/// `policy.profiles.strict.blockTypes[1]`) and load.ts keeps the parsed, typed result. Fields left
/// out stay undefined here: src/policy/profile.ts fills them from the node-wide keys they replace
/// (scan.oversize, scan.failMode, scan.alertBrokenContainers, icap.transfer*, quarantine.enabled),
/// so a config without profiles behaves exactly as before profiles existed.
import { fail, got, reader, type Fields } from './fields.js'

export type FailChoice = 'open' | 'closed'
/// What a block becomes: the block page, the block page with the object kept in quarantine, or
/// nothing but the record and the log line (the object passes).
export type VerdictAction = 'block' | 'quarantine' | 'log'

export interface ProfileSpec {
  readonly blockLimits?: boolean
  readonly blockOversize?: boolean
  readonly blockEncrypted?: boolean
  readonly blockBroken?: boolean
  readonly failMode?: FailChoice
  readonly onError?: FailChoice
  readonly onTimeout?: FailChoice
  readonly onOverload?: FailChoice
  readonly maxObjectBytes?: number
  readonly scanContentTypes?: readonly string[]
  readonly skipContentTypes?: readonly string[]
  readonly skipTypes?: readonly string[]
  readonly transferPreview?: string
  readonly transferIgnore?: string
  readonly transferComplete?: string
  readonly blockTypes?: readonly string[]
  readonly blockUnsignedJava?: boolean
  readonly blockUnsignedCode?: boolean
  readonly blockMacros?: boolean
  /// Trickle mode for large downloads (leaks a prefix); default scan.trickle.enabled.
  readonly trickle?: boolean
  readonly trustedPublishers?: readonly string[]
  readonly trustedDomains?: readonly string[]
  readonly allowList?: string
  readonly denyList?: string
  readonly onThreat?: VerdictAction
  readonly onPolicy?: VerdictAction
  readonly releaseHours?: number
}

/// True types and the categories blockTypes/skipTypes accept (the engine's FileType names; config/
/// imports nothing from src/, so test/unit/policy-config.test.ts keeps this list equal to the engine's).
export const trueTypes = [
  'pe', 'elf', 'macho', 'java-class', 'gzip', 'zlib', 'bzip2', 'xz', 'lzma', 'zstd', 'lzip', 'szdd', 'lzop',
  'zip', 'tar', 'cpio', '7z', 'rar', 'cab', 'arj', 'lzh', 'iso9660', 'ar', 'chm', 'sis', 'alz',
  'ole2', 'pdf', 'rtf', 'html', 'mail', 'mbox', 'tnef', 'binhex', 'swf', 'uuencode', 'yenc', 'onenote',
  'graphics', 'text', 'unknown',
] as const
/// Categories: several true types (and facts) under one switch.
export const typeCategories = ['executable', 'script', 'archive', 'jar'] as const
const typeNames: readonly string[] = [...trueTypes, ...typeCategories]

const booleans = ['blockLimits', 'blockOversize', 'blockEncrypted', 'blockBroken', 'blockUnsignedJava', 'blockUnsignedCode', 'blockMacros', 'trickle'] as const
const failChoices = ['failMode', 'onError', 'onTimeout', 'onOverload'] as const
const transfers = ['transferPreview', 'transferIgnore', 'transferComplete'] as const
const paths = ['allowList', 'denyList'] as const
const actions = ['onThreat', 'onPolicy'] as const
const known = [...booleans, ...failChoices, 'maxObjectBytes', 'scanContentTypes', 'skipContentTypes', 'skipTypes', ...transfers,
  'blockTypes', 'trustedPublishers', 'trustedDomains', ...paths, ...actions, 'releaseHours']

/// A Content-Type pattern: `type/subtype`, `type/*` or `*/*`, lower case.
const contentTypePattern = /^([a-z0-9!#$&^_.+-]+|\*)\/([a-z0-9!#$&^_.+-]+|\*)$/
/// Transfer-* values: extensions separated by commas, or "*" (RFC 3507 4.10.2).
const extensionList = /^(\*|[A-Za-z0-9_.+-]+(\s*,\s*[A-Za-z0-9_.+-]+)*)?$/

function typeList (f: Fields, key: string, where: string): string[] | undefined {
  if (f.raw[key] === undefined) return undefined
  const list = f.strings(key, undefined, 0)
  list.forEach((t, i) => { if (!typeNames.includes(t)) fail(`${where}.${key}[${i}] must be a true type or one of ${typeCategories.join(', ')} (got ${got(t)})`) })
  return list
}

function patterns (f: Fields, key: string, where: string): string[] | undefined {
  if (f.raw[key] === undefined) return undefined
  const list = f.strings(key, undefined, 0).map(p => p.toLowerCase())
  list.forEach((p, i) => { if (!contentTypePattern.test(p)) fail(`${where}.${key}[${i}] must be a Content-Type such as image/png or image/* (got ${got(p)})`) })
  return list
}

function domains (f: Fields, key: string, where: string): string[] | undefined {
  if (f.raw[key] === undefined) return undefined
  const list = f.strings(key, undefined, 0).map(d => d.toLowerCase().replace(/^\*?\./, '').replace(/\.$/, ''))
  list.forEach((d, i) => { if (!/^[a-z0-9_-]+(\.[a-z0-9_-]+)*$/.test(d)) fail(`${where}.${key}[${i}] must be a domain name (got ${got(d)})`) })
  return list
}

export function parseProfile (value: unknown, where: string): ProfileSpec {
  const f = reader(value, where)
  f.only(known)
  const spec: Record<string, unknown> = {}
  const set = (key: string, v: unknown): void => { if (v !== undefined) spec[key] = v }
  for (const key of booleans) set(key, f.raw[key] === undefined ? undefined : f.bool(key, false))
  for (const key of failChoices) set(key, f.raw[key] === undefined ? undefined : f.oneOf(key, ['open', 'closed'] as const, undefined))
  for (const key of actions) set(key, f.raw[key] === undefined ? undefined : f.oneOf(key, ['block', 'quarantine', 'log'] as const, undefined))
  for (const key of paths) {
    const path = f.raw[key] === undefined ? undefined : f.str(key)
    if (path !== undefined && path !== '' && !path.startsWith('/')) fail(`${where}.${key} must be an absolute path (got ${got(path)})`)
    set(key, path)
  }
  for (const key of transfers) {
    const text = f.raw[key] === undefined ? undefined : f.str(key)
    if (text !== undefined && !extensionList.test(text)) fail(`${where}.${key} must be file extensions separated by commas, or * (got ${got(text)})`)
    set(key, text)
  }
  set('maxObjectBytes', f.raw['maxObjectBytes'] === undefined ? undefined : f.int('maxObjectBytes', undefined, 0))
  set('releaseHours', f.raw['releaseHours'] === undefined ? undefined : f.int('releaseHours', undefined, 0))
  set('scanContentTypes', patterns(f, 'scanContentTypes', where))
  set('skipContentTypes', patterns(f, 'skipContentTypes', where))
  set('skipTypes', typeList(f, 'skipTypes', where))
  set('blockTypes', typeList(f, 'blockTypes', where))
  set('trustedPublishers', f.raw['trustedPublishers'] === undefined ? undefined : f.strings('trustedPublishers', undefined, 0))
  set('trustedDomains', domains(f, 'trustedDomains', where))
  return spec as ProfileSpec
}

/// `policy.profiles`: an object of name → profile. Names are what services and clamd.profile use.
export function parseProfiles (value: unknown): Record<string, ProfileSpec> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail(`policy.profiles must be an object of name → profile (got ${got(value)})`)
  const out: Record<string, ProfileSpec> = {}
  for (const [name, profile] of Object.entries(value)) {
    if (!/^[A-Za-z0-9_-]{1,64}$/.test(name)) fail(`policy.profiles.${name} is not a valid profile name (letters, digits, _ and -)`)
    out[name] = parseProfile(profile, `policy.profiles.${name}`)
  }
  return out
}

/// `policy.services`: ICAP service (primary name) → profile name.
export function parseServiceProfiles (value: unknown): Record<string, string> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail(`policy.services must be an object of service → profile name (got ${got(value)})`)
  for (const [service, name] of Object.entries(value)) {
    if (typeof name !== 'string' || name === '') fail(`policy.services.${service} must be a profile name (got ${got(name)})`)
  }
  return value as Record<string, string>
}
