import assert from 'node:assert/strict'
import { computeBuckets, bucketsOf, mapVersion } from '../../../src/cluster/buckets.js'

describe('cluster buckets', () => {
  const three = [{ id: 'a', weight: 1 }, { id: 'b', weight: 1 }, { id: 'c', weight: 1 }]

  it('gives every bucket an owner and the same map whatever the member order', () => {
    const m1 = computeBuckets(three, 256)
    const m2 = computeBuckets([...three].reverse(), 256)
    assert.deepEqual(m1.owners, m2.owners)
    assert.equal(m1.version, m2.version)
    assert.ok(m1.owners.every(o => o !== undefined))
  })

  it('spreads equal weights roughly evenly', () => {
    const map = computeBuckets(three, 256)
    for (const id of ['a', 'b', 'c']) {
      const n = bucketsOf(map, id).length
      assert.ok(n > 256 * 0.25 && n < 256 * 0.42, `${id} owns ${n}`)
    }
  })

  it('moves only the leaver\'s buckets when a node leaves', () => {
    const before = computeBuckets(three, 256)
    const after = computeBuckets(three.filter(m => m.id !== 'c'), 256)
    before.owners.forEach((owner, b) => { if (owner !== 'c') assert.equal(after.owners[b], owner, `bucket ${b} moved`) })
    assert.equal(bucketsOf(after, 'c').length, 0)
  })

  it('skews shares by weight', () => {
    const map = computeBuckets([{ id: 'a', weight: 3 }, { id: 'b', weight: 1 }], 1024)
    const a = bucketsOf(map, 'a').length
    assert.ok(a > 1024 * 0.68 && a < 1024 * 0.82, `a owns ${a}`)
  })

  it('gives nothing to zero-weight members and leaves buckets unowned without members', () => {
    for (const members of [[{ id: 'a', weight: 0 }], []]) {
      const map = computeBuckets(members, 16)
      // 16 slots, none owned (an empty owner list would pass `every` without checking anything).
      assert.equal(map.owners.length, 16, JSON.stringify(members))
      assert.ok(map.owners.every(o => o === undefined), JSON.stringify(members))
    }
    assert.deepEqual(bucketsOf(computeBuckets([{ id: 'a', weight: 0 }, { id: 'b', weight: 1 }], 16), 'a'), [])
  })

  it('changes the version when a weight changes', () => {
    assert.notEqual(mapVersion(three, 256), mapVersion([{ id: 'a', weight: 2 }, ...three.slice(1)], 256))
  })
})
