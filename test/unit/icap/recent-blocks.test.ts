/// The memory of downloads cut in trickle mode (src/icap/recent-blocks.ts): a URL is refused while
/// its entry is young, forgotten after the TTL, and the memory never holds more than its bound.
import assert from 'node:assert/strict'
import { RecentBlocks } from '../../../src/icap/recent-blocks.js'

describe('recent blocks (trickle retry memory)', () => {
  it('remembers a URL for the TTL, then forgets it', () => {
    let now = 1_000
    const memory = new RecentBlocks(500, 10, () => now)
    memory.remember('http://a/x', 'Eicar')
    assert.equal(memory.lookup('http://a/x')?.threat, 'Eicar')
    assert.equal(memory.lookup('http://a/y'), undefined)
    now += 499
    assert.ok(memory.lookup('http://a/x') !== undefined)
    now += 1
    assert.equal(memory.lookup('http://a/x'), undefined)
    assert.equal(memory.size, 0)
  })

  it('holds at most maxEntries, the oldest out first; expired entries go when new ones come', () => {
    let now = 0
    const memory = new RecentBlocks(1_000, 3, () => now)
    for (const n of [1, 2, 3, 4]) { memory.remember(`u${n}`, 'T'); now += 100 }
    assert.equal(memory.size, 3)
    assert.equal(memory.lookup('u1'), undefined)
    assert.ok(memory.lookup('u4') !== undefined)
    now += 2_000
    memory.remember('u5', 'T')
    assert.equal(memory.size, 1)
  })

  it('ignores requests without a URL', () => {
    const memory = new RecentBlocks(1_000, 3)
    memory.remember('-', 'T')
    assert.equal(memory.size, 0)
  })
})
