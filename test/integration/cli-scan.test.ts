import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { gzipSync } from 'node:zlib'
import { randomBytes } from 'node:crypto'
import { eicar } from '../helpers/eicar.js'

const cli = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url))

describe('scanwall scan (CLI)', function () {
  this.timeout(30_000)
  const root = mkdtempSync(join(tmpdir(), 'scanwall-cli-'))
  const db = join(root, 'db')
  const tree = join(root, 'tree')
  before(() => {
    mkdirSync(db)
    mkdirSync(join(tree, 'sub'), { recursive: true })
    writeFileSync(join(db, 't.ndb'), `Cli.Eicar:0:*:${eicar.toString('hex')}\n`)
    writeFileSync(join(tree, 'clean.bin'), randomBytes(5000))
    writeFileSync(join(tree, 'sub', 'eicar.com'), eicar)
    writeFileSync(join(tree, 'sub', 'eicar.gz'), gzipSync(Buffer.concat([Buffer.alloc(1000, 'a'), eicar])))
  })
  after(() => { rmSync(root, { recursive: true, force: true }) })

  const scan = (...args: string[]) => spawnSync(process.execPath, [cli, 'scan', '--db', db, ...args], { encoding: 'utf8' })

  it('prints path: Name FOUND / path: OK, recurses into directories and exits 1 when something is found', () => {
    const r = scan(tree)
    assert.equal(r.status, 1, r.stderr)
    const lines = r.stdout.split('\n')
    assert.ok(lines.includes(`${join(tree, 'clean.bin')}: OK`))
    assert.ok(lines.includes(`${join(tree, 'sub', 'eicar.com')}: Cli.Eicar FOUND`))
    assert.ok(lines.includes(`${join(tree, 'sub', 'eicar.gz')}: Cli.Eicar FOUND`))
    assert.match(r.stdout, /----------- SCAN SUMMARY -----------\nKnown viruses: 1\n/)
    assert.match(r.stdout, /Scanned directories: 2\nScanned files: 3\nInfected files: 2\n/)
  })

  it('exits 0 on clean files and 2 on a missing one', () => {
    const clean = scan('--no-summary', join(tree, 'clean.bin'))
    assert.equal(clean.status, 0)
    assert.equal(clean.stdout, `${join(tree, 'clean.bin')}: OK\n`)
    const missing = scan('--no-summary', join(tree, 'nope'))
    assert.equal(missing.status, 2)
    assert.match(missing.stdout, /nope: No such file or directory ERROR/)
  })

  it('--jobs N gives the same lines in the same order as one job, and refuses a bad N', () => {
    const many = join(root, 'many')
    mkdirSync(many)
    for (let i = 0; i < 24; i++) writeFileSync(join(many, `f${String(i).padStart(2, '0')}`), i % 5 === 0 ? gzipSync(Buffer.concat([randomBytes(i * 1000), eicar])) : randomBytes(20_000 + i * 3000))
    writeFileSync(join(many, 'z-dir-missing-after'), 'x')
    const one = scan('--no-summary', '--jobs', '1', many, join(root, 'nope'))
    const four = scan('--no-summary', '--jobs', '4', many, join(root, 'nope'))
    assert.equal(one.status, 1)
    assert.equal(four.status, 1, four.stderr)
    assert.equal(four.stdout, one.stdout)
    assert.equal(one.stdout.split('\n').filter(l => l.endsWith('FOUND')).length, 5)
    assert.match(one.stdout, /nope: No such file or directory ERROR\n$/)
    const bad = scan('--jobs', '0', many)
    assert.equal(bad.status, 2)
    assert.match(bad.stderr, /--jobs must be a whole number from 1 to 256/)
  })

  it('stops quietly when the reader of its output goes away (`| head`), as clamscan does', () => {
    // More output than a pipe holds (~300 KB), so lines are still being written when head exits.
    const piped = join(root, 'piped')
    mkdirSync(piped)
    for (let i = 0; i < 3; i++) writeFileSync(join(piped, `f${i}`), randomBytes(100))
    const paths = Array.from({ length: 1500 }, () => `'${piped}'`).join(' ')
    const r = spawnSync('sh', ['-c', `'${process.execPath}' '${cli}' scan --no-summary --db '${db}' ${paths} | head -n 2`], { encoding: 'utf8' })
    assert.equal(r.stderr, '')
    assert.equal(r.stdout.split('\n').length, 3)
  })

  it('exits 2 with file:line on a malformed DB, and loads it with --lenient', () => {
    writeFileSync(join(db, 'bad.ndb'), 'Bad:0:*:zz\n')
    try {
      const strict = scan(join(tree, 'clean.bin'))
      assert.equal(strict.status, 2)
      assert.match(strict.stderr, /bad\.ndb:1: bad hex/)
      const lenient = scan('--lenient', '--no-summary', join(tree, 'sub', 'eicar.com'))
      assert.equal(lenient.status, 1)
    } finally {
      rmSync(join(db, 'bad.ndb'))
    }
  })
})
