/// Damaged and unusual containers beside clamscan (issue #10, item 1): the corpus of
/// test/helpers/damaged.ts (junk before and after, truncation, lying sizes and offsets, bad
/// checksums, fake encryption flags, garbage in encodings, missing terminators) around EICAR, scanned
/// by Debian's clamscan with a one-line DB (EICAR's MD5) and by an engine that knows only the same
/// MD5, so a detection proves the payload was extracted byte for byte. Where clamscan detects,
/// Scanwall must too; where the payload is intact, Scanwall must detect whatever clamscan does; where
/// it is not, the verdict must say the container is broken (never a plain clean). The table is printed.
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { eicar } from '../helpers/eicar.js'
import { damagedCorpus, type DamagedCase } from '../helpers/damaged.js'
import { hashOnlyEngine, scanBytes } from '../helpers/engine.js'
import { clamscanFound } from '../helpers/clamscan.js'
import type { Verdict } from '../../src/engine/verdict.js'

describe('damaged containers: read as far as they go, beside clamscan (issue #10)', function () {
  this.timeout(120_000)
  const dir = mkdtempSync(join(tmpdir(), 'scanwall-damaged-'))
  const rows: Array<{ c: DamagedCase, clam: boolean, verdict: Verdict }> = []

  before(async () => {
    const cases = damagedCorpus(eicar)
    const db = join(dir, 'eicar.hdb')
    writeFileSync(db, `${createHash('md5').update(eicar).digest('hex')}:${eicar.length}:Test.EICAR.HDB\n`)
    const files = join(dir, 'corpus')
    execFileSync('mkdir', [files])
    cases.forEach((c, i) => { writeFileSync(join(files, `case-${i}`), c.bytes) })
    const found = clamscanFound(files, db)
    const engine = await hashOnlyEngine(eicar, 'Test.EICAR.HDB')
    for (const [i, c] of cases.entries()) rows.push({ c, clam: found.has(`case-${i}`), verdict: await scanBytes(engine, c.bytes) })
    const width = Math.max(...cases.map(c => c.label.length))
    console.log(`      ${'case'.padEnd(width)}  payload  clamscan  scanwall`)
    for (const { c, clam, verdict } of rows) {
      const why = verdict.findings.filter(f => f.kind === 'broken').map(f => ` [${f.name}: ${f.detail ?? ''}]`).join('')
      console.log(`      ${c.label.padEnd(width)}  ${c.intact ? 'intact ' : 'damaged'}  ${clam ? 'FOUND   ' : '-       '}  ${verdict.status}${why}`)
    }
  })
  after(() => { rmSync(dir, { recursive: true, force: true }) })

  it('clamscan found the payload in some of them (the comparison means something)', () => {
    assert.ok(rows.filter(r => r.clam).length >= 10, `clamscan found ${rows.filter(r => r.clam).length}`)
  })

  it('Scanwall detects wherever clamscan does', () => {
    const missed = rows.filter(r => r.clam && r.verdict.status !== 'infected').map(r => `${r.c.label}: ${r.verdict.status}`)
    assert.deepEqual(missed, [])
  })

  it('Scanwall detects wherever the payload is intact, at the path inside the container', () => {
    const missed = rows.filter(r => r.c.intact && r.verdict.status !== 'infected').map(r => `${r.c.label}: ${r.verdict.status}`)
    assert.deepEqual(missed, [])
    for (const r of rows.filter(r => r.c.intact)) {
      assert.equal(r.verdict.findings[0]?.name, 'Test.EICAR.HDB', r.c.label)
      assert.ok((r.verdict.findings[0]?.path.length ?? 0) >= 2, `${r.c.label}: found inside, not as the object itself`)
    }
  })

  it('where the payload is lost, the verdict is broken with the format and the error, not clean', () => {
    for (const r of rows.filter(r => !r.c.intact)) {
      assert.equal(r.verdict.status, 'broken', r.c.label)
      const finding = r.verdict.findings[0]
      assert.match(finding?.name ?? '', /^Heuristics\.Broken\.\w+$/, r.c.label)
      assert.deepEqual(finding?.path, ['object'], r.c.label)
      assert.ok((finding?.detail ?? '') !== '', `${r.c.label}: the finding says what was wrong`)
    }
  })
})
