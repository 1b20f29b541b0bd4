import assert from 'node:assert/strict'
import { encode, decode } from '../../../protocols/cluster/codec.js'
import { HeartbeatTransport } from '../../../protocols/cluster/transport.js'
import type { Heartbeat } from '../../../protocols/cluster/messages.js'

const key = Buffer.from('0123456789abcdef-test-key')

function beat (over: Partial<Heartbeat> = {}): Heartbeat {
  return {
    v: 1,
    type: 'heartbeat',
    cluster: 'default',
    node: 'n1',
    boot: 'b1',
    bootTs: Date.now() - 1000,
    seq: 1,
    ts: Date.now(),
    state: 'online',
    capacity: 1,
    weight: 1,
    load: { cpu: 0.1, memory: 0.2, queue: 0, poolBusy: 0.5 },
    mapVersion: 42,
    owned: new Uint8Array([1, 2, 3]),
    signatureVersion: 'sig1',
    configVersion: 'cfg1',
    healthy: true,
    failing: [],
    connections: 3,
    ...over,
  }
}

describe('cluster heartbeat codec', () => {
  it('round-trips a heartbeat', () => {
    const decoded = decode(encode(beat(), key), key)
    assert.ok(decoded.ok)
    assert.equal(decoded.message.node, 'n1')
    assert.deepEqual([...decoded.message.owned], [1, 2, 3])
    assert.equal(decoded.message.load.poolBusy, 0.5)
  })

  it('rejects a wrong key, a flipped payload byte and a truncated datagram', () => {
    const wire = encode(beat(), key)
    assert.deepEqual(decode(wire, Buffer.from('another-key-entirely')), { ok: false, reason: 'mac' })
    const flipped = Buffer.from(wire)
    flipped[flipped.length - 1] = (flipped[flipped.length - 1] ?? 0) ^ 1
    assert.deepEqual(decode(flipped, key), { ok: false, reason: 'mac' })
    assert.deepEqual(decode(wire.subarray(0, 20), key), { ok: false, reason: 'short' })
  })

  it('rejects an authenticated message that fails the schema', () => {
    const bad = encode({ ...beat(), state: 'bogus' } as unknown as Heartbeat, key)
    const decoded = decode(bad, key)
    assert.equal(decoded.ok, false)
    assert.equal(!decoded.ok && decoded.reason, 'schema')
  })
})

describe('cluster heartbeat transport', () => {
  let a: HeartbeatTransport
  let b: HeartbeatTransport
  afterEach(async () => { await a.close(); await b.close() })

  it('delivers authenticated beats and drops replays, old boots and stale timestamps', async () => {
    b = new HeartbeatTransport({ bind: { host: '127.0.0.1', port: 0 }, peers: [], key, cluster: 'default', selfId: 'n2', maxSkewMs: 5000 })
    const bAddr = await b.start()
    a = new HeartbeatTransport({ bind: { host: '127.0.0.1', port: 0 }, peers: [bAddr], key, cluster: 'default', selfId: 'n1', maxSkewMs: 5000 })
    await a.start()
    const got: number[] = []
    b.on('message', m => got.push(m.seq))
    const now = Date.now()
    a.send(beat({ seq: 5, ts: now }))
    a.send(beat({ seq: 5, ts: now })) // replay
    a.send(beat({ seq: 4, ts: now })) // older
    a.send(beat({ seq: 6, ts: now - 60_000 })) // stale
    a.send(beat({ seq: 1, boot: 'b0', bootTs: now - 5000, ts: now })) // an older boot
    a.send(beat({ seq: 1, boot: 'b2', bootTs: now, ts: now })) // a restart: new boot
    a.send(beat({ seq: 7, cluster: 'other', ts: now }))
    await new Promise(resolve => setTimeout(resolve, 200))
    assert.deepEqual(got, [5, 1])
    assert.equal(b.rejects.get('replay'), 3)
    assert.equal(b.rejects.get('skew'), 1)
    assert.equal(b.rejects.get('cluster'), 1)
  })
})
