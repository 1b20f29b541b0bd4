/// The hand-over decision (src/cluster/handover.ts): release at once; take only what no live peer
/// claims, and only when every live peer is on our map or the peer that released the bucket is;
/// a failed peer's claims and map do not count.
import assert from 'node:assert/strict'
import { nextOwnership, mayTake, noteReleases, type PeerClaim } from '../../../src/cluster/handover.js'
import { toBitmap } from '../../../src/cluster/bitmap.js'

const peer = (id: string, owned: number[], mapVersion = 7, failed = false): PeerClaim => ({ id, failed, mapVersion, owned: toBitmap(owned, 16) })
const sorted = (s: Set<number>): number[] => [...s].sort((a, b) => a - b)
const none = new Map<number, string>()

describe('bucket hand-over decision', () => {
  it('releases what the map no longer gives us at once, even while peers disagree', () => {
    assert.deepEqual(sorted(nextOwnership(new Set([1, 2, 3]), new Set([1]), 7, [peer('b', [], 6)], none)), [1])
  })

  it('takes a bucket only when no live peer claims it (break-before-make)', () => {
    const desired = new Set([1, 2, 3])
    // The old owner still claims 2 and 3: take only 1; once its release notice says so, take the rest.
    assert.deepEqual(sorted(nextOwnership(new Set(), desired, 7, [peer('b', [2, 3])], none)), [1])
    assert.deepEqual(sorted(nextOwnership(new Set([1]), desired, 7, [peer('b', [])], none)), [1, 2, 3])
  })

  it('takes nothing while a live peer reports another map, and ignores failed peers', () => {
    assert.equal(mayTake(1, 7, [peer('b', [], 7), peer('c', [], 6)], none), false)
    assert.deepEqual(sorted(nextOwnership(new Set(), new Set([1, 2]), 7, [peer('c', [], 6)], none)), [])
    assert.deepEqual(sorted(nextOwnership(new Set(), new Set([1, 2]), 7, [peer('c', [1, 2], 6, true)], none)), [1, 2])
  })

  it('takes what a live peer on our map just released without waiting for a third peer to report our map', () => {
    const releasedBy = new Map<number, string>()
    // d owned 4 and 5, then its release notice (our map, 7) drops them; c still reports map 6.
    noteReleases(releasedBy, 'd', toBitmap([4, 5, 9], 16), toBitmap([9], 16))
    assert.deepEqual([...releasedBy].sort(), [[4, 'd'], [5, 'd']])
    const d = peer('d', [9], 7)
    const c = peer('c', [], 6)
    assert.deepEqual(sorted(nextOwnership(new Set(), new Set([4, 5, 6]), 7, [d, c], releasedBy)), [4, 5])
    // Not when the releaser is on another map, nor when it was judged failed.
    assert.deepEqual(sorted(nextOwnership(new Set(), new Set([4, 5]), 7, [peer('d', [9], 8), c], releasedBy)), [])
    assert.deepEqual(sorted(nextOwnership(new Set(), new Set([4, 5]), 7, [peer('d', [9], 7, true), c], releasedBy)), [])
    // A bucket claimed again is nobody's release any more.
    noteReleases(releasedBy, 'c', toBitmap([], 16), toBitmap([4], 16))
    assert.equal(releasedBy.has(4), false)
  })
})
