/// Which layers of a tar.gz are matched, beside clamscan. ClamAV matches the gzip's decompressed output
/// as a layer of its own (the raw tar, headers and all) and then every member: a signature at offset
/// 512 of the tar, one spanning a header and its member's data, and one at offset 0 of a member all
/// detect in clamscan 1.4.6. Scanwall must find the same three where ClamAV finds them, so the walk's
/// two passes over the same bytes (the tar layer, then its members) are that semantics, not waste
/// (formats-5). Built with the real tar and gzip; the decompressed tar both in memory and spooled.
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { engineFrom, scanFile } from '../helpers/engine.js'
import { requireProgram } from '../helpers/peers.js'
import { detections } from '../helpers/clamscan.js'

const start = Buffer.from('SPANDATA-0123456789')
const hex = start.toString('hex')

/// name → (ndb line, the path Scanwall reports it at under x.tar.gz)
const rules: ReadonlyArray<readonly [string, string, readonly string[]]> = [
  ['Tar.At512', `Tar.At512:0:512:${hex}`, ['x.tar.gz', 'gzip-content']],
  // The zero padding that ends a ustar header, then the member's first bytes.
  ['Tar.Span', `Tar.Span:0:*:${'00'.repeat(12)}${hex}`, ['x.tar.gz', 'gzip-content']],
  ['Member.At0', `Member.At0:0:0:${hex}`, ['x.tar.gz', 'gzip-content', 'a.txt']],
]

describe('tar.gz: the decompressed tar and its members are both matched, as by clamscan', function () {
  this.timeout(120_000)
  let dir: string

  before(() => {
    for (const p of ['tar', 'gzip', 'clamscan']) requireProgram(p)
    dir = mkdtempSync(join(tmpdir(), 'scanwall-tar-layers-'))
    const work = join(dir, 'work')
    mkdirSync(work)
    // Large enough that the spooled case below really spools (and streams the inflate).
    writeFileSync(join(work, 'a.txt'), Buffer.concat([start, Buffer.from(' filler text'.repeat(40_000)), Buffer.from('END')]))
    execFileSync('tar', ['--format=ustar', '-cf', join(dir, 'x.tar'), 'a.txt'], { cwd: work })
    execFileSync('gzip', ['-n', join(dir, 'x.tar')])
    for (const [name, line] of rules) {
      mkdirSync(join(dir, name))
      writeFileSync(join(dir, name, 'r.ndb'), `${line}\n`)
    }
  })

  after(() => { rmSync(dir, { recursive: true, force: true }) })

  for (const [name, , path] of rules) {
    it(`${name}: clamscan and Scanwall both detect it, Scanwall at ${path.join('/')}`, async () => {
      const db = join(dir, name)
      assert.equal(detections('clamscan', ['--no-summary', '-d', db, join(dir, 'x.tar.gz')]).get('x.tar.gz'), name)
      const engine = await engineFrom(db)
      for (const limits of [{}, { spoolAboveBytes: 64 * 1024 }]) {
        const v = await scanFile(engine, join(dir, 'x.tar.gz'), 'x.tar.gz', limits)
        assert.deepEqual(v.findings.map(f => [f.name, f.path]), [[name, path]], `limits ${JSON.stringify(limits)}`)
      }
    })
  }
})
