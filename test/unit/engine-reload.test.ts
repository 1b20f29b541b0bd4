import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pino } from 'pino'
import { ScanService } from '../../src/scan/service.js'
import { Metrics } from '../../src/metrics.js'
import { hex } from '../helpers/sigdb.js'

describe('ScanService signature reload', function () {
  this.timeout(60_000)
  const root = mkdtempSync(join(tmpdir(), 'scanwall-reload-'))
  const dbDir = join(root, 'db')
  const spoolDir = join(root, 'spool')
  let service: ScanService

  before(async () => {
    mkdirSync(dbDir)
    mkdirSync(spoolDir)
    writeFileSync(join(dbDir, 'a.ndb'), 'Reload.Old:0:*:deadbeef0102030405\n')
    service = await ScanService.start({ workers: 2, maxQueue: 16, workerMaxOldGenMb: 256, memoryLimit: 1 << 20, spoolDir, timeoutMs: 60_000, signaturesDir: dbDir, signaturesCacheDir: join(root, 'cache') }, new Metrics(), pino({ level: 'silent' }))
  })
  after(async () => {
    await service.close()
    rmSync(root, { recursive: true, force: true })
  })

  async function body (bytes: Uint8Array) {
    const sink = service.openSink()
    for (let at = 0; at < bytes.length; at += 1 << 20) await sink.write(bytes.subarray(at, at + (1 << 20)))
    return await sink.finish()
  }
  async function scan (bytes: Uint8Array) {
    return (await service.scan(await body(bytes), { service: 'test' }, new AbortController().signal)).verdict
  }

  it('swaps in a new DB: new scans use it, scans in flight finish on the old one, the version changes', async () => {
    const oldSample = Buffer.concat([randomBytes(8 << 20), hex('deadbeef0102030405')])
    const newSample = hex('....cafebabe0102030405....')
    const first = await scan(oldSample)
    assert.equal(first.findings[0]?.name, 'Reload.Old', JSON.stringify(first))
    const before = service.dbVersion
    const source = await body(oldSample)
    const inFlight = service.scan(source, { service: 'test' }, new AbortController().signal) // submitted to the old pool before the swap
    writeFileSync(join(dbDir, 'a.ndb'), 'Reload.New:0:*:cafebabe0102030405\n')
    const reloaded = service.reload()
    const during = (await inFlight).verdict
    assert.equal(during.findings[0]?.name, 'Reload.Old', JSON.stringify(during))
    const db = await reloaded
    assert.notEqual(service.dbVersion, before)
    assert.equal(service.dbVersion, db.version)
    assert.ok(db.buffer instanceof SharedArrayBuffer, 'the compiled DB is shared memory, mapped by every worker')
    assert.equal((await scan(oldSample)).status, 'clean')
    assert.equal((await scan(newSample)).findings[0]?.name, 'Reload.New')
  })

  it('keeps the loaded DB and says why when a reload fails', async () => {
    const before = service.dbVersion
    writeFileSync(join(dbDir, 'b.ndb'), 'Broken:0:*:zz\n')
    await assert.rejects(service.reload(), (err: Error & { code?: string }) => err.code === 'SIGDB_INVALID' && /b\.ndb:1: bad hex/.test(err.message))
    assert.equal(service.dbVersion, before)
    assert.match(service.lastReloadError ?? '', /b\.ndb:1/)
    assert.equal((await scan(hex('cafebabe0102030405'))).findings[0]?.name, 'Reload.New')
    rmSync(join(dbDir, 'b.ndb'))
    await service.reload()
    assert.equal(service.lastReloadError, undefined)
  })
})
