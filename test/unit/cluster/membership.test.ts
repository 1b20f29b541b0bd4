import assert from 'node:assert/strict'
import { Membership, describeMembership, type MembershipSnapshot } from '../../../src/cluster/membership.js'

/// Three (or more) Membership trackers exchanging reports every 100 ms over a simulated set of
/// directed links per path, on a shared virtual clock: the deadlines are exercised exactly.
class Sim {
  readonly nodes = new Map<string, Membership>()
  readonly last = new Map<string, MembershipSnapshot>()
  /// `${path}:${from}>${to}` links that are down.
  readonly down = new Set<string>()
  /// `${from}>${to}`: the action `from` was in when its last heartbeat reached `to` (a fenced node
  /// claims no bucket: what agent.ts checks before taking one).
  readonly delivered = new Map<string, string>()
  t = 0
  constructor (ids: string[], readonly paths = ['ring0'], opts: Partial<{ waitForAll: boolean, graceMs: number }> = {}) {
    for (const id of ids) {
      this.nodes.set(id, new Membership({ self: id, voters: ids, paths, suspectMs: 250, deadMs: 500, graceMs: opts.graceMs ?? 50, waitForAll: opts.waitForAll ?? true, stallMs: 1000 }, 0))
    }
  }

  cut (from: string, to: string, path = 'ring0'): void { this.down.add(`${path}:${from}>${to}`) }
  heal (): void { this.down.clear() }

  /// Every node evaluates, then "sends" its report to every peer on every path whose link is up.
  step (ms = 100): void {
    this.t += ms
    for (const [id, m] of this.nodes) this.last.set(id, m.evaluate(this.t))
    for (const [from, snap] of this.last) {
      for (const [to, m] of this.nodes) {
        if (to === from) continue
        let got = false
        for (const path of this.paths) {
          if (this.down.has(`${path}:${from}>${to}`)) continue
          m.arrived(from, path, this.t)
          got = true
        }
        if (got) {
          m.report(from, snap.report)
          this.delivered.set(`${from}>${to}`, snap.action)
        }
      }
    }
  }

  run (ms: number): void { for (let i = 0; i < ms / 100; i++) this.step() }
  action (id: string): string { return this.last.get(id)?.action ?? '?' }
  /// `by` would take `victim`'s buckets now: it serves, its takeover deadline has passed, the victim
  /// is outside its partition, and the victim is silent or its last heartbeat claims nothing.
  wouldTake (by: string, victim: string): boolean {
    const snap = this.last.get(by)
    const peer = snap?.peers.find(p => p.id === victim)
    if (snap === undefined || peer === undefined || snap.action !== 'serve' || peer.inPartition) return false
    if (!this.nodes.get(by)!.takeoverReady(this.t)) return false
    return !peer.heard || this.delivered.get(`${victim}>${by}`) === 'fence'
  }

  actions (): string { return [...this.nodes.keys()].map(id => `${id}:${this.action(id)}`).join(' ') }
}

describe('cluster membership over time (deadlines, grace, paths)', () => {
  it('a fresh cluster serves once every voter has been seen; a lone fresh node never does', () => {
    const sim = new Sim(['n1', 'n2', 'n3'])
    sim.run(500)
    assert.equal(sim.actions(), 'n1:serve n2:serve n3:serve')
    const lone = new Sim(['n1', 'n2', 'n3'])
    lone.cut('n2', 'n1'); lone.cut('n3', 'n1'); lone.cut('n1', 'n2'); lone.cut('n1', 'n3')
    lone.run(2000)
    assert.equal(lone.action('n1'), 'fence')
    assert.equal(lone.last.get('n1')?.decision.state, 'minority')
  })

  for (const [name, cutFn] of [
    ['both ways', (s: Sim) => { for (const p of ['n1', 'n2']) { s.cut('n3', p); s.cut(p, 'n3') } }],
    ['outbound only', (s: Sim) => { s.cut('n3', 'n1'); s.cut('n3', 'n2') }],
    ['inbound only', (s: Sim) => { s.cut('n1', 'n3'); s.cut('n2', 'n3') }],
  ] as const) {
    it(`an isolated node (heartbeats cut ${name}) fences before the majority may take its buckets, and rejoins after the heal`, () => {
      const sim = new Sim(['n1', 'n2', 'n3'])
      sim.run(500)
      cutFn(sim)
      const cutAt = sim.t
      let fencedAt: number | undefined
      let readyAt: number | undefined
      while (sim.t < cutAt + 2000) {
        sim.step(10)
        if (fencedAt === undefined && sim.action('n3') === 'fence') fencedAt = sim.t
        if (readyAt === undefined && sim.wouldTake('n1', 'n3')) readyAt = sim.t
        assert.notEqual(sim.action('n1'), 'fence', `the majority fenced at +${sim.t - cutAt} ms`)
      }
      assert.ok(fencedAt !== undefined && readyAt !== undefined, `fenced ${fencedAt}, takeover ready ${readyAt}`)
      assert.ok(fencedAt <= readyAt, `n3 fenced at +${fencedAt - cutAt} ms, n1 may take at +${readyAt - cutAt} ms`)
      console.log(`      n3 fenced at +${fencedAt - cutAt} ms; the majority may take its buckets at +${readyAt - cutAt} ms`)
      assert.ok(readyAt - cutAt < 1000, 'takeover not within the failover window')
      sim.heal()
      sim.run(600)
      assert.equal(sim.actions(), 'n1:serve n2:serve n3:serve')
    })
  }

  it('holds (keeps, takes nothing) during the grace after losing quorum, then fences', () => {
    const sim = new Sim(['a', 'b'], ['ring0'], { graceMs: 150 })
    sim.run(500)
    sim.cut('a', 'b'); sim.cut('b', 'a')
    const seen: string[] = []
    for (let i = 0; i < 60; i++) { sim.step(10); seen.push(sim.action('a')) }
    const compact = seen.filter((x, i) => x !== seen[i - 1])
    assert.deepEqual(compact, ['serve', 'hold', 'fence'])
  })

  it('a two-node pair keeps serving through a split with a witness grant for its side, and the other side fences', () => {
    const sim = new Sim(['a', 'b'], ['ring0'], { graceMs: 100 })
    sim.run(500)
    sim.cut('a', 'b'); sim.cut('b', 'a')
    sim.nodes.get('a')!.witness(['a'])
    sim.run(1000)
    assert.equal(sim.actions(), 'a:serve b:fence')
    assert.equal(sim.last.get('a')?.decision.by, 'witness')
  })

  it('cutting one of two paths changes nothing; status names the path that is down', () => {
    const sim = new Sim(['n1', 'n2', 'n3'], ['service', 'ring1'])
    sim.run(500)
    for (const p of ['n1', 'n2']) { sim.cut('n3', p, 'ring1'); sim.cut(p, 'n3', 'ring1') }
    for (let i = 0; i < 20; i++) {
      sim.step()
      assert.equal(sim.actions(), 'n1:serve n2:serve n3:serve')
      assert.equal(sim.last.get('n1')?.decision.partition.length, 3)
    }
    const n3 = sim.last.get('n1')!.peers.find(p => p.id === 'n3')!
    assert.deepEqual(n3.paths.map(p => `${p.path}:${p.up ? 'up' : 'down'}`), ['service:up', 'ring1:down'])
    assert.deepEqual(sim.last.get('n1')!.report.heard, { n2: ['ring1', 'service'], n3: ['service'] })
    const lines = describeMembership(sim.last.get('n1')!)
    assert.match(lines.join('\n'), /n3: path ring1 silent \d+ ms/)
  })

  it('a stalled evaluation (GC pause) drops nobody', () => {
    const m = new Membership({ self: 'a', voters: ['a', 'b', 'c'], paths: ['p'], suspectMs: 250, deadMs: 500, graceMs: 50, waitForAll: false, stallMs: 400 }, 0)
    for (const id of ['b', 'c']) {
      m.arrived(id, 'p', 100)
      m.report(id, { heard: { a: ['p'], b: ['p'], c: ['p'] }, partition: ['a', 'b', 'c'], quorate: true })
    }
    assert.equal(m.evaluate(150).action, 'serve')
    assert.equal(m.evaluate(900).action, 'serve', 'a 750 ms stall of this process fenced it')
    // Dropped now, silent since 100: the grace runs from the last quorate evaluation (900), so it is over.
    assert.equal(m.evaluate(1000).action, 'fence', 'peers silent after the stall were kept')
  })

  it('a node that stalls between losing quorum and noticing it fences at once (the grace runs from the loss)', () => {
    const opts = { self: 'a', voters: ['a', 'b', 'c'], paths: ['p'], suspectMs: 250, deadMs: 500, graceMs: 100, waitForAll: false, stallMs: 1000 }
    const actions = (times: number[]): string[] => {
      const m = new Membership(opts, 0)
      for (const id of ['b', 'c']) {
        m.arrived(id, 'p', 100)
        m.report(id, { heard: { a: ['p'], b: ['p'], c: ['p'] }, partition: ['a', 'b', 'c'], quorate: true })
      }
      return times.map(t => m.evaluate(t).action)
    }
    // Evaluated on time: silent past suspectMs from 350, noticed at 375, hold until the grace ends at 450.
    assert.deepEqual(actions([300, 325, 350, 375, 400, 449, 450]), ['serve', 'serve', 'serve', 'hold', 'hold', 'hold', 'fence'])
    // Stalled from 300 to 440: quorum was lost at 350 (100 + 250), so the grace ended at 450.
    assert.deepEqual(actions([300, 440, 455]), ['serve', 'hold', 'fence'])
    // Stalled past the grace: fence on the first evaluation that sees the loss, not a grace later.
    assert.deepEqual(actions([300, 470]), ['serve', 'fence'])
  })

  it('flapping heartbeats (every other beat lost) never fence and never lose the majority', () => {
    const sim = new Sim(['n1', 'n2', 'n3'])
    sim.run(500)
    for (let i = 0; i < 40; i++) {
      if (i % 2 === 0) { sim.cut('n3', 'n1'); sim.cut('n1', 'n3') } else sim.heal()
      sim.step()
      assert.equal(sim.actions(), 'n1:serve n2:serve n3:serve', `step ${i}`)
    }
  })
})
