/// Every supported signature feature beside clamscan (issue #11, item 1): the generated DB of
/// test/helpers/feature-corpus.ts (executable offsets, anchors, modifiers, PCRE, byte compare,
/// target types, TDB conditions) and its corpus of positive and near-miss negative files, scanned by
/// `scanwall scan` and by Debian's clamscan 1.4.6. Both must report the same detection per file, and
/// each file must show what it was built to show (so a corpus that stops exercising a feature fails
/// too). The agreement table is printed.
import assert from 'node:assert/strict'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { featureCorpus, type FeatureFile } from '../helpers/feature-corpus.js'
import { requireProgram } from '../helpers/peers.js'
import { detections } from '../helpers/clamscan.js'

const cli = join(import.meta.dirname, '..', '..', 'src', 'cli', 'main.js')

describe('signature features: scanwall scan beside clamscan on a generated DB and corpus (issue #11)', function () {
  this.timeout(180_000)
  const dir = mkdtempSync(join(tmpdir(), 'scanwall-features-'))
  let files: FeatureFile[] = []
  let clam = new Map<string, string>()
  let ours = new Map<string, string>()

  before(() => {
    requireProgram('clamscan')
    const corpus = featureCorpus()
    files = corpus.files
    mkdirSync(join(dir, 'db'))
    mkdirSync(join(dir, 'files'))
    for (const [name, text] of Object.entries(corpus.db)) writeFileSync(join(dir, 'db', name), text)
    for (const f of files) writeFileSync(join(dir, 'files', f.name), f.bytes)
    clam = detections('clamscan', ['--no-summary', '--stdout', '-d', join(dir, 'db'), join(dir, 'files')])
    ours = detections(process.execPath, [cli, 'scan', '--db', join(dir, 'db'), '--no-summary', join(dir, 'files')])
    const rows = files.map(f => `| ${f.name} | ${f.expect ?? '(clean)'} | ${clam.get(f.name) ?? 'clean'} | ${ours.get(f.name) ?? 'clean'} | ${clam.get(f.name) === ours.get(f.name) ? 'yes' : 'NO'} |`)
    console.log(['| file | built to show | clamscan 1.4.6 | scanwall | agree |', '|---|---|---|---|---|', ...rows].join('\n'))
    console.log(`agreement: ${files.filter(f => clam.get(f.name) === ours.get(f.name)).length} / ${files.length} files`)
  })

  after(() => { rmSync(dir, { recursive: true, force: true }) })

  it('reports the same detection as clamscan for every file', () => {
    const differ = files.filter(f => clam.get(f.name) !== ours.get(f.name)).map(f => `${f.name}: clamscan ${clam.get(f.name) ?? 'clean'}, scanwall ${ours.get(f.name) ?? 'clean'}`)
    assert.deepEqual(differ, [])
  })

  it('finds each positive file and no near-miss negative (clamscan too: the corpus exercises what it claims)', () => {
    const wrong = files.filter(f => clam.get(f.name) !== f.expect || ours.get(f.name) !== f.expect).map(f => `${f.name}: built for ${f.expect ?? 'clean'}`)
    assert.deepEqual(wrong, [])
    assert.ok(files.filter(f => f.expect !== undefined).length >= 50)
  })
})
