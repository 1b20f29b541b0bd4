/// Differential fuzz test of the reused read buffer (reused-reads.ts): two loopback servers, one
/// reading into the server's one reused buffer and one with `reusedReads: false` (a fresh Buffer per
/// read), get the same seeded byte streams cut into random writes with small random pauses, over
/// many concurrent connections (so the shared buffer passes from connection to connection between
/// reads). Every request's handler record (ICAP note, HTTP header bytes, body hashed as written and
/// as stored), every response (status, header parts, de-chunked body) and every raw response stream
/// must be the same on both, and what the generator intended. A view of the read buffer kept past
/// its read shows as a body, header or response that differs.
/// ICAP_FUZZ_ITERATIONS (requests, default 300), ICAP_FUZZ_SEED and ICAP_FUZZ_CONNECTIONS (at once,
/// default 16) make longer or other runs; a failure names its seed and connection.
import assert from 'node:assert/strict'
import { responseEnd, type IcapServer } from '../index.js'
import { serveSuite } from './serve.js'
import { FuzzHandler, drive, type HashedBody, type Seen } from './fuzz-peers.js'
import { Prng, fuzzConnection, modifiedBody, type FuzzConnection, type FuzzRequest } from './fuzz-traffic.js'

const iterations = Number(process.env['ICAP_FUZZ_ITERATIONS'] ?? 300)
const seed = Number(process.env['ICAP_FUZZ_SEED'] ?? 0x1cab5eed)
const parallel = Number(process.env['ICAP_FUZZ_CONNECTIONS'] ?? 16)

/// One response split into its parts; the Date line is left out (the servers answer at their time).
interface Parsed {
  readonly status: number
  readonly head: string
  readonly parts: string
  /// De-chunked; undefined for null-body (and 100 Continue).
  readonly body: Buffer | undefined
}

function parseResponse (bytes: Buffer): Parsed {
  const headEnd = bytes.indexOf('\r\n\r\n') + 4
  const head = bytes.toString('latin1', 0, headEnd).replace(/\r\nDate: [^\r\n]*/, '')
  const status = Number(head.slice(9, 12))
  const enc = /\r\nEncapsulated: *([^\r\n]*)/i.exec(head)?.[1]
  if (enc === undefined) return { status, head, parts: '', body: undefined }
  const sections = enc.split(',').map(s => s.trim().split('='))
  const [lastName, lastOffset] = sections[sections.length - 1] ?? ['', '0']
  const bodyAt = headEnd + Number(lastOffset)
  const parts = bytes.toString('latin1', headEnd, bodyAt)
  if (lastName === 'null-body') return { status, head, parts, body: undefined }
  const chunks: Buffer[] = []
  for (let at = bodyAt; ;) {
    const nl = bytes.indexOf('\r\n', at)
    const size = parseInt(bytes.toString('latin1', at, nl).split(';')[0] ?? '', 16)
    if (size === 0) break
    chunks.push(bytes.subarray(nl + 2, nl + 2 + size))
    at = nl + 2 + size + 2
  }
  return { status, head, parts, body: Buffer.concat(chunks) }
}

function splitResponses (stream: Buffer): Buffer[] {
  const out: Buffer[] = []
  for (let pos = 0, end = responseEnd(stream, 0); end > 0; pos = end, end = responseEnd(stream, pos)) out.push(stream.subarray(pos, end))
  return out
}

/// The generator's intent for request `r` and its responses, as the client read them.
function checkResponses (r: FuzzRequest, got: readonly Parsed[], where: string): void {
  assert.deepEqual(got.map(p => p.status), r.responses.map(e => e.status), `${where}: statuses`)
  const final = got[got.length - 1]
  const expected = r.responses[r.responses.length - 1]
  if (final === undefined || expected === undefined) return
  if (expected.echo) {
    assert.equal(final.parts, r.method === 'REQMOD' ? r.reqHdr : r.resHdr, `${where}: echoed HTTP headers`)
    assert.equal(final.body === undefined, r.body === undefined, `${where}: echo has a body`)
    if (r.body !== undefined) assert.ok(final.body?.equals(r.body), `${where}: echoed body (${final.body?.length ?? 0} of ${r.body.length} bytes)`)
  }
  const body = final.body ?? Buffer.alloc(0)
  if (expected.modified) assert.ok(body.equals(modifiedBody(r.body ?? Buffer.alloc(0))), `${where}: modified body`)
  if (r.answer === 'early') assert.equal(body.toString('latin1'), `early ${r.id}`, `${where}: early answer`)
}

/// What the handler must have been given for `r`.
function checkSeen (r: FuzzRequest, seen: Seen | undefined, where: string): void {
  if (r.method === 'OPTIONS') return
  assert.ok(seen !== undefined, `${where}: the handler saw it`)
  assert.equal(seen.via, r.answer === 'early' ? 'early' : 'respond', `${where}: asked by`)
  assert.equal(seen.method, r.method, `${where}: method`)
  assert.equal(seen.note, r.note, `${where}: ICAP header`)
  assert.equal(seen.reqHdr, r.reqHdr, `${where}: req-hdr bytes`)
  assert.equal(seen.resHdr, r.resHdr, `${where}: res-hdr bytes`)
  if (seen.via === 'early') return
  if (r.body === undefined) { assert.equal(seen.body, undefined, `${where}: no body`); return }
  assert.deepEqual(seen.body, { size: r.body.length, overLimit: false, streamedSha: r.bodySha, streamedBytes: r.body.length, storedSha: r.bodySha }, `${where}: body`)
}

/// A response stream without its Date lines (raw bytes otherwise).
const undated = (stream: Buffer): string => stream.toString('latin1').replace(/\r\nDate: [^\r\n]*/g, '')

function checkConnection (conn: FuzzConnection, streams: readonly Buffer[], handlers: readonly FuzzHandler[]): void {
  const [reused, fresh] = streams
  const at = `seed ${seed} connection ${conn.index}`
  assert.ok(reused !== undefined && fresh !== undefined)
  const parsed = [reused, fresh].map(s => splitResponses(s).map(parseResponse))
  assert.deepEqual(parsed[0], parsed[1], `${at}: both servers' responses`)
  // A trickled echo is chunked as its reads came: its bytes differ, its de-chunked body does not.
  if (!conn.requests.some(r => r.answer === 'trickle')) assert.equal(undated(reused), undated(fresh), `${at}: raw response streams`)
  const responses = parsed[0] ?? []
  assert.equal(responses.length, conn.responses.length, `${at}: response count`)
  let next = 0
  for (const r of conn.requests) {
    const where = `${at} request ${r.id} (${r.method} ${r.answer}, ${r.body?.length ?? 'no'} body bytes, preview ${r.preview ?? '-'})`
    checkResponses(r, responses.slice(next, next + r.responses.length), where)
    next += r.responses.length
    const seen = handlers.map(h => h.seen.get(r.id))
    assert.deepEqual(seen[0], seen[1], `${where}: what both handlers saw`)
    checkSeen(r, seen[0], where)
    for (const h of handlers) h.seen.delete(r.id)
  }
}

/// How many requests each connection carries: 1 to 8, from the run's seed.
function connectionSizes (): number[] {
  const rng = new Prng(seed)
  const sizes: number[] = []
  for (let total = 0; total < iterations;) {
    const n = Math.min(iterations - total, rng.int(1, 8))
    sizes.push(n)
    total += n
  }
  return sizes
}

function openedPaths (server: IcapServer<HashedBody>): boolean[] {
  const paths: boolean[] = []
  server.on('open', e => { paths.push(e.reusedReads) })
  return paths
}

describe('icap-server-lite reused reads: differential fuzz against fresh reads', function () {
  this.timeout(Math.max(60_000, iterations * 200))
  const handlers = [new FuzzHandler(), new FuzzHandler()] as const
  const options = { maxConnections: 256, previewBytes: 1024, maxHeaderBytes: 65_536, maxHeaderCount: 100, maxBodyBytes: 4 << 20, headerTimeoutMs: 20_000, bodyTimeoutMs: 20_000, idleTimeoutMs: 20_000 }
  const reused = serveSuite(handlers[0], options)
  const fresh = serveSuite(handlers[1], { ...options, reusedReads: false })
  const paths = [openedPaths(reused.server), openedPaths(fresh.server)]

  it(`answers ${iterations} requests the same, byte for byte, with and without the reused buffer (seed ${seed})`, async () => {
    const sizes = connectionSizes()
    let taken = 0
    let bodyBytes = 0
    const worker = async (): Promise<void> => {
      while (taken < sizes.length) {
        const index = taken++
        const conn = fuzzConnection(seed, index, sizes[index] ?? 1)
        const streams = await drive(conn, [reused.port, fresh.port])
        checkConnection(conn, streams, handlers)
        for (const r of conn.requests) bodyBytes += r.body?.length ?? 0
      }
    }
    await Promise.all(Array.from({ length: Math.min(parallel, sizes.length) }, worker))
    // The comparison means something only if the first server did read into its reused buffer.
    assert.equal(paths[0]?.length, sizes.length, 'connections opened on the reused-reads server')
    assert.ok(paths[0]?.every(Boolean), 'every connection of the first server read into the reused buffer')
    assert.ok(paths[1]?.every(p => !p), 'no connection of the second server did')
    const records = [reused.records, fresh.records].map(list => list.filter(r => r.method !== 'OPTIONS').map(r => `${r.url} ${r.status} ${r.outcome} ${r.answer ?? '-'} ${r.bytes}`).sort())
    assert.deepEqual(records[0], records[1], 'transaction records')
    assert.ok(reused.records.every(r => r.outcome === 'answered'), 'every transaction answered')
    if (process.env['ICAP_FUZZ_ITERATIONS'] !== undefined) {
      console.log(`      fuzz: seed ${seed}, ${iterations} requests on ${sizes.length} connections, ${(bodyBytes / 1048576).toFixed(1)} MiB of bodies`)
    }
  })
})
