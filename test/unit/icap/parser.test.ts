import assert from 'node:assert/strict'
import { IcapParser, type IcapEvent, type ParserLimits } from 'icap-server-lite'
import { fixtureNames, readRequest } from './fixtures.js'

const limits: ParserLimits = { maxHeaderBytes: 8192, maxHeaderCount: 50, maxChunkBytes: 1 << 30 }

/// Runs the parser over pieces the way a connection does (100 Continue after each preview, next()
/// after each end) and renders the events; consecutive body events are merged, since where a body
/// is split depends only on how the bytes arrived.
function drive (pieces: readonly Buffer[], lim: ParserLimits = limits): string[] {
  const parser = new IcapParser(lim)
  const out: string[] = []
  let body: Buffer[] = []
  const flushBody = (): void => {
    if (body.length > 0) out.push(`body ${Buffer.concat(body).toString('latin1')}`)
    body = []
  }
  const handle = (events: readonly IcapEvent[]): void => {
    for (const e of events) {
      if (e.kind === 'body') { body.push(Buffer.from(e.data)); continue }
      flushBody()
      switch (e.kind) {
        case 'head': {
          const r = e.request
          out.push('head ' + JSON.stringify({
            method: r.method,
            uri: r.uri,
            service: r.service,
            enc: r.encapsulated,
            preview: r.preview,
            allow204: r.allow204,
            allow206: r.allow206,
            close: r.close,
            headers: [...r.headers.entries()],
            reqHdr: r.reqHdr?.raw.toString('latin1'),
            resHdr: r.resHdr?.raw.toString('latin1'),
          }))
          break
        }
        case 'preview-end': out.push('preview-end'); handle(parser.afterPreview(true)); break
        case 'end': out.push(`end ieof=${e.ieof}`); handle(parser.next()); break
        case 'error': out.push(`error ${e.failure.status} ${e.failure.code}`); break
      }
    }
  }
  for (const piece of pieces) handle(parser.push(piece))
  flushBody()
  return out
}

describe('ICAP parser over the golden requests', () => {
  // The cases below are generated from the fixture directory: an empty one would pass silently.
  it('has golden requests to run', () => { assert.ok(fixtureNames().length >= 20, `only ${fixtureNames().length} golden requests found`) })
  for (const name of fixtureNames()) {
    describe(name, () => {
      const request = readRequest(name)
      const whole = drive([request])

      it('parses the whole request to the expected kind of outcome', () => {
        const status = /^error-(\d{3})/.exec(name)?.[1]
        const errors = whole.filter(e => e.startsWith('error'))
        if (status === '404' || status === '405' || status === undefined) {
          assert.deepEqual(errors, [], 'a well-formed request parses without error')
          assert.equal(whole.filter(e => e.startsWith('head')).length, whole.filter(e => e.startsWith('end')).length, 'every head has its end')
          assert.ok(whole.length > 0)
        } else {
          assert.equal(errors.length, 1)
          assert.ok(errors[0]?.startsWith(`error ${status}`), `${errors[0]} should be ${status}`)
          assert.ok(whole[whole.length - 1]?.startsWith('error'), 'nothing is parsed after an error')
        }
      })

      it('gives the same events fed byte by byte', () => {
        const bytes: Buffer[] = []
        for (let i = 0; i < request.length; i++) bytes.push(request.subarray(i, i + 1))
        assert.deepEqual(drive(bytes), whole)
      })

      it('gives the same events split at every offset', () => {
        for (let at = 1; at < request.length; at++) {
          assert.deepEqual(drive([request.subarray(0, at), request.subarray(at)]), whole, `split at ${at}`)
        }
      })
    })
  }
})

describe('ICAP parser robustness', () => {
  it('never throws on mutated golden requests: each ends parsed, waiting, or with one error', () => {
    // Deterministic pseudo-random mutations (xorshift), so a failure reproduces.
    let seed = 0x2545f491
    const rand = (n: number): number => {
      seed ^= seed << 13; seed ^= seed >>> 17; seed ^= seed << 5
      return (seed >>> 0) % n
    }
    const alphabet = Buffer.from('0123456789abcdefABCDEF;=, \r\n:-\t\0\xff', 'latin1')
    for (const name of fixtureNames()) {
      const original = readRequest(name)
      for (let round = 0; round < 60; round++) {
        const mutated = Buffer.from(original)
        for (let k = 0; k < 1 + rand(4); k++) mutated[rand(mutated.length)] = alphabet[rand(alphabet.length)] ?? 0
        const cut = rand(mutated.length)
        const events = drive([mutated.subarray(0, cut), mutated.subarray(cut)])
        assert.ok(events.filter(e => e.startsWith('error')).length <= 1, `${name} round ${round}`)
      }
    }
  })
})
