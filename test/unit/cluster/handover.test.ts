/// The hand-over decision (src/cluster/handover.ts): release at once, take only what no live peer
/// claims and only when every live peer is on our map; a failed peer's claims do not count.
import assert from 'node:assert/strict'
import { nextOwnership, mayTake, type PeerClaim } from '../../../src/cluster/handover.js'
import { toBitmap } from '../../../src/cluster/bitmap.js'

const peer = (owned: number[], mapVersion = 7, failed = false): PeerClaim => ({ failed, mapVersion, owned: toBitmap(owned, 16) })
const sorted = (s: Set<number>): number[] => [...s].sort((a, b) => a - b)

describe('bucket hand-over decision', () => {
  it('releases what the map no longer gives us at once, even while peers disagree', () => {
    assert.deepEqual(sorted(nextOwnership(new Set([1, 2, 3]), new Set([1]), 7, [peer([], 6)])), [1])
  })

  it('takes a bucket only when no live peer claims it (break-before-make)', () => {
    const desired = new Set([1, 2, 3])
    // The old owner still claims 2 and 3: take only 1; once its release notice says so, take the rest.
    assert.deepEqual(sorted(nextOwnership(new Set(), desired, 7, [peer([2, 3])])), [1])
    assert.deepEqual(sorted(nextOwnership(new Set([1]), desired, 7, [peer([])])), [1, 2, 3])
  })

  it('takes nothing while a live peer reports another map, and ignores failed peers', () => {
    assert.equal(mayTake(7, [peer([], 7), peer([], 6)]), false)
    assert.deepEqual(sorted(nextOwnership(new Set(), new Set([1, 2]), 7, [peer([], 6)])), [])
    assert.deepEqual(sorted(nextOwnership(new Set(), new Set([1, 2]), 7, [peer([1, 2], 6, true)])), [1, 2])
  })
})
