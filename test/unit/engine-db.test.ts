import assert from 'node:assert/strict'
import { createHash, randomBytes } from 'node:crypto'
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { cvd, hex, match, matcherFor } from '../helpers/sigdb.js'
import { loadDb } from '../../src/engine/signatures/cache.js'
import { Matcher } from '../../src/engine/matcher/matcher.js'
import { eicar } from '../helpers/eicar.js'

const digest = (algo: string, b: Uint8Array): string => createHash(algo).update(b).digest('hex')
const isInvalid = (re: RegExp) => (err: Error & { code?: string }): boolean => err.code === 'SIGDB_INVALID' && re.test(err.message)

describe('engine: hash signatures, allow-lists and ignores', () => {
  const sample = randomBytes(1000)
  const other = randomBytes(1000)

  it('matches MD5, SHA1 and SHA256 at the named size, and not at another size', () => {
    for (const algo of ['md5', 'sha1', 'sha256']) {
      const m = matcherFor({ 'h.hsb': `${digest(algo, sample)}:1000:Hash.${algo}\n` })
      assert.deepEqual(match(m, sample), [`Hash.${algo}`])
      assert.deepEqual(match(m, other), [])
      const wrongSize = matcherFor({ 'h.hsb': `${digest(algo, sample)}:999:Hash.${algo}\n` })
      assert.deepEqual(match(wrongSize, sample), [])
    }
  })

  it('matches size-* signatures at any size', () => {
    const m = matcherFor({ 'h.hdb': `${digest('sha256', sample)}:*:Hash.Any\n` })
    assert.deepEqual(match(m, sample), ['Hash.Any'])
    assert.deepEqual(match(m, other), [])
  })

  it('hashes a layer only when some signature names its size (or a size-* one exists)', () => {
    const m = matcherFor({ 'h.hdb': `${digest('md5', sample)}:1000:Hash.A\n${'0'.repeat(64)}:2000:Hash.B\n` })
    assert.deepEqual(m.begin('unknown', 1000).hashing, ['md5'])
    assert.deepEqual(m.begin('unknown', 2000).hashing, ['sha256'])
    assert.deepEqual(m.begin('unknown', 1001).hashing, [])
    const any = matcherFor({ 'h.hdb': `${'0'.repeat(40)}:*:Hash.C\n` })
    assert.deepEqual(any.begin('unknown', 12345).hashing, ['sha1'])
  })

  it('makes an object clean when an .fp/.sfp hash matches, whatever else matched', () => {
    const bad = Buffer.concat([sample, eicar])
    const files = { 'b.ndb': 'Body.Eicar:0:*:' + eicar.toString('hex') + '\n' }
    assert.deepEqual(match(matcherFor(files), bad), ['Body.Eicar'])
    for (const [file, algo] of [['a.fp', 'md5'], ['a.sfp', 'sha256']] as const) {
      const m = matcherFor({ ...files, [file]: `${digest(algo, bad)}:${bad.length}:Known.Good\n` })
      const s = m.begin('unknown', bad.length)
      s.push(bad)
      assert.deepEqual(s.end(), [])
      assert.equal(s.allowListed, true)
      assert.deepEqual(match(m, Buffer.concat([other, eicar])), ['Body.Eicar'], 'another object is not allowed')
    }
  })

  it('drops signatures named in .ign2, whichever file they come from', () => {
    const m = matcherFor({
      'z.ign2': 'Body.One\nHash.One\n',
      'a.ndb': 'Body.One:0:*:deadbeef01\nBody.Two:0:*:deadbeef02\n',
      'a.hdb': `${digest('md5', sample)}:1000:Hash.One\n`,
    })
    assert.deepEqual(match(m, hex('deadbeef01..deadbeef02')), ['Body.Two'])
    assert.deepEqual(match(m, sample), [])
    assert.equal(m.db.stats.ignored, 2)
  })

  it('rejects malformed hash lines with file:line, and skips them when lenient', () => {
    assert.throws(() => matcherFor({ 'h.hdb': `${digest('md5', sample)}:1000:Ok\nnothex:1:Bad\n` }), isInvalid(/^Invalid signature database: h\.hdb:2: /))
    assert.throws(() => matcherFor({ 'h.hdb': `${digest('md5', sample)}:big:Bad\n` }), isInvalid(/h\.hdb:1: size 'big'/))
    assert.throws(() => matcherFor({ 'h.hdb': `${digest('md5', sample)}:1000\n` }), isInvalid(/h\.hdb:1: expected hash:size:name/))
  })
})

describe('engine: DB files, containers and the compiled cache', () => {
  const root = mkdtempSync(join(tmpdir(), 'scanwall-db-'))
  after(() => { chmodSync(root, 0o755); rmSync(root, { recursive: true, force: true }) })
  let n = 0
  const dbDir = (files: Record<string, string | Uint8Array>): string => {
    const dir = join(root, `db${n++}`)
    rmSync(dir, { recursive: true, force: true })
    mkdirSync(dir)
    for (const [name, data] of Object.entries(files)) writeFileSync(join(dir, name), data)
    return dir
  }
  const eicarNdb = `Cvd.Eicar:0:*:${eicar.toString('hex')}\n`
  const eicarHdb = `${digest('md5', eicar)}:${eicar.length}:Cvd.Eicar.Hash\n`

  it('loads a .cvd built from parts (header, tar.gz) and a .cld (plain tar)', async () => {
    for (const cld of [false, true]) {
      const dir = dbDir({ [cld ? 'daily.cld' : 'main.cvd']: cvd({ 'main.ndb': eicarNdb, 'main.hdb': eicarHdb, 'main.info': 'ClamAV-VDB:test\n', COPYING: 'y' }, { cld }) })
      const { db } = await loadDb(dir, { lenient: false, useCache: false })
      const m = new Matcher(db)
      assert.deepEqual(match(m, eicar).sort(), ['Cvd.Eicar', 'Cvd.Eicar.Hash'])
      assert.deepEqual(db.stats.files.sort(), cld ? ['daily.cld/main.hdb', 'daily.cld/main.ndb'] : ['main.cvd/main.hdb', 'main.cvd/main.ndb'])
    }
  })

  it('refuses a .cvd whose payload MD5 does not match its header, or with no header', async () => {
    await assert.rejects(loadDb(dbDir({ 'main.cvd': cvd({ 'main.ndb': eicarNdb }, { badMd5: true }) }), { lenient: false, useCache: false }), isInvalid(/main\.cvd: payload MD5/))
    await assert.rejects(loadDb(dbDir({ 'main.cvd': Buffer.alloc(600) }), { lenient: false, useCache: false }), isInvalid(/main\.cvd: no ClamAV-VDB header/))
  })

  it('reports a malformed line inside a .cvd as cvd/member:line', async () => {
    const dir = dbDir({ 'daily.cvd': cvd({ 'daily.ndb': `${eicarNdb}Bad:0:*:zz\n` }) })
    await assert.rejects(loadDb(dir, { lenient: false, useCache: false }), isInvalid(/daily\.cvd\/daily\.ndb:2: bad hex/))
    const { db } = await loadDb(dir, { lenient: true, useCache: false })
    assert.equal(db.stats.skipped, 1)
    assert.equal(db.stats.bodies, 1)
  })

  it('loads a directory of any mix (cvd + hdb + ndb + ldb + fp + ign2) the way freshclam lays it out', async () => {
    const dir = dbDir({
      'main.cvd': cvd({ 'main.ndb': eicarNdb }),
      'local.hdb': `${digest('md5', Buffer.from('x'))}:1:Local.Hash\n`,
      'local.ldb': 'Local.Logic;Target:0;0&1;deadbeef01;deadbeef02\n',
      'local.fp': `${'1'.repeat(32)}:5:Fp\n`,
      'local.ign2': 'Nothing.Here\n',
      'notes.txt': 'not a signature file',
    })
    const { db } = await loadDb(dir, { lenient: false, useCache: false })
    assert.deepEqual({ hashes: db.stats.hashes, allows: db.stats.allows, bodies: db.stats.bodies, logicals: db.stats.logicals }, { hashes: 1, allows: 1, bodies: 1, logicals: 1 })
    assert.deepEqual(match(new Matcher(db), Buffer.from('x')), ['Local.Hash'])
  })

  it('writes the compiled cache into the cache directory, never beside the DB; a changed DB recompiles and the previous cache stays for rollback', async () => {
    const dir = dbDir({ 'a.ndb': 'Cache.One:0:*:deadbeef01\n' })
    const cacheDir = join(root, 'own-cache')
    const cold = await loadDb(dir, { lenient: false, cacheDir })
    assert.equal(cold.fromCache, false)
    assert.ok(cold.cacheFile?.startsWith(cacheDir))
    assert.deepEqual(readdirSync(dir).filter(f => f.startsWith('scanwall-compiled-')), [], 'nothing written into the signature directory')
    const warm = await loadDb(dir, { lenient: false, cacheDir })
    assert.equal(warm.fromCache, true)
    assert.equal(warm.db.version, cold.db.version)
    assert.deepEqual(match(new Matcher(warm.db), hex('..deadbeef01..')), ['Cache.One'])
    for (const n of ['02', '03']) {
      writeFileSync(join(dir, 'a.ndb'), `Cache.${n}:0:*:deadbeef${n}\n`)
      const changed = await loadDb(dir, { lenient: false, cacheDir })
      assert.equal(changed.fromCache, false)
      assert.notEqual(changed.db.version, cold.db.version)
    }
    assert.equal(readdirSync(cacheDir).filter(f => f.startsWith('scanwall-compiled-')).length, 3, 'all three within the default budget')
    const none = await loadDb(dir, { lenient: false })
    assert.equal(none.cacheFile, undefined, 'without a cache directory nothing is written')
  })

  it('keeps compiled DBs up to its byte budget, least recently used out; the current and the previous one whatever the budget', async () => {
    const cacheDir = join(root, 'budget-cache')
    const dirs = ['01', '02', '03', '04'].map(n => dbDir({ 'a.ndb': `Budget.${n}:0:*:deadbeef${n}\n` }))
    // A file's mtime is its last use, so the steps below are apart by more than its resolution.
    const load = async (i: number, cacheBudgetBytes?: number): Promise<string> => {
      await new Promise(resolve => setTimeout(resolve, 25))
      const loaded = await loadDb(dirs[i]!, { lenient: false, cacheDir, cacheBudgetBytes })
      return `${i}:${loaded.fromCache ? 'cached' : 'compiled'}`
    }
    const kept = (): string[] => (existsSync(cacheDir) ? readdirSync(cacheDir) : []).filter(f => f.startsWith('scanwall-compiled-')).sort()
    const fileOf = new Map<number, string>()
    for (const i of [0, 1, 2]) {
      const before = new Set(kept())
      assert.equal(await load(i), `${i}:compiled`)
      fileOf.set(i, kept().find(f => !before.has(f))!)
    }
    assert.equal(kept().length, 3)
    assert.equal(await load(0), '0:cached', 'DB 0 from the cache: now the most recently used')
    const size = (i: number): number => statSync(join(cacheDir, fileOf.get(i)!)).size
    // Room for three: DB 3 (new), DB 0 (used last) and DB 2; DB 1 is the least recently used.
    const before = new Set(kept())
    assert.equal(await load(3, size(0) + size(2) + size(0) + 8), '3:compiled')
    fileOf.set(3, kept().find(f => !before.has(f))!)
    assert.deepEqual(kept(), [0, 2, 3].map(i => fileOf.get(i)!).sort())
    // A budget of one byte still keeps the DB just compiled and the previous one (DB 3, written last).
    assert.equal(await load(1, 1), '1:compiled')
    assert.equal(kept().length, 2)
    assert.ok(kept().includes(fileOf.get(3)!), 'the previous DB stays for a rollback')
    assert.ok(!kept().includes(fileOf.get(0)!) && !kept().includes(fileOf.get(2)!))
  })

  it('uses the cache directory for a read-only DB directory, and ignores a corrupt cache file', async () => {
    const dir = dbDir({ 'a.ndb': 'Cache.Ro:0:*:deadbeef03\n' })
    const cacheDir = join(root, 'cache')
    chmodSync(dir, 0o555)
    try {
      const cold = await loadDb(dir, { lenient: false, cacheDir })
      assert.ok(cold.cacheFile?.startsWith(cacheDir))
      assert.equal((await loadDb(dir, { lenient: false, cacheDir })).fromCache, true)
      writeFileSync(cold.cacheFile ?? '', 'garbage')
      const rebuilt = await loadDb(dir, { lenient: false, cacheDir })
      assert.equal(rebuilt.fromCache, false)
      assert.deepEqual(match(new Matcher(rebuilt.db), hex('deadbeef03')), ['Cache.Ro'])
    } finally {
      chmodSync(dir, 0o755)
    }
  })

  it('names a missing DB directory in the error', async () => {
    await assert.rejects(loadDb(join(root, 'missing'), { lenient: false }), isInvalid(/missing: ENOENT/))
  })
})
