/// The gapless drain, measured: `scanwall node offline` hands its buckets to the others while a
/// prober in the client namespace opens a fresh connection to one of those moving buckets every
/// 10 ms, each with a 200 ms connect limit (issue #10, item 11). The window in which such a
/// connection gets no SYN-ACK is the issue's target of 50 ms: the median of five drains of different
/// nodes must meet it, and no single drain may take twice as long (a hand-over that waited for a
/// heartbeat interval, as before, took ~270 ms). Why not every drain under 50 ms: the window is one
/// datagram plus one nft transaction on each side, and on this 2-core machine a starved nft process
/// alone has taken 36 ms; the figures are printed and kept in docs/cluster.md. No probe may be reset
/// (two owners of a bucket), and the load's transactions must all succeed.
import assert from 'node:assert/strict'
import { fileURLToPath } from 'node:url'
import { readFileSync } from 'node:fs'
import { TestBed, sh, type NodeProc } from './testbed.js'
import { Harness, sleep } from './harness.js'
import { drainWindow } from './window.js'
import { parseOffline } from '../../src/cluster/control-reply.js'

const repo = fileURLToPath(new URL('../../..', import.meta.url))

const runs = 5
const everyMs = 10
const connectMs = 200
const targetMs = 50
/// No single hand-over may take this long: twice the target, well below a heartbeat-paced one.
const ceilingMs = 2 * targetMs

/// The hand-over as the nodes logged it: when the victim's filter released its buckets (and how long
/// its nft transaction took), and when each peer's filter took its share, relative to the release.
function handover (bed: TestBed, victim: NodeProc, since: number): string {
  const events = (n: NodeProc): Array<Record<string, unknown> & { at: number }> => readFileSync(n.log, 'utf8').split('\n').filter(l => l.startsWith('{'))
    .map(l => JSON.parse(l) as Record<string, unknown>).map(j => Object.assign(j, { at: Date.parse(String(j['time'])) })).filter(j => j.at >= since && j['msg'] === 'bucket filter applied')
  const release = events(victim).find(j => Number(j['released']) > 0)
  if (release === undefined) return 'no release logged'
  const takes = bed.nodes.filter(n => n !== victim).map(n => {
    const took = events(n).find(j => Number(j['gained']) > 0)
    return `${n.name} took ${String(took?.['gained'] ?? 0)} at ${took === undefined ? 'never' : `+${took.at - release.at} ms (nft ${String(took['applyMs'])} ms)`}`
  })
  return `released (nft ${String(release['applyMs'])} ms); ${takes.join(', ')}`
}

describe('cluster: gapless drain (network namespaces)', function () {
  this.timeout(300_000)
  const bed = new TestBed(repo, { tag: 'd' })
  const h = new Harness(bed)

  before(async function () { await h.setUp(() => ({})) })

  afterEach(function () { if (this.currentTest?.state === 'failed') h.failed = true })

  after(async function () { await h.tearDown() })

  it(`hands a draining node's buckets over, and back on \`online\`, with < ${targetMs} ms without a SYN-ACK, no reset and no failed transaction (${runs} drains)`, async () => {
    const windows: Array<{ out: number, back: number }> = []
    for (let i = 0; i < runs; i++) {
      const victim = bed.nodes[i % bed.nodes.length]!
      await h.settled(bed.nodes.map(n => n.name))
      // Rendezvous hashing: the buckets that leave with the node are the ones that come back to it.
      const moving = (await h.status(victim))['default']!.owned
      const load = await h.load()
      const probing = await h.probes(h.first, everyMs, connectMs, moving)
      await sleep(1000)
      const since = Date.now()
      const out = await sh(process.execPath, h.cli, 'node', 'offline', '--config', victim.config)
      await sleep(500)
      const back = Date.now()
      await sh(process.execPath, h.cli, 'node', 'online', '--config', victim.config)
      await h.settled(bed.nodes.map(n => n.name))
      await sleep(500)
      const [attempts, probed] = [await load.stop(), await probing.stop()]
      const result = parseOffline(JSON.parse(out))
      assert.ok('drained' in result, out)
      const drain = drainWindow(probed.filter(p => p.s < back), everyMs)
      const rejoin = drainWindow(probed.filter(p => p.s >= back), everyMs)
      windows.push({ out: drain.windowMs, back: rejoin.windowMs })
      console.log(`    drain ${i + 1} (${victim.name}, ${moving.length} buckets): no SYN-ACK for ${drain.windowMs} ms (bracketed by successes: ${drain.bracketMs} ms), ` +
        `${drain.failed} of ${drain.total} probes unanswered; back online: ${rejoin.windowMs} ms (${rejoin.bracketMs} ms), ${rejoin.failed} of ${rejoin.total}; ` +
        `${attempts.length} transactions, ${attempts.filter(a => !a.ok).length} failed; drained in ${result.ms} ms`)
      console.log(`      hand-over: ${handover(bed, victim, since)}; load average ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}`)
      assert.equal(result.drained, true)
      assert.deepEqual([...drain.errors, ...rejoin.errors], [], 'probes to moving buckets were reset or refused')
      assert.deepEqual(h.unexplained(attempts.filter(a => !a.ok), `drain ${i + 1}`), [])
      assert.ok(drain.total > 30 && rejoin.total > 30, 'the prober hardly ran')
    }
    console.log(`    drain windows: ${windows.map(w => w.out).join(', ')} ms; back online: ${windows.map(w => w.back).join(', ')} ms`)
    const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Infinity
    assert.ok(median(windows.map(w => w.out)) < targetMs && median(windows.map(w => w.back)) < targetMs, `median hand-over window at or over the ${targetMs} ms target`)
    for (const w of windows) assert.ok(w.out < ceilingMs && w.back < ceilingMs, `moving buckets went without a SYN-ACK for ${w.out} ms (drain) / ${w.back} ms (online) (ceiling < ${ceilingMs} ms)`)
  })
})
