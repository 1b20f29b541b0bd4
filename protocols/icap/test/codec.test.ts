import assert from 'node:assert/strict'
import { ChunkedDecoder } from '../chunked.js'
import { parseEncapsulated, formatEncapsulated } from '../encapsulated.js'
import { parseHeaderBlock, Headers } from '../headers.js'
import { serviceFromUri } from '../request.js'
import { istagFor } from '../options.js'

function decode (text: string): { data: string, last?: boolean, fail?: string, rest: number } {
  const decoder = new ChunkedDecoder({ maxLineBytes: 64, maxChunkBytes: 1 << 20, maxTrailers: 4 })
  const out: { data: string, last?: boolean, fail?: string, rest: number } = { data: '', rest: 0 }
  const buf = Buffer.from(text, 'latin1')
  const pos = decoder.decode(buf, 0, {
    data: b => { out.data += b.toString('latin1') },
    last: ieof => { out.last = ieof },
    fail: reason => { out.fail = reason },
  })
  out.rest = buf.length - pos
  return out
}

describe('chunked decoder', () => {
  it('decodes chunks with extensions and trailers, and stops after the body', () => {
    assert.deepEqual(decode('3;a=b\r\nabc\r\n2 ; x ; y="z"\r\nde\r\n0\r\nT: v\r\n\r\nNEXT'), { data: 'abcde', last: false, rest: 4 })
  })
  it('decodes the same whether a line comes whole in one read or split across reads', () => {
    // Whole lines take the byte-level path (plain hex sizes, the empty trailer line); split ones the
    // string path: both must agree, bare LF line ends included.
    for (const text of ['400\r\n' + 'a'.repeat(1024) + '\r\n0\r\n\r\nNEXT', 'A\n0123456789\n0\n\nN', '1\r\nz\r\n0; ieof\r\n\r\n', 'c\r\nabcdefghijkl\r\n0\r\nT: v\r\n\r\n']) {
      const whole = decode(text)
      for (let cut = 1; cut < text.length; cut++) {
        const decoder = new ChunkedDecoder({ maxLineBytes: 64, maxChunkBytes: 1 << 20, maxTrailers: 4 })
        const out: { data: string, last?: boolean, fail?: string, rest: number } = { data: '', rest: 0 }
        const sink = { data: (b: Buffer) => { out.data += b.toString('latin1') }, last: (ieof: boolean) => { out.last = ieof }, fail: (reason: string) => { out.fail = reason } }
        const first = Buffer.from(text.slice(0, cut), 'latin1')
        const second = Buffer.from(text.slice(cut), 'latin1')
        const used = decoder.decode(first, 0, sink)
        out.rest = used < first.length ? first.length - used + second.length : second.length - decoder.decode(second, 0, sink)
        assert.deepEqual(out, whole, `cut at ${cut} of ${JSON.stringify(text)}`)
      }
    }
  })
  it('recognises ieof on the last chunk', () => {
    assert.deepEqual(decode('1\r\nz\r\n0; ieof\r\n\r\n'), { data: 'z', last: true, rest: 0 })
  })
  const rejects: Array<[string, string]> = [
    ['-5\r\nhello\r\n', 'negative size'],
    ['+5\r\nhello\r\n', 'signed size'],
    ['\r\n', 'empty size'],
    ['5x\r\nhello\r\n', 'garbage after the size'],
    ['0x5\r\nhello\r\n', 'C-style hex'],
    ['FFFFFFFFFFFFFFFFFFFF\r\n', 'size beyond the limit'],
    ['200000\r\n', 'size just over the limit'],
    ['3\r\nhello\r\n', 'data longer than its size'],
    ['5; ieof\r\nhello\r\n', 'ieof on a data chunk'],
    ['5;\r\nhello\r\n', 'empty extension'],
    ['1'.padStart(80, '0') + '\r\n', 'size line too long'],
    ['0\r\nno colon\r\n\r\n', 'malformed trailer'],
  ]
  for (const [input, why] of rejects) {
    it(`rejects ${why}`, () => { assert.ok(decode(input).fail !== undefined, JSON.stringify(decode(input))) })
  }
})

describe('Encapsulated header', () => {
  it('accepts the RFC forms and gives section lengths', () => {
    assert.deepEqual(parseEncapsulated('req-hdr=0, res-hdr=45, res-body=100', 'RESPMOD', 1000), {
      headers: [{ name: 'req-hdr', offset: 0, length: 45 }, { name: 'res-hdr', offset: 45, length: 55 }], body: 'res-body', bodyOffset: 100,
    })
    assert.deepEqual(parseEncapsulated('null-body=0', 'OPTIONS', 1000), { headers: [], body: 'null-body', bodyOffset: 0 })
    assert.equal(typeof parseEncapsulated('req-hdr=0, null-body=30', 'REQMOD', 1000), 'object')
  })
  const bad: Array<[string, string]> = [
    ['res-hdr=0, req-hdr=10, res-body=20', 'RESPMOD'],
    ['req-hdr=5, req-body=20', 'REQMOD'],
    ['req-hdr=0, res-hdr=0, res-body=20', 'RESPMOD'],
    ['req-hdr=0, res-hdr=30, res-body=20', 'RESPMOD'],
    ['req-hdr=0, req-body=20, null-body=30', 'REQMOD'],
    ['req-hdr=0', 'REQMOD'],
    ['res-hdr=0, res-body=20', 'REQMOD'],
    ['req-hdr=0, req-body=-1', 'REQMOD'],
    ['req-hdr=0, req-body=1e3', 'REQMOD'],
    ['req-hdr=0, req-body=5000', 'REQMOD'],
    ['req-hdr, req-body=10', 'REQMOD'],
    ['', 'REQMOD'],
  ]
  for (const [value, method] of bad) {
    it(`rejects '${value}' for ${method}`, () => { assert.equal(typeof parseEncapsulated(value, method, 1000), 'string') })
  }
  it('formats response offsets from part lengths', () => {
    assert.equal(formatEncapsulated([['res-hdr', 120]], 'res-body'), 'res-hdr=0, res-body=120')
    assert.equal(formatEncapsulated([], 'null-body'), 'null-body=0')
  })
})

describe('header blocks', () => {
  it('keeps raw order and spelling and looks up case-insensitively', () => {
    const parsed = parseHeaderBlock(Buffer.from('RESPMOD x ICAP/1.0\r\nAllow: 204\r\nX-A: 1\r\nx-a: 2\r\nX-Violations-Found: 1\r\n\t-\r\n\tName\r\n\r\n'), 10)
    assert.ok(typeof parsed !== 'string')
    assert.equal(parsed.startLine, 'RESPMOD x ICAP/1.0')
    assert.equal(parsed.headers.get('ALLOW'), '204')
    assert.deepEqual(parsed.headers.getAll('x-a'), ['1', '2'])
    assert.deepEqual([...parsed.headers.entries()].map(e => e[0]), ['Allow', 'X-A', 'x-a', 'X-Violations-Found'])
    assert.equal(parsed.headers.get('x-violations-found'), '1\n\t-\n\tName')
  })
  it('splits list fields into tokens', () => {
    const h = new Headers()
    h.append('Allow', '204, Trailers')
    h.append('allow', '206')
    assert.deepEqual(h.tokens('allow'), ['204', 'trailers', '206'])
  })
  it('rejects lines without a colon, bad names and missing blank lines', () => {
    assert.equal(typeof parseHeaderBlock(Buffer.from('X\r\nno colon\r\n\r\n'), 10), 'string')
    assert.equal(typeof parseHeaderBlock(Buffer.from('X\r\nBad Name: v\r\n\r\n'), 10), 'string')
    assert.equal(typeof parseHeaderBlock(Buffer.from('X\r\nA: v\r\n'), 10), 'string')
    assert.equal(typeof parseHeaderBlock(Buffer.from('X\r\nA: v\r\n\r\nextra'), 10), 'string')
  })
})

describe('service URI and ISTag', () => {
  it('takes the service path from icap:// URIs', () => {
    assert.equal(serviceFromUri('icap://127.0.0.1:1344/avscan'), 'avscan')
    assert.equal(serviceFromUri('icap://host/srv_clamav?allow204=on'), 'srv_clamav')
    assert.equal(serviceFromUri('/virus_scan'), 'virus_scan')
    assert.equal(serviceFromUri('http://host/avscan'), undefined)
  })
  it('derives a quoted ISTag of at most 32 bytes that changes with the signature version', () => {
    const a = istagFor('0123456789abcdef')
    const b = istagFor('0123456789abcdee')
    assert.match(a, /^"[^"]+"$/)
    assert.ok(a.length <= 32)
    assert.notEqual(a, b)
    assert.equal(istagFor('0123456789abcdef'), a)
  })
})
