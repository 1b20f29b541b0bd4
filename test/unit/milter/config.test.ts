/// The `milter.*` keys: defaults (127.0.0.1:7357, no socket, accept/reject/tempfail/tempfail), the
/// environment names, and bad values refused at start with one line naming the key (network lists
/// with the reason: a prefix past the family's length, an address that is none).
import assert from 'node:assert/strict'
import { loadConfig } from '../../../config/load.js'

describe('config: milter.*', () => {
  it('defaults to TCP 127.0.0.1:7357, no unix socket, and the default mail profile', () => {
    const c = loadConfig({ env: {} }).milter
    assert.deepEqual([c.host, c.port, c.socket], ['127.0.0.1', 7357, ''])
    assert.deepEqual({ ...c.actions }, { clean: 'accept', infected: 'reject', error: 'tempfail', limit: 'tempfail' })
    assert.match(c.rejectReply, /^550 5\.7\.1 .*\{threat\}/)
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
  ] as const) {
    it(`refuses ${what} with one line naming ${key}`, () => {
      assert.throws(() => loadConfig({ env: {}, overrides: { milter } }), (err: Error) => err.message.includes(key) && !err.message.includes('\n'), key)
    })
  }
})
