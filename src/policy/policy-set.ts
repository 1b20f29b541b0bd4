/// The node's policy: every profile of `policy.profiles` resolved (with its lists read), which one
/// each ICAP service and the clamd listener use, checked as a whole at start and on reload: a
/// service or profile name that does not exist, a list that cannot be read, a quarantine action
/// without a quarantine is a CONFIG_INVALID naming the key. The adapters read `current` once per
/// transaction, so a reload (PolicyHolder.replace) takes effect for the next object without dropping
/// a connection, and a transaction in flight finishes under the policy it started with.
import type { ConfigTree } from '../../config/load.js'
import type { ProfileSpec } from '../../config/policy.js'
import { ScanwallError, errorMessage } from '../errors.js'
import type { Logger } from '../log.js'
import { HostList } from './lists.js'
import { resolveProfile, type Profile, type ProfileFallbacks } from './profile.js'

export type PolicyConfig = Pick<ConfigTree, 'policy' | 'scan' | 'icap' | 'quarantine' | 'clamd'>

export class PolicySet {
  readonly profiles: ReadonlyMap<string, Profile>
  readonly #byService: ReadonlyMap<string, Profile>
  readonly clamd: Profile
  readonly #lists: readonly HostList[]

  private constructor (profiles: Map<string, Profile>, byService: Map<string, Profile>, clamd: Profile, lists: HostList[]) {
    this.profiles = profiles
    this.#byService = byService
    this.clamd = clamd
    this.#lists = lists
  }

  /// The profile of an ICAP service (its primary name); `default` for one not in policy.services.
  forService (service: string): Profile {
    return this.#byService.get(service) ?? this.profiles.get('default') as Profile
  }

  get lists (): readonly HostList[] { return this.#lists }

  /// Re-reads every list file now (a reload also re-reads them through build()).
  watchLists (debounceMs: number, log: Logger): void {
    for (const list of this.#lists) list.watch(debounceMs, log)
  }

  close (): void {
    for (const list of this.#lists) list.close()
  }

  /// One profile for every service and the clamd listener (tools and tests without a config).
  static single (profile: Profile): PolicySet {
    return new PolicySet(new Map([['default', profile]]), new Map(), profile, [])
  }

  static build (config: PolicyConfig): PolicySet {
    const fallbacks: ProfileFallbacks = {
      blockOversize: config.scan.oversize !== 'allow',
      failMode: config.scan.failMode,
      blockBroken: config.scan.alertBrokenContainers,
      maxObjectBytes: config.scan.maxObjectBytes,
      transferPreview: config.icap.transferPreview,
      transferIgnore: config.icap.transferIgnore,
      transferComplete: config.icap.transferComplete,
      quarantine: config.quarantine.enabled,
      trickleEnabled: config.scan.trickle.enabled,
      trickle: { holdBackBytes: config.scan.trickle.holdBackBytes, retryBlockMs: config.scan.trickle.retryBlockMs, retryBlockEntries: config.scan.trickle.retryBlockEntries },
    }
    const specs: Record<string, ProfileSpec> = { default: {}, ...config.policy.profiles }
    const lists = new Map<string, HostList>()
    const list = (path: string | undefined, key: string): HostList | undefined => {
      if (path === undefined || path === '') return undefined
      let found = lists.get(path)
      if (found === undefined) {
        try {
          found = new HostList(path)
        } catch (err) {
          for (const l of lists.values()) l.close()
          throw new ScanwallError('CONFIG_INVALID', `${key}: cannot read ${path}: ${errorMessage(err)}`)
        }
        lists.set(path, found)
      }
      return found
    }
    const profiles = new Map<string, Profile>()
    for (const [name, spec] of Object.entries(specs)) {
      const where = `policy.profiles.${name}`
      for (const key of ['onThreat', 'onPolicy'] as const) {
        if (spec[key] === 'quarantine' && !config.quarantine.enabled) throw new ScanwallError('CONFIG_INVALID', `${where}.${key} is quarantine but quarantine.enabled is false`)
      }
      const allow = list(spec.allowList, `${where}.allowList`)
      const deny = list(spec.denyList, `${where}.denyList`)
      profiles.set(name, resolveProfile(name, spec, fallbacks, { ...(allow === undefined ? {} : { allow }), ...(deny === undefined ? {} : { deny }) }))
    }
    const pick = (name: string, key: string): Profile => {
      const profile = profiles.get(name)
      if (profile === undefined) {
        for (const l of lists.values()) l.close()
        throw new ScanwallError('CONFIG_INVALID', `${key}: no profile named ${JSON.stringify(name)} in policy.profiles (known: ${[...profiles.keys()].join(', ')})`)
      }
      return profile
    }
    const paths = config.icap.services.map(s => s.split(':')[0] ?? s)
    const byService = new Map<string, Profile>()
    for (const [service, name] of Object.entries(config.policy.services)) {
      if (!paths.includes(service)) throw new ScanwallError('CONFIG_INVALID', `policy.services.${service}: not a service path in icap.services (${paths.join(', ')})`)
      byService.set(service, pick(name, `policy.services.${service}`))
    }
    return new PolicySet(profiles, byService, pick(config.clamd.profile, 'clamd.profile'), [...lists.values()])
  }
}

/// The policy in force; replace() swaps it atomically (the old set's list watches stop).
export class PolicyHolder {
  #current: PolicySet
  #debounceMs: number
  readonly #log: Logger | undefined

  constructor (initial: PolicySet, debounceMs = 500, log?: Logger) {
    this.#current = initial
    this.#debounceMs = debounceMs
    this.#log = log
    if (log !== undefined) initial.watchLists(debounceMs, log)
  }

  get current (): PolicySet { return this.#current }

  replace (next: PolicySet, debounceMs = this.#debounceMs): void {
    const old = this.#current
    this.#current = next
    this.#debounceMs = debounceMs
    if (this.#log !== undefined) next.watchLists(debounceMs, this.#log)
    old.close()
  }

  close (): void { this.#current.close() }
}
