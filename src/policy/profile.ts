/// A policy profile at run time: the pure data of one `policy.profiles` entry with every default
/// filled (from the node-wide keys it replaces, so the `default` profile of a config without
/// profiles is today's behaviour) and its allow/deny lists attached. decide() reads nothing else.
/// New fields go here and in config/policy.ts (ProfileSpec), with their defaults in resolveProfile.
import type { ProfileSpec, VerdictAction, FailChoice } from '../../config/policy.js'
import type { HostList } from './lists.js'

export type { VerdictAction, FailChoice }

export interface Profile {
  /// The profile's name in policy.profiles (block pages and logs may show it).
  readonly name: string
  /// Heuristics.Limits.Exceeded.* verdicts: block (ClamAV's AlertExceedsMax) or let through.
  readonly blockLimits: boolean
  /// Objects over the size limit, which are never scanned: block, or pass unscanned (logged).
  readonly blockOversize: boolean
  readonly blockEncrypted: boolean
  /// Heuristics.Broken.* verdicts (a container or encoding damaged past what could be read): block
  /// (ClamAV's AlertBrokenMedia / AlertBroken) or let through; the scan service logs them either way.
  readonly blockBroken: boolean
  /// When no verdict could be had: closed blocks, open allows. The default of the three below.
  readonly failMode: FailChoice
  /// Per cause, overriding failMode when set: the engine failed (worker crash, bad result), the scan
  /// ran out of time, the queue was full.
  readonly onError?: FailChoice
  readonly onTimeout?: FailChoice
  readonly onOverload?: FailChoice
  /// Bodies larger than this are not scanned (blockOversize decides); at most scan.maxObjectBytes.
  readonly maxObjectBytes: number
  /// HTTP Content-Types scanned (patterns `type/sub`, `type/*`; empty: all) and passed unscanned.
  readonly scanContentTypes: readonly string[]
  readonly skipContentTypes: readonly string[]
  /// True types (of the object itself, from its first bytes) passed unscanned.
  readonly skipTypes: readonly string[]
  /// OPTIONS Transfer-Preview / -Ignore / -Complete of the services using this profile.
  readonly transferPreview: string
  readonly transferIgnore: string
  readonly transferComplete: string
  /// True types or categories (executable, script, archive, jar) blocked wherever they occur.
  readonly blockTypes: readonly string[]
  /// Active content: Java archives and applets without a signature; PE programs, DLLs/OCX and CAB
  /// files without an Authenticode block; Office documents with VBA macros.
  readonly blockUnsignedJava: boolean
  readonly blockUnsignedCode: boolean
  readonly blockMacros: boolean
  /// Signed code by these publishers (signer certificate CN or O, exact, case-insensitive) passes
  /// the active-content rules (the signature must still be present).
  readonly trustedPublishers: readonly string[]
  /// Requests to these hosts or their subdomains are exempt from type and active-content rules.
  readonly trustedDomains: readonly string[]
  /// URL/domain lists (files, reloaded on change): allow passes unscanned, deny blocks unscanned.
  readonly allowList: HostList | undefined
  readonly denyList: HostList | undefined
  /// What a threat (a signature or heuristic) and a policy block (types, active content, deny
  /// list, limits, encrypted, broken) become: block, quarantine and block, or log only.
  readonly onThreat: VerdictAction
  readonly onPolicy: VerdictAction
  /// A quarantined object released by an admin passes (by its SHA-256) for this long; 0: never.
  readonly releaseHours: number
  /// Trickle mode for large downloads (ICAP RESPMOD; leaks a prefix): stream the body while it is
  /// scanned, hold back the last `holdBackBytes` until the verdict, cut the transfer on a block.
  /// Undefined: off (the whole body is scanned before anything is sent).
  readonly trickle?: TrickleSettings
}

/// scan.trickle's node-wide settings, used by every profile that trickles.
export interface TrickleSettings {
  readonly holdBackBytes: number
  /// How long a URL cut in trickle mode is refused at once (a browser's retry), and how many such
  /// URLs are remembered at most (oldest out first).
  readonly retryBlockMs: number
  readonly retryBlockEntries: number
}

/// The node-wide keys a profile's fields default to.
export interface ProfileFallbacks {
  readonly blockOversize: boolean
  readonly failMode: FailChoice
  readonly blockBroken: boolean
  readonly maxObjectBytes: number
  readonly transferPreview: string
  readonly transferIgnore: string
  readonly transferComplete: string
  /// quarantine.enabled: threats are quarantined and blocked unless the profile says otherwise.
  readonly quarantine: boolean
  /// scan.trickle: whether profiles trickle unless they say, and how.
  readonly trickleEnabled: boolean
  readonly trickle: TrickleSettings
}

/// Today's fallbacks (config defaults), for callers without a config: tests, tools.
export const builtinFallbacks: ProfileFallbacks = {
  blockOversize: true,
  failMode: 'closed',
  blockBroken: false,
  maxObjectBytes: 400 * 1024 * 1024,
  transferPreview: '*',
  transferIgnore: '',
  transferComplete: '',
  quarantine: false,
  trickleEnabled: false,
  trickle: { holdBackBytes: 64 * 1024, retryBlockMs: 300_000, retryBlockEntries: 10_000 },
}

export function resolveProfile (name: string, spec: ProfileSpec, fallbacks: ProfileFallbacks, lists: { allow?: HostList, deny?: HostList } = {}): Profile {
  const failMode = spec.failMode ?? fallbacks.failMode
  const kept: VerdictAction = fallbacks.quarantine ? 'quarantine' : 'block'
  return {
    name,
    blockLimits: spec.blockLimits ?? true,
    blockOversize: spec.blockOversize ?? fallbacks.blockOversize,
    blockEncrypted: spec.blockEncrypted ?? true,
    blockBroken: spec.blockBroken ?? fallbacks.blockBroken,
    failMode,
    ...(spec.onError === undefined ? {} : { onError: spec.onError }),
    ...(spec.onTimeout === undefined ? {} : { onTimeout: spec.onTimeout }),
    ...(spec.onOverload === undefined ? {} : { onOverload: spec.onOverload }),
    maxObjectBytes: spec.maxObjectBytes === undefined || spec.maxObjectBytes === 0 ? fallbacks.maxObjectBytes : Math.min(spec.maxObjectBytes, fallbacks.maxObjectBytes),
    scanContentTypes: spec.scanContentTypes ?? [],
    skipContentTypes: spec.skipContentTypes ?? [],
    skipTypes: spec.skipTypes ?? [],
    transferPreview: spec.transferPreview ?? fallbacks.transferPreview,
    transferIgnore: spec.transferIgnore ?? fallbacks.transferIgnore,
    transferComplete: spec.transferComplete ?? fallbacks.transferComplete,
    blockTypes: spec.blockTypes ?? [],
    blockUnsignedJava: spec.blockUnsignedJava ?? false,
    blockUnsignedCode: spec.blockUnsignedCode ?? false,
    blockMacros: spec.blockMacros ?? false,
    trustedPublishers: (spec.trustedPublishers ?? []).map(p => p.toLowerCase()),
    trustedDomains: spec.trustedDomains ?? [],
    allowList: lists.allow,
    denyList: lists.deny,
    onThreat: spec.onThreat ?? kept,
    onPolicy: spec.onPolicy ?? kept,
    releaseHours: spec.releaseHours ?? 24,
    ...((spec.trickle ?? fallbacks.trickleEnabled) ? { trickle: fallbacks.trickle } : {}),
  }
}

/// The profile of a config without policy.profiles: today's behaviour.
export const defaultProfile: Profile = resolveProfile('default', {}, builtinFallbacks)
