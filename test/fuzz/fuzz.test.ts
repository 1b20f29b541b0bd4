/// The fixed-seed short fuzz run (issue #10, item 9): every format with a handler and the ICAP, clamd and milter parsers,
/// a few dozen seeded mutations each, through the real engine in child processes. No crash, no case
/// past the scan budget plus grace, the children's peak RSS bounded, and EICAR still found wherever
/// the damage lay after it and left the file's type as it was. The long run is `npm run fuzz`.
import assert from 'node:assert/strict'
import { handledTypes } from '../../src/engine/formats/registry.js'
import { caseInput } from './cases.js'
import { runFuzz, type FuzzReport } from './harness.js'
import { layoutOf } from './layout.js'
import { table } from './table.js'
import { unseeded } from './seeds.js'
import { icapTarget } from './targets/icap.js'

const seed = 20261202
const casesPerTarget = 16
const maxPeakRssMiB = 768

describe('fuzz: fixed-seed short run (issue #10)', function () {
  this.timeout(240_000)
  let report: FuzzReport

  before(async () => {
    report = await runFuzz({ targets: [], seed, cases: casesPerTarget, budgetMs: 5000, graceMs: 10_000, heapMb: 512, maxRssMb: maxPeakRssMiB })
    process.stdout.write(`${table(report)}\n`)
  })

  const failures = (kind: string): string => report.failures.filter(f => f.kind === kind).map(f => `${f.id} [${f.variant}] ${f.how}: ${f.detail}`).join('\n')

  it('covers every format with a handler (or names it as unseeded) and the ICAP, clamd and milter parsers', () => {
    const rows = new Set(report.rows.map(r => r.target))
    for (const type of handledTypes) assert.ok(rows.has(type) || unseeded.includes(type), `format ${type} has no fuzz seed`)
    assert.ok(rows.has('icap'))
    assert.ok(rows.has('clamd'))
    assert.ok(rows.has('milter'))
    for (const row of report.rows) assert.equal(row.cases, casesPerTarget, `${row.target} ran ${row.cases} cases`)
  })

  it('has no crash', () => { assert.equal(failures('crash'), '') })

  it('has no case past the scan budget plus grace', () => { assert.equal(failures('hang'), '') })

  it(`keeps every child under ${maxPeakRssMiB} MiB peak RSS`, () => {
    assert.equal(failures('memory'), '')
    for (const row of report.rows) assert.ok(row.peakRssKb > 0 && row.peakRssKb < maxPeakRssMiB * 1024, `${row.target}: ${row.peakRssKb} KiB`)
  })

  it('finds EICAR placed before the damaged region', () => {
    const checked = report.rows.reduce((n, r) => n + r.checked, 0)
    assert.ok(checked >= casesPerTarget * 10, `only ${checked} cases were checked for EICAR`)
    const lost = report.failures.filter(f => f.kind === 'lost')
    assert.deepEqual(lost.map(f => `${f.id} [${f.variant}] ${f.how}`), [])
  })

  it('rebuilds the same case from its id', () => {
    const seeds = icapTarget.seeds(new Set(['icap']))
    const layouts = seeds.map(s => layoutOf(s.layout, s.bytes))
    const a = caseInput('icap', seeds, layouts, seed, 7).mutant
    const b = caseInput('icap', seeds, layouts, seed, 7).mutant
    const c = caseInput('icap', seeds, layouts, seed, 8).mutant
    assert.deepEqual(a.bytes, b.bytes)
    assert.equal(a.how, b.how)
    assert.notEqual(`${c.how}${c.bytes.toString('latin1')}`, `${a.how}${a.bytes.toString('latin1')}`)
  })
})
