/// The formats of issue #11 item 3 beside clamscan: lzop, -lh1-, ISO 9660 without Joliet (and with a
/// Joliet tree that hides the file), ALZip, standalone BinHex, OneNote, mail header tricks, split zip
/// parts, zstd behind a skippable frame — each built around EICAR by test/helpers/format-writers.ts, scanned by Debian's clamscan with
/// a one-line DB (EICAR's MD5) and by an engine that knows only that MD5, so a detection proves an
/// exact extraction. Scanwall must find every payload that is there; where ClamAV 1.4.6 reads the
/// format, it must find the same. The table is printed (and kept in docs/engine.md).
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { eicar } from '../helpers/eicar.js'
import { hashOnlyEngine, scanBytes } from '../helpers/engine.js'
import { requireProgram } from '../helpers/peers.js'
import { clamscanFound } from '../helpers/clamscan.js'
import { alz, binhexPerl, isoVariant, lzhWithJlha, lzop, oneNote, oneNoteWebExport, splitZip, trickMail, type Named } from '../helpers/format-writers.js'
import { filler } from '../fuzz/seed-tools.js'

interface Case {
  readonly file: string
  readonly bytes: Buffer
  /// Whether EICAR is in this file at all (a split zip's other part holds it).
  readonly holds: boolean
  /// Why clamscan is not expected to agree, when it is not (ClamAV 1.4.6 on Debian).
  readonly clamDiffers?: string
}

const f: Named = { name: 'eicar.com', bytes: eicar }

/// A zstd skippable frame (RFC 8878 §3.1.2): magic 0x184D2A5?, length, bytes any reader skips.
const skippable = Buffer.concat([Buffer.from([0x50, 0x2a, 0x4d, 0x18, 16, 0, 0, 0]), Buffer.from('padding metadata')])

function corpus (): Case[] {
  // EICAR whole in the first part, then 200 KiB that runs across the others.
  const split = splitZip([f, { name: 'pad.bin', bytes: Buffer.concat(Array.from({ length: 70 }, () => filler)) }], 64 * 1024)
  return [
    { file: 'eicar.lzo', bytes: lzop(f, 1), holds: true, clamDiffers: 'ClamAV has no lzop reader' },
    { file: 'eicar-999.lzo', bytes: lzop(f, 9), holds: true, clamDiffers: 'ClamAV has no lzop reader' },
    { file: 'lh1-level0.lzh', bytes: lzhWithJlha(f, 'lh1', 0), holds: true },
    { file: 'lh1-level2.lzh', bytes: lzhWithJlha(f, 'lh1', 2), holds: true },
    { file: 'no-joliet.iso', bytes: isoVariant(f, 'no-joliet'), holds: true },
    { file: 'joliet-hides.iso', bytes: isoVariant(f, 'joliet-hides'), holds: true },
    { file: 'stored.alz', bytes: alz(f, 0), holds: true },
    { file: 'deflate.alz', bytes: alz(f, 2), holds: true },
    { file: 'bzip2.alz', bytes: alz(f, 1), holds: true },
    { file: 'eicar.hqx', bytes: binhexPerl(f), holds: true },
    { file: 'revision-store.one', bytes: oneNote(f), holds: true },
    { file: 'web-export.one', bytes: oneNoteWebExport(f), holds: true, clamDiffers: 'ClamAV parses the whole FSSHTTPB package and rejects this minimal one (it finds a real web export\'s attachment)' },
    { file: 'comment-header-name.eml', bytes: trickMail(f, 'comment-header-name'), holds: true },
    { file: 'nested-comment-header-name.eml', bytes: trickMail(f, 'nested-comment-header-name'), holds: true },
    { file: 'multiple-boundaries.eml', bytes: trickMail(f, 'multiple-boundaries'), holds: true, clamDiffers: 'ClamAV 1.4.6 splits on the first boundary only' },
    { file: 'multiple-content-type.eml', bytes: trickMail(f, 'multiple-content-type'), holds: true, clamDiffers: 'ClamAV 1.4.6 reads the first Content-Type only' },
    { file: 'skip-prefix.zst', bytes: Buffer.concat([skippable, execFileSync('zstd', ['-q', '-c'], { input: eicar })]), holds: true, clamDiffers: 'ClamAV 1.4.6 does not take a skippable frame first for zstd' },
    ...split.map((bytes, i) => ({ file: i === split.length - 1 ? 'split.zip' : `split.z0${i + 1}`, bytes, holds: i === 0 })),
  ]
}

describe('formats of issue #11 item 3, beside clamscan', function () {
  this.timeout(180_000)
  const dir = mkdtempSync(join(tmpdir(), 'scanwall-formats-'))
  const rows: Array<{ c: Case, clam: boolean, found: boolean, at: string }> = []

  before(async () => {
    for (const p of ['clamscan', 'lzop', 'java', 'genisoimage', 'perl', 'zip', 'zstd']) requireProgram(p)
    const cases = corpus()
    const db = join(dir, 'eicar.hdb')
    writeFileSync(db, `${createHash('md5').update(eicar).digest('hex')}:${eicar.length}:Test.EICAR.HDB\n`)
    const files = join(dir, 'corpus')
    mkdirSync(files)
    for (const c of cases) writeFileSync(join(files, c.file), c.bytes)
    const clam = clamscanFound(files, db)
    const engine = await hashOnlyEngine(eicar, 'Test.EICAR.HDB')
    for (const c of cases) {
      const verdict = await scanBytes(engine, c.bytes, c.file)
      const hit = verdict.findings.find(x => x.name === 'Test.EICAR.HDB')
      rows.push({ c, clam: clam.has(c.file), found: hit !== undefined, at: hit?.path.join('/') ?? verdict.status })
    }
    const width = Math.max(...rows.map(r => r.c.file.length))
    console.log(`      ${'file'.padEnd(width)}  clamscan  scanwall  found at / note`)
    for (const r of rows) {
      console.log(`      ${r.c.file.padEnd(width)}  ${r.clam ? 'FOUND   ' : '-       '}  ${r.found ? 'FOUND   ' : '-       '}  ${r.at}${r.c.clamDiffers !== undefined ? ` (${r.c.clamDiffers})` : ''}`)
    }
  })
  after(() => { rmSync(dir, { recursive: true, force: true }) })

  it('Scanwall finds EICAR in every file that holds it, and in no other', () => {
    assert.deepEqual(rows.filter(r => r.found !== r.c.holds).map(r => `${r.c.file}: ${r.at}`), [])
  })

  it('clamscan agrees wherever ClamAV 1.4.6 reads the format', () => {
    assert.deepEqual(rows.filter(r => r.c.clamDiffers === undefined && r.clam !== r.found).map(r => `${r.c.file}: clamscan ${String(r.clam)}, scanwall ${String(r.found)}`), [])
    // The comparison means something: clamscan found most of them.
    assert.ok(rows.filter(r => r.clam).length >= 12, `clamscan found ${rows.filter(r => r.clam).length}`)
  })
})
