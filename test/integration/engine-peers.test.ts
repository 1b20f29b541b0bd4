import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { generateDb, requireProgram } from '../helpers/peers.js'
import { positiveSample } from '../helpers/positive.js'
import { loadDb } from '../../src/engine/signatures/cache.js'
import { Matcher } from '../../src/engine/matcher/matcher.js'
import { parseBodyLine } from '../../src/engine/signatures/ndb.js'
import type { FileType } from '../../src/engine/filetype.js'

const run = promisify(execFile)

describe('engine with the peer-scale DB (gen-db.py: 100k hdb + 20k ndb)', function () {
  this.timeout(180_000)
  const root = mkdtempSync(join(tmpdir(), 'scanwall-peerdb-'))
  const dbDir = join(root, 'db')
  let matcher: Matcher
  before(async () => {
    requireProgram('clamscan')
    generateDb(dbDir)
    const { db } = await loadDb(dbDir, { lenient: false, useCache: false })
    matcher = new Matcher(db)
  })
  after(() => { rmSync(root, { recursive: true, force: true }) })

  it('loads every signature of the generated DB', () => {
    assert.equal(matcher.db.stats.hashes, 100_002)
    assert.equal(matcher.db.stats.bodies, 20_002)
    assert.equal(matcher.db.stats.unsupported + matcher.db.stats.skipped, 0)
  })

  it('finds nothing in 256 MiB of random data, whatever the layer type', () => {
    const types: FileType[] = ['unknown', 'pe', 'elf', 'text']
    const found: string[] = []
    for (let object = 0; object < 16; object++) {
      const size = 16 << 20
      const s = matcher.begin(types[object % types.length] ?? 'unknown', size)
      for (let at = 0; at < size; at += 1 << 20) s.push(randomBytes(1 << 20))
      found.push(...s.end())
    }
    assert.deepEqual(found, [])
  })

  it('agrees with clamscan on generated positives of every syntax class and offset type', async () => {
    const lines = readFileSync(join(dbDir, 'gen.ndb'), 'utf8').split('\n')
    const picked = new Map<string, string>() // kind/offset class → line
    for (const line of lines) {
      const m = /^Gen\.Body\.(\w+)\.\d+:0:([^:]+):/.exec(line)
      if (m === null) continue
      const offsetClass = m[2] === '*' ? 'any' : m[2]?.startsWith('EOF') === true ? 'eof' : m[2]?.includes(',') === true ? 'shift' : 'abs'
      const key = `${m[1] ?? ''}/${offsetClass}`
      const count = [...picked.keys()].filter(k => k === key || k.startsWith(`${key}#`)).length
      if (count < 2) picked.set(count === 0 ? key : `${key}#2`, line)
    }
    assert.ok(picked.size >= 20, `only ${picked.size} classes picked`)
    const dir = mkdtempSync(join(root, 'samples-'))
    const expected = new Map<string, string>()
    let i = 0
    for (const line of picked.values()) {
      const sig = parseBodyLine(line)
      assert.ok(typeof sig !== 'string', sig as string)
      const sample = positiveSample(sig.pattern, sig.offset)
      if (sample === undefined) continue
      const file = join(dir, `pos${i++}.bin`)
      writeFileSync(file, sample)
      expected.set(file, sig.name)
    }
    for (let n = 0; n < 4; n++) {
      const file = join(dir, `neg${n}.bin`)
      writeFileSync(file, randomBytes(100_000))
      expected.set(file, 'OK')
    }
    const ours = new Map<string, string>()
    for (const file of expected.keys()) {
      const bytes = readFileSync(file)
      const s = matcher.begin('unknown', bytes.length)
      s.push(bytes)
      ours.set(file, s.end()[0] ?? 'OK')
    }
    // clamscan exits 1 when it found something; its lines are `path: Name.UNOFFICIAL FOUND` / `path: OK`.
    const clam = await run('clamscan', ['--no-summary', '-d', dbDir, ...expected.keys()], { maxBuffer: 1 << 24 }).catch((err: { stdout?: string, code?: number }) => {
      if (err.code === 1 && typeof err.stdout === 'string') return { stdout: err.stdout }
      throw err
    })
    const theirs = new Map<string, string>()
    for (const line of clam.stdout.split('\n')) {
      const m = /^(.*): (.*?)(?:\.UNOFFICIAL)? FOUND$/.exec(line) ?? /^(.*): (OK)$/.exec(line)
      if (m !== null) theirs.set(m[1] ?? '', m[2] ?? '')
    }
    for (const [file, name] of expected) {
      assert.equal(theirs.get(file), name, `clamscan on ${file}`)
      assert.equal(ours.get(file), name, `scanwall on ${file}`)
    }
    assert.ok(expected.size >= 24)
  })
})
