import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync, existsSync } from 'node:fs'
import { randomBytes } from 'node:crypto'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { QuarantineStore, type QuarantineOrigin } from '../../../src/quarantine/store.js'
import { readQuarantineKey } from '../../../src/quarantine/key.js'
import type { BodySource } from '../../../src/scan/body.js'
import { eicar } from '../../helpers/eicar.js'

const origin: QuarantineOrigin = { threat: 'Eicar-Test-Signature', reason: 'infected', verdict: 'infected', service: 'avscan', method: 'RESPMOD', url: 'http://origin.test/eicar.com', client: '10.0.0.7', user: 'alice', node: 'n1' }
const memory = (bytes: Buffer): BodySource => {
  const copy = new ArrayBuffer(bytes.length)
  new Uint8Array(copy).set(bytes)
  return { kind: 'memory', bytes: copy, size: bytes.length }
}
const limits = { maxBytes: 1 << 30, maxObjectBytes: 1 << 20, retentionHours: 24 }

describe('quarantine store', () => {
  let dir: string
  const key = randomBytes(32)
  beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'scanwall-q-')) })
  afterEach(() => { rmSync(dir, { recursive: true, force: true }) })

  it('keeps a memory body and a spooled one sealed, and exports both byte-identical', async () => {
    const store = await QuarantineStore.open(join(dir, 'q'), key, limits)
    const big = Buffer.concat([randomBytes(200_000), eicar, randomBytes(1000)])
    const spooled = join(dir, 'spool.bin')
    writeFileSync(spooled, big)
    for (const [body, bytes] of [[memory(eicar), eicar], [{ kind: 'file', path: spooled, size: big.length } satisfies BodySource, big]] as const) {
      const entry = await store.put(body, origin)
      assert.ok(entry !== undefined)
      assert.equal(entry.size, bytes.length)
      assert.equal(entry.sha256, (await import('node:crypto')).createHash('sha256').update(bytes).digest('hex'))
      const out = join(dir, `out-${entry.id}`)
      await store.export(entry.id, out)
      assert.ok(readFileSync(out).equals(bytes), 'exported bytes are the original')
      const atRest = readFileSync(join(store.dir, `${entry.id}.q`))
      assert.equal(atRest.indexOf('EICAR'), -1, 'no EICAR string at rest')
      assert.equal(atRest.indexOf(eicar.subarray(0, 20)), -1)
      assert.equal(statSync(join(store.dir, `${entry.id}.q`)).mode & 0o177, 0, 'mode 0600: no execute bits, no group/other access')
    }
    for (const name of readdirSync(store.dir)) assert.match(name, /^[0-9a-f]{24}\.(q|json)$/, 'names are random ids, never the object\'s')
    assert.equal(statSync(store.dir).mode & 0o777, 0o700)
  })

  it('refuses a wrong key and a changed byte, leaving no exported file', async () => {
    const store = await QuarantineStore.open(join(dir, 'q'), key, limits)
    const entry = await store.put(memory(eicar), origin)
    assert.ok(entry !== undefined)
    const other = await QuarantineStore.open(join(dir, 'q'), randomBytes(32), limits)
    await assert.rejects(other.export(entry.id, join(dir, 'wrong-key')), (err: Error & { code?: string }) => err.code === 'QUARANTINE')
    assert.equal(existsSync(join(dir, 'wrong-key')), false)
    const file = join(store.dir, `${entry.id}.q`)
    const sealed = readFileSync(file)
    sealed[20] = (sealed[20] ?? 0) ^ 1
    writeFileSync(file, sealed)
    await assert.rejects(store.export(entry.id, join(dir, 'tampered')), (err: Error & { code?: string }) => err.code === 'QUARANTINE')
    assert.equal(existsSync(join(dir, 'tampered')), false)
  })

  it('evicts the oldest objects past the size cap and skips objects over maxObjectBytes', async () => {
    const probe = await QuarantineStore.open(join(dir, 'probe'), key, limits)
    const sample = randomBytes(10_000)
    const one = (await probe.put(memory(sample), origin))?.stored ?? 0
    const store = await QuarantineStore.open(join(dir, 'q'), key, { ...limits, maxBytes: one * 2 + 10, maxObjectBytes: 50_000 })
    const ids: string[] = []
    for (let i = 0; i < 4; i++) {
      const entry = await store.put(memory(randomBytes(10_000)), origin, new Date(Date.UTC(2026, 0, 1, 0, i)))
      ids.push(entry?.id ?? '')
    }
    assert.deepEqual((await store.list()).map(e => e.id), ids.slice(2), 'the two newest stay')
    assert.equal(await store.put(memory(randomBytes(60_000)), origin), undefined, 'over maxObjectBytes: not kept')
  })

  it('deletes objects past the retention time, and releases and deletes by id', async () => {
    const store = await QuarantineStore.open(join(dir, 'q'), key, limits)
    const now = Date.now()
    const old = await store.put(memory(eicar), origin, new Date(now - 25 * 3_600_000))
    const fresh = await store.put(memory(eicar), origin, new Date(now))
    assert.equal(await store.expire(now), 1)
    assert.deepEqual((await store.list()).map(e => e.id), [fresh?.id])
    assert.equal(existsSync(join(store.dir, `${old?.id ?? ''}.q`)), false)
    const released = await store.release(fresh?.id ?? '')
    assert.ok(released.released !== undefined)
    assert.equal((await store.get(fresh?.id ?? '')).released, released.released)
    await store.delete(fresh?.id ?? '')
    assert.deepEqual(await store.list(), [])
    await assert.rejects(store.get('../etc/passwd'), /ids are 24 hex digits/)
    await assert.rejects(store.get('0123456789abcdef01234567'), /no object/)
  })

  it('reads the key from config: 64 hex digits, or one line naming the key', () => {
    assert.equal(readQuarantineKey({ key: 'ab'.repeat(32), keyFile: '' }).length, 32)
    assert.throws(() => readQuarantineKey({ key: 'short', keyFile: '' }), /^Error: config: quarantine\.key: must be 64 hex digits|quarantine\.key: must be 64 hex digits/)
    const file = join(dir, 'key')
    writeFileSync(file, `${'cd'.repeat(32)}\n`)
    assert.equal(readQuarantineKey({ key: '', keyFile: file }).toString('hex'), 'cd'.repeat(32))
    assert.throws(() => readQuarantineKey({ key: '', keyFile: join(dir, 'missing') }), /quarantine\.keyFile: cannot read/)
  })
})
