import assert from 'node:assert/strict'
import { dampWeight, loadFactor, smoothLoad, WeightGovernor } from '../../../src/cluster/weight.js'

const idle = { cpu: 0, memory: 0, queue: 0, poolBusy: 0 }
const busy = { ...idle, poolBusy: 1 }
const options = { capacity: 1, quanta: 4, hysteresis: 0.3, floor: 0.25, smoothingMs: 5000, holdMs: 10_000 }

/// Feeds `samples(t)` every 250 ms from `from` to `to` (ms) and returns the weight changes it caused.
function run (g: WeightGovernor, from: number, to: number, samples: (t: number) => typeof idle): Array<{ at: number, weight: number }> {
  const changes: Array<{ at: number, weight: number }> = []
  for (let t = from; t < to; t += 250) if (g.sample(samples(t), t, true) !== undefined) changes.push({ at: t, weight: g.weight })
  return changes
}

describe('cluster weights', () => {
  it('damps weights: small load changes keep the advertised weight, large ones move it by quanta', () => {
    assert.equal(dampWeight(0, 1, idle, options), 1)
    assert.equal(dampWeight(1, 1, { ...idle, cpu: 0.2 }, options), 1)
    assert.equal(dampWeight(1, 1, { ...idle, queue: 0.6 }, options), 0.5)
    assert.equal(dampWeight(0.5, 1, { ...idle, queue: 0.45 }, options), 0.5)
    assert.equal(loadFactor(busy, 0.25), 0.25)
  })

  it('smooths load exponentially over its time constant', () => {
    const after = smoothLoad(idle, busy, 5000, 5000)
    assert.ok(Math.abs(after.poolBusy - (1 - Math.exp(-1))) < 1e-9)
    assert.deepEqual(smoothLoad(idle, busy, 250, 0), busy)
  })

  it('does not flap on a pool that is busy at every other sample: one step, then steady', () => {
    const g = new WeightGovernor(options)
    const changes = run(g, 0, 120_000, t => (t / 250) % 2 === 0 ? busy : idle)
    assert.ok(changes.length <= 2, `${changes.length} weight changes: ${JSON.stringify(changes)}`)
    assert.equal(g.weight, 0.5)
  })

  it('sheds weight down to the floor under a steady load and recovers when idle, a change at most every holdMs', () => {
    const g = new WeightGovernor(options)
    const down = run(g, 0, 40_000, () => busy)
    assert.equal(g.weight, 0.25)
    assert.ok(down.length >= 1 && down.length <= 3, JSON.stringify(down))
    const up = run(g, 40_000, 90_000, () => idle)
    assert.equal(g.weight, 1)
    const all = [...down, ...up]
    for (let i = 1; i < all.length; i++) assert.ok((all[i]?.at ?? 0) - (all[i - 1]?.at ?? 0) >= options.holdMs, JSON.stringify(all))
  })

  it('reports the smoothed load but keeps the capacity as weight when load weighting is off', () => {
    const g = new WeightGovernor(options)
    for (let t = 0; t < 20_000; t += 250) assert.equal(g.sample(busy, t, false), undefined)
    assert.equal(g.weight, 1)
    assert.ok(g.load.poolBusy > 0.9)
  })
})
