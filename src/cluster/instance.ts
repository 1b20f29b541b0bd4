/// One running cluster instance: its kernel filter, heartbeat channel, agent, foreign-reset check
/// (reset-guard.ts) and health monitor, started in that order on a stack of started parts and stopped in reverse (the monitor's timers
/// first, the filter last). The runtime (runtime.ts) runs one per configured instance.
import { ClusterAgent, type AgentOptions } from './agent.js'
import { NetfilterSink } from './netfilter.js'
import { ResetGuard, resetGuardDefaults } from './reset-guard.js'
import { HealthMonitor } from './health/monitor.js'
import { StartedParts } from '../lifecycle.js'
import { checkTiming } from './quorum.js'
import { ScanwallError } from '../errors.js'
import type { ClusterInstance } from './config.js'
import type { HealthContext } from './health/tests.js'
import type { LocalFacts, PeerBeat, WitnessVote } from './types.js'
import type { Logger } from '../log.js'

/// The heartbeat channel of one instance (protocols/cluster/transport.ts, handed in by node.ts).
export interface Channel {
  send (beat: PeerBeat): void
  /// `from`: the sender's heartbeat address (host:port), for status and SNMP; `path`: the heartbeat
  /// path of the first copy.
  onMessage (listener: (beat: PeerBeat, from: string, path: string) => void): void
  /// Every copy of every heartbeat (also the duplicates of other paths), for per-path liveness.
  onArrival? (listener: (node: string, path: string, from: string) => void): void
  /// The heartbeat path names (`service` first); absent: `service` only.
  readonly paths?: readonly string[]
  rejects (): Record<string, number>
  close (): Promise<void>
  /// The witness client, when the instance has `quorum.witness`.
  readonly witness?: WitnessVote | undefined
}

export type ChannelFactory = (instance: ClusterInstance, key: Buffer) => Promise<Channel>

export interface InstanceDeps {
  readonly nodeId: string
  readonly nft: string
  readonly configVersion: string
  readonly key: Buffer
  readonly facts: LocalFacts
  readonly health: HealthContext
  readonly makeChannel: ChannelFactory
  /// Called when the instance's health verdict or set of failing tests changes.
  readonly onHealthChange: () => void
}

/// The agent's quorum options, checked here because node.id is known only now: `members` must name
/// this node, and the timing must keep a minority's release ahead of the majority's take-over.
/// Without `members` every configured peer address is one vote (`@host:port`, bound to the node id
/// first heard from it), so the default needs no new key and is safe.
function quorumOptions (instance: ClusterInstance, nodeId: string): AgentOptions['quorum'] {
  const q = instance.quorum
  if (q === undefined) return undefined
  const where = `cluster.instances[name=${instance.name}]`
  if (q.members !== undefined && !q.members.includes(nodeId)) throw new ScanwallError('CONFIG_INVALID', `${where}.members must include this node's node.id '${nodeId}'`)
  checkTiming({ intervalMs: instance.intervalMs, suspectMs: q.suspectMs, deadMs: instance.intervalMs * instance.missed, graceMs: q.graceMs, applyMs: q.applyBudgetMs }, `${where}.quorum`)
  const voters = q.members ?? [nodeId, ...new Set(instance.peers.map(p => `@${p.host}:${p.port}`))]
  return { voters, suspectMs: q.suspectMs, graceMs: q.graceMs, waitForAll: q.waitForAll }
}

export class RunningInstance {
  readonly instance: ClusterInstance
  readonly agent: ClusterAgent
  readonly channel: Channel
  readonly health: HealthMonitor
  readonly #parts: StartedParts

  private constructor (instance: ClusterInstance, agent: ClusterAgent, channel: Channel, health: HealthMonitor, parts: StartedParts) {
    this.instance = instance
    this.agent = agent
    this.channel = channel
    this.health = health
    this.#parts = parts
  }

  /// Starts the instance; throws (having stopped what started) when a part cannot start. A filter
  /// that cannot be installed throws CLUSTER_NETFILTER from its first step, before anything else.
  static async start (instance: ClusterInstance, deps: InstanceDeps, log: Logger): Promise<RunningInstance> {
    const quorum = quorumOptions(instance, deps.nodeId)
    const parts = new StartedParts(log)
    const ilog = log.child({ cluster: instance.name })
    const sink = await parts.start('bucket filter', async () => {
      const s = new NetfilterSink({ name: instance.name, vip: instance.vip, ports: instance.ports, buckets: instance.buckets, seed: instance.seed, mark: instance.mark, mode: instance.mode, clusterMac: instance.clusterMac, nft: deps.nft }, log)
      await s.start()
      return s
    }, async s => { await s.stop() })
    const channel = await parts.start('heartbeat channel', async () => await deps.makeChannel(instance, deps.key), async c => { await c.close() })
    const agent = await parts.start('agent', () => {
      const a = new ClusterAgent({
        cluster: instance.name,
        nodeId: deps.nodeId,
        buckets: instance.buckets,
        capacity: instance.capacity,
        intervalMs: instance.intervalMs,
        missed: instance.missed,
        joinMs: instance.joinMs,
        loadWeighting: instance.loadWeighting,
        loadSmoothingMs: instance.loadSmoothingMs,
        weightHoldMs: instance.weightHoldMs,
        configVersion: deps.configVersion,
        quorum: quorum === undefined ? undefined : { ...quorum, paths: channel.paths ?? ['service'] },
      }, { sink, facts: deps.facts, send: beat => channel.send(beat), log: ilog, witness: channel.witness })
      channel.onMessage((beat, from, path) => a.receive(beat, from, path))
      channel.onArrival?.((node, path, from) => a.arrived(node, path, from))
      sink.onLost = () => a.ownershipLost()
      a.start()
      return a
    }, async a => { await a.stop() })
    // The kernel's half of the duplicate-owner safety net: samples the owner table's bare-reset count.
    await parts.start('foreign-reset check', () => {
      const g = new ResetGuard(sink, (perSecond, sinceMs, buckets) => agent.foreignAnswers(perSecond, sinceMs, buckets, resetGuardDefaults.holdMs), ilog)
      g.start()
      return g
    }, g => g.stop())
    const health = await parts.start('health tests', () => {
      const m = new HealthMonitor(instance.health.tests, instance.health.expression, deps.health, ilog, (healthy, failing) => {
        agent.setHealth(healthy, failing)
        deps.onHealthChange()
      })
      m.start()
      return m
    }, m => m.stop())
    log.info({ cluster: instance.name, vip: instance.vip, ports: instance.ports, peers: instance.peers.length }, 'cluster instance started')
    return new RunningInstance(instance, agent, channel, health, parts)
  }

  async stop (): Promise<void> { await this.#parts.stop() }
}
