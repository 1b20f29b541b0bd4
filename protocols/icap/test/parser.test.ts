/// The incremental parser on its own: limits enforced as bytes arrive, previews held until the
/// server answers them, pipelined requests, and failures carrying their code and the status the
/// error table gives it. (Scanwall's suite also runs it over its golden request corpus.)
import assert from 'node:assert/strict'
import { IcapParser, type IcapEvent, type ParserLimits } from '../parser.js'
import { statusOf } from '../errors.js'

const limits: ParserLimits = { maxHeaderBytes: 8192, maxHeaderCount: 50, maxChunkBytes: 1 << 30 }

/// The events of whole requests, continuing after each preview and end as a connection does.
function drive (pieces: readonly Buffer[]): string[] {
  const parser = new IcapParser(limits)
  const out: string[] = []
  const handle = (events: readonly IcapEvent[]): void => {
    for (const e of events) {
      out.push(e.kind === 'error' ? `error ${e.failure.status} ${e.failure.code}` : e.kind)
      if (e.kind === 'preview-end') handle(parser.afterPreview(true))
      if (e.kind === 'end') handle(parser.next())
    }
  }
  for (const piece of pieces) handle(parser.push(piece))
  return out.filter((e, i) => e !== 'body' || out[i - 1] !== 'body')
}

describe('ICAP parser limits and previews', () => {
  const options = (extra: string): Buffer => Buffer.from(`OPTIONS icap://h/avscan ICAP/1.0\r\nHost: h\r\n${extra}\r\n`, 'latin1')

  it('rejects an endless header as soon as it passes maxHeaderBytes, without waiting for its end', () => {
    const parser = new IcapParser(limits)
    const events: IcapEvent[] = []
    let fed = 0
    const line = Buffer.from('X-Filler: ' + 'a'.repeat(1000) + '\r\n')
    events.push(...parser.push(Buffer.from('OPTIONS icap://h/avscan ICAP/1.0\r\n')))
    while (fed < 1024 * 1024 && !events.some(e => e.kind === 'error')) {
      events.push(...parser.push(line))
      fed += line.length
    }
    const error = events.find(e => e.kind === 'error')
    assert.ok(error?.kind === 'error')
    assert.equal(error.failure.status, 400)
    assert.equal(error.failure.code, 'ICAP_HEADERS_TOO_LARGE')
    assert.ok(fed <= limits.maxHeaderBytes + line.length, `stopped after ${fed} bytes`)
  })

  it('rejects more header fields than maxHeaderCount', () => {
    const many = Array.from({ length: 60 }, (_, i) => `X-H${i}: v\r\n`).join('')
    assert.deepEqual(drive([options(many)]), ['error 400 ICAP_HEADERS_TOO_LARGE'])
  })

  it('rejects an Encapsulated header part larger than the limit before reading it', () => {
    const head = Buffer.from('RESPMOD icap://h/avscan ICAP/1.0\r\nEncapsulated: res-hdr=0, res-body=999999\r\n\r\n')
    assert.deepEqual(drive([head]), ['error 400 ICAP_BAD_REQUEST'])
  })

  it('holds the rest of a body until the server answered the preview', () => {
    const res = 'HTTP/1.1 200 OK\r\n\r\n'
    const request = Buffer.from(`RESPMOD icap://h/avscan ICAP/1.0\r\nPreview: 2\r\nEncapsulated: res-hdr=0, res-body=${res.length}\r\n\r\n${res}2\r\nab\r\n0\r\n\r\n3\r\ncde\r\n0\r\n\r\n`)
    const parser = new IcapParser(limits)
    const first = parser.push(request).map(e => e.kind)
    assert.deepEqual(first, ['head', 'body', 'preview-end'])
    assert.ok(parser.heldBytes > 0, 'the continuation is held, not parsed as a new request')
    const rest = parser.afterPreview(true)
    assert.deepEqual(rest.map(e => e.kind), ['body', 'end'])
  })

  it('treats the bytes after a final answer to a preview as the next request', () => {
    const res = 'HTTP/1.1 200 OK\r\n\r\n'
    const request = Buffer.from(`RESPMOD icap://h/avscan ICAP/1.0\r\nPreview: 2\r\nEncapsulated: res-hdr=0, res-body=${res.length}\r\n\r\n${res}2\r\nab\r\n0\r\n\r\n`)
    const parser = new IcapParser(limits)
    parser.push(Buffer.concat([request, options('')]))
    assert.deepEqual(parser.afterPreview(false), [])
    assert.deepEqual(parser.next().map(e => e.kind), ['head', 'end'])
  })
})

describe('ICAP parser failures', () => {
  const cases: Array<[string, string, number]> = [
    ['an unknown method', 'PUT icap://h/avscan ICAP/1.0\r\n\r\n', 501],
    ['another ICAP version', 'OPTIONS icap://h/avscan ICAP/2.0\r\n\r\n', 505],
    ['a request line of two words', 'OPTIONS icap://h/avscan\r\n\r\n', 400],
    ['a REQMOD without Encapsulated', 'REQMOD icap://h/avscan ICAP/1.0\r\nHost: h\r\n\r\n', 400],
  ]
  for (const [what, text, status] of cases) {
    it(`answers ${what} with ${status}, the status its code has in the table`, () => {
      const [event] = new IcapParser(limits).push(Buffer.from(text, 'latin1'))
      assert.ok(event?.kind === 'error')
      assert.equal(event.failure.status, status)
      assert.equal(statusOf(event.failure.code), status)
    })
  }

  it('parses pipelined requests one at a time, each after the previous one\'s next()', () => {
    const options = 'OPTIONS icap://h/avscan ICAP/1.0\r\nEncapsulated: null-body=0\r\n\r\n'
    assert.deepEqual(drive([Buffer.from(options + options + options)]), ['head', 'end', 'head', 'end', 'head', 'end'])
  })
})
