/// The rules that judge an object by what it is rather than by what it contains: type blocking by
/// true type and the active-content rules (unsigned Java, unsigned Windows code and cabinets, Office
/// macros), with their exceptions (trusted domains: the request's host or a parent of it; trusted
/// publishers). Pure functions of the walk's facts, the request's host and the profile.
import type { CodeFact, ObjectFacts } from '../engine/verdict.js'
import type { Profile } from './profile.js'
import { hostAndParents } from './lists.js'

/// A rule that fired: why, and the threat name the block page, records and logs show.
export interface Violation { readonly reason: string, readonly threat: string }

export const archiveTypes: readonly string[] = ['zip', 'tar', 'cpio', '7z', 'rar', 'cab', 'arj', 'lzh', 'iso9660', 'ar', 'chm', 'sis', 'alz']
export const executableTypes: readonly string[] = ['pe', 'elf', 'macho', 'java-class']

/// The host is one of the trusted domains or under one.
export function trustedHost (host: string | undefined, domains: readonly string[]): boolean {
  if (host === undefined || host === '' || domains.length === 0) return false
  return hostAndParents(host).some(name => domains.includes(name))
}

/// The first blocked type the object holds (a category by what it covers).
export function blockedType (facts: ObjectFacts, blockTypes: readonly string[]): Violation | undefined {
  for (const wanted of blockTypes) {
    let hit: string | undefined
    if (wanted === 'executable') hit = facts.types.find(t => executableTypes.includes(t))
    else if (wanted === 'archive') hit = facts.types.find(t => archiveTypes.includes(t))
    else if (wanted === 'script') hit = facts.script ? 'script' : undefined
    else if (wanted === 'jar') hit = facts.code.some(c => c.kind === 'jar') ? 'jar' : undefined
    else hit = facts.types.includes(wanted) ? wanted : undefined
    if (hit !== undefined) return { reason: `blocked-type: ${hit}`, threat: `Scanwall.Policy.BlockedType.${hit}` }
  }
  return undefined
}

function codeName (c: CodeFact): string {
  if (c.kind === 'pe') return c.dll === true ? 'DLL' : 'PE'
  return c.kind === 'cab' ? 'CAB' : 'Java'
}

/// A piece of code the active-content rules want signed, and its signature does not do.
function unsigned (c: CodeFact, profile: Profile): Violation | undefined {
  const wanted = c.kind === 'jar' ? profile.blockUnsignedJava : profile.blockUnsignedCode
  if (!wanted) return undefined
  const name = codeName(c)
  if (!c.signed) return { reason: `unsigned: ${name}`, threat: `Scanwall.Policy.Unsigned${name === 'Java' ? 'Java' : `Code.${name}`}` }
  if (profile.trustedPublishers.length === 0) return undefined
  if (c.signer !== undefined && profile.trustedPublishers.includes(c.signer.toLowerCase())) return undefined
  return { reason: `untrusted-publisher: ${c.signer ?? 'unknown'}`, threat: `Scanwall.Policy.UntrustedPublisher.${name}` }
}

export function activeContent (facts: ObjectFacts, profile: Profile): Violation | undefined {
  for (const c of facts.code) {
    const hit = unsigned(c, profile)
    if (hit !== undefined) return hit
  }
  if (profile.blockMacros && facts.macros) return { reason: 'macros', threat: 'Scanwall.Policy.OfficeMacros' }
  return undefined
}

/// Content-Type (parameters dropped, lower case) against `type/sub`, `type/*` and `*/*` patterns.
export function contentTypeMatches (contentType: string, patterns: readonly string[]): boolean {
  const type = contentType.split(';')[0]?.trim().toLowerCase() ?? ''
  const major = type.split('/')[0] ?? ''
  return patterns.some(p => p === type || p === '*/*' || (p.endsWith('/*') && p.slice(0, -2) === major))
}
