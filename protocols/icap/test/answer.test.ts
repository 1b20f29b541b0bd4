/// The answers (answer.ts) over a real loopback server, driven by a handler written here: every
/// answer kind, the choice between 206, 204 and the 200 echo, bodies over the limit, a handler that
/// throws, and the lines every answer carries. Nothing of Scanwall is involved.
import assert from 'node:assert/strict'
import { MemoryBodyStore, allowAnswer, blockAnswer, IcapError, type IcapAnswer, type IcapHandler, type IcapServerOptions, type IcapTransactionInfo, type ReceivedBody } from '../index.js'
import { TestClient, request, statusOf } from './client.js'
import { serveSuite, testServerOptions } from './serve.js'

interface Call { readonly tx: IcapTransactionInfo, readonly body: ReceivedBody<Buffer> | undefined, readonly text: string | undefined }
type Decide = (tx: IcapTransactionInfo, body: ReceivedBody<Buffer> | undefined) => IcapAnswer<Buffer> | Promise<IcapAnswer<Buffer>>

class ScriptedHandler implements IcapHandler<Buffer> {
  readonly bodies = new MemoryBodyStore()
  readonly calls: Call[] = []
  decide: Decide = (tx, body) => allowAnswer(tx.echoNeeded ? body?.stored : undefined, 'clean')
  istag (): string { return '"test-1"' }
  async respond (tx: IcapTransactionInfo, body: ReceivedBody<Buffer> | undefined): Promise<IcapAnswer<Buffer>> {
    this.calls.push({ tx, body, text: body?.stored?.toString('latin1') })
    return await this.decide(tx, body)
  }
}

const options: Partial<IcapServerOptions> = {
  services: ['scan', 'resp:RESPMOD'],
  allow206: true,
  maxBodyBytes: 64,
  serverName: 'answer-test/1',
  answerHeaders: [['X-Answered-By', 'node-a']],
}
const maxConnections = testServerOptions.maxConnections

describe('icap-server-lite answers', () => {
  const handler = new ScriptedHandler()
  const suite = serveSuite(handler, options)
  const { server, records } = suite
  beforeEach(() => {
    handler.calls.length = 0
    handler.decide = (tx, body) => allowAnswer(tx.echoNeeded ? body?.stored : undefined, 'clean')
  })

  async function exchange (bytes: Buffer, n = 1): Promise<string[]> {
    const c = await TestClient.open(suite.port)
    try {
      c.socket.write(bytes)
      return await c.wait(n)
    } finally { c.destroy() }
  }

  it('allow: 204 when the client allows it, the whole body handed to the handler', async () => {
    const [answer] = await exchange(request({ body: Buffer.from('hello world'), allow: '204' }).whole)
    assert.equal(statusOf(answer), 204)
    assert.match(answer ?? '', /\r\nEncapsulated: null-body=0\r\n\r\n$/)
    assert.equal(handler.calls[0]?.text, 'hello world')
    assert.equal(handler.calls[0]?.tx.echoNeeded, false)
    assert.equal(handler.calls[0]?.body?.overLimit, false)
  })

  it('allow: 200 echoing the original headers and body when 204 is not allowed', async () => {
    const [answer] = await exchange(request({ body: Buffer.from('echo me') }).whole)
    assert.equal(statusOf(answer), 200)
    assert.equal(handler.calls[0]?.tx.echoNeeded, true)
    assert.match(answer ?? '', /Encapsulated: res-hdr=0, res-body=\d+\r\n\r\nHTTP\/1\.1 200 OK\r\nContent-Type: text\/plain\r\nContent-Length: 7\r\n\r\n7\r\necho me\r\n0\r\n\r\n$/)
  })

  it('allow: 206 use-original-body in place of 100 Continue when the client offers 206', async () => {
    // Declared over the limit, so the preview is decided at once rather than continued.
    const [answer] = await exchange(request({ body: Buffer.alloc(100, 'p'), preview: 16, allow: '206' }).first)
    assert.match(answer ?? '', /^ICAP\/1\.0 206 Partial Content\r\n[^]*\r\n0; use-original-body=0\r\n\r\n$/)
  })

  it('replace: 200 with the handler\'s HTTP response and ICAP lines, nothing of the original body', async () => {
    handler.decide = () => blockAnswer('Test.Threat', Buffer.from('<p>blocked</p>'), 'infected')
    const [answer] = await exchange(request({ method: 'REQMOD', body: Buffer.from('secret-payload'), allow: '204' }).whole)
    assert.equal(statusOf(answer), 200)
    assert.match(answer ?? '', /\r\nX-Infection-Found: Type=0; Resolution=2; Threat=Test\.Threat;\r\n/)
    assert.match(answer ?? '', /\r\nX-Violations-Found: 1\r\n\t-\r\n\tTest\.Threat\r\n\t0\r\n\t0\r\n/)
    assert.match(answer ?? '', /\r\n\r\nHTTP\/1\.1 403 Forbidden\r\nContent-Type: text\/html; charset=utf-8\r\nContent-Length: 14\r\nCache-Control: no-store\r\nX-Virus-ID: Test\.Threat\r\n\r\ne\r\n<p>blocked<\/p>\r\n0\r\n\r\n$/)
    assert.ok(!(answer ?? '').includes('secret-payload'))
    const record = records.at(-1)
    assert.equal(record?.answer, 'replace')
    assert.equal(record?.verdict, 'infected')
    assert.equal(record?.threat, 'Test.Threat')
  })

  it('error: the status the handler names, connection kept', async () => {
    handler.decide = () => ({ kind: 'error', status: 503, verdict: 'overload' })
    const c = await TestClient.open(suite.port)
    try {
      c.socket.write(Buffer.concat([request({ body: Buffer.from('x'), allow: '204' }).whole, request({ body: Buffer.from('y'), allow: '204' }).whole]))
      const answers = await c.wait(2)
      assert.deepEqual(answers.map(statusOf), [503, 503])
      assert.equal(c.closed, false)
    } finally { c.destroy() }
  })

  it('a handler that throws: its error\'s icapStatus, or 500, and the connection closes', async () => {
    handler.decide = () => { throw new IcapError('ICAP_HANDLER_FAILED', 'boom') }
    const c = await TestClient.open(suite.port)
    c.socket.write(request({ body: Buffer.from('x'), allow: '204' }).whole)
    await c.waitClosed()
    assert.equal(statusOf(c.responses()[0]), 500)
    handler.decide = () => { throw Object.assign(new Error('overloaded'), { icapStatus: 503 }) }
    const d = await TestClient.open(suite.port)
    d.socket.write(request({ body: Buffer.from('x'), allow: '204' }).whole)
    await d.waitClosed()
    assert.equal(statusOf(d.responses()[0]), 503)
  })

  it('abort: no answer, the connection closes', async () => {
    handler.decide = () => ({ kind: 'abort' })
    const c = await TestClient.open(suite.port)
    c.socket.write(request({ body: Buffer.from('x'), allow: '204' }).whole)
    await c.waitClosed()
    assert.equal(c.received.length, 0)
    assert.equal(records.at(-1)?.outcome, 'aborted')
  })

  it('over the limit with 204 allowed: the handler is told, and gets no bytes to keep', async () => {
    const [answer] = await exchange(request({ body: Buffer.alloc(200, 'b'), allow: '204', contentLength: false }).whole)
    assert.equal(statusOf(answer), 204)
    const call = handler.calls[0]
    assert.equal(call?.body?.overLimit, true)
    assert.equal(call?.body?.size, 200)
    assert.equal(call?.body?.stored, undefined)
  })

  it('over the limit without 204: the body is kept whole so an allow can echo it', async () => {
    const body = Buffer.alloc(200, 'k')
    const [answer] = await exchange(request({ body, contentLength: false }).whole)
    assert.equal(statusOf(answer), 200)
    assert.equal(handler.calls[0]?.body?.overLimit, true)
    assert.equal(handler.calls[0]?.text, body.toString('latin1'))
    assert.ok((answer ?? '').includes(`c8\r\n${body.toString('latin1')}\r\n0\r\n\r\n`))
  })

  it('declared over the limit with a preview: decided inside the preview, the declared size told', async () => {
    handler.decide = () => blockAnswer('Too.Big', Buffer.from('no'))
    const c = await TestClient.open(suite.port)
    try {
      c.socket.write(request({ body: Buffer.alloc(500, 'd'), preview: 16, allow: '204' }).first)
      const [answer] = await c.wait(1)
      assert.equal(statusOf(answer), 200, 'the answer, not 100 Continue')
      assert.equal(handler.calls[0]?.body?.size, 500)
      assert.equal(handler.calls[0]?.body?.overLimit, true)
    } finally { c.destroy() }
  })

  it('a message without a body: the handler is asked with none; OPTIONS, 404 and 405 never reach it', async () => {
    const [answer] = await exchange(request({ method: 'REQMOD' }).whole)
    assert.equal(statusOf(answer), 200, 'no 204 offered: the headers are echoed')
    assert.match(answer ?? '', /Encapsulated: req-hdr=0, null-body=\d+\r\n\r\nPOST http:\/\/origin\.test\/upload HTTP\/1\.1\r\n/)
    assert.equal(handler.calls.length, 1)
    assert.equal(handler.calls[0]?.body, undefined)
    handler.calls.length = 0
    const options = await exchange(Buffer.from('OPTIONS icap://127.0.0.1/scan ICAP/1.0\r\nEncapsulated: null-body=0\r\n\r\n'))
    const missing = await exchange(request({ service: 'nosuch', body: Buffer.from('x') }).whole)
    const notAllowed = await exchange(request({ method: 'REQMOD', service: 'resp', body: Buffer.from('x') }).whole)
    assert.deepEqual([options[0], missing[0], notAllowed[0]].map(statusOf), [200, 404, 405])
    assert.match(options[0] ?? '', /\r\nService: answer-test\/1 scan\r\n/)
    assert.equal(handler.calls.length, 0)
  })

  it('tells the handler who asked: client, user, URL, addresses', async () => {
    await exchange(request({ method: 'REQMOD', body: Buffer.from('x'), allow: '204', headers: ['X-Client-IP: 192.0.2.9', 'X-Authenticated-User: bob'] }).whole)
    const tx = handler.calls[0]?.tx
    assert.equal(tx?.clientIp, '192.0.2.9')
    assert.equal(tx?.user, 'bob')
    assert.equal(tx?.url, 'http://origin.test/upload')
    assert.equal(tx?.service.name, 'scan')
    assert.equal(tx?.local, '127.0.0.1')
  })

  it('every answer carries the Server, the ISTag and the answerHeaders lines; 100 Continue carries none', async () => {
    const c = await TestClient.open(suite.port)
    try {
      const { first, rest } = request({ body: Buffer.alloc(40, 'c'), preview: 16, contentLength: false })
      c.socket.write(first)
      const [cont] = await c.wait(1)
      assert.equal(cont, 'ICAP/1.0 100 Continue\r\n\r\n')
      c.socket.write(rest)
      const [, answer] = await c.wait(2)
      assert.match(answer ?? '', /^ICAP\/1\.0 200 OK\r\nDate: [^\r]+\r\nServer: answer-test\/1\r\nISTag: "test-1"\r\nConnection: keep-alive\r\nX-Answered-By: node-a\r\n/)
    } finally { c.destroy() }
    const [bad] = await exchange(Buffer.from('NOPE icap://127.0.0.1/scan ICAP/1.0\r\n\r\n'))
    assert.equal(statusOf(bad), 501)
    assert.match(bad ?? '', /\r\nX-Answered-By: node-a\r\n/)
  })

  it('refuses connections past maxConnections with 503 (and the answer lines), reported as refused', async () => {
    const refused: string[] = []
    server.on('refused', r => { refused.push(r.code) })
    const held = await Promise.all(Array.from({ length: maxConnections }, async () => await TestClient.open(suite.port)))
    try {
      const extra = await TestClient.open(suite.port)
      await extra.waitClosed()
      assert.equal(statusOf(extra.responses()[0]), 503)
      assert.match(extra.responses()[0] ?? '', /\r\nX-Answered-By: node-a\r\n/)
      assert.deepEqual(refused, ['ICAP_TOO_MANY_CONNECTIONS'])
    } finally { for (const c of held) c.destroy() }
  })
})
