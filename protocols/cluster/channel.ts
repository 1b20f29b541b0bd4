/// Adapts the UDP heartbeat transport to the agent's Channel seam (src/cluster/runtime.ts), so
/// src/cluster never imports a protocol and node.ts wires the two with one call.
import { HeartbeatTransport } from './transport.js'
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
    return {
      send: beat => transport.send(beat),
      onMessage: listener => { transport.on('message', (m, from) => listener(m, `${from.host}:${from.port}`)) },
      rejects: () => Object.fromEntries(transport.rejects),
      close: async () => { await transport.close() },
    }
  }
}
