/// The allow-list predicate (config/networks.ts): IPv4 and IPv6 networks, single hosts, IPv4 clients
/// of a dual-stack listener (::ffff:a.b.c.d), and "everyone" needing no check at all.
import assert from 'node:assert/strict'
import { allowPredicate, parseNetwork } from '../../config/networks.js'

describe('listener allow lists (config/networks.ts)', () => {
  it('matches IPv4 and IPv6 networks and single hosts', () => {
    const admit = allowPredicate(['10.1.0.0/16', '192.0.2.7', '2001:db8::/32'])
    assert.ok(admit !== undefined)
    assert.equal(admit('10.1.200.3'), true)
    assert.equal(admit('10.2.0.1'), false)
    assert.equal(admit('192.0.2.7'), true)
    assert.equal(admit('192.0.2.8'), false)
    assert.equal(admit('2001:db8:1::5'), true)
    assert.equal(admit('2001:db9::1'), false)
    assert.equal(admit('::ffff:10.1.0.9'), true, 'an IPv4 client of a dual-stack listener')
    assert.equal(admit('-'), false, 'no address: refused')
  })

  it('an empty list lets no one in; 0.0.0.0/0 with ::/0 needs no check', () => {
    assert.equal(allowPredicate([])?.('127.0.0.1'), false)
    assert.equal(allowPredicate(['0.0.0.0/0', '::/0']), undefined)
    assert.equal(allowPredicate(['0.0.0.0/0'])?.('::1'), false, 'IPv4 everyone is not IPv6 everyone')
  })

  it('refuses what is not a network, with the reason', () => {
    assert.throws(() => parseNetwork('10.0.0.0/33'), /prefix length must be 0 to 32/)
    assert.throws(() => parseNetwork('::/129'), /0 to 128/)
    assert.throws(() => parseNetwork('10.0.0.0/8/1'), /not an IPv4 or IPv6/)
    assert.throws(() => parseNetwork('example.org'), /not an IPv4 or IPv6/)
    assert.deepEqual(parseNetwork('fe80::/10'), { address: 'fe80::', prefix: 10, family: 'ipv6' })
  })
})
