/// Partitions, live (issue #17): n3's heartbeats are cut by an nftables rule in its own namespace
/// (both ways, then its outgoing heartbeats only) while the data plane stays up, so n3 still sees
/// every client SYN and could answer it. Two probers open ~400 fresh connections/s to the VIP, each
/// with a 200 ms connect limit, beside the ICAP load. Quorum must make n3 (1 of 3 votes) release its
/// buckets and the majority take them: failures stop within the failover window (< 1 s), n3 owns no
/// bucket and says `minority`, n1 and n2 own all; after the cut heals n3 gets its share back with
/// zero failed transactions. The same in both bed modes: hub (one shared cluster MAC behind a
/// flooding bridge) and multicast (own MACs, the VIP answered with a multicast MAC).
import assert from 'node:assert/strict'
import { fileURLToPath } from 'node:url'
import { readFileSync } from 'node:fs'
import { TestBed, inNs, beatPort, buckets } from './testbed.js'
import { NftSession } from './nft-session.js'
import { Harness, sleep, type Attempt } from './harness.js'
import { failoverWindow, describeWindow, drainWindow } from './window.js'
import type { Probe } from './prober.js'

const repo = fileURLToPath(new URL('../../..', import.meta.url))

/// Two probers, a fresh connection every 5 ms each: ~400 new connections/s.
const probers = 2
const everyMs = 5
const connectMs = 200
const windowLimitMs = 1000

type Cut = 'both ways' | 'outgoing only'

/// The rule that drops n's heartbeats in its own namespace: both directions, or only what it sends.
function cut (how: Cut): string {
  const out = `add chain inet swcut out { type filter hook output priority -300; }; add rule inet swcut out udp dport ${beatPort} drop`
  const inp = `add chain inet swcut in { type filter hook input priority -300; }; add rule inet swcut in udp dport ${beatPort} drop`
  return `add table inet swcut; ${how === 'both ways' ? `${inp}; ${out}` : out}`
}

const heal = 'delete table inet swcut'

for (const mode of ['hub', 'multicast'] as const) {
  describe(`cluster: partitions with quorum (network namespaces, ${mode} mode)`, function () {
    this.timeout(300_000)
    const bed = new TestBed(repo, { tag: mode === 'hub' ? 'p' : 'q', mode })
    const h = new Harness(bed)

    // The voting members named explicitly here; the other suites run on the default derived from `peers`.
    before(async function () {
      await h.setUp(() => ({}), () => ({ members: bed.nodes.map(n => n.name) }))
      // 400 connections/s from 4001 probe ports would run into the client's own TIME_WAIT entries
      // within seconds; the client namespace keeps none (the bed's client only, never the nodes).
      await inNs(bed.clientNs, 'sysctl', '-qw', 'net.ipv4.tcp_max_tw_buckets=0')
    })

    afterEach(function () { if (this.currentTest?.state === 'failed') h.failed = true })

    after(async function () { await h.tearDown() })

    for (const how of ['both ways', 'outgoing only'] as const) {
      it(`cuts n3's heartbeats ${how}: failures stop < ${windowLimitMs} ms after the cut, n3 holds no bucket and says minority, zero failures after the heal`, async () => {
        const victim = bed.nodes[2]!
        const others = bed.nodes.filter(n => n !== victim)
        // The cut's clock starts when the rule is written to an nft already running there (nft-session.ts).
        const nft = await NftSession.start(victim.ns)
        await h.settled(bed.nodes.map(n => n.name))
        await bed.resetServed()
        const load = await h.load(h.first, 4, 10)
        const probes = await Promise.all(Array.from({ length: probers }, async () => await h.probes(h.first, everyMs, connectMs)))
        await sleep(1500)
        const map = await h.owners()
        const cutAt = Date.now()
        await nft.run(cut(how))
        const cutMs = Date.now() - cutAt
        await sleep(3000)
        const during = await Promise.all(bed.nodes.map(async n => (await h.status(n))['default']!))
        const healAt = Date.now()
        await nft.run(heal)
        await nft.close()
        await h.settled(bed.nodes.map(n => n.name), 15_000)
        const settledMs = Date.now() - healAt
        await sleep(1500)
        const attempts: Attempt[] = await load.stop()
        const probed: Probe[] = (await Promise.all(probes.map(async p => await p.stop()))).flat()

        const ownerOf = (lport: number): string | undefined => h.ownerOf(map, lport)
        const window = failoverWindow(probed.filter(p => p.s < healAt), cutAt, ownerOf, victim.name)
        const beforeCut = probed.filter(p => p.s < cutAt)
        const back = drainWindow(probed.filter(p => p.s >= healAt), everyMs)
        const [v, ...rest] = [during[2]!, during[0]!, during[1]!]
        const majorityOwned = new Set(rest.flatMap(s => s.owned))
        const rate = Math.round(1000 * probed.filter(p => p.s >= cutAt && p.s < cutAt + 1000).length / 1000)
        console.log(`    cut ${how} (rule in after ${cutMs} ms): ${describeWindow(window)}; ~${rate} probes/s`)
        console.log(`    during the cut: ${victim.name} owns ${v.owned.length}, quorum ${v.quorum?.state}/${v.quorum?.action} (${v.quorum?.lines.join(' | ')}); ` +
          `${others.map((n, i) => `${n.name} owns ${rest[i]?.owned.length} (${rest[i]?.quorum?.state})`).join(', ')}`)
        console.log(`    heal: settled in ${settledMs} ms; moving buckets without a SYN-ACK for ${back.windowMs} ms (${back.failed} of ${back.total} probes); ` +
          `load ${attempts.length} transactions, ${attempts.filter(a => !a.ok).length} failed (${attempts.filter(a => !a.ok && a.s >= healAt).length} after the heal)`)
        console.log(`    ${victim.name} log: ${readFileSync(victim.log, 'utf8').split('\n').filter(l => l.includes('"msg":"quorum:') && Date.parse((/"time":"([^"]+)"/.exec(l) ?? [])[1] ?? '') >= cutAt).map(l => (/"msg":"([^"]+)"/.exec(l) ?? [])[1]).slice(0, 4).join(' → ')}`)

        assert.ok(beforeCut.length > 100 && beforeCut.every(p => p.ok), 'probes failed before the cut')
        assert.ok(window.total > 300, 'the probers hardly ran during the cut')
        assert.ok(window.windowMs < windowLimitMs, `new connections failed until +${window.windowMs} ms after the cut (≥ ${windowLimitMs} ms)`)
        assert.equal(v.owned.length, 0, `${victim.name} still owns buckets behind its cut`)
        assert.equal(v.quorum?.state, 'minority')
        for (const s of rest) assert.equal(s.quorum?.state, 'quorate')
        assert.equal(majorityOwned.size, buckets, 'the majority does not own every bucket')
        assert.deepEqual(back.errors, [], 'probes were reset or refused after the heal')
        assert.deepEqual(h.unexplained(attempts.filter(a => !a.ok && a.s >= healAt), 'after the heal', victim.name), [], 'transactions failed after the heal')
        assert.deepEqual(h.unexplained(attempts.filter(a => !a.ok && ownerOf(a.lport) !== victim.name), 'on the majority\'s buckets', victim.name), [])
      })
    }
  })
}
