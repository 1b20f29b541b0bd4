import assert from 'node:assert/strict'
import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises'
import { createServer, request, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pino } from 'pino'
import { PeerFileServer, PeerSource, requestAuthentic, signRequest } from '../../src/updates/peer.js'
import { HttpSource, retryAfterMs } from '../../src/updates/source.js'
import { UpdateStore } from '../../src/updates/store.js'
import { TestMirror } from '../helpers/mirror.js'

const key = Buffer.from('peer-test-cluster-key-0123456789')

async function get (port: number, path: string, headers: Record<string, string> = {}): Promise<number> {
  return await new Promise((resolve, reject) => {
    request({ host: '127.0.0.1', port, path, headers }, res => { res.resume(); resolve(res.statusCode ?? 0) }).on('error', reject).end()
  })
}

describe('signature updates: peer file server, proxy, Retry-After', () => {
  let dir: string
  let server: PeerFileServer
  let store: UpdateStore

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'scanwall-peer-'))
    store = new UpdateStore(dir)
    await mkdir(store.mirrorDir, { recursive: true })
    await writeFile(join(store.mirrorDir, 'daily.cvd'), 'cvd bytes')
    await writeFile(join(store.mirrorDir, 'daily-7.cdiff'), 'cdiff bytes')
    await store.write({ dbs: { daily: { version: 7 } } })
    server = await PeerFileServer.start('127.0.0.1', 0, key, store, pino({ level: 'silent' }))
  })
  after(async () => {
    await server.close()
    await rm(dir, { recursive: true, force: true })
  })

  it('checks the HMAC over method, path and time, within 30 s', () => {
    const h = signRequest(key, 'GET', '/updates/daily.cvd', 1_000_000)['x-scanwall-auth']
    assert.equal(requestAuthentic(key, 'GET', '/updates/daily.cvd', h, 1_000_000), true)
    assert.equal(requestAuthentic(key, 'GET', '/updates/daily.cvd', h, 1_031_000), false, 'too old')
    assert.equal(requestAuthentic(key, 'GET', '/updates/main.cvd', h, 1_000_000), false, 'another path')
    assert.equal(requestAuthentic(Buffer.from('another-cluster-key-0123456789'), 'GET', '/updates/daily.cvd', h, 1_000_000), false, 'another key')
    assert.equal(requestAuthentic(key, 'GET', '/updates/daily.cvd', undefined), false)
  })

  it('serves the kept files and the index to members only; nothing outside the mirror directory', async () => {
    assert.equal(await get(server.port, '/updates/daily.cvd'), 401)
    assert.equal(await get(server.port, '/updates/daily.cvd', signRequest(Buffer.from('another-cluster-key-0123456789'), 'GET', '/updates/daily.cvd')), 401)
    assert.equal(await get(server.port, '/updates/daily.cvd', signRequest(key, 'GET', '/updates/daily.cvd')), 200)
    assert.equal(await get(server.port, '/updates/..%2Fstate.json', signRequest(key, 'GET', '/updates/..%2Fstate.json')), 404)
    const source = new PeerSource('127.0.0.1', server.port, key, { timeoutMs: 5000, maxBytes: 1 << 20 })
    assert.deepEqual(await source.latest('daily'), { kind: 'version', version: 7 })
    assert.deepEqual(await source.latest('main'), { kind: 'unchanged' }, 'a database the fetcher has not installed is nothing to follow')
    const got = await source.get('daily-7.cdiff')
    assert.equal(got.kind === 'ok' ? got.data.toString() : got.kind, 'cdiff bytes')
    assert.deepEqual(await source.get('daily-8.cdiff'), { kind: 'missing' })
  })

  it('reaches an http:// mirror through the configured proxy (absolute-URI requests)', async () => {
    const mirror = await TestMirror.start()
    mirror.put('daily.cvd', Buffer.concat([Buffer.from('ClamAV-VDB:x:9:1:90:'.padEnd(512, ' ')), Buffer.from('payload')]))
    const seen: string[] = []
    // A forwarding proxy: it sees the absolute URI and forwards to the origin it names.
    const proxy: Server = createServer((req, res) => {
      seen.push(req.url ?? '')
      const target = new URL(req.url ?? '')
      request({ host: target.hostname, port: target.port, path: target.pathname, headers: req.headers }, up => {
        res.writeHead(up.statusCode ?? 502, up.headers)
        up.pipe(res)
      }).on('error', () => { res.writeHead(502).end() }).end()
    })
    await new Promise<void>(resolve => proxy.listen(0, '127.0.0.1', resolve))
    try {
      const source = new HttpSource(mirror.url, { proxy: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`, timeoutMs: 5000, maxBytes: 1 << 20 })
      const latest = await source.latest('daily')
      assert.equal(latest.kind === 'version' ? latest.version : latest.kind, 9)
      assert.deepEqual(seen, [`${mirror.url}daily.cvd`])
      assert.equal(mirror.requests[0]?.range, 'bytes=0-511')
    } finally {
      proxy.closeAllConnections()
      proxy.close()
      await mirror.close()
    }
  })

  it('reads Retry-After as seconds or an HTTP date; a 403 without one means freshclam\'s 24 h', async () => {
    assert.equal(retryAfterMs('120'), 120_000)
    assert.equal(retryAfterMs(new Date(2_000_000_000_000).toUTCString(), 1_999_999_000_000), 1_000_000)
    assert.equal(retryAfterMs('soon'), undefined)
    const mirror = await TestMirror.start()
    mirror.refuse = { status: 403 }
    try {
      const source = new HttpSource(mirror.url, { timeoutMs: 5000, maxBytes: 1 << 20 })
      await assert.rejects(source.latest('daily'), (err: Error & { until?: number }) => {
        assert.match(err.message, /answered 403/)
        assert.ok((err.until ?? 0) > Date.now() + 23.9 * 3_600_000)
        return true
      })
    } finally {
      await mirror.close()
    }
  })
})
