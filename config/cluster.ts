/// The `cluster.instances` key: its TypeScript shape and the one parser that checks it and fills its
/// defaults. convict cannot describe arrays of objects, so the schema's format for that key runs
/// parseInstances (every problem names its field, e.g. `cluster.instances[1].vip`) and load.ts keeps
/// the parsed, typed result. Several instances in one process are split per-service clusters, each
/// with its own virtual address, ports, services and heartbeat group.
import { isIPv4 } from 'node:net'
import { fail, got, type Fields, reader } from './fields.js'

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
  /// Heartbeat paths besides `service` (the bind/peers/multicast above): a dedicated link, a second
  /// network. Every heartbeat goes out on every path; a peer is silent only when silent on all.
  readonly paths: HeartbeatPathConfig[]
  /// Issue #17; undefined when quorum is off (explicitly, or a lone node without peers or members).
  readonly quorum: QuorumConfig | undefined
}

export interface HeartbeatPathConfig {
  readonly name: string
  readonly bind: Endpoint
  readonly peers: Endpoint[]
  readonly multicast: Endpoint | undefined
}

/// At most 8 paths in all (the membership field's bound), `service` being the first.
function paths (v: unknown, where: string): HeartbeatPathConfig[] {
  if (v === undefined) return []
  if (!Array.isArray(v) || v.length > 7) fail(`${where} must be an array of at most 7 heartbeat paths (besides service)`)
  const seen = new Set(['service'])
  return v.map((p: unknown, i) => {
    const at = `${where}[${i}]`
    const r = reader(p, at)
    r.only(['name', 'bind', 'peers', 'multicast'])
    const name = r.str('name')
    if (!/^[a-z0-9_]{1,16}$/.test(name) || seen.has(name)) fail(`${at}.name must match [a-z0-9_]{1,16} and be unique, not 'service' (got ${got(name)})`)
    seen.add(name)
    const multicast = r.str('multicast', '')
    return {
      name,
      bind: endpoint(r.str('bind'), `${at}.bind`, 0),
      peers: r.strings('peers', [], 0).map((e, j) => endpoint(e, `${at}.peers[${j}]`, 1)),
      multicast: multicast === '' ? undefined : endpoint(multicast, `${at}.multicast`, 1),
    }
  })
}

/// The voting members and the timing of the quorum rule (src/cluster/quorum.ts, membership.ts).
export interface QuorumConfig {
  /// Node ids of the voting members (`members`, which must include this node's node.id: checked at
  /// start, where node.id is known); undefined: derived at start from this node and its peers, each
  /// configured peer address one vote (quorum-gate.ts).
  readonly members: string[] | undefined
  readonly suspectMs: number
  readonly graceMs: number
  readonly applyBudgetMs: number
  readonly waitForAll: boolean
  /// The witness (`scanwall witness`) that breaks exact-half ties, and the address to ask it from.
  readonly witness: Endpoint | undefined
  readonly witnessBind: Endpoint | undefined
}

const instanceFields = ['name', 'vip', 'ports', 'services', 'bind', 'peers', 'multicast', 'buckets', 'seed', 'capacity', 'intervalMs', 'missed', 'joinMs', 'maxSkewMs', 'loadWeighting', 'loadSmoothingMs', 'weightHoldMs', 'mode', 'clusterMac', 'mark', 'drainTimeoutMs', 'health', 'members', 'quorum', 'paths']

const kinds = ['exec', 'icap', 'pool', 'link', 'reach', 'load', 'spool', 'sigdb'] as const
/// The fields each kind of health test takes besides name, kind, intervalMs and timeoutMs.
const kindFields: Record<typeof kinds[number], string[]> = {
  exec: ['command'], icap: [], pool: [], link: ['interface'], reach: ['host', 'port'], load: ['max'], spool: ['minFreeBytes'], sigdb: ['maxAgeHours'],
}

/// `minPort` 0 where the port is our own to bind (0: any free one), 1 where a peer listens.
function endpoint (s: string, where: string, minPort: 0 | 1): Endpoint {
  const m = /^(.+):(\d+)$/.exec(s)
  const port = Number(m?.[2])
  if (m === null || !isIPv4(m[1] ?? '') || port < minPort || port > 65535) fail(`${where} must be "IPv4:port" with a port from ${minPort} to 65535 (got ${got(s)})`)
  return { host: m[1] ?? '', port }
}

function expr (v: unknown, where: string): HealthExpr {
  if (typeof v === 'string') return v
  const r = reader(v, where)
  if (Array.isArray(r.raw['all'])) return { all: r.raw['all'].map((e: unknown, i) => expr(e, `${where}.all[${i}]`)) }
  if (Array.isArray(r.raw['any'])) return { any: r.raw['any'].map((e: unknown, i) => expr(e, `${where}.any[${i}]`)) }
  if (r.raw['not'] !== undefined) return { not: expr(r.raw['not'], `${where}.not`) }
  fail(`${where} must be a test name, {all:[…]}, {any:[…]} or {not:…}`)
}

function healthTest (v: unknown, where: string): HealthTestConfig {
  const r = reader(v, where)
  const name = r.str('name')
  const kind = r.oneOf('kind', kinds, undefined)
  r.only(['name', 'kind', 'intervalMs', 'timeoutMs', ...kindFields[kind]])
  const base = { name, intervalMs: r.int('intervalMs', 1000, 10), timeoutMs: r.int('timeoutMs', 1000, 10) }
  switch (kind) {
    case 'exec': return { ...base, kind, command: r.strings('command', undefined, 1) }
    case 'icap': return { ...base, kind }
    case 'pool': return { ...base, kind }
    case 'link': return { ...base, kind, interface: r.str('interface') }
    case 'reach': return { ...base, kind, host: r.str('host'), port: r.int('port', undefined, 1, 65535) }
    case 'load': return { ...base, kind, max: r.num('max', 0.95, 0) }
    case 'spool': return { ...base, kind, minFreeBytes: r.int('minFreeBytes', 100 * 1024 * 1024, 0) }
    case 'sigdb': return { ...base, kind, maxAgeHours: r.num('maxAgeHours', 72, 0) }
  }
}

function collectNames (e: HealthExpr, out: string[]): string[] {
  if (typeof e === 'string') out.push(e)
  else if ('all' in e) e.all.forEach(x => collectNames(x, out))
  else if ('any' in e) e.any.forEach(x => collectNames(x, out))
  else collectNames(e.not, out)
  return out
}

function health (v: unknown, where: string): ClusterInstance['health'] {
  const r = reader(v ?? {}, where)
  r.only(['tests', 'expression'])
  const rawTests = r.raw['tests'] ?? []
  if (!Array.isArray(rawTests)) fail(`${where}.tests must be an array of tests`)
  const tests = rawTests.map((t: unknown, i) => healthTest(t, `${where}.tests[${i}]`))
  const expression = r.raw['expression'] === undefined ? undefined : expr(r.raw['expression'], `${where}.expression`)
  const known = new Set(tests.map(t => t.name))
  for (const n of expression === undefined ? [] : collectNames(expression, [])) {
    if (!known.has(n)) fail(`${where}.expression names unknown test '${n}'`)
  }
  return { tests, expression }
}

/// Quorum is on whenever there is anyone to vote with: `members` given (≥ 2), or else derived from
/// the peers (one vote per configured peer address plus this node), so that a configuration written
/// before issue #17 gets the safe behaviour (a minority takes nothing) without a new key. A node
/// with neither (a lone node, or heartbeats to a multicast group only) has nobody to count, so
/// without `members` quorum stays off there unless asked for, which is an error then.
function quorum (r: Fields, where: string, peers: readonly Endpoint[], intervalMs: number): QuorumConfig | undefined {
  const members = r.raw['members'] === undefined ? undefined : r.strings('members', undefined, 1)
  const q = reader(r.raw['quorum'] ?? {}, `${where}.quorum`)
  q.only(['enabled', 'suspectMs', 'graceMs', 'applyBudgetMs', 'waitForAll', 'witness', 'witnessBind'])
  if (members !== undefined && new Set(members).size !== members.length) fail(`${where}.members lists a node id twice`)
  const votes = members?.length ?? 1 + new Set(peers.map(p => `${p.host}:${p.port}`)).size
  const enabled = q.bool('enabled', votes >= 2)
  const witness = q.str('witness', '')
  const witnessBind = q.str('witnessBind', '')
  if (!enabled) {
    if (witness !== '') fail(`${where}.quorum.witness needs quorum (${where}.quorum.enabled is false)`)
    return undefined
  }
  if (votes < 2) fail(`${where}.quorum.enabled needs ${where}.members (the voting members' node ids, at least 2) or peers`)
  return {
    members,
    // A node whose event loop stalls for a few hundred ms (a starved host) is not heard meanwhile;
    // suspect + grace (450 ms by default) is how long such a stall may last before a node that
    // lost its peers releases its buckets. Measured in the netns bed: 2.5 + 0.5 intervals (300 ms)
    // made a 270 ms stall of one survivor fence both survivors of a three-node cluster.
    suspectMs: q.int('suspectMs', intervalMs * 3, 1),
    graceMs: q.int('graceMs', Math.round(intervalMs * 1.5), 0),
    applyBudgetMs: q.int('applyBudgetMs', 50, 0),
    waitForAll: q.bool('waitForAll', true),
    witness: witness === '' ? undefined : endpoint(witness, `${where}.quorum.witness`, 1),
    witnessBind: witnessBind === '' ? undefined : endpoint(witnessBind, `${where}.quorum.witnessBind`, 0),
  }
}

export function parseInstance (v: unknown, index: number): ClusterInstance {
  const where = `cluster.instances[${index}]`
  const r: Fields = reader(v, where)
  r.only(instanceFields)
  const name = r.str('name', index === 0 ? 'default' : undefined)
  if (!/^[a-z0-9_]{1,24}$/.test(name)) fail(`${where}.name must match [a-z0-9_]{1,24} (got ${got(name)})`)
  const vip = r.str('vip')
  if (!isIPv4(vip)) fail(`${where}.vip must be an IPv4 address (got ${got(vip)})`)
  const mode = r.oneOf('mode', ['hub', 'multicast'] as const, 'hub')
  const clusterMac = r.str('clusterMac', '')
  if (mode === 'multicast' && !/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/i.test(clusterMac)) fail(`${where}.clusterMac must be a MAC address in multicast mode (got ${got(clusterMac)})`)
  const multicast = r.str('multicast', '')
  const intervalMs = r.int('intervalMs', 100, 10)
  const peers = r.strings('peers', [], 0).map((p, i) => endpoint(p, `${where}.peers[${i}]`, 1))
  const q = quorum(r, where, peers, intervalMs)
  // With quorum the failure deadline must leave room for a node that lost quorum to release first
  // (suspect + interval + grace + apply: 600 ms by default), so it is 7 intervals instead of 5.
  const missed = r.int('missed', q === undefined ? 5 : 7, 1)
  return {
    name,
    vip,
    ports: r.ints('ports', [1344], 1, 65535),
    services: r.strings('services', [], 0),
    bind: endpoint(r.str('bind', '0.0.0.0:5405'), `${where}.bind`, 0),
    peers,
    multicast: multicast === '' ? undefined : endpoint(multicast, `${where}.multicast`, 1),
    buckets: r.int('buckets', 256, 1),
    seed: r.int('seed', 0x5ca11, 0),
    capacity: r.num('capacity', 1, 0.01),
    intervalMs,
    missed,
    joinMs: r.int('joinMs', intervalMs * (missed + 1), 0),
    maxSkewMs: r.int('maxSkewMs', 10_000, 1),
    loadWeighting: r.bool('loadWeighting', true),
    loadSmoothingMs: r.int('loadSmoothingMs', 5000, 0),
    weightHoldMs: r.int('weightHoldMs', 10_000, 0),
    mode,
    clusterMac,
    mark: r.int('mark', 0x5357, 1),
    drainTimeoutMs: r.int('drainTimeoutMs', 60_000, 0),
    health: health(r.raw['health'], `${where}.health`),
    paths: paths(r.raw['paths'], `${where}.paths`),
    quorum: q,
  }
}

export function parseInstances (v: unknown): ClusterInstance[] {
  if (!Array.isArray(v)) fail('cluster.instances must be an array of instances')
  const list = v.map((x: unknown, i) => parseInstance(x, i))
  const seen = new Set<string>()
  list.forEach((inst, i) => {
    if (seen.has(inst.name)) fail(`cluster.instances[${i}].name ${got(inst.name)} is used by an earlier instance (names must be unique)`)
    seen.add(inst.name)
  })
  return list
}
