/// The ICAP server on real loopback sockets: what only exists on a socket (keep-alive, pipelining,
/// 100 Continue timing, Max-Connections, timeouts, resets, drain), overload and failure answers,
/// and abuse that must leave the server answering OPTIONS.
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, copyFileSync, readdirSync, writeFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import { createHash } from 'node:crypto'
import { startIcap, RawClient, buildRequest, optionsRequest, statusOf, bodyOf, eventually, type Harness } from './icap-harness.js'
import { bundledSignaturesDir } from '../../config/schema.js'
import { defaultProfile } from '../../src/policy/decide.js'
import { eicar } from '../helpers/eicar.js'
import { freePort } from '../helpers/ports.js'

async function optionsStillAnswered (icap: Harness): Promise<void> {
  const client = await RawClient.open(icap.port)
  client.write(optionsRequest)
  const [answer] = await client.responses(1)
  assert.equal(statusOf(answer), 200)
  client.destroy()
}

describe('ICAP server on sockets', function () {
  this.timeout(60_000)
  let icap: Harness
  before(async () => { icap = await startIcap({ icap: { maxConnections: 3 } }) })
  after(async () => { await icap.close() })

  it('reuses one connection for several transactions (keep-alive)', async () => {
    const client = await RawClient.open(icap.port)
    client.write(optionsRequest)
    await client.responses(1)
    client.write(buildRequest({ body: randomBytes(3000), allow: '204' }).whole)
    await client.responses(2)
    client.write(buildRequest({ body: eicar, allow: '204' }).whole)
    const all = await client.responses(3)
    assert.deepEqual(all.map(statusOf), [200, 204, 200])
    assert.match(all[2]?.toString('latin1') ?? '', /X-Infection-Found/)
    assert.equal(client.closed, false)
    client.destroy()
  })

  it('answers pipelined requests in order, from one write', async () => {
    const client = await RawClient.open(icap.port)
    const clean = randomBytes(5000)
    client.write(Buffer.concat([buildRequest({ body: eicar }).whole, buildRequest({ body: clean }).whole, optionsRequest]))
    const all = await client.responses(3)
    assert.deepEqual(all.map(statusOf), [200, 200, 200])
    assert.match(all[0]?.toString('latin1') ?? '', /X-Virus-ID/)
    assert.ok(all[1] !== undefined && bodyOf(all[1]).equals(clean), 'second answer echoes the second body')
    assert.match(all[2]?.toString('latin1') ?? '', /Methods: REQMOD, RESPMOD/)
    client.destroy()
  })

  it('sends nothing before the preview ended, then 100 Continue alone, then the answer', async () => {
    const body = randomBytes(4000)
    const { first, rest } = buildRequest({ body, preview: 1024 })
    const client = await RawClient.open(icap.port)
    client.write(first.subarray(0, first.length - 5)) // all but the preview's `0\r\n\r\n`
    await new Promise(resolve => setTimeout(resolve, 200))
    assert.equal(client.received.length, 0, 'no 100 Continue before the preview ended')
    client.write(first.subarray(first.length - 5))
    const [cont] = await client.responses(1)
    assert.equal(cont?.toString('latin1'), 'ICAP/1.0 100 Continue\r\n\r\n')
    assert.equal(client.received.length, cont.length, 'the final answer waits for the rest of the body')
    client.write(rest)
    const all = await client.responses(2)
    assert.equal(statusOf(all[1]), 200)
    assert.ok(all[1] !== undefined && bodyOf(all[1]).equals(body), 'echo is byte-identical')
    client.destroy()
  })

  it('answers a client that half-closed after sending its request, then closes', async () => {
    const client = await RawClient.open(icap.port)
    client.write(buildRequest({ body: eicar, allow: '204' }).whole)
    client.socket.end()
    const [answer] = await client.responses(1)
    assert.match(answer?.toString('latin1') ?? '', /X-Infection-Found/)
    await client.closedByServer()
  })

  it('echoes a spooled body (larger than the memory limit) byte-identical', async () => {
    const body = randomBytes(3 * 1024 * 1024 + 17)
    const client = await RawClient.open(icap.port)
    client.write(buildRequest({ body, contentLength: false }).whole)
    const [answer] = await client.responses(1, 30_000)
    assert.ok(answer !== undefined)
    assert.equal(statusOf(answer), 200)
    assert.equal(createHash('sha256').update(bodyOf(answer)).digest('hex'), createHash('sha256').update(body).digest('hex'))
    client.destroy()
  })

  it('blocks EICAR inside gzip', async () => {
    const body = gzipSync(Buffer.concat([Buffer.alloc(20_000, 'a'), eicar, Buffer.alloc(20_000, 'b')]))
    const client = await RawClient.open(icap.port)
    client.write(buildRequest({ body, allow: '204', preview: 1024 }).whole)
    const all = await client.responses(body.length > 1024 ? 2 : 1)
    assert.match(all[all.length - 1]?.toString('latin1') ?? '', /X-Infection-Found: Type=0; Resolution=2; Threat=Eicar-Test-Signature;/)
    client.destroy()
  })

  it('answers 503 past Max-Connections, and accepts again once one closed', async () => {
    const clients = await Promise.all([1, 2, 3].map(async () => await RawClient.open(icap.port)))
    for (const c of clients) c.write(optionsRequest)
    await Promise.all(clients.map(async c => await c.responses(1)))
    const extra = await RawClient.open(icap.port)
    extra.write(optionsRequest)
    await extra.closedByServer()
    assert.equal(statusOf(extra.received), 503)
    clients[0]?.destroy()
    await eventually(() => icap.server.connections < 3, 'a slot to free up')
    const again = await RawClient.open(icap.port)
    again.write(optionsRequest)
    assert.equal(statusOf((await again.responses(1))[0]), 200)
    for (const c of [...clients, again]) c.destroy()
  })

  it('logs a client reset mid-body as aborted (never clean) and keeps serving', async () => {
    const before = icap.logs.length
    const { whole } = buildRequest({ body: randomBytes(200_000) })
    const client = await RawClient.open(icap.port)
    client.write(whole.subarray(0, 100_000))
    await eventually(() => icap.metrics.service('avscan').bytesIn >= 0 && icap.server.connections > 0, 'the server to read')
    await new Promise(resolve => setTimeout(resolve, 100))
    client.socket.resetAndDestroy()
    await eventually(() => icap.logs.slice(before).some(l => l.msg === 'icap' && l['outcome'] === 'aborted'), 'the aborted log line')
    const lines = icap.logs.slice(before).filter(l => l.msg === 'icap')
    assert.equal(lines.length, 1)
    assert.equal(lines[0]?.['verdict'], 'aborted')
    await optionsStillAnswered(icap)
  })

  it('logs a client that closes mid-body (FIN) as aborted and keeps serving', async () => {
    const before = icap.logs.length
    const { whole } = buildRequest({ body: randomBytes(50_000), preview: 1024 })
    const client = await RawClient.open(icap.port)
    client.write(whole.subarray(0, 20_000))
    client.socket.end()
    await eventually(() => icap.logs.slice(before).some(l => l.msg === 'icap' && l['outcome'] === 'aborted'), 'the aborted log line')
    assert.ok(!icap.logs.slice(before).some(l => l.msg === 'icap' && l['verdict'] === 'clean'))
    await optionsStillAnswered(icap)
  })

  const abuse: Array<[string, Buffer | string, number]> = [
    ['a garbage request line', 'GARBAGE\r\n\r\n', 400],
    ['a request line with two spaces', 'OPTIONS  icap://h/avscan ICAP/1.0\r\n\r\n', 400],
    ['a non-ICAP URI', 'OPTIONS http://h/avscan ICAP/1.0\r\n\r\n', 400],
    ['an unknown method', 'DELETE icap://h/avscan ICAP/1.0\r\nEncapsulated: null-body=0\r\n\r\n', 501],
    ['a wrong version', 'OPTIONS icap://h/avscan ICAP/0.9\r\n\r\n', 505],
    ['Encapsulated offsets past the headers', 'RESPMOD icap://h/avscan ICAP/1.0\r\nEncapsulated: res-hdr=0, res-body=40\r\n\r\nHTTP/1.1 200 OK\r\n\r\n0\r\n\r\nOPTIONS icap://h/avscan ICAP/1.0\r\n\r\n', 400],
    ['a negative chunk size', 'RESPMOD icap://h/avscan ICAP/1.0\r\nEncapsulated: res-hdr=0, res-body=19\r\n\r\nHTTP/1.1 200 OK\r\n\r\n-10\r\n', 400],
    ['an oversized chunk size', 'RESPMOD icap://h/avscan ICAP/1.0\r\nEncapsulated: res-hdr=0, res-body=19\r\n\r\nHTTP/1.1 200 OK\r\n\r\n7fffffffffffffff\r\n', 400],
    ['binary noise', Buffer.concat([randomBytes(4096), Buffer.from('\r\n\r\n')]), 400],
  ]
  for (const [what, bytes, status] of abuse) {
    it(`answers ${status} and closes on ${what}, then still answers OPTIONS`, async () => {
      const client = await RawClient.open(icap.port)
      client.write(bytes)
      await client.closedByServer()
      assert.equal(statusOf(client.received), status)
      await optionsStillAnswered(icap)
    })
  }

  it('answers 400 to a 1 MiB header without reading all of it, then still answers OPTIONS', async () => {
    const client = await RawClient.open(icap.port)
    client.write('RESPMOD icap://h/avscan ICAP/1.0\r\nX-Big: ')
    client.write(Buffer.alloc(1024 * 1024, 'a'))
    await client.closedByServer()
    assert.equal(statusOf(client.received), 400)
    await optionsStillAnswered(icap)
  })

  it('counts transactions per service and for the node', () => {
    const svc = icap.metrics.service('avscan')
    assert.ok(svc.respmod >= 5)
    assert.ok(svc.options >= 3)
    assert.ok(svc.blocked >= 2 && svc.infected >= 2)
    assert.ok(svc.clean >= 3)
    assert.ok(icap.metrics.blocks >= 2)
    assert.ok(icap.metrics.connectionsTotal >= 10)
  })
})

describe('ICAP server timeouts, limits, failures and drain', function () {
  this.timeout(60_000)

  it('closes idle keep-alive connections and answers 408 to headers that never finish', async () => {
    const icap = await startIcap({ icap: { idleTimeoutMs: 200, headerTimeoutMs: 300 } })
    try {
      const idle = await RawClient.open(icap.port)
      idle.write(optionsRequest)
      await idle.responses(1)
      await idle.closedByServer()
      const slow = await RawClient.open(icap.port)
      slow.write('OPTIONS icap://127.0.0.1/avscan ICAP/1.0\r\nHost: 127')
      await slow.closedByServer()
      assert.equal(statusOf(slow.received), 408)
      await optionsStillAnswered(icap)
    } finally { await icap.close() }
  })

  it('answers 503 when the scan queue is full, keeps the connection, and fail-open passes instead', async () => {
    const closed = await startIcap({ scan: { maxQueue: 0 } })
    const open = await startIcap({ scan: { maxQueue: 0 }, profile: { ...defaultProfile, failMode: 'open' } })
    try {
      const c = await RawClient.open(closed.port)
      c.write(buildRequest({ body: randomBytes(1000), allow: '204' }).whole)
      c.write(optionsRequest)
      const all = await c.responses(2)
      assert.deepEqual(all.map(statusOf), [503, 200], 'OPTIONS stays a clean 200 under overload')
      c.destroy()
      const o = await RawClient.open(open.port)
      o.write(buildRequest({ body: randomBytes(1000), allow: '204' }).whole)
      assert.equal(statusOf((await o.responses(1))[0]), 204)
      o.destroy()
    } finally { await closed.close(); await open.close() }
  })

  it('answers 500 when the body cannot be spooled, and keeps serving', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'scanwall-icap-badspool-'))
    const notADir = join(dir, 'file')
    writeFileSync(notADir, 'x')
    const icap = await startIcap({ scan: { spoolDir: join(notADir, 'spool'), memoryLimit: 1024 } })
    try {
      const c = await RawClient.open(icap.port)
      c.write(buildRequest({ body: randomBytes(10_000) }).whole)
      await c.closedByServer()
      assert.equal(statusOf(c.received), 500)
      await optionsStillAnswered(icap)
    } finally { await icap.close(); rmSync(dir, { recursive: true, force: true }) }
  })

  it('answers bodies over maxObjectBytes as the policy decides (scan.oversize): block, or echo unscanned', async () => {
    const block = await startIcap({ icap: { maxObjectBytes: 10_000 }, profile: { ...defaultProfile, blockOversize: true } })
    const allow = await startIcap({ icap: { maxObjectBytes: 10_000 }, profile: { ...defaultProfile, blockOversize: false } })
    try {
      const body = randomBytes(30_000)
      const b = await RawClient.open(block.port)
      b.write(buildRequest({ body, contentLength: false }).whole)
      assert.match((await b.responses(1))[0]?.toString('latin1') ?? '', /Threat=Heuristics\.Limits\.Exceeded\.MaxObjectSize;/)
      // Content-Length already says too big: blocked in place of 100 Continue, rest never needed.
      b.write(buildRequest({ body, preview: 1024 }).first)
      const two = await b.responses(2)
      assert.equal(statusOf(two[1]), 200)
      assert.match(two[1]?.toString('latin1') ?? '', /X-Infection-Found/)
      b.destroy()
      const a = await RawClient.open(allow.port)
      a.write(buildRequest({ body, contentLength: false }).whole)
      const [echo] = await a.responses(1)
      assert.ok(echo !== undefined && bodyOf(echo).equals(body))
      // Known too big, Allow: 206 and a preview: 206 in place of 100 Continue, the client keeps its body.
      a.write(buildRequest({ body, preview: 1024, allow: '206' }).first)
      const [, partial] = await a.responses(2)
      assert.match(partial?.toString('latin1') ?? '', /^ICAP\/1\.0 206 Partial Content\r\n[^]*\r\n\r\nHTTP\/1\.1 200 OK\r\n[^]*\r\n\r\n0; use-original-body=0\r\n\r\n$/)
      a.destroy()
    } finally { await block.close(); await allow.close() }
  })

  it('names the node that answered in every answer (X-Scanwall-Node), unless icap.nodeHeader is off', async () => {
    const off = await startIcap({ icap: { nodeHeader: false } })
    const on = await startIcap({ icap: { nodeId: 'node-7' } })
    try {
      for (const [icap, expected] of [[on, true], [off, false]] as const) {
        const c = await RawClient.open(icap.port)
        c.write(optionsRequest)
        c.write(buildRequest({ body: randomBytes(100), allow: '204' }).whole)
        c.write(buildRequest({ body: eicar }).whole)
        const answers = await c.responses(3)
        c.destroy()
        assert.deepEqual(answers.map(statusOf), [200, 204, 200])
        for (const a of answers) assert.equal(/\r\nX-Scanwall-Node: node-7\r\n/.test(a.toString('latin1')), expected, a.toString('latin1').slice(0, 200))
        if (!expected) for (const a of answers) assert.ok(!a.toString('latin1').includes('X-Scanwall-Node'))
      }
    } finally { await on.close(); await off.close() }
  })

  it('reads with a fresh buffer per read when icap.reusedReads is off, and answers the same (blocked, echoed byte-identical)', async () => {
    const on = await startIcap()
    const off = await startIcap({ icap: { reusedReads: false } })
    const paths: Array<[string, boolean]> = []
    on.server.on('open', e => { paths.push(['on', e.reusedReads]) })
    off.server.on('open', e => { paths.push(['off', e.reusedReads]) })
    try {
      const body = randomBytes(300_000)
      const answers: Buffer[][] = []
      for (const port of [on.port, off.port]) {
        const c = await RawClient.open(port)
        c.write(Buffer.concat([buildRequest({ body, contentLength: false }).whole, buildRequest({ body: eicar }).whole]))
        answers.push(await c.responses(2, 30_000))
        c.destroy()
      }
      assert.deepEqual(paths, [['on', true], ['off', false]])
      for (const a of answers) {
        assert.deepEqual(a.map(statusOf), [200, 200])
        assert.ok(a[0] !== undefined && bodyOf(a[0]).equals(body), 'the clean body echoed intact')
        assert.match(a[1]?.toString('latin1') ?? '', /X-Infection-Found/)
      }
    } finally { await on.close(); await off.close() }
  })

  it('changes the ISTag when the signature set changes', async () => {
    const sigDir = mkdtempSync(join(tmpdir(), 'scanwall-icap-sigs-'))
    for (const f of readdirSync(bundledSignaturesDir)) copyFileSync(join(bundledSignaturesDir, f), join(sigDir, f))
    const icap = await startIcap({ scan: { signaturesDir: sigDir } })
    try {
      const istag = async (): Promise<string> => {
        const c = await RawClient.open(icap.port)
        c.write(optionsRequest)
        const text = (await c.responses(1))[0]?.toString('latin1') ?? ''
        c.destroy()
        return /\r\nISTag: ("[^"]{1,30}")\r\n/.exec(text)?.[1] ?? 'missing'
      }
      const first = await istag()
      assert.notEqual(first, 'missing')
      writeFileSync(join(sigDir, 'extra.hdb'), `${createHash('md5').update('extra').digest('hex')}:5:Test.Extra\n`)
      await icap.scan.reload(sigDir)
      const second = await istag()
      assert.notEqual(second, first)
    } finally { await icap.close(); rmSync(sigDir, { recursive: true, force: true }) }
  })

  it('aborts a body that stops arriving for icap.bodyTimeoutMs, logs it aborted, and keeps serving', async () => {
    const icap = await startIcap({ icap: { bodyTimeoutMs: 300 } })
    try {
      const { whole } = buildRequest({ body: randomBytes(100_000) })
      const c = await RawClient.open(icap.port)
      const closed = new Promise(resolve => c.socket.once('close', resolve))
      // Slow but alive: a chunk every 100 ms for 600 ms keeps the transaction open past 300 ms.
      for (let at = 0; at < 6; at++) {
        c.write(whole.subarray(at * 1000, (at + 1) * 1000))
        await new Promise(resolve => setTimeout(resolve, 100))
      }
      assert.equal(c.socket.destroyed, false, 'a body still moving is not cut off')
      await closed
      await eventually(() => icap.logs.some(l => l.msg === 'icap' && l['outcome'] === 'aborted'), 'the aborted log line')
      assert.ok(icap.logs.some(l => l.msg === 'icap body read timed out' && l['bytes'] !== undefined))
      assert.ok(!icap.logs.some(l => l.msg === 'icap' && l['verdict'] === 'clean'))
      await optionsStillAnswered(icap)
    } finally { await icap.close() }
  })

  it('warns and counts a RESPMOD body that stalls at Squid\'s 64 KiB pipe (bug 5352)', async () => {
    const icap = await startIcap({ icap: { bodyStallWarnMs: 200 } })
    try {
      const body = randomBytes(200_000)
      const { first, rest } = buildRequest({ body, preview: 1024 })
      const c = await RawClient.open(icap.port)
      c.write(first)
      await c.responses(1)
      c.write(rest.subarray(0, 65_535 - 1024 + 10)) // Squid's pipe: 65535 body bytes, no last chunk
      await eventually(() => icap.metrics.squidStalls === 1, 'the stall warning')
      assert.ok(icap.logs.some(l => l.level === 40 && /Squid bug 5352/.test(l.msg)))
      c.destroy()
    } finally { await icap.close() }
  })

  it('close(): stops accepting, lets an in-flight transaction finish, then resolves', async () => {
    const icap = await startIcap()
    let closed = false
    try {
      const busy = await RawClient.open(icap.port)
      const body = randomBytes(5000)
      const { first, rest } = buildRequest({ body, preview: 1024 })
      busy.write(first)
      await busy.responses(1)
      const closing = icap.server.close(10_000).then(() => { closed = true })
      await new Promise(resolve => setTimeout(resolve, 100))
      assert.equal(closed, false, 'close waits for the transaction')
      busy.write(rest)
      const all = await busy.responses(2)
      assert.ok(all[1] !== undefined && bodyOf(all[1]).equals(body))
      assert.match(all[1]?.toString('latin1') ?? '', /\r\nConnection: close\r\n/)
      await closing
      assert.equal(icap.server.connections, 0)
    } finally { await icap.close() }
  })

  it('listens on extra ports, and drains only the connections made to one local address (one cluster instance)', async () => {
    const extra = await freePort()
    // Two local addresses on loopback stand for two cluster instances' virtual addresses.
    const icap = await startIcap({ icap: { host: '0.0.0.0', extraPorts: [extra] } })
    try {
      const kept = await RawClient.open(icap.port, '127.0.0.1')
      kept.write(optionsRequest)
      await kept.responses(1)
      const drained = await RawClient.open(extra, '127.0.0.2')
      drained.write(optionsRequest)
      await drained.responses(1)
      assert.equal(icap.server.connectionsAt('127.0.0.2'), 1)
      icap.server.drain('127.0.0.2')
      await drained.closedByServer()
      await eventually(() => icap.server.connectionsAt('127.0.0.2') === 0, 'the drained connection to be gone')
      // The other address goes on as before: kept alive, and new connections are served, on either port.
      kept.write(optionsRequest)
      const again = await kept.responses(2)
      assert.doesNotMatch(again[1]?.toString('latin1') ?? '', /\r\nConnection: close\r\n/)
      assert.equal(kept.closed, false)
      const other = await RawClient.open(extra, '127.0.0.1')
      other.write(optionsRequest)
      assert.equal(statusOf((await other.responses(1))[0]), 200)
      const refused = await RawClient.open(icap.port, '127.0.0.2')
      assert.equal(statusOf((await refused.responses(1))[0]), 503)
      icap.server.resume('127.0.0.2')
      const back = await RawClient.open(extra, '127.0.0.2')
      back.write(optionsRequest)
      assert.equal(statusOf((await back.responses(1))[0]), 200)
      // The whole server drained (node offline), then one address brought back (online --instance):
      // that address serves as before, the other stays drained.
      icap.server.drain()
      icap.server.resume('127.0.0.2')
      const instance = await RawClient.open(extra, '127.0.0.2')
      instance.write(optionsRequest)
      instance.write(optionsRequest)
      const served = await instance.responses(2)
      assert.deepEqual(served.map(statusOf), [200, 200])
      assert.doesNotMatch(served[1]?.toString('latin1') ?? '', /\r\nConnection: close\r\n/)
      const stillOut = await RawClient.open(icap.port, '127.0.0.1')
      assert.equal(statusOf((await stillOut.responses(1))[0]), 503)
      icap.server.resume()
      for (const c of [kept, other, refused, back, instance, stillOut]) c.destroy()
    } finally { await icap.close() }
  })

  it('offers on a cluster instance\'s address only that instance\'s services (404 for the others)', async () => {
    const icap = await startIcap({ icap: { servicesAt: new Map([['127.0.0.1', ['srv_clamav']]]) } })
    try {
      const c = await RawClient.open(icap.port)
      c.write(optionsRequest) // avscan
      c.write(optionsRequest.toString('latin1').replaceAll('/avscan', '/srv_clamav'))
      const [refused, offered] = await c.responses(2)
      assert.equal(statusOf(refused), 404)
      assert.equal(statusOf(offered), 200)
      const { whole } = buildRequest({ body: eicar, service: 'srv_clamav' })
      c.write(whole)
      const [blocked] = (await c.responses(3)).slice(2)
      assert.match(blocked?.toString('latin1') ?? '', /X-Infection-Found: .*Threat=Eicar-Test-Signature/)
      c.destroy()
    } finally { await icap.close() }
  })

  it('drains: idle connections close, a busy one finishes with Connection: close', async () => {
    const icap = await startIcap()
    try {
      const idle = await RawClient.open(icap.port)
      idle.write(optionsRequest)
      await idle.responses(1)
      const busy = await RawClient.open(icap.port)
      const { first, rest } = buildRequest({ body: randomBytes(5000), preview: 1024, allow: '204' })
      busy.write(first)
      await busy.responses(1)
      icap.server.drain()
      await idle.closedByServer()
      busy.write(rest)
      const all = await busy.responses(2)
      assert.equal(statusOf(all[1]), 204)
      assert.match(all[1]?.toString('latin1') ?? '', /\r\nConnection: close\r\n/)
      await busy.closedByServer()
    } finally { await icap.close() }
  })
})
