import assert from 'node:assert/strict'
import { pino } from 'pino'
import { ClusterAgent } from '../../../src/cluster/agent.js'
import { HeartbeatTransport } from '../../../protocols/cluster/transport.js'
import type { OwnershipSink, PeerBeat } from '../../../src/cluster/types.js'
import { mapVersion } from '../../../src/cluster/buckets.js'

const key = Buffer.from('agent-test-key-0123456789')
const log = pino({ level: 'silent' })

/// Records what the kernel would hold and the moments two nodes held the same bucket.
class Kernel {
  readonly held = new Map<string, Set<number>>()
  overlaps = 0
  sink (id: string): OwnershipSink {
    return {
      apply: async (owned) => {
        await new Promise(resolve => setTimeout(resolve, 3)) // nft takes a moment
        this.held.set(id, new Set(owned))
        for (const [other, set] of this.held) if (other !== id) for (const b of owned) if (set.has(b)) this.overlaps++
      },
    }
  }
}

const facts = { load: () => ({ cpu: 0, memory: 0, queue: 0, poolBusy: 0 }), connections: () => 0, signatureVersion: () => 'sig' }

describe('cluster agent over loopback heartbeats', () => {
  const transports: HeartbeatTransport[] = []
  const agents: ClusterAgent[] = []
  afterEach(async () => {
    for (const a of agents.splice(0)) await a.stop()
    for (const t of transports.splice(0)) await t.close()
  })

  const until = async (cond: () => boolean, ms = 5000): Promise<void> => {
    const end = Date.now() + ms
    while (!cond()) {
      if (Date.now() > end) throw new Error('condition not reached')
      await new Promise(resolve => setTimeout(resolve, 10))
    }
  }

  async function cluster (ids: string[], kernel: Kernel): Promise<Map<string, ClusterAgent>> {
    const ts = ids.map(id => new HeartbeatTransport({ bind: { host: '127.0.0.1', port: 0 }, peers: [], key, cluster: 'c', selfId: id, maxSkewMs: 5000 }))
    const addrs = await Promise.all(ts.map(async t => await t.start()))
    const out = new Map<string, ClusterAgent>()
    ids.forEach((id, i) => {
      const t = ts[i]!
      const peers = addrs.filter((_, j) => j !== i)
      // missed: 10 (500 ms): these tests are about ownership hand-over, not detection speed; a shorter
      // deadline let a GC pause in a loaded CI run declare a live peer failed (a false overlap).
      const agent = new ClusterAgent({ cluster: 'c', nodeId: id, buckets: 64, capacity: 1, intervalMs: 50, missed: 10, joinMs: 250, loadWeighting: false, loadSmoothingMs: 5000, weightHoldMs: 10_000, configVersion: 'v' },
        { sink: kernel.sink(id), facts, send: beat => { for (const p of peers) t.sendTo(beat, p) }, log })
      t.on('message', m => agent.receive(m))
      transports.push(t)
      agents.push(agent)
      out.set(id, agent)
    })
    for (const a of out.values()) a.start()
    return out
  }

  const total = (agents: Iterable<ClusterAgent>): number[] => [...agents].flatMap(a => [...a.owned])

  it('converges on every bucket owned exactly once, and never lets two nodes hold a bucket on a drain', async () => {
    const kernel = new Kernel()
    const nodes = await cluster(['a', 'b', 'c'], kernel)
    await until(() => total(nodes.values()).length === 64 && new Set(total(nodes.values())).size === 64 && [...nodes.values()].every(a => a.owned.length > 10))
    kernel.overlaps = 0
    nodes.get('b')!.setAdmin('offline')
    await until(() => nodes.get('b')!.owned.length === 0 && total(nodes.values()).length === 64)
    assert.equal(kernel.overlaps, 0)
    assert.equal(nodes.get('b')!.state, 'draining')
    nodes.get('b')!.setAdmin('online')
    await until(() => nodes.get('b')!.owned.length > 10 && new Set(total(nodes.values())).size === 64 && total(nodes.values()).length === 64)
    assert.equal(kernel.overlaps, 0)
  })

  it('takes over the buckets of a silent peer after the missed heartbeats', async () => {
    const kernel = new Kernel()
    const nodes = await cluster(['a', 'b'], kernel)
    await until(() => nodes.get('a')!.owned.length > 10 && nodes.get('b')!.owned.length > 10 && total(nodes.values()).length === 64)
    const b = nodes.get('b')!
    await b.stop() // its last heartbeat says offline; then silence
    agents.splice(agents.indexOf(b), 1)
    // A generous deadline: the hand-over is what is tested here, not its speed (a loaded CI machine
    // once took longer than the default 5 s).
    await until(() => nodes.get('a')!.owned.length === 64, 20_000)
    assert.equal(nodes.get('a')!.status().find(r => r.id === 'b')?.state, 'offline')
  })

  it('announces a new bucket map at once, not at the next interval, and only when the map changes', async () => {
    const sent: PeerBeat[] = []
    // An interval far longer than the test: every heartbeat seen here was sent because of an event.
    const agent = new ClusterAgent({ cluster: 'c', nodeId: 'a', buckets: 64, capacity: 1, intervalMs: 60_000, missed: 5, joinMs: 0, loadWeighting: false, loadSmoothingMs: 5000, weightHoldMs: 10_000, configVersion: 'v' },
      { sink: new Kernel().sink('a'), facts, send: beat => sent.push(beat), log })
    agents.push(agent)
    agent.start()
    const beat = { v: 1, type: 'heartbeat', cluster: 'c', node: 'b', boot: 'b1', bootTs: 1, state: 'online', capacity: 1, weight: 1 } as const
    const rest = { load: facts.load(), mapVersion: 0, owned: new Uint8Array(8), signatureVersion: 'sig', configVersion: 'v', healthy: true, failing: [], connections: 0 }
    const peer = (seq: number): PeerBeat => ({ ...beat, ...rest, seq, ts: Date.now() })
    const before = sent.length
    agent.receive(peer(1))
    const expected = mapVersion([{ id: 'a', weight: 1 }, { id: 'b', weight: 1 }], 64)
    assert.equal(agent.map.version, expected)
    assert.equal(sent.length, before + 1, 'no heartbeat announced the new map')
    assert.equal(sent.at(-1)?.mapVersion, expected)
    agent.receive(peer(2))
    assert.equal(sent.length, before + 1, 'a heartbeat that changed nothing was answered with one')
  })
})
