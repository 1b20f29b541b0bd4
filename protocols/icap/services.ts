/// The service table: ICAP path → the methods it accepts (c-icap's service.h registry, as data).
/// Config `icap.services` lists names; the first is the primary (`avscan` by default) and the rest
/// are aliases such as c-icap's `srv_clamav` and `virus_scan`, so existing Squid configurations work
/// unchanged. An entry may restrict its methods: `name:RESPMOD` or `name:REQMOD,RESPMOD`.
import type { IcapMethod } from './request.js'
import { IcapError, statusOf } from './errors.js'

export type ModMethod = Exclude<IcapMethod, 'OPTIONS'>

export interface IcapService {
  /// The path clients use.
  readonly name: string
  /// The primary service this one stands for (itself for the primary): metrics and logs use it.
  readonly primary: string
  readonly methods: ReadonlySet<ModMethod>
}

export type Lookup =
  | { readonly ok: true, readonly service: IcapService }
  | { readonly ok: false, readonly code: 'ICAP_SERVICE_NOT_FOUND' | 'ICAP_METHOD_NOT_ALLOWED', readonly status: number, readonly message: string }

function notFound (message: string): Lookup {
  return { ok: false, code: 'ICAP_SERVICE_NOT_FOUND', status: statusOf('ICAP_SERVICE_NOT_FOUND'), message }
}

const allMethods: readonly ModMethod[] = ['REQMOD', 'RESPMOD']

function parseEntry (entry: string): { name: string, methods: ModMethod[] } {
  const colon = entry.indexOf(':')
  if (colon < 0) return { name: entry.trim(), methods: [...allMethods] }
  const methods = entry.slice(colon + 1).split(',').map(m => m.trim().toUpperCase())
  const unknown = methods.filter(m => !(allMethods as readonly string[]).includes(m))
  if (unknown.length > 0) throw new IcapError('ICAP_CONFIG_INVALID', `service entry '${entry}': unknown method ${unknown.join(', ')}`)
  return { name: entry.slice(0, colon).trim(), methods: methods as ModMethod[] }
}

export class ServiceTable {
  readonly #byName: ReadonlyMap<string, IcapService>
  readonly primary: string

  constructor (entries: readonly string[]) {
    const list = (entries.length === 0 ? ['avscan'] : entries).map(parseEntry)
    this.primary = list[0]?.name ?? 'avscan'
    this.#byName = new Map(list.map(e => [e.name, { name: e.name, primary: this.primary, methods: new Set(e.methods) }]))
  }

  /// Resolves a request's service path and checks the method: 404 unknown (or not among `offered`,
  /// the paths of the address the client reached), 405 not offered there.
  lookup (path: string, method: IcapMethod, offered?: readonly string[]): Lookup {
    const service = this.#byName.get(path)
    if (service === undefined) return notFound(`no ICAP service at '${path.slice(0, 80)}'`)
    if (offered !== undefined && !offered.includes(service.name)) return notFound(`ICAP service '${service.name}' is not offered on this address`)
    if (method !== 'OPTIONS' && !service.methods.has(method)) return { ok: false, code: 'ICAP_METHOD_NOT_ALLOWED', status: statusOf('ICAP_METHOD_NOT_ALLOWED'), message: `${method} not allowed for ${service.name}` }
    return { ok: true, service }
  }

  get names (): string[] { return [...this.#byName.keys()] }

  /// The offered-paths map of split clusters, checked against this table: an unknown path is a
  /// configuration error (named by `where`), not a service that silently never answers.
  offeredAt (lists: ReadonlyArray<{ readonly address: string, readonly services: readonly string[], readonly where: string }>): Map<string, readonly string[]> {
    const map = new Map<string, readonly string[]>()
    for (const { address, services, where } of lists) {
      if (services.length === 0) continue
      const unknown = services.filter(s => !this.#byName.has(s))
      if (unknown.length > 0) throw new IcapError('ICAP_CONFIG_INVALID', `${where}: unknown ICAP service ${unknown.join(', ')} (the table has ${this.names.join(', ')})`)
      map.set(address, services)
    }
    return map
  }
}
