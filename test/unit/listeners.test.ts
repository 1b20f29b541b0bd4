/// The listeners the clamd and milter servers share (protocols/common/listeners.ts), over real
/// loopback and unix sockets: a stale socket file is replaced while a live one is refused
/// (EADDRINUSE), the socket gets its mode, the allow list and the connection bound close at accept,
/// and drain by local address ends only the connections made to that address and closes new ones
/// to it at accept until it resumes; where a server
/// listens (placement.ts) from its port, socket and cluster instance ports.
import assert from 'node:assert/strict'
import { connect, type Socket } from 'node:net'
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ConnectionListeners, type ListenerOptions, type ServedConnection } from '../../protocols/common/listeners.js'
import { listenerPlacement } from '../../protocols/common/placement.js'

class Conn implements ServedConnection {
  drained = false
  constructor (readonly socket: Socket) {}
  get local (): string { return this.socket.localAddress ?? '' }
  drain (): void { this.drained = true; this.socket.end() }
  destroy (): void { this.socket.destroy() }
}

describe('protocols/common listeners (TCP + unix socket)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'scanwall-listeners-'))
  after(() => { rmSync(dir, { recursive: true, force: true }) })

  function listeners (options: Partial<ListenerOptions>): { set: ConnectionListeners<Conn>, seen: string[], conns: Conn[] } {
    const seen: string[] = []
    const conns: Conn[] = []
    const set = new ConnectionListeners<Conn>({ host: '127.0.0.1', port: 0, socket: undefined, maxConnections: 10, ...options }, {
      connection: socket => { const c = new Conn(socket); conns.push(c); return c },
      opened: (_remote, kind) => seen.push(`open ${kind}`),
      closed: (_remote, kind) => seen.push(`close ${kind}`),
      refused: () => seen.push('refused'),
      denied: () => seen.push('denied'),
    })
    return { set, seen, conns }
  }

  const closedByPeer = async (port: number | string, host = '127.0.0.1'): Promise<boolean> => await new Promise(resolve => {
    const c = typeof port === 'number' ? connect(port, host) : connect(port)
    c.on('data', () => {})
    c.once('close', () => resolve(true))
    c.once('error', () => resolve(true))
    setTimeout(() => { c.destroy(); resolve(false) }, 500)
  })

  it('replaces a stale socket file, gives the socket its mode, and refuses a live socket with EADDRINUSE', async () => {
    const path = join(dir, 'stale.sock')
    writeFileSync(path, '') // left by a process that died: nobody answers on it
    const { set } = listeners({ port: undefined, socket: path, socketMode: 0o666 })
    await set.listen()
    assert.equal(statSync(path).mode & 0o777, 0o666)
    assert.ok(statSync(path).isSocket())
    const second = listeners({ port: undefined, socket: path })
    await assert.rejects(second.set.listen(), /EADDRINUSE/)
    assert.ok(statSync(path).isSocket(), 'the live socket was left alone')
    await set.close(0)
  })

  it('closes at accept what the allow list refuses and what is past the connection bound', async () => {
    const denied = listeners({ admit: () => false })
    const at = await denied.set.listen()
    assert.equal(await closedByPeer(at?.port ?? 0), true)
    assert.deepEqual(denied.seen, ['denied'])
    await denied.set.close(0)

    const bounded = listeners({ maxConnections: 1 })
    const port = (await bounded.set.listen())?.port ?? 0
    const first = connect(port, '127.0.0.1')
    await new Promise(resolve => first.once('connect', resolve))
    for (let i = 0; i < 50 && bounded.set.connections === 0; i++) await new Promise(resolve => setTimeout(resolve, 10))
    assert.equal(await closedByPeer(port), true)
    assert.ok(bounded.seen.includes('refused'), bounded.seen.join())
    first.destroy()
    await bounded.set.close(1000)
  })

  it('drains only the connections made to one local address, and counts them per address', async () => {
    // 127.0.0.2 is loopback too on Linux: a second local address, as a cluster VIP is.
    const { set, conns } = listeners({ host: '0.0.0.0' })
    const port = (await set.listen())?.port ?? 0
    const clients = ['127.0.0.1', '127.0.0.2', '127.0.0.2'].map(host => connect(port, host))
    await Promise.all(clients.map(async c => await new Promise(resolve => c.once('connect', resolve))))
    for (let i = 0; i < 100 && set.connections < 3; i++) await new Promise(resolve => setTimeout(resolve, 10))
    assert.equal(set.connectionsAt('127.0.0.2'), 2)
    set.drain('127.0.0.2')
    assert.deepEqual(conns.map(c => `${c.local} ${c.drained}`).sort(), ['127.0.0.1 false', '127.0.0.2 true', '127.0.0.2 true'])
    for (const c of clients) c.destroy()
    await set.close(1000)
    assert.equal(set.connections, 0)
  })

  it('closes at accept a new connection to a drained local address until that address resumes; other addresses take connections', async () => {
    const { set, seen } = listeners({ host: '0.0.0.0' })
    const port = (await set.listen())?.port ?? 0
    set.drain('127.0.0.2')
    assert.equal(await closedByPeer(port, '127.0.0.2'), true, 'a drained address took a new connection')
    assert.deepEqual(seen, ['refused'])
    assert.equal(await closedByPeer(port, '127.0.0.1'), false, 'the drain of one address closed another')
    set.resume('127.0.0.2')
    assert.equal(await closedByPeer(port, '127.0.0.2'), false, 'the resumed address still refuses')
    set.drain('127.0.0.2')
    set.drain('127.0.0.3')
    set.resume('127.0.0.3')
    assert.equal(await closedByPeer(port, '127.0.0.2'), true, 'resuming one address took back another')
    set.resume()
    assert.equal(await closedByPeer(port, '127.0.0.2'), false, 'resume() left a drained address refusing')
    await set.close(0)
  })
})

describe('protocols/common listener placement (clamd and milter servers)', () => {
  it('puts the configured port first, then the instance ports; port 0 gives the main port to the first instance port', () => {
    assert.deepEqual(listenerPlacement(3310, '', []), { port: 3310, extraPorts: [], socket: undefined })
    assert.deepEqual(listenerPlacement(7357, '', [7357, 7358]), { port: 7357, extraPorts: [7357, 7358], socket: undefined })
    assert.deepEqual(listenerPlacement(0, '', [7400, 7401]), { port: 7400, extraPorts: [7401], socket: undefined })
  })

  it('takes a unix socket alone (no TCP listener) and builds nothing when there is nowhere to listen', () => {
    assert.deepEqual(listenerPlacement(0, '/run/scanwall/milter.sock', []), { port: undefined, extraPorts: [], socket: '/run/scanwall/milter.sock' })
    assert.deepEqual(listenerPlacement(3310, '/run/clamd.sock', []), { port: 3310, extraPorts: [], socket: '/run/clamd.sock' })
    assert.equal(listenerPlacement(0, '', []), undefined)
  })
})
