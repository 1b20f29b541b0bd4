/// Multicast-MAC mode in network namespaces: the nodes keep their own unicast MACs behind a learning
/// bridge (a switch), and the cluster MAC is a multicast MAC: the bridge floods it, the nodes accept
/// it (`ip maddress add`), and Scanwall's persistent arp table writes it into every ARP reply for the
/// virtual IP. The client is plain Linux and learns the VIP → multicast MAC entry from those replies
/// (Linux, host or router, stores the sender MAC of an ARP reply without checking its group bit:
/// net/ipv4/arp.c, arp_process(); routers following RFC 1812 §3.3.2 refuse it and need a static ARP
/// entry). Counters in nft arp tables on the client and the nodes show which MACs the replies carried.
import assert from 'node:assert/strict'
import { fileURLToPath } from 'node:url'
import { TestBed, inNs, sh, vip, multicastMac } from './testbed.js'
import { Harness, sleep } from './harness.js'

const repo = fileURLToPath(new URL('../../..', import.meta.url))

describe('cluster: multicast cluster MAC, nodes with their own MACs behind a learning bridge (network namespaces)', function () {
  this.timeout(180_000)
  const bed = new TestBed(repo, { tag: 'm', mode: 'multicast' })
  const h = new Harness(bed)

  /// ARP replies for the VIP that `ns` received (client) or sent (node), split by the sender MAC they carry.
  const arpCount = async (ns: string): Promise<{ cluster: number, other: number }> => {
    const json = JSON.parse(await inNs(ns, 'nft', '-j', 'list', 'table', 'arp', 'swtest')) as { nftables: Array<{ rule?: { comment?: string, expr: Array<{ counter?: { packets: number } }> } }> }
    const count = (comment: string): number => json.nftables.find(x => x.rule?.comment === comment)?.rule?.expr.find(e => e.counter !== undefined)?.counter?.packets ?? 0
    return { cluster: count('cluster'), other: count('other') }
  }
  const countArp = async (ns: string, hook: 'input' | 'output'): Promise<void> => {
    const match = `arp operation reply arp saddr ip ${vip}`
    await inNs(ns, 'nft', `add table arp swtest; add chain arp swtest c { type filter hook ${hook} priority 10; }; ` +
      `add rule arp swtest c ${match} arp saddr ether ${multicastMac} counter comment "cluster"; ` +
      `add rule arp swtest c ${match} arp saddr ether != ${multicastMac} counter comment "other"`)
  }
  const macOf = async (ns: string): Promise<string> => /link\/ether (\S+)/.exec(await sh('ip', '-n', ns, 'link', 'show', 'eth0'))?.[1] ?? '?'

  before(async function () {
    await h.setUp(() => ({}))
    await countArp(bed.clientNs, 'input')
    for (const n of bed.nodes) await countArp(n.ns, 'output')
  })

  afterEach(function () { if (this.currentTest?.state === 'failed') h.failed = true })

  after(async function () { await h.tearDown() })

  it('resolves the VIP to the multicast cluster MAC from the nodes\' ARP replies (no static entry), while each node keeps its own MAC', async () => {
    const run = await h.load()
    await sleep(500)
    const attempts = await run.stop()
    const macs = await Promise.all(bed.nodes.map(async n => await macOf(n.ns)))
    const entry = await bed.neighbour(vip)
    const client = await arpCount(bed.clientNs)
    console.log(`    node MACs ${macs.join(', ')}; client: ${vip} → ${entry?.mac} ${entry?.state}; ARP replies received: ${client.cluster} with the cluster MAC, ${client.other} with another`)
    assert.ok(attempts.some(a => a.ok), 'no transaction succeeded')
    assert.equal(new Set(macs).size, macs.length, 'the nodes share a MAC')
    assert.ok(macs.every(m => m !== multicastMac))
    assert.equal(entry?.mac, multicastMac)
    assert.notEqual(entry?.state, 'PERMANENT', 'the entry was learned, not set by hand')
    assert.ok(client.cluster >= 1)
    assert.equal(client.other, 0, 'a node answered ARP for the VIP with its own MAC')
  })

  it('spreads new connections over all three nodes (each ≥ 20 %), where the jhash twin predicts', async () => {
    console.log(`    ${await h.spread()}`)
  })

  it('fails over on SIGKILL, and the host of the killed process still answers ARP with the cluster MAC', async () => {
    const victim = bed.nodes[2]!
    await h.failover(victim, 'SIGKILL', async () => { victim.proc?.kill('SIGKILL') })
    await h.settled(['n1', 'n2'])
    // The client asks again: every host answers, the one whose Scanwall is dead included (its owner
    // tables are gone, its persistent arp table is not). Had it answered with its own unicast MAC,
    // a client that took that reply first would send every connection to a host that drops them.
    const before = await arpCount(victim.ns)
    await sh('ip', '-n', bed.clientNs, 'neigh', 'flush', 'to', vip, 'dev', 'eth0')
    const run = await h.load()
    await sleep(1000)
    const attempts = await run.stop()
    const after = await arpCount(victim.ns)
    const entry = await bed.neighbour(vip)
    const client = await arpCount(bed.clientNs)
    console.log(`    after the kill: ${victim.name} sent ${after.cluster - before.cluster} ARP replies with the cluster MAC, ${after.other} with its own; ` +
      `client: ${vip} → ${entry?.mac}; ${attempts.filter(a => a.ok).length} of ${attempts.length} transactions succeeded`)
    assert.ok(after.cluster > before.cluster, `${victim.name} did not answer ARP for the VIP after its process died`)
    assert.equal(after.other, 0)
    assert.equal(client.other, 0)
    assert.equal(entry?.mac, multicastMac)
    assert.deepEqual(h.unexplained(attempts.filter(a => !a.ok), 'after the kill'), [])
  })
})
