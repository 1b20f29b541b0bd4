import assert from 'node:assert/strict'
import { findDuplicates, type OwnerClaim } from '../../../src/cluster/duplicates.js'
import { computeBuckets } from '../../../src/cluster/buckets.js'

const claim = (id: string, buckets: number[], quorate = true, mapVersion = 1): OwnerClaim => ({ id, buckets, quorate, mapVersion })
const noMap = (): undefined => undefined

/// Both sides of an overlap must come to opposite conclusions: exactly one releases each bucket.
function bothSides (a: OwnerClaim, b: OwnerClaim, mapOwner: (bucket: number) => string | undefined = noMap): { a: number[], b: number[] } {
  return { a: [...findDuplicates(a, [b], mapOwner).release], b: [...findDuplicates(b, [a], mapOwner).release] }
}

describe('cluster duplicate-owner detector', () => {
  it('finds nothing when claims are disjoint', () => {
    const r = findDuplicates(claim('n1', [0, 1, 2]), [claim('n2', [3, 4]), claim('n3', [])], noMap)
    assert.deepEqual(r, { overlaps: [], release: [] })
  })

  it('the side that is not quorate steps back (a node reappearing from a minority)', () => {
    const r = findDuplicates(claim('n3', [5, 6, 7], false), [claim('n1', [6, 7, 8], true)], noMap)
    assert.deepEqual(r.overlaps, [{ peer: 'n1', buckets: [6, 7], stepsBack: 'self', rule: 'quorum' }])
    assert.deepEqual(r.release, [6, 7])
    assert.deepEqual(bothSides(claim('n1', [6, 7, 8], true), claim('n3', [5, 6, 7], false)), { a: [], b: [6, 7] })
  })

  it('both quorate: the owner in the map keeps each bucket; both sides agree bucket by bucket', () => {
    const map = computeBuckets([{ id: 'n1', weight: 1 }, { id: 'n2', weight: 1 }], 16)
    const owner = (b: number): string | undefined => map.owners[b]
    const all = Array.from({ length: 16 }, (_, b) => b)
    const sides = bothSides(claim('n1', all), claim('n2', all), owner)
    assert.deepEqual(sides.a, all.filter(b => owner(b) === 'n2'))
    assert.deepEqual(sides.b, all.filter(b => owner(b) === 'n1'))
    assert.equal(sides.a.length + sides.b.length, 16)
  })

  it('both quorate on different maps (each would name itself): the node id decides, never "neither"', () => {
    const sides = { a: findDuplicates(claim('n1', [4], true, 1), [claim('n2', [4], true, 2)], () => 'n1').release, b: findDuplicates(claim('n2', [4], true, 2), [claim('n1', [4], true, 1)], () => 'n2').release }
    assert.deepEqual(sides, { a: [], b: [4] })
  })

  it('otherwise the higher node id steps back, on both sides', () => {
    assert.deepEqual(bothSides(claim('n1', [1, 2], false), claim('n2', [2, 3], false)), { a: [], b: [2] })
    assert.deepEqual(bothSides(claim('n1', [1, 2]), claim('n2', [2, 3])), { a: [], b: [2] })
  })

  it('reports every peer it overlaps with', () => {
    const r = findDuplicates(claim('n2', [1, 2, 3], false), [claim('n1', [1], true), claim('n3', [3], false)], noMap)
    assert.deepEqual(r.overlaps.map(o => `${o.peer}:${o.buckets.join(',')}:${o.stepsBack}:${o.rule}`), ['n1:1:self:quorum', 'n3:3:peer:node-id'])
    assert.deepEqual(r.release, [1])
  })
})
