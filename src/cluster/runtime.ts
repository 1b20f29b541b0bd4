/// Runs this node's cluster instances (instance.ts: filter, heartbeat channel, agent, health tests)
/// and the control socket, and coordinates what spans them: drain (`node offline`), `node online`,
/// status and the health rows SNMP shows. The drain waits on events (an agent's filter changed, a
/// connection closed), never in a polling loop. Where root or nftables is missing the node runs
/// standalone and says so in one log line.
import { RunningInstance, type ChannelFactory } from './instance.js'
import { ControlServer } from './control.js'
import { until, anyOf, type Subscribe } from './until.js'
import { StartedParts } from '../lifecycle.js'
import type { ClusterInstance } from './config.js'
import type { HealthContext } from './health/tests.js'
import type { InstanceStatus, OfflineResult, OnlineResult, ReloadResult, StatusResult } from './control-reply.js'
import type { HealthRow } from './view.js'
import type { LoadSample } from './types.js'
import type { ClusterEvent } from '../metrics.js'
import type { Logger } from '../log.js'
import { ScanwallError, errorMessage, isScanwallError } from '../errors.js'

export type { Channel, ChannelFactory } from './instance.js'

export interface ClusterHooks {
  /// Without an address the whole node drains; with one, only connections to that virtual address.
  drainIcap (local?: string): void
  resumeIcap (local?: string): void
  /// The node's state as SNMP reports it: draining while the whole node drains, else active.
  nodeState (state: 'active' | 'draining'): void
  connections (local?: string): number
  /// Calls `listener` whenever an ICAP connection opens or closes; returns the unsubscribe.
  onConnections (listener: () => void): () => void
  load (): LoadSample
  signatureVersion (): string
  /// `scanwall reload` (control socket): the node's policy and signatures read again.
  reload? (): ReloadResult
  readonly health: HealthContext
  /// A quorum change, a duplicate owner or a heartbeat path change (→ SNMP notification).
  clusterEvent? (event: ClusterEvent): void
}

export interface ClusterOptions {
  readonly nodeId: string
  readonly instances: readonly ClusterInstance[]
  /// The shared key, read and checked once (key.ts).
  readonly key: Buffer
  readonly controlSocket: string
  readonly nft: string
  readonly configVersion: string
}

/// After the filter stops accepting a drained bucket, connections whose handshake completed just
/// before still wait in the accept queue; the ICAP drain (a 503 at accept, and closing connections
/// that have not sent a request yet) starts only after they were taken, so they are served. One
/// grace delay, not a poll: the queue cannot be observed.
const acceptGraceMs = 100

function quorumOf (r: RunningInstance): Pick<InstanceStatus, 'quorum'> {
  const quorum = r.agent.quorumStatus()
  return quorum === undefined ? {} : { quorum }
}

/// Resolves in the check phase of the event loop, after the poll phase that follows: a loop that
/// was busy past the grace accepts (first turn) and reads (second turn) what waited before the ICAP
/// drain starts, since timers run before the poll phase of their turn.
async function afterPollPhase (): Promise<void> { await new Promise(resolve => setImmediate(resolve)) }

export class ClusterRuntime {
  readonly #running: readonly RunningInstance[]
  readonly #hooks: ClusterHooks
  readonly #parts: StartedParts
  readonly #log: Logger
  /// The drain in progress, if any: `online` aborts it.
  #draining: AbortController | undefined
  /// The whole node was taken offline (not one instance): SNMP shows it draining.
  #nodeOffline = false
  readonly #healthListeners: Set<() => void>

  private constructor (running: readonly RunningInstance[], hooks: ClusterHooks, parts: StartedParts, log: Logger, healthListeners: Set<() => void>) {
    this.#running = running
    this.#healthListeners = healthListeners
    this.#hooks = hooks
    this.#parts = parts
    this.#log = log
  }

  /// Starts every instance and the control socket; undefined (standalone, one log line) without
  /// root or nftables. A failed start stops what started and throws.
  static async start (options: ClusterOptions, hooks: ClusterHooks, makeChannel: ChannelFactory, log: Logger): Promise<ClusterRuntime | undefined> {
    if (options.instances.length === 0) return undefined
    if (process.getuid?.() !== 0) {
      log.warn('cluster: running standalone: not root, cannot install the nftables bucket filter')
      return undefined
    }
    const parts = new StartedParts(log)
    const running: RunningInstance[] = []
    // Health listeners are known before the runtime exists: the first results may come during start-up.
    const healthListeners = new Set<() => void>()
    const onHealthChange = (): void => { for (const listener of healthListeners) listener() }
    const deps = { nodeId: options.nodeId, nft: options.nft, configVersion: options.configVersion, key: options.key, facts: hooks, health: hooks.health, makeChannel, onHealthChange }
    for (const instance of options.instances) {
      try {
        running.push(await parts.start(`cluster instance ${instance.name}`, async () => await RunningInstance.start(instance, deps, log), async r => { await r.stop() }))
      } catch (err) {
        // The parts started so far are stopped already (StartedParts).
        if (!isScanwallError(err) || err.code !== 'CLUSTER_NETFILTER') throw err
        log.warn({ err: errorMessage(err) }, 'cluster: running standalone: nftables unavailable')
        return undefined
      }
    }
    for (const r of running) {
      const instance = r.instance.name
      r.agent.on('quorum', q => hooks.clusterEvent?.({ instance, kind: 'quorum', detail: `${q.action}: ${q.reason}` }))
      r.agent.on('duplicate', o => hooks.clusterEvent?.({ instance, kind: 'duplicate', detail: `buckets ${o.buckets.join(',')} also claimed by ${o.peer}; ${o.stepsBack === 'self' ? 'this node' : o.peer} steps back (${o.rule})` }))
      r.agent.on('foreign-answers', f => hooks.clusterEvent?.({ instance, kind: 'duplicate', detail: `kernel: ${f.perSecond} resets/s for connections this node never accepted (another host answers for its buckets); resets for ${f.resetting.length} buckets, ${f.released.length} given up for ${Math.round(f.holdMs / 1000)} s` }))
      r.agent.on('path', c => hooks.clusterEvent?.({ instance, kind: 'path', peer: c.peer, path: c.path, up: c.up, detail: `peer ${c.peer} heartbeat path ${c.path} ${c.up ? 'up' : `down (silent ${c.silentMs === undefined ? 'since start' : `${c.silentMs} ms`})`}` }))
    }
    const runtime = new ClusterRuntime(running, hooks, parts, log, healthListeners)
    const server = new ControlServer(options.controlSocket, options.key, {
      status: instance => runtime.status(instance),
      offline: async (instance, wait) => await runtime.offline(instance, wait),
      online: instance => runtime.online(instance),
      ...(hooks.reload === undefined ? {} : { reload: () => hooks.reload?.() ?? { applied: false } }),
    })
    await parts.start('control socket', async () => { await server.listen(); return server }, async s => { await s.close() })
    return runtime
  }

  #select (name: string | undefined): RunningInstance[] {
    const list = this.#running.filter(r => name === undefined || r.instance.name === name)
    if (list.length === 0) throw new ScanwallError('CLUSTER_CONTROL', `no cluster instance '${String(name)}'`)
    return list
  }

  status (instance?: string): StatusResult {
    return Object.fromEntries(this.#select(instance).map((r): [string, InstanceStatus] => [r.instance.name, {
      nodes: r.agent.status(), owned: r.agent.owned, mapVersion: r.agent.map.version, rejects: r.channel.rejects(), ...quorumOf(r),
    }]))
  }

  /// Every instance's health tests and their last results, as the SNMP health table lists them
  /// (prefixed with the instance name when the node runs more than one).
  healthRows (): HealthRow[] {
    const prefix = this.#running.length > 1
    return this.#running.flatMap(r => r.health.results().map(({ name, last }) => ({
      name: prefix ? `${r.instance.name}/${name}` : name,
      status: last === undefined ? 'unknown' as const : last.ok ? 'ok' as const : 'failed' as const,
      lastRun: last?.at ?? 0,
      output: last?.detail ?? '',
    })))
  }

  /// Calls `listener` whenever an instance's health verdict or failing tests change; returns the
  /// unsubscribe (SNMP sends its health notifications on it instead of waiting for its next poll).
  onHealthChange (listener: () => void): () => void {
    this.#healthListeners.add(listener)
    return () => { this.#healthListeners.delete(listener) }
  }

  /// Drain: give the buckets away (break-before-make), then Connection: close after each current
  /// transaction so keep-alive clients reconnect to the others, then wait until no connection is
  /// left. Without an instance the whole node drains; with one, only connections to its address.
  async offline (instance: string | undefined, wait: boolean): Promise<OfflineResult> {
    const list = this.#select(instance)
    const where = instance === undefined ? [undefined] : list.map(r => r.instance.vip)
    const open = (): number => where.reduce((n, local) => n + this.#hooks.connections(local), 0)
    const released = (): boolean => list.every(r => r.agent.owned.length === 0)
    const filterChanged: Subscribe = check => {
      for (const r of list) r.agent.on('owned', check)
      return () => { for (const r of list) r.agent.off('owned', check) }
    }
    const started = performance.now()
    const timeout = Math.max(...list.map(r => r.instance.drainTimeoutMs))
    const left = (): number => timeout - (performance.now() - started)
    this.#draining?.abort()
    const abort = new AbortController()
    this.#draining = abort
    if (instance === undefined) {
      this.#nodeOffline = true
      this.#hooks.nodeState('draining')
    }
    for (const r of list) r.agent.setAdmin('offline')
    // Buckets first: once the kernel stops accepting new connections here (and the accept queue has
    // been taken), tell keep-alive clients to go; a connection accepted during drain would get a 503.
    await until(released, filterChanged, left(), abort.signal)
    if (abort.signal.aborted) return { drained: false, connections: open(), ms: Math.round(performance.now() - started) }
    await new Promise(resolve => setTimeout(resolve, acceptGraceMs))
    await afterPollPhase()
    await afterPollPhase()
    if (abort.signal.aborted) return { drained: false, connections: open(), ms: Math.round(performance.now() - started) }
    for (const local of where) this.#hooks.drainIcap(local)
    if (!wait) return { draining: list.map(r => r.instance.name) }
    const drained = await until(() => released() && open() === 0, anyOf(filterChanged, this.#hooks.onConnections), left(), abort.signal)
    if (drained) for (const r of list) r.agent.markDrained()
    if (this.#draining === abort) this.#draining = undefined
    const ms = Math.round(performance.now() - started)
    this.#log.info({ instance, drained, ms }, 'drain finished')
    return { drained, connections: open(), ms }
  }

  online (instance: string | undefined): OnlineResult {
    const list = this.#select(instance)
    this.#draining?.abort()
    this.#draining = undefined
    for (const local of instance === undefined ? [undefined] : list.map(r => r.instance.vip)) this.#hooks.resumeIcap(local)
    for (const r of list) r.agent.setAdmin('online')
    // A node taken offline as a whole serves again as soon as any of its instances is back.
    if (this.#nodeOffline) {
      this.#nodeOffline = false
      this.#hooks.nodeState('active')
    }
    return { online: list.map(r => r.instance.name) }
  }

  /// Closes the control socket, then leaves every cluster (newest instance first).
  async stop (): Promise<void> {
    this.#draining?.abort()
    await this.#parts.stop()
  }
}
