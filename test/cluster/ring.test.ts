/// Redundant heartbeat paths, live (issue #17 item 3): a second bridge carries a second heartbeat
/// path (`ring1`, eth1 on 10.214.0.0/24) beside the service network. Cutting n3's heartbeats on the
/// service network only (an nftables rule on eth0 in n3's namespace) must change nothing clients
/// see: no probe fails, no bucket moves, every node stays quorate, and status says which path to
/// n3 is silent. Cutting both paths then isolates n3 as a partition does.
import assert from 'node:assert/strict'
import { fileURLToPath } from 'node:url'
import { TestBed, inNs, beatPort, buckets, ringIp, type NodeProc } from './testbed.js'
import { Harness, sleep } from './harness.js'

const repo = fileURLToPath(new URL('../../..', import.meta.url))

async function cutOn (n: NodeProc, devices: readonly string[]): Promise<void> {
  const set = `{ ${devices.map(d => `"${d}"`).join(', ')} }`
  await inNs(n.ns, 'nft', `add table inet swcut; add chain inet swcut in { type filter hook input priority -300; }; add rule inet swcut in iifname ${set} udp dport ${beatPort} drop; ` +
    `add chain inet swcut out { type filter hook output priority -300; }; add rule inet swcut out oifname ${set} udp dport ${beatPort} drop`)
}

describe('cluster: two heartbeat paths (network namespaces)', function () {
  this.timeout(300_000)
  const bed = new TestBed(repo, { tag: 'r', ring: true })
  const h = new Harness(bed)

  before(async function () {
    await h.setUp(() => ({}), n => {
      const i = bed.nodes.indexOf(n)
      return { paths: [{ name: 'ring1', bind: `${ringIp(i)}:${beatPort}`, peers: bed.nodes.filter(p => p !== n).map(p => `${ringIp(bed.nodes.indexOf(p))}:${beatPort}`) }] }
    })
  })

  afterEach(function () { if (this.currentTest?.state === 'failed') h.failed = true })

  after(async function () { await h.tearDown() })

  it('cutting the service path of n3 changes nothing clients see, and status names the silent path', async () => {
    const victim = bed.nodes[2]!
    const before = await h.owners()
    const load = await h.load(h.first, 4, 10)
    const probes = await Promise.all([0, 1].map(async () => await h.probes(h.first, 5, 200)))
    await sleep(1000)
    const cutAt = Date.now()
    await cutOn(victim, ['eth0'])
    await sleep(3000)
    const views = await Promise.all(bed.nodes.map(async n => (await h.status(n))['default']!))
    const after = await h.owners()
    await inNs(victim.ns, 'nft', 'delete table inet swcut')
    await sleep(500)
    const attempts = await load.stop()
    const probed = (await Promise.all(probes.map(async p => await p.stop()))).flat().filter(p => p.s >= cutAt)
    const moved = [...before].filter(([b, o]) => after.get(b) !== o).length
    const n1 = views[0]!
    console.log(`    service path of n3 cut: ${probed.filter(p => !p.ok).length} of ${probed.length} probes failed, ${attempts.filter(a => !a.ok).length} of ${attempts.length} transactions; ${moved} buckets moved`)
    console.log(`    n1 says: ${n1.quorum?.lines.join(' | ')}; n3 says: ${views[2]?.quorum?.lines.join(' | ')}`)
    assert.ok(probed.length > 300, 'the probers hardly ran')
    assert.deepEqual(probed.filter(p => !p.ok).map(p => p.err), [], 'probes failed while one of two paths was cut')
    assert.deepEqual(h.unexplained(attempts.filter(a => !a.ok), 'one path cut'), [])
    assert.equal(moved, 0)
    assert.equal(after.size, buckets)
    for (const v of views) assert.equal(v.quorum?.action, 'serve')
    assert.ok(n1.quorum?.lines.some(l => /^n3: path service silent \d+ ms$/.test(l)), 'n1 does not say that the service path to n3 is silent')
  })

  it('cutting both paths isolates n3: it holds no bucket, the others own all', async () => {
    const victim = bed.nodes[2]!
    await h.settled(bed.nodes.map(n => n.name))
    await cutOn(victim, ['eth0', 'eth1'])
    await sleep(2500)
    const views = await Promise.all(bed.nodes.map(async n => (await h.status(n))['default']!))
    await inNs(victim.ns, 'nft', 'delete table inet swcut')
    await h.settled(bed.nodes.map(n => n.name))
    console.log(`    both paths cut: n3 owns ${views[2]?.owned.length} (${views[2]?.quorum?.state}); n1 + n2 own ${new Set([...views[0]!.owned, ...views[1]!.owned]).size}; n1 says ${views[0]?.quorum?.lines.join(' | ')}`)
    assert.equal(views[2]?.owned.length, 0)
    assert.equal(views[2]?.quorum?.state, 'minority')
    assert.equal(new Set([...views[0]!.owned, ...views[1]!.owned]).size, buckets)
  })
})
