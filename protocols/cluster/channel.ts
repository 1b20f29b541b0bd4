/// Adapts the UDP heartbeat transports to the agent's Channel seam (src/cluster/runtime.ts), so
/// src/cluster never imports a protocol and node.ts wires the two with one call. One transport per
/// heartbeat path (`service` from the instance's bind/peers/multicast, then `paths`), joined by a
/// MultiPathChannel: each beat is sent on every path and delivered once, every copy is an arrival.
import { HeartbeatTransport } from './transport.js'
import { MultiPathChannel } from './paths.js'
import { WitnessClient } from './witness-client.js'
import type { ChannelFactory } from '../../src/cluster/runtime.js'
import type { Logger } from '../../src/log.js'

export function heartbeatChannels (nodeId: string, log: Logger): ChannelFactory {
  return async (instance, key) => {
    const specs = [{ name: 'service', bind: instance.bind, peers: instance.peers, multicast: instance.multicast }, ...instance.paths]
    const transports: Array<{ name: string, transport: HeartbeatTransport }> = []
    const closeAll = async (): Promise<void> => { await Promise.all(transports.map(async t => { await t.transport.close() })) }
    try {
      for (const spec of specs) {
        const transport = new HeartbeatTransport({ bind: spec.bind, peers: spec.peers, multicast: spec.multicast, key, cluster: instance.name, selfId: nodeId, maxSkewMs: instance.maxSkewMs })
        // One line per reason and sender change would flood at 10 Hz; count them, log the first few.
        let logged = 0
        transport.on('rejected', (reason, from) => {
          if (reason !== 'self' && logged++ < 5) log.warn({ cluster: instance.name, path: spec.name, reason, from }, 'heartbeat rejected')
        })
        await transport.start()
        transports.push({ name: spec.name, transport })
      }
    } catch (err) { await closeAll(); throw err }
    const channel = new MultiPathChannel(transports)
    const q = instance.quorum
    let witness: WitnessClient | undefined
    if (q?.witness !== undefined) {
      witness = new WitnessClient({ witness: q.witness, key, cluster: instance.name, node: nodeId, voters: q.members?.length ?? 1 + instance.peers.length, bind: q.witnessBind ?? { host: instance.bind.host, port: 0 } })
      try { await witness.start() } catch (err) { await closeAll(); throw err }
    }
    const only = transports.length === 1 ? transports[0]?.transport : undefined
    return {
      witness,
      paths: channel.paths,
      send: beat => channel.send(beat),
      onMessage: listener => { channel.on('message', (m, path, from) => listener(m, `${from.host}:${from.port}`, path)) },
      onArrival: listener => { channel.on('arrival', (node, path, from) => listener(node, path, `${from.host}:${from.port}`)) },
      // One path: the transport's own counts, as before paths existed (`auth`, `replay`, …).
      rejects: () => only === undefined ? channel.rejects() : Object.fromEntries(only.rejects),
      close: async () => { await witness?.close(); await channel.close() },
    }
  }
}
