import assert from 'node:assert/strict'
import { engineIdFor, enterpriseNumber } from '../../protocols/snmp/engine-id.js'
import { counter64, dateAndTime, gauge32, providerDefinitions, readout, type MibSources } from '../../protocols/snmp/mib.js'
import { loadConfig } from '../../config/load.js'
import { Metrics } from '../../src/metrics.js'
import { StandaloneClusterView, BuiltinHealthView, type LocalNodeState } from '../../src/cluster/view.js'

describe('SNMP engine ID', () => {
  it('is RFC 3411 format 5 under the enterprise number, stable per node id and different between nodes', () => {
    const a = engineIdFor('node-a', 99999)
    assert.equal(a.length, 17)
    assert.equal(a.readUInt32BE(0), (0x80000000 | 99999) >>> 0, 'high bit set, then the PEN')
    assert.equal(a[4], 5, 'format: administratively assigned octets')
    assert.deepEqual(engineIdFor('node-a', 99999), a)
    assert.notDeepEqual(engineIdFor('node-b', 99999), a)
    assert.notDeepEqual(engineIdFor('node-a', 12345).subarray(0, 4), a.subarray(0, 4))
  })

  it('takes the PEN from the enterprise OID', () => {
    assert.equal(enterpriseNumber('1.3.6.1.4.1.99999'), 99999)
    assert.equal(enterpriseNumber('1.3.6.1.4.1.8072.9999'), 8072)
    assert.throws(() => enterpriseNumber('1.3.6.1.2.1'), RangeError)
  })
})

describe('SNMP value encodings', () => {
  it('encodes Counter64 as 8 big-endian bytes, past 2^32', () => {
    assert.equal(counter64(2 ** 40 + 5).readBigUInt64BE(), 2n ** 40n + 5n)
    assert.equal(counter64(-3).readBigUInt64BE(), 0n)
  })

  it('clamps Gauge32', () => {
    assert.equal(gauge32(2 ** 33), 4_294_967_295)
    assert.equal(gauge32(-1), 0)
    assert.equal(gauge32(7.9), 7)
  })

  it('encodes DateAndTime (RFC 2579) in UTC, and the zero date for "never"', () => {
    const b = dateAndTime(Date.UTC(2026, 10, 27, 23, 5, 9, 750))
    assert.deepEqual([...b], [0x07, 0xea, 11, 27, 23, 5, 9, 7, 0x2b, 0, 0])
    assert.equal(dateAndTime(0).length, 8)
  })
})

describe('SCANWALL-MIB readout', () => {
  function sources (metrics: Metrics, inFlight: number, queueDepth: number): MibSources {
    const local: LocalNodeState = { nodeId: 'n1', address: '127.0.0.1:1344', metrics, maxQueue: 4, queueDepth: () => queueDepth, signatureCount: () => 0, signatureVersion: () => 'main:1 daily:2' }
    return {
      nodeId: 'n1',
      version: '1.2.3',
      metrics,
      scan: { dbVersion: 'v', signatureCount: 0, signatures: { builtAt: 0 }, poolSize: 2, inFlight, queueDepth },
      cluster: new StandaloneClusterView(local),
      health: new BuiltinHealthView(local),
    }
  }

  it('reads counters from the live Metrics object and sums requests over services', () => {
    const m = new Metrics()
    m.objectsScanned = 7
    m.service('avscan').requests = 3
    m.service('clamd').requests = 4
    m.latency.record(2)
    m.latency.record(4)
    const r = readout(sources(m, 5, 2))
    assert.equal(r.objects, 7)
    assert.equal(r.requests, 7)
    assert.equal(r.poolBusy, 2, 'in flight minus queued, capped at the pool size')
    assert.equal(r.latencyAvgUs, 3000)
    m.objectsScanned++
    assert.equal(readout(sources(m, 0, 0)).objects, 8, 'no copy: the next read sees the change')
  })

  it('derives the built-in health checks and the one-node cluster row from live state', () => {
    const m = new Metrics()
    m.setState('active')
    const s = sources(m, 4, 4)
    assert.deepEqual(s.health.tests().map(t => [t.name, t.status]), [['signatures-loaded', 'failed'], ['scan-queue', 'failed']])
    const [row] = s.cluster.nodes()
    assert.equal(row?.state, 'active')
    assert.equal(row?.load, 100)
  })

  it('declares every column read-only except the not-accessible index', () => {
    for (const p of providerDefinitions('1.3.6.1.4.1.99999')) {
      for (const c of p.tableColumns ?? []) assert.equal(c.maxAccess, c.number === 1 ? 0 : 2, `${p.name}.${c.name}`)
      if (p.tableColumns === undefined) assert.equal(p.maxAccess, 2, p.name)
    }
  })
})

describe('Metrics node state', () => {
  it('emits one state event per change', () => {
    const m = new Metrics()
    const seen: string[] = []
    m.events.on('state', e => seen.push(`${e.from}>${e.to}`))
    m.setState('active')
    m.setState('active')
    m.setState('draining')
    assert.deepEqual(seen, ['starting>active', 'active>draining'])
  })
})

describe('snmp config', () => {
  const user = { name: 'mon', authProtocol: 'sha256', authKey: 'long-enough', privProtocol: 'aes', privKey: 'long-enough' }

  it('accepts authPriv users and v3/v2c trap targets', () => {
    const c = loadConfig({ env: {}, overrides: { snmp: { users: [user], trapTargets: [{ host: '127.0.0.1', port: 162, version: 'v3', user: 'mon' }, { host: '127.0.0.1', port: 162, version: 'v2c', community: 'x' }] } } })
    assert.equal(c.snmp.users[0]?.authProtocol, 'sha256')
    assert.equal(c.snmp.trapTargets.length, 2)
  })

  for (const [what, snmp, pattern] of [
    ['MD5 authentication', { users: [{ ...user, authProtocol: 'md5' }] }, /snmp\.users.*authProtocol/],
    ['DES privacy', { users: [{ ...user, privProtocol: 'des' }] }, /snmp\.users.*privProtocol/],
    ['a key under 8 characters', { users: [{ ...user, authKey: 'short' }] }, /snmp\.users.*authKey/],
    ['a v3 target without a user', { trapTargets: [{ host: 'h', port: 162, version: 'v3' }] }, /snmp\.trapTargets.*user/],
    ['a v2c target without a community', { trapTargets: [{ host: 'h', port: 162, version: 'v2c' }] }, /snmp\.trapTargets.*community/],
    ['an enterprise OID outside enterprises', { enterpriseOid: '1.3.6.1.2.1.99' }, /snmp\.enterpriseOid/],
  ] as const) {
    it(`rejects ${what} with one line naming the key`, () => {
      assert.throws(() => loadConfig({ env: {}, overrides: { snmp } }), (err: Error) => pattern.test(err.message) && !err.message.includes('\n'))
    })
  }
})
