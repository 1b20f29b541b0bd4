/// The node's console from config `console`: the traffic sampler, this node's data and changes,
/// the peer client (in a cluster), /metrics' registry, a read view of the decision database and
/// the HTTPS server; undefined when console.port is 0. Stopped as one part (server, sampler, store).
import type { ConfigTree } from '../../config/load.js'
import { openStore } from '../records/open.js'
import { TrafficRing } from './traffic.js'
import { LocalNode, type ConsoleSources } from './local.js'
import { PeerClient } from './peer.js'
import { ClusterConsole } from './cluster.js'
import { metricsRegistry } from './prometheus.js'
import { ConsoleServer } from './server.js'

export interface RunningConsole {
  readonly server: ConsoleServer
  stop (): Promise<void>
}

export async function startConsole (config: ConfigTree, sources: Omit<ConsoleSources, 'records'>, key: Buffer | undefined): Promise<RunningConsole | undefined> {
  if (config.console.port === 0) return undefined
  const records = config.stats.enabled ? await openStore(config.stats, { readonly: true }) : undefined
  const traffic = new TrafficRing(sources.metrics, config.console.pollMs)
  try {
    const local = new LocalNode({ ...sources, records }, traffic)
    const peers = key === undefined ? undefined : new PeerClient(key, config.console.port, config.console.peerTimeoutMs)
    const server = await ConsoleServer.start({
      config,
      cluster: new ClusterConsole(local, peers),
      local,
      metrics: metricsRegistry(sources),
      key,
      log: sources.log,
    })
    return {
      server,
      stop: async () => {
        traffic.stop()
        await server.close()
        await records?.close()
      },
    }
  } catch (err) {
    traffic.stop()
    await records?.close()
    throw err
  }
}
