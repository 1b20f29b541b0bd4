import assert from 'node:assert/strict'
import { bucketElements, renderBase, renderOwned, renderOwnerSetup } from '../../../src/cluster/netfilter.js'
import { evaluate } from '../../../src/cluster/health/expression.js'
import { parseInstances } from '../../../src/cluster/config.js'

const o = { name: 'web', vip: '10.213.0.100', ports: [1344, 11344], buckets: 256, seed: 0x5ca11, mark: 0x5357, mode: 'hub' as const, clusterMac: '', nft: 'nft' }

describe('cluster netfilter rendering', () => {
  it('compresses bucket lists into ranges', () => {
    assert.equal(bucketElements([7, 1, 2, 3, 9, 10]), '1-3, 7, 9-10')
    assert.equal(bucketElements([]), '')
  })

  it('renders one atomic line: flush, then accept-mark exactly the owned buckets with the explicit seed', () => {
    const line = renderOwned(o, [0, 1, 5])
    assert.ok(!line.includes('\n'))
    assert.match(line, /^flush chain ip scanwall_web in; add rule ip scanwall_web in ip daddr 10\.213\.0\.100 tcp dport \{ 1344, 11344 \} ct state new jhash ip saddr \. tcp sport mod 256 seed 0x0005ca11 \{ 0-1, 5 \}/)
    assert.equal(renderOwned(o, []), 'flush chain ip scanwall_web in')
  })

  it('renders the base table that drops unowned new, stateless mid-stream and other ports, never rejects', () => {
    const base = renderBase(o)
    assert.match(base, /ct state new meta mark != 0x00005357 drop/)
    assert.match(base, /ct state invalid drop/)
    assert.doesNotMatch(base, /reject/)
    assert.match(base, /^table ip scanwall_base_web \{\}\nflush table ip scanwall_base_web/)
  })

  it('creates the owner table, and in multicast mode the PACKET_HOST fix in it and the ARP rewrite in a persistent table', () => {
    assert.match(renderOwnerSetup(o)[0] ?? '', /flags owner/)
    assert.match(renderBase(o), /\ntable arp scanwall_base_web \{\}\ndelete table arp scanwall_base_web\n$/)
    const m = { ...o, mode: 'multicast' as const, clusterMac: '01:00:5e:7f:00:64' }
    const owner = renderOwnerSetup(m).join('\n')
    assert.match(owner, /meta pkttype set host/)
    // A host whose agent died must still answer ARP with the cluster MAC, never its own.
    assert.doesNotMatch(owner, /arp/)
    assert.match(renderBase(m), /table arp scanwall_base_web \{\}\nflush table arp scanwall_base_web\n[\s\S]*arp operation reply arp saddr ip 10\.213\.0\.100 arp saddr ether set 01:00:5e:7f:00:64/)
  })
})

describe('cluster health expressions and config', () => {
  const results = new Map([['a', true], ['b', false]])
  it('combines tests with all / any / not; unknown results pass', () => {
    assert.equal(evaluate({ all: ['a', 'b'] }, results), false)
    assert.equal(evaluate({ any: ['a', 'b'] }, results), true)
    assert.equal(evaluate({ all: ['a', { not: 'b' }] }, results), true)
    assert.equal(evaluate('c', results), true)
  })

  it('fills instance defaults for sub-second failover and rejects bad instances', () => {
    const [i] = parseInstances([{ vip: '10.213.0.100', peers: ['10.213.0.2:5405'] }])
    assert.equal(i?.name, 'default')
    assert.equal(i?.intervalMs, 100)
    // 7 with quorum (on with a peer): a node that lost quorum must release before the deadline.
    assert.equal(i?.missed, 7)
    assert.equal(parseInstances([{ vip: '10.213.0.100' }])[0]?.missed, 5)
    assert.ok((i?.intervalMs ?? 0) * (i?.missed ?? 0) < 1000)
    assert.throws(() => parseInstances([{ vip: 'nope' }]), /vip/)
    assert.throws(() => parseInstances([{ vip: '10.0.0.1', health: { tests: [], expression: 'x' } }]), /unknown test 'x'/)
    assert.throws(() => parseInstances([{ vip: '10.0.0.1' }, { vip: '10.0.0.2' }]), /name/)
  })
})
