/// The `milter.*` keys: defaults (127.0.0.1:7357, no socket, accept/reject/tempfail/tempfail), the
/// environment names, and bad values refused at start with one line naming the key (network lists
/// with the reason: a prefix past the family's length, an address that is none; the mail filters'
/// keys too, and a listener spam profile that does not exist).
import assert from 'node:assert/strict'
import { loadConfig } from '../../../config/load.js'
import { filtersOf } from '../../../src/milter/filters.js'
import { SpamFilter, defaultSpamProfile } from '../../../src/spam/filter.js'
import { BayesModel } from '../../../src/spam/bayes.js'
import { spamRules } from '../../../src/spam/setup.js'

describe('config: milter.*', () => {
  it('defaults to TCP 127.0.0.1:7357, no unix socket, and the default mail profile', () => {
    const c = loadConfig({ env: {} }).milter
    assert.deepEqual([c.host, c.port, c.socket], ['127.0.0.1', 7357, ''])
    assert.deepEqual({ ...c.actions }, { clean: 'accept', infected: 'reject', error: 'tempfail', limit: 'tempfail' })
    assert.match(c.rejectReply, /^550 5\.7\.1 .*\{threat\}/)
  })

  it('runs both mail filters by default (when spam / contentFilter are enabled), loopback clients outgoing', () => {
    const f = loadConfig({ env: {} }).milter.filters
    assert.deepEqual([f.spam, f.content, f.spamProfile], [true, true, 'default'])
    assert.deepEqual([...f.ourNetworks], ['127.0.0.0/8', '::1'])
    assert.match(f.spamReply, /^550 5\.7\.1 Spam .*\{score\}/)
    assert.match(f.contentReply, /^550 5\.7\.1 .*\{rule\}/)
  })

  it('fails the start naming milter.filters.spamProfile when the listener\'s spam profile does not exist', async () => {
    const config = loadConfig({ env: {}, overrides: { milter: { filters: { spamProfile: 'strict' } } } })
    const mail = { spam: new SpamFilter({ rules: spamRules(''), model: new BayesModel() }), profiles: new Map([['default', defaultSpamProfile]]), learner: undefined, content: undefined, results: undefined, async stop () {} }
    assert.throws(() => filtersOf(config.milter, mail, undefined), (err: Error) => /^config: milter\.filters\.spamProfile: .*strict/.test(err.message) && !err.message.includes('\n'))
    assert.notEqual(filtersOf(loadConfig({ env: {} }).milter, mail, undefined), undefined)
    assert.equal(filtersOf(loadConfig({ env: {}, overrides: { milter: { filters: { spam: false } } } }).milter, mail, undefined), undefined, 'spam off and no content filter: no step')
  })

  it('takes SCANWALL_MILTER_HOST, SCANWALL_MILTER_PORT (0: off) and SCANWALL_MILTER_SOCKET', () => {
    const c = loadConfig({ env: { SCANWALL_MILTER_HOST: '0.0.0.0', SCANWALL_MILTER_PORT: '0', SCANWALL_MILTER_SOCKET: '/run/m.sock' } }).milter
    assert.deepEqual([c.host, c.port, c.socket], ['0.0.0.0', 0, '/run/m.sock'])
  })

  for (const [what, milter, key] of [
    ['a port past 65535', { port: 70000 }, 'milter.port'],
    ['an action that does not exist', { actions: { infected: 'bounce' } }, 'milter.actions.infected'],
    ['a reject reply that is not a 5xx', { rejectReply: '450 4.7.1 no' }, 'milter.rejectReply'],
    ['a tempfail reply without an enhanced code', { tempfailReply: '451 later' }, 'milter.tempfailReply'],
    ['a busy window that is no time range', { busy: { windows: ['9-17'] } }, 'milter.busy.windows'],
    ['a skip network that is no network', { skip: { networks: ['local'] } }, 'milter.skip.networks'],
    // Shaped like a network, but no prefix length an IPv4 or IPv6 network has: refused at load, not by
    // node:net's BlockList when the listener is built (a RangeError naming no key).
    ['a skip network with a prefix past /32', { skip: { networks: ['10.0.0.0/8', '10.0.0.0/99'] } }, 'milter.skip.networks'],
    ['a notify local network with a prefix past /128', { notify: { localNetworks: ['2001:db8::/129'] } }, 'milter.notify.localNetworks'],
    ['a notify local network that is no address', { notify: { localNetworks: ['300.1.2.3'] } }, 'milter.notify.localNetworks'],
    ['a spam reply that is not a 5xx', { filters: { spamReply: '451 4.7.1 later' } }, 'milter.filters.spamReply'],
    ['a content reply without an enhanced code', { filters: { contentReply: '550 no' } }, 'milter.filters.contentReply'],
    ['"our networks" that are no networks', { filters: { ourNetworks: ['office'] } }, 'milter.filters.ourNetworks'],
    ['a spam switch that is no boolean', { filters: { spam: 'sometimes' } }, 'milter.filters.spam'],
  ] as const) {
    it(`refuses ${what} with one line naming ${key}`, () => {
      assert.throws(() => loadConfig({ env: {}, overrides: { milter } }), (err: Error) => err.message.includes(key) && !err.message.includes('\n'), key)
    })
  }
})
