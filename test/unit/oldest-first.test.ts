/// Oldest-first eviction (src/scan/oldest-first.ts): the kept iterator gives the oldest live key
/// through deletions, refreshed entries (deleted and set again: they come at their new place), a
/// collection that emptied, and a clear(); a BoundedSet keeps its newest `max` keys. The doorkeeper
/// of the verdict cache relies on it, with far more churn than its table size.
import assert from 'node:assert/strict'
import { BoundedSet, OldestKeys } from '../../src/scan/oldest-first.js'

describe('oldest-first eviction', () => {
  it('gives the oldest live key of a Map through refreshes and deletions', () => {
    const map = new Map<string, number>([['a', 1], ['b', 2], ['c', 3], ['d', 4]])
    const oldest = new OldestKeys(() => map.keys())
    assert.equal(oldest.next(), 'a')
    map.delete('a')
    // b refreshed (most recently used): it moves behind d.
    map.delete('b'); map.set('b', 2)
    map.delete('c') // deleted by someone else before its turn
    assert.equal(oldest.next(), 'd')
    map.delete('d')
    assert.equal(oldest.next(), 'b')
    map.delete('b')
    assert.equal(oldest.next(), undefined)
    map.set('e', 5)
    assert.equal(oldest.next(), 'e', 'an emptied collection that fills again')
    map.clear(); map.set('f', 6); map.set('g', 7)
    assert.equal(oldest.next(), 'f', 'after clear()')
  })

  it('keeps the newest max keys of a set, under churn far past its size', () => {
    const set = new BoundedSet<number>(100)
    for (let i = 0; i < 100_000; i++) assert.equal(set.add(i), true)
    assert.equal(set.size, 100)
    assert.equal(set.add(99_999), false, 'the newest is still there')
    assert.equal(set.add(99_900), false, 'the oldest kept is still there')
    assert.equal(set.add(99_899), true, 'one older is gone (and now added again)')
    assert.equal(set.size, 100)
    set.clear()
    assert.equal(set.size, 0)
    assert.equal(set.add(5), true)
  })
})
