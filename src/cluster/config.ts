/// Typed cluster instance configuration: `cluster.instances[]` in config/schema.ts holds plain
/// objects (convict cannot describe arrays of objects); this module validates them and fills the
/// defaults, once, at load time. Several instances in one process are split per-service clusters,
/// each with its own virtual address, ports, services and heartbeat group.
import { isIPv4 } from 'node:net'

export type HealthExpr = string | { all: HealthExpr[] } | { any: HealthExpr[] } | { not: HealthExpr }

export type HealthTestConfig =
  | { name: string, kind: 'exec', command: string[], intervalMs: number, timeoutMs: number }
  | { name: string, kind: 'icap', intervalMs: number, timeoutMs: number }
  | { name: string, kind: 'pool', intervalMs: number, timeoutMs: number }
  | { name: string, kind: 'link', interface: string, intervalMs: number, timeoutMs: number }
  | { name: string, kind: 'reach', host: string, port: number, intervalMs: number, timeoutMs: number }
  | { name: string, kind: 'load', max: number, intervalMs: number, timeoutMs: number }
  | { name: string, kind: 'spool', minFreeBytes: number, intervalMs: number, timeoutMs: number }
  | { name: string, kind: 'sigdb', maxAgeHours: number, intervalMs: number, timeoutMs: number }

export interface Endpoint { readonly host: string, readonly port: number }

export interface ClusterInstance {
  readonly name: string
  readonly vip: string
  readonly ports: number[]
  readonly services: string[]
  readonly bind: Endpoint
  readonly peers: Endpoint[]
  readonly multicast: Endpoint | undefined
  readonly buckets: number
  readonly seed: number
  readonly capacity: number
  readonly intervalMs: number
  readonly missed: number
  readonly joinMs: number
  readonly maxSkewMs: number
  readonly loadWeighting: boolean
  readonly loadSmoothingMs: number
  readonly weightHoldMs: number
  readonly mode: 'hub' | 'multicast'
  readonly clusterMac: string
  readonly mark: number
  readonly drainTimeoutMs: number
  readonly health: { tests: HealthTestConfig[], expression: HealthExpr | undefined }
}

function rec (v: unknown, where: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error(`${where} must be an object`)
  return v as Record<string, unknown>
}

function num (r: Record<string, unknown>, key: string, def: number, where: string, min = 0): number {
  const v = r[key] ?? def
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min) throw new Error(`${where}.${key} must be a number ≥ ${min}`)
  return v
}

function str (r: Record<string, unknown>, key: string, def: string | undefined, where: string): string {
  const v = r[key] ?? def
  if (typeof v !== 'string') throw new Error(`${where}.${key} must be a string`)
  return v
}

function endpoint (s: string, where: string): Endpoint {
  const m = /^(.+):(\d+)$/.exec(s)
  if (m === null || !isIPv4(m[1] ?? '')) throw new Error(`${where}: '${s}' is not IPv4:port`)
  return { host: m[1] ?? '', port: Number(m[2]) }
}

function expr (v: unknown, where: string): HealthExpr {
  if (typeof v === 'string') return v
  const r = rec(v, where)
  if (Array.isArray(r['all'])) return { all: r['all'].map((e: unknown, i) => expr(e, `${where}.all[${i}]`)) }
  if (Array.isArray(r['any'])) return { any: r['any'].map((e: unknown, i) => expr(e, `${where}.any[${i}]`)) }
  if (r['not'] !== undefined) return { not: expr(r['not'], `${where}.not`) }
  throw new Error(`${where} must be a test name, {all:[…]}, {any:[…]} or {not:…}`)
}

const kinds = ['exec', 'icap', 'pool', 'link', 'reach', 'load', 'spool', 'sigdb'] as const

function healthTest (v: unknown, where: string): HealthTestConfig {
  const r = rec(v, where)
  const name = str(r, 'name', undefined, where)
  const kind = str(r, 'kind', undefined, where)
  const base = { name, intervalMs: num(r, 'intervalMs', 1000, where, 10), timeoutMs: num(r, 'timeoutMs', 1000, where, 10) }
  switch (kind as typeof kinds[number]) {
    case 'exec': {
      const command = r['command']
      if (!Array.isArray(command) || command.length === 0 || !command.every(c => typeof c === 'string')) throw new Error(`${where}.command must be [program, ...args]`)
      return { ...base, kind: 'exec', command: command as string[] }
    }
    case 'icap': return { ...base, kind: 'icap' }
    case 'pool': return { ...base, kind: 'pool' }
    case 'link': return { ...base, kind: 'link', interface: str(r, 'interface', undefined, where) }
    case 'reach': return { ...base, kind: 'reach', host: str(r, 'host', undefined, where), port: num(r, 'port', 0, where, 1) }
    case 'load': return { ...base, kind: 'load', max: num(r, 'max', 0.95, where) }
    case 'spool': return { ...base, kind: 'spool', minFreeBytes: num(r, 'minFreeBytes', 100 * 1024 * 1024, where) }
    case 'sigdb': return { ...base, kind: 'sigdb', maxAgeHours: num(r, 'maxAgeHours', 72, where) }
  }
  throw new Error(`${where}.kind must be one of ${kinds.join(', ')}`)
}

function collectNames (e: HealthExpr, out: string[]): string[] {
  if (typeof e === 'string') out.push(e)
  else if ('all' in e) e.all.forEach(x => collectNames(x, out))
  else if ('any' in e) e.any.forEach(x => collectNames(x, out))
  else collectNames(e.not, out)
  return out
}

export function parseInstance (v: unknown, index: number): ClusterInstance {
  const where = `cluster.instances[${index}]`
  const r = rec(v, where)
  const name = str(r, 'name', index === 0 ? 'default' : undefined, where)
  if (!/^[a-z0-9_]{1,24}$/.test(name)) throw new Error(`${where}.name must match [a-z0-9_]{1,24}`)
  const vip = str(r, 'vip', undefined, where)
  if (!isIPv4(vip)) throw new Error(`${where}.vip must be an IPv4 address`)
  const ports = r['ports'] ?? [1344]
  if (!Array.isArray(ports) || ports.length === 0 || !ports.every(p => Number.isInteger(p) && p > 0 && p < 65536)) throw new Error(`${where}.ports must be TCP ports`)
  const peers = r['peers'] ?? []
  if (!Array.isArray(peers) || !peers.every(p => typeof p === 'string')) throw new Error(`${where}.peers must be ["ip:port", …]`)
  const services = r['services'] ?? []
  if (!Array.isArray(services) || !services.every(p => typeof p === 'string')) throw new Error(`${where}.services must be strings`)
  const multicast = str(r, 'multicast', '', where)
  const mode = str(r, 'mode', 'hub', where)
  if (mode !== 'hub' && mode !== 'multicast') throw new Error(`${where}.mode must be hub or multicast`)
  const clusterMac = str(r, 'clusterMac', '', where)
  if (mode === 'multicast' && !/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/i.test(clusterMac)) throw new Error(`${where}.clusterMac must be a MAC address in multicast mode`)
  const h = rec(r['health'] ?? {}, `${where}.health`)
  const tests = (Array.isArray(h['tests']) ? h['tests'] : []).map((t: unknown, i) => healthTest(t, `${where}.health.tests[${i}]`))
  const expression = h['expression'] === undefined ? undefined : expr(h['expression'], `${where}.health.expression`)
  const known = new Set(tests.map(t => t.name))
  for (const n of expression === undefined ? [] : collectNames(expression, [])) if (!known.has(n)) throw new Error(`${where}.health.expression names unknown test '${n}'`)
  const intervalMs = num(r, 'intervalMs', 100, where, 10)
  const missed = num(r, 'missed', 5, where, 1)
  return {
    name,
    vip,
    ports: ports as number[],
    services: services as string[],
    bind: endpoint(str(r, 'bind', '0.0.0.0:5405', where), `${where}.bind`),
    peers: (peers as string[]).map(p => endpoint(p, `${where}.peers`)),
    multicast: multicast === '' ? undefined : endpoint(multicast, `${where}.multicast`),
    buckets: num(r, 'buckets', 256, where, 1),
    seed: num(r, 'seed', 0x5ca11, where),
    capacity: num(r, 'capacity', 1, where, 0.01),
    intervalMs,
    missed,
    joinMs: num(r, 'joinMs', intervalMs * (missed + 1), where),
    maxSkewMs: num(r, 'maxSkewMs', 10_000, where, 1),
    loadWeighting: (r['loadWeighting'] ?? true) === true,
    loadSmoothingMs: num(r, 'loadSmoothingMs', 5000, where),
    weightHoldMs: num(r, 'weightHoldMs', 10_000, where),
    mode,
    clusterMac,
    mark: num(r, 'mark', 0x5357, where, 1),
    drainTimeoutMs: num(r, 'drainTimeoutMs', 60_000, where),
    health: { tests, expression },
  }
}

export function parseInstances (v: unknown): ClusterInstance[] {
  if (!Array.isArray(v)) throw new Error('cluster.instances must be an array')
  const list = v.map((x: unknown, i) => parseInstance(x, i))
  const names = new Set(list.map(i => i.name))
  if (names.size !== list.length) throw new Error('cluster.instances names must be unique')
  return list
}
