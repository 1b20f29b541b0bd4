/// What the scan is told about an ICAP object: Scanwall's handler fills the scan context from the
/// ICAP request as icap-server-lite parsed it (X-Client-IP, X-Authenticated-User / X-Client-Username,
/// the encapsulated request line and Host, and the header fields of the message whose body it is).
import assert from 'node:assert/strict'
import { IcapParser, ServiceTable, httpUrl, type IcapRequest, type IcapTransactionInfo } from 'icap-server-lite'
import { scanContext } from '../../../src/icap/handler.js'

function parse (text: string): IcapRequest {
  const parser = new IcapParser({ maxHeaderBytes: 8192, maxHeaderCount: 50, maxChunkBytes: 1 << 20 })
  const head = parser.push(Buffer.from(text, 'latin1')).find(e => e.kind === 'head')
  assert.ok(head?.kind === 'head', 'the request parses')
  return head.request
}

function info (request: IcapRequest): IcapTransactionInfo {
  const found = new ServiceTable(['avscan', 'srv_clamav']).lookup(request.service, request.method)
  assert.ok(found.ok)
  const h = request.headers
  return { request, service: found.service, url: httpUrl(request), clientIp: h.get('x-client-ip'), user: h.get('x-authenticated-user') ?? h.get('x-client-username'), remote: '127.0.0.1', local: '127.0.0.1', echoNeeded: false, trickled: false }
}

function respmod (icapHeaders: string): string {
  const req = 'GET /dl/file.bin HTTP/1.1\r\nHost: origin.test\r\n\r\n'
  const res = 'HTTP/1.1 200 OK\r\nContent-Type: application/zip\r\nX-Thing: a\r\nX-Thing: b\r\nContent-Length: 3\r\n\r\n'
  return `RESPMOD icap://127.0.0.1/srv_clamav ICAP/1.0\r\nHost: 127.0.0.1\r\n${icapHeaders}Encapsulated: req-hdr=0, res-hdr=${req.length}, res-body=${req.length + res.length}\r\n\r\n${req}${res}3\r\nabc\r\n0\r\n\r\n`
}

describe('the scan context of an ICAP object', () => {
  it('RESPMOD: service path, method, client and user from Squid\'s headers, URL from Host, the response\'s fields', () => {
    const ctx = scanContext(info(parse(respmod('X-Client-IP: 192.0.2.7\r\nX-Client-Username: carol\r\n'))))
    // The header map is built on first read (a getter), so it is compared on its own.
    assert.deepEqual({ ...ctx }, {
      service: 'srv_clamav',
      method: 'RESPMOD',
      client: '192.0.2.7',
      user: 'carol',
      url: 'http://origin.test/dl/file.bin',
    })
    assert.deepEqual(ctx.headers, { 'content-type': 'application/zip', 'x-thing': 'a, b', 'content-length': '3' })
  })

  it('REQMOD without identity headers: the peer as client, no user, the request\'s own fields', () => {
    const req = 'POST http://origin.test/upload HTTP/1.1\r\nHost: origin.test\r\nContent-Type: text/plain\r\nContent-Length: 3\r\n\r\n'
    const ctx = scanContext(info(parse(`REQMOD icap://127.0.0.1/avscan ICAP/1.0\r\nHost: 127.0.0.1\r\nEncapsulated: req-hdr=0, req-body=${req.length}\r\n\r\n${req}3\r\nabc\r\n0\r\n\r\n`)))
    assert.equal(ctx.client, '127.0.0.1')
    assert.equal('user' in ctx, false)
    assert.equal(ctx.method, 'REQMOD')
    assert.equal(ctx.url, 'http://origin.test/upload')
    assert.equal(ctx.headers?.['content-type'], 'text/plain')
  })
})
