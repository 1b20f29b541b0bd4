/// Policy: pure functions from what is known about an object (its verdict and facts, the request's
/// context) and the service's profile to a Decision. No I/O; the protocol adapters render the
/// Decision (ICAP block page, clamd FOUND line) and carry out its quarantine.
///   decideUnscanned: before the scan, from the context alone (deny/allow lists, what not to scan);
///   decide: after it: threats, failures, type and active-content rules, limits, encrypted, broken.
import type { Verdict } from '../engine/verdict.js'
import type { ErrorCode } from '../errors.js'
import { oversizeFinding, type ScanContext } from '../scan/input.js'
import { hostAndPath } from './lists.js'
import type { FailChoice, Profile, VerdictAction } from './profile.js'
import { activeContent, blockedType, contentTypeMatches, trustedHost } from './rules.js'

export { defaultProfile, type Profile } from './profile.js'

/// What decide() knows of the request besides the verdict.
export interface PolicyContext {
  readonly service: string
  readonly method?: string
  readonly url?: string
  /// The URL's host (lower case) and path, for lists and trusted domains.
  readonly host?: string | undefined
  readonly path?: string | undefined
  readonly client?: string
  readonly user?: string
  /// The HTTP message's Content-Type, as sent.
  readonly contentType?: string | undefined
  /// An administrator released this very object (its SHA-256) from quarantine recently.
  readonly released?: boolean
}

export type Decision =
  /// `threat`: set when a block was turned into "log only" (the object passes, flagged).
  | { readonly action: 'allow', readonly reason: string, readonly threat?: string }
  /// `quarantine`: keep the object too (quarantine and block); absent: block only.
  | { readonly action: 'block', readonly reason: string, readonly threat: string, readonly quarantine?: boolean }
  /// No decision about the content: the protocol answers the code's status (src/errors.ts).
  | { readonly action: 'fail', readonly reason: string, readonly code: ErrorCode }

/// The policy context of a scan context. Host, path and Content-Type are worked out on first read:
/// most profiles need none of them, and reading `headers` builds the scan context's header map,
/// which issue #10 measured as a visible part of a small request's CPU. A class rather than an
/// object literal with spreads and getters: V8 builds such a literal in a slow dictionary mode, and
/// every request made one (a few µs of a 4 KiB request's I/O-thread CPU, ICAP and clamd alike).
class RequestPlace implements PolicyContext {
  readonly service: string
  readonly method?: string
  readonly client?: string
  readonly user?: string
  readonly url?: string
  readonly released?: boolean
  readonly #scan: ScanContext
  #where: { host: string, path: string } | undefined

  constructor (scan: ScanContext, released: boolean | undefined) {
    this.#scan = scan
    this.service = scan.service
    if (scan.method !== undefined) this.method = scan.method
    if (scan.client !== undefined) this.client = scan.client
    if (scan.user !== undefined) this.user = scan.user
    if (scan.url !== undefined) this.url = scan.url
    if (released === true) this.released = released
  }

  #place (): { host: string, path: string } | undefined {
    const url = this.#scan.url
    if (url === undefined || url === '') return undefined
    this.#where ??= hostAndPath(url)
    return this.#where
  }

  get host (): string | undefined { return this.#place()?.host }
  get path (): string | undefined { return this.#place()?.path }
  get contentType (): string | undefined { return this.#scan.headers?.['content-type'] }
}

export function policyContext (scan: ScanContext, released?: boolean): PolicyContext {
  return new RequestPlace(scan, released)
}

/// A block carried out as the profile's action says: block, quarantine and block, or log only.
export function act (action: VerdictAction, reason: string, threat: string): Decision {
  if (action === 'log') return { action: 'allow', reason: `log-only: ${reason}`, threat }
  return action === 'quarantine' ? { action: 'block', reason, threat, quarantine: true } : { action: 'block', reason, threat }
}

/// Decided before the scan (undefined: scan it). `trueType`: the object's type from its first bytes.
export function decideUnscanned (context: PolicyContext, profile: Profile, trueType?: string): Decision | undefined {
  const host = profile.denyList !== undefined || profile.allowList !== undefined ? context.host : undefined
  if (host !== undefined && host !== '') {
    const path = context.path ?? '/'
    const denied = profile.denyList?.match(host, path)
    if (denied !== undefined) return act(profile.onPolicy, `denied-url: ${denied}`, 'Scanwall.Policy.DeniedURL')
    const allowed = profile.allowList?.match(host, path)
    if (allowed !== undefined) return { action: 'allow', reason: `allow-listed: ${allowed}` }
  }
  const contentType = profile.skipContentTypes.length > 0 || profile.scanContentTypes.length > 0 ? context.contentType : undefined
  if (contentType !== undefined) {
    if (profile.skipContentTypes.length > 0 && contentTypeMatches(contentType, profile.skipContentTypes)) return { action: 'allow', reason: 'not-scanned: content-type' }
    if (profile.scanContentTypes.length > 0 && !contentTypeMatches(contentType, profile.scanContentTypes)) return { action: 'allow', reason: 'not-scanned: content-type' }
  }
  if (trueType !== undefined && profile.skipTypes.includes(trueType)) return { action: 'allow', reason: `not-scanned: ${trueType}` }
  return undefined
}

function failed (choice: FailChoice, verdict: Verdict): Decision {
  const cause = verdict.error?.code ?? verdict.status
  if (choice === 'open') return { action: 'allow', reason: `fail-open: ${cause}` }
  if (verdict.error?.code === 'SCAN_QUEUE_FULL') return { action: 'fail', reason: 'overload', code: 'SCAN_QUEUE_FULL' }
  // A fail-closed block judged no content: nothing to quarantine.
  return { action: 'block', reason: `fail-closed: ${cause}`, threat: verdict.status === 'timeout' ? 'Heuristics.Limits.Exceeded.MaxScanTime' : 'Scanwall.ScanError' }
}

function judge (verdict: Verdict, context: PolicyContext, profile: Profile): Decision {
  const threat = verdict.findings[0]?.name
  // Threats and failures first: a rule about what the object is never hides either.
  if (verdict.status === 'infected') return act(profile.onThreat, 'infected', threat ?? 'Unknown')
  if (verdict.status === 'error') return failed((verdict.error?.code === 'SCAN_QUEUE_FULL' ? profile.onOverload : profile.onError) ?? profile.failMode, verdict)
  if (verdict.status === 'timeout') return failed(profile.onTimeout ?? profile.failMode, verdict)
  if (verdict.status === 'aborted') return { action: 'fail', reason: 'aborted', code: 'SCAN_ABORTED' }
  // What the object is, unless it comes from a trusted domain (the host is read only when a rule fires).
  if (verdict.facts !== undefined) {
    const hit = blockedType(verdict.facts, profile.blockTypes) ?? activeContent(verdict.facts, profile)
    if (hit !== undefined && !trustedHost(context.host, profile.trustedDomains)) return act(profile.onPolicy, hit.reason, hit.threat)
  }
  switch (verdict.status) {
    case 'clean':
      return { action: 'allow', reason: 'clean' }
    case 'limit': {
      const block = verdict.findings.some(f => f.name === oversizeFinding.name) ? profile.blockOversize : profile.blockLimits
      return block ? act(profile.onPolicy, 'limit', threat ?? 'Heuristics.Limits.Exceeded') : { action: 'allow', reason: 'limit' }
    }
    case 'encrypted':
      return profile.blockEncrypted ? act(profile.onPolicy, 'encrypted', threat ?? 'Heuristics.Encrypted') : { action: 'allow', reason: 'encrypted' }
    case 'broken':
      return profile.blockBroken ? act(profile.onPolicy, 'broken', threat ?? 'Heuristics.Broken') : { action: 'allow', reason: 'broken' }
  }
}

export function decide (verdict: Verdict, context: PolicyContext, profile: Profile): Decision {
  const decision = judge(verdict, context, profile)
  // A released object passes what it was blocked for (and is still logged as what it is).
  if (context.released === true && decision.action === 'block' && !decision.reason.startsWith('fail-')) {
    return { action: 'allow', reason: `released: ${decision.reason}`, threat: decision.threat }
  }
  return decision
}
