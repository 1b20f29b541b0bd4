/// Runs this node's cluster instances: per instance a kernel filter, a heartbeat channel, an agent
/// and its health monitor; plus the control socket and the drain procedure. Where root or nftables
/// is missing the node runs standalone and says so in one log line.
import { readFile } from 'node:fs/promises'
import { ClusterAgent, type NodeStatus } from './agent.js'
import { NetfilterSink } from './netfilter.js'
import { HealthMonitor } from './health/monitor.js'
import { ControlServer, type ControlRequest } from './control.js'
import type { ClusterInstance } from './config.js'
import type { HealthContext } from './health/tests.js'
import type { LoadSample, PeerBeat } from './types.js'
import type { Logger } from '../log.js'
import { ScanwallError, errorMessage } from '../errors.js'

/// The heartbeat channel of one instance (protocols/cluster/transport.ts, handed in by node.ts).
export interface Channel {
  send (beat: PeerBeat): void
  /// `from`: the sender's heartbeat address (host:port), for status and SNMP.
  onMessage (listener: (beat: PeerBeat, from: string) => void): void
  rejects (): Record<string, number>
  close (): Promise<void>
}

export type ChannelFactory = (instance: ClusterInstance, key: Buffer) => Promise<Channel>

export interface ClusterHooks {
  /// Without an address the whole node drains; with one, only connections to that virtual address.
  drainIcap (local?: string): void
  resumeIcap (local?: string): void
  connections (local?: string): number
  load (): LoadSample
  signatureVersion (): string
  readonly health: HealthContext
}

export interface ClusterOptions {
  readonly nodeId: string
  readonly instances: readonly ClusterInstance[]
  readonly key: string
  readonly keyFile: string
  readonly controlSocket: string
  readonly nft: string
  readonly configVersion: string
}

interface Running {
  readonly instance: ClusterInstance
  readonly agent: ClusterAgent
  readonly sink: NetfilterSink
  readonly channel: Channel
  readonly health: HealthMonitor
}

export interface ClusterRuntime {
  status (): Record<string, { nodes: NodeStatus[], owned: number[], mapVersion: number, rejects: Record<string, number> }>
  stop (): Promise<void>
}

async function loadKey (options: ClusterOptions): Promise<Buffer> {
  const text = options.keyFile !== '' ? (await readFile(options.keyFile, 'utf8')).trim() : options.key
  if (text.length < 16) throw new ScanwallError('CONFIG_INVALID', 'cluster.key/cluster.keyFile: a shared key of at least 16 characters is required')
  return Buffer.from(text, 'utf8')
}

export async function startCluster (options: ClusterOptions, hooks: ClusterHooks, makeChannel: ChannelFactory, log: Logger): Promise<ClusterRuntime | undefined> {
  if (options.instances.length === 0) return undefined
  const key = await loadKey(options)
  if (process.getuid?.() !== 0) {
    log.warn('cluster: running standalone: not root, cannot install the nftables bucket filter')
    return undefined
  }
  const running: Running[] = []
  try {
    for (const instance of options.instances) {
      const sink = new NetfilterSink({ name: instance.name, vip: instance.vip, ports: instance.ports, buckets: instance.buckets, seed: instance.seed, mark: instance.mark, mode: instance.mode, clusterMac: instance.clusterMac, nft: options.nft }, log)
      try {
        await sink.start()
      } catch (err) {
        await Promise.all(running.map(async r => { await r.agent.stop(); await r.sink.stop(); await r.channel.close() }))
        log.warn({ err: errorMessage(err) }, 'cluster: running standalone: nftables unavailable')
        return undefined
      }
      const channel = await makeChannel(instance, key)
      const agent = new ClusterAgent({
        cluster: instance.name,
        nodeId: options.nodeId,
        buckets: instance.buckets,
        capacity: instance.capacity,
        intervalMs: instance.intervalMs,
        missed: instance.missed,
        joinMs: instance.joinMs,
        loadWeighting: instance.loadWeighting,
        loadSmoothingMs: instance.loadSmoothingMs,
        weightHoldMs: instance.weightHoldMs,
        configVersion: options.configVersion,
      }, { sink, facts: hooks, send: beat => channel.send(beat), log: log.child({ cluster: instance.name }) })
      channel.onMessage((beat, from) => agent.receive(beat, from))
      sink.onLost = () => agent.ownershipLost()
      const health = new HealthMonitor(instance.health.tests, instance.health.expression, hooks.health, log.child({ cluster: instance.name }), (healthy, failing) => agent.setHealth(healthy, failing))
      agent.start()
      health.start()
      running.push({ instance, agent, sink, channel, health })
      log.info({ cluster: instance.name, vip: instance.vip, ports: instance.ports, peers: instance.peers.length }, 'cluster instance started')
    }
  } catch (err) {
    await Promise.all(running.map(async r => { r.health.stop(); await r.agent.stop(); await r.sink.stop(); await r.channel.close() }))
    throw err
  }

  const select = (name: string | undefined): Running[] => {
    const list = running.filter(r => name === undefined || r.instance.name === name)
    if (list.length === 0) throw new ScanwallError('CLUSTER_CONTROL', `no cluster instance '${String(name)}'`)
    return list
  }

  const status: ClusterRuntime['status'] = () => Object.fromEntries(running.map(r => [r.instance.name, {
    nodes: r.agent.status(), owned: [...r.agent.owned], mapVersion: r.agent.map.version, rejects: r.channel.rejects(),
  }]))

  /// The virtual addresses an operator command is about: every connection of the node when it names
  /// no instance, else only those made to the named instance's virtual address.
  const scope = (request: ControlRequest, list: Running[]): Array<string | undefined> =>
    request.instance === undefined ? [undefined] : list.map(r => r.instance.vip)

  /// Drain: give the buckets away (break-before-make), then Connection: close after each current
  /// transaction so keep-alive clients reconnect to the others, then wait until no connection is left.
  const offline = async (request: ControlRequest): Promise<unknown> => {
    const list = select(request.instance)
    const where = scope(request, list)
    const open = (): number => where.reduce((n, local) => n + hooks.connections(local), 0)
    const started = performance.now()
    for (const r of list) r.agent.setAdmin('offline')
    const timeout = Math.max(...list.map(r => r.instance.drainTimeoutMs))
    // Buckets first: once the kernel stops accepting new connections here (and the accept queue has
    // been taken), tell keep-alive clients to go; a connection accepted during drain would get a 503.
    while (performance.now() - started < timeout && !list.every(r => r.agent.owned.length === 0)) {
      await new Promise(resolve => setTimeout(resolve, 10))
    }
    await new Promise(resolve => setTimeout(resolve, 100))
    for (const local of where) hooks.drainIcap(local)
    if (request.wait === false) return { draining: list.map(r => r.instance.name) }
    while (performance.now() - started < timeout) {
      if (list.every(r => r.agent.owned.length === 0) && open() === 0) break
      await new Promise(resolve => setTimeout(resolve, 50))
    }
    const drained = list.every(r => r.agent.owned.length === 0) && open() === 0
    for (const r of list) if (drained) r.agent.markDrained()
    return { drained, connections: open(), ms: Math.round(performance.now() - started) }
  }

  const online = async (request: ControlRequest): Promise<unknown> => {
    const list = select(request.instance)
    for (const local of scope(request, list)) hooks.resumeIcap(local)
    for (const r of list) r.agent.setAdmin('online')
    return { online: list.map(r => r.instance.name) }
  }

  const control = new ControlServer(options.controlSocket, key, async request => {
    switch (request.cmd) {
      case 'status': return status()
      case 'offline': return await offline(request)
      case 'online': return await online(request)
    }
  })
  await control.listen()

  return {
    status,
    async stop () {
      await control.close()
      for (const r of running) r.health.stop()
      await Promise.all(running.map(async r => { await r.agent.stop(); await r.sink.stop(); await r.channel.close() }))
    },
  }
}
