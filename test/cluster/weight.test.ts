/// Weighted, load-following bucket maps in network namespaces: n1 has twice the capacity of n2 and
/// n3 and so owns about half the buckets; then n3's own scan pool is kept busy (big RESPMOD bodies
/// sent to its management address, not to the VIP) while a light load runs on the VIP. n3 must
/// advertise a lower weight and give buckets away, take them back once idle, and change its weight
/// only a few times on the way (damped: no flapping).
import assert from 'node:assert/strict'
import { fileURLToPath } from 'node:url'
import { TestBed, buckets } from './testbed.js'
import { Harness, sleep, type Status } from './harness.js'

const repo = fileURLToPath(new URL('../../..', import.meta.url))

interface Sample { t: number, weight: Map<string, number>, owned: Map<string, number> }

describe('cluster: weights from capacity and load (network namespaces)', function () {
  this.timeout(180_000)
  const bed = new TestBed(repo, { tag: 'w' })
  const h = new Harness(bed)

  before(async function () {
    await h.setUp(() => ({}), n => ({ loadWeighting: true, capacity: n.name === 'n1' ? 2 : 1 }))
  })

  afterEach(function () { if (this.currentTest?.state === 'failed') h.failed = true })

  after(async function () { await h.tearDown() })

  const sample = (status: Status, t: number): Sample => {
    const rows = status['default']?.nodes ?? []
    return { t, weight: new Map(rows.map(r => [r.id, r.weight])), owned: new Map(rows.map(r => [r.id, r.owned])) }
  }
  /// Times a node's advertised weight changed in a series of samples.
  const changes = (series: Sample[], id: string): number => series.slice(1).filter((s, i) => s.weight.get(id) !== series[i]?.weight.get(id)).length
  const describe = (series: Sample[], id: string): string => series.filter((s, i) => i === 0 || s.weight.get(id) !== series[i - 1]?.weight.get(id) || s.owned.get(id) !== series[i - 1]?.owned.get(id))
    .map(s => `+${(s.t / 1000).toFixed(1)}s w${s.weight.get(id)}/${s.owned.get(id)}`).join(' ')

  /// Polls n1's view until every node advertises its whole capacity (no load left in any weight),
  /// so bucket counts compare like with like; the last view if that does not happen in time.
  const settled = async (timeoutMs: number): Promise<Sample> => {
    const start = Date.now()
    for (;;) {
      const status = await h.status(bed.nodes[0]!)
      const rows = status['default']?.nodes ?? []
      const full = rows.length === bed.nodes.length && rows.every(r => r.weight === r.capacity)
      if (full || Date.now() - start > timeoutMs) return sample(status, Date.now() - start)
      await sleep(250)
    }
  }
  const assertFull = (s: Sample, when: string): void => {
    for (const id of ['n1', 'n2', 'n3']) assert.equal(s.weight.get(id), id === 'n1' ? 2 : 1, `${id}'s weight ${when}`)
  }

  it('gives a node with twice the capacity about twice the buckets', async () => {
    assertFull(await settled(40_000), 'with no load')
    // Full weights, and then every node holding exactly what the map gives it.
    await h.settled(bed.nodes.map(n => n.name))
    const status = await h.status(bed.nodes[0]!)
    const rows = status['default']?.nodes ?? []
    console.log(`    ${rows.map(r => `${r.id}: capacity ${r.capacity}, weight ${r.weight}, ${r.owned} buckets`).join('; ')}`)
    const owned = (id: string): number => rows.find(r => r.id === id)?.owned ?? 0
    assert.ok(owned('n1') > buckets * 0.4 && owned('n1') < buckets * 0.6, `n1 owns ${owned('n1')}`)
    for (const id of ['n2', 'n3']) assert.ok(owned(id) > buckets * 0.15 && owned(id) < buckets * 0.35, `${id} owns ${owned(id)}`)
    console.log(`    ${await h.spread()}`)
  })

  it('takes buckets from a node whose pool is busy and gives them back when it is idle, damped', async () => {
    const n3 = bed.nodes[2]!
    const watcher = bed.nodes[0]!
    const series: Sample[] = []
    const start = Date.now()
    const done = new AbortController()
    const marks: Array<[string, number]> = []
    const watching = (async () => {
      while (!done.signal.aborted) {
        try { series.push(sample(await h.status(watcher), Date.now() - start)) } catch {}
        await sleep(250)
      }
    })()
    const light = await h.load(h.first, 2, 50)
    await sleep(3000)
    // The baseline is the map with every node at full weight: the same map must come back at the end.
    const base = await settled(40_000)
    assertFull(base, 'under the light load, before n3 is made busy')
    const initial = base.owned.get('n3') ?? 0
    marks.push(['busy', Date.now() - start])
    const hammer = bed.spawnIn(bed.clientNs, process.execPath, h.tools, 'hammer', n3.ip, String(h.first.port), '2', '8')
    await sleep(15_000)
    const busy = series.filter(s => s.t >= (marks[0]?.[1] ?? 0))
    hammer.stdin!.end()
    let answered = ''
    hammer.stdout!.on('data', (d: Buffer) => { answered += d.toString() })
    await new Promise(resolve => hammer.on('exit', resolve))
    marks.push(['idle', Date.now() - start])
    // Back to full weight takes up to two held steps (weightHoldMs, 10 s) after the load has decayed.
    await sleep(5000)
    assertFull(await settled(40_000), 'once n3 is idle again')
    await sleep(2000)
    done.abort()
    await watching
    const attempts = await light.stop()
    const after = series.filter(s => s.t >= (marks[1]?.[1] ?? 0))
    console.log(`    n3 busy from +${((marks[0]?.[1] ?? 0) / 1000).toFixed(1)}s to +${((marks[1]?.[1] ?? 0) / 1000).toFixed(1)}s (${answered.trim()} 8 MiB scans); weight/buckets as n1 saw them:`)
    for (const id of ['n1', 'n2', 'n3']) console.log(`      ${id} (${changes(series, id)} weight changes): ${describe(series, id)}`)
    const minBusy = Math.min(...busy.map(s => s.owned.get('n3') ?? buckets))
    assert.ok(Math.min(...busy.map(s => s.weight.get('n3') ?? 1)) < 1, 'n3 never advertised a lower weight while busy')
    assert.ok(minBusy < initial, `n3 kept its ${initial} buckets while busy`)
    assert.equal(after.at(-1)?.weight.get('n3'), 1, 'n3 did not get its weight back once idle')
    assert.equal(after.at(-1)?.owned.get('n3'), initial, 'n3 did not get its buckets back once idle')
    for (const id of ['n1', 'n2', 'n3']) assert.ok(changes(series, id) <= 4, `${id} changed its weight ${changes(series, id)} times: flapping`)
    assert.deepEqual(h.unexplained(attempts.filter(a => !a.ok), 'weights'), [])
  })
})
