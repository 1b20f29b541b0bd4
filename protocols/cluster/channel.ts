/// Adapts the UDP heartbeat transport to the agent's Channel seam (src/cluster/runtime.ts), so
/// src/cluster never imports a protocol and node.ts wires the two with one call.
import { HeartbeatTransport } from './transport.js'
import { WitnessClient } from './witness-client.js'
import type { ChannelFactory } from '../../src/cluster/runtime.js'
import type { Logger } from '../../src/log.js'

export function heartbeatChannels (nodeId: string, log: Logger): ChannelFactory {
  return async (instance, key) => {
    const transport = new HeartbeatTransport({
      bind: instance.bind,
      peers: instance.peers,
      multicast: instance.multicast,
      key,
      cluster: instance.name,
      selfId: nodeId,
      maxSkewMs: instance.maxSkewMs,
    })
    // One line per reason and sender change would flood at 10 Hz; count them, log the first few.
    let logged = 0
    transport.on('rejected', (reason, from) => {
      if (reason !== 'self' && logged++ < 5) log.warn({ cluster: instance.name, reason, from }, 'heartbeat rejected')
    })
    await transport.start()
    const q = instance.quorum
    let witness: WitnessClient | undefined
    if (q?.witness !== undefined) {
      witness = new WitnessClient({ witness: q.witness, key, cluster: instance.name, node: nodeId, voters: q.members?.length ?? 1 + instance.peers.length, bind: q.witnessBind ?? { host: instance.bind.host, port: 0 } })
      try { await witness.start() } catch (err) { await transport.close(); throw err }
    }
    return {
      witness,
      send: beat => transport.send(beat),
      onMessage: listener => { transport.on('message', (m, from) => listener(m, `${from.host}:${from.port}`)) },
      rejects: () => Object.fromEntries(transport.rejects),
      close: async () => { await witness?.close(); await transport.close() },
    }
  }
}
