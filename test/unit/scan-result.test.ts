/// The worker boundary (issue #10, item 5): what a worker posts back is parsed into typed values,
/// and anything malformed is a SCAN_BAD_RESULT error, never trusted; and the scan service logs a
/// damaged container once per scan, with format, path and error, while the policy lets it pass.
import assert from 'node:assert/strict'
import { Writable } from 'node:stream'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import { pino } from 'pino'
import { BadResult, parseTaskResult } from '../../src/scan/result.js'
import { ScanService } from '../../src/scan/service.js'
import { Metrics } from '../../src/metrics.js'
import { bundledSignaturesDir } from '../../config/schema.js'
import { builders } from '../helpers/containers.js'

const stats = { bytes: 10, objects: 1, depth: 0, ms: 1.5 }
const finding = { name: 'Heuristics.Broken.Zip', kind: 'broken', path: ['object', 'a.zip'], detail: 'no usable central directory' }

describe('worker results are parsed at the boundary', () => {
  it('keeps a well-formed verdict, field for field', () => {
    const raw = { ok: true, verdict: { status: 'broken', findings: [finding], stats } }
    assert.deepEqual(parseTaskResult(raw), raw)
    const failed = { ok: false, code: 'INTERNAL', message: 'x' }
    assert.deepEqual(parseTaskResult(failed), failed)
    const body = new ArrayBuffer(4)
    const withBody = parseTaskResult({ ok: true, verdict: { status: 'clean', findings: [], stats }, body })
    assert.equal(withBody.body, body)
  })

  it('drops fields the types do not promise', () => {
    const parsed = parseTaskResult({ ok: true, extra: 1, verdict: { status: 'clean', findings: [], stats: { ...stats, more: 2 }, junk: 'x' } })
    assert.deepEqual(parsed, { ok: true, verdict: { status: 'clean', findings: [], stats } })
  })

  it('keeps the first 256 findings of a longer list', () => {
    const parsed = parseTaskResult({ ok: true, verdict: { status: 'broken', findings: Array.from({ length: 1000 }, (_, i) => ({ ...finding, name: `F${i}` })), stats } })
    assert.ok(parsed.ok)
    assert.deepEqual(parsed.verdict.findings.map(f => f.name), Array.from({ length: 256 }, (_, i) => `F${i}`))
  })

  const malformed: Array<[string, unknown, RegExp]> = [
    ['not an object', 'clean', /not an object/],
    ['no ok flag', { verdict: {} }, /ok is not a boolean/],
    ['unknown status', { ok: true, verdict: { status: 'fine', findings: [], stats } }, /status 'fine' is unknown/],
    ['findings not a list', { ok: true, verdict: { status: 'clean', findings: {}, stats } }, /findings is not a list/],
    ['unknown finding kind', { ok: true, verdict: { status: 'infected', findings: [{ ...finding, kind: 'virus' }], stats } }, /kind 'virus' is unknown/],
    ['path not names', { ok: true, verdict: { status: 'infected', findings: [{ ...finding, path: [1] }], stats } }, /path is not a list of names/],
    ['negative stats', { ok: true, verdict: { status: 'clean', findings: [], stats: { ...stats, bytes: -1 } } }, /stats.bytes is not a count/],
    ['infected without findings', { ok: true, verdict: { status: 'infected', findings: [], stats } }, /infected verdict without findings/],
    ['error without message', { ok: true, verdict: { status: 'error', findings: [], stats, error: { code: 'INTERNAL' } } }, /error.message is not a string/],
    ['an error code not in the table', { ok: true, verdict: { status: 'error', findings: [], stats, error: { code: 'X', message: 'y' } } }, /code 'X' is not an error code/],
    ['a failure code not in the table', { ok: false, code: 'NO_SUCH_CODE', message: 'y' }, /code 'NO_SUCH_CODE' is not an error code/],
    ['body not a buffer', { ok: false, code: 'INTERNAL', message: 'y', body: 'bytes' }, /body is not an ArrayBuffer/],
  ]
  for (const [label, raw, why] of malformed) {
    it(`refuses a result with ${label}`, () => {
      assert.throws(() => parseTaskResult(raw), (err: unknown) => err instanceof BadResult && why.test(err.message))
    })
  }
})

describe('the scan service with damaged containers', function () {
  this.timeout(60_000)
  const spoolDir = mkdtempSync(join(tmpdir(), 'scanwall-spool-'))
  const lines: Array<Record<string, unknown>> = []
  const sink = new Writable({ write (chunk: Buffer, _enc, done) { lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>); done() } })
  let service: ScanService
  before(async () => {
    service = await ScanService.start({ workers: 1, maxQueue: 4, workerMaxOldGenMb: 128, memoryLimit: 1 << 20, spoolDir, timeoutMs: 10_000, signaturesDir: bundledSignaturesDir }, new Metrics(), pino({ level: 'info' }, sink))
  })
  after(async () => {
    await service.close()
    rmSync(spoolDir, { recursive: true, force: true })
  })

  it('logs one line per scan naming format, path and error, and the verdict says broken', async () => {
    const gz = gzipSync(Buffer.alloc(100_000, 'z'))
    const tar = builders.find(b => b.format === 'tar (ustar)')?.build({ name: 'cut.gz', bytes: gz.subarray(0, gz.length - 30) }) ?? Buffer.alloc(0)
    const body = service.openSink(tar.length)
    await body.write(tar)
    const before = lines.length
    const { verdict } = await service.scan(await body.finish(), { service: 'test' }, new AbortController().signal)
    assert.equal(verdict.status, 'broken')
    const logged = lines.slice(before).filter(l => l['msg'] === 'damaged container: scanned as far as it goes')
    assert.equal(logged.length, 1)
    assert.deepEqual(logged[0]?.['broken'], [{ format: 'Heuristics.Broken.GZip', path: 'object/cut.gz', error: 'member 0: unexpected end of file' }])
  })
})
