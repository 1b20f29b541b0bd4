/// The fuzz harness notices each way a case can fail: a rejected run is a crash, a child that exits
/// or runs out of its heap cap is a crash, a child that never answers is a hang (killed, then a fresh
/// child takes the next case), and each failure carries the id that rebuilds its case.
import assert from 'node:assert/strict'
import { fileURLToPath } from 'node:url'
import { runFuzz } from './harness.js'
import { kinds } from './self-check-targets.js'

describe('fuzz harness self-check', function () {
  this.timeout(120_000)

  it('counts crashes, exits, hangs and out-of-memory per case, and runs the rest', async () => {
    const report = await runFuzz({
      targets: kinds.flatMap(k => k.names),
      seed: 5,
      cases: 2,
      budgetMs: 200,
      graceMs: 1500,
      heapMb: 64,
      maxRssMb: 1024,
      extra: { kinds, module: fileURLToPath(new URL('./self-check-targets.js', import.meta.url)) },
    })
    const row = (name: string): { crashes: number, hangs: number, cases: number } => {
      const r = report.rows.find(x => x.target === name)
      assert.ok(r !== undefined, name)
      return r
    }
    assert.deepEqual(row('self-throw'), { ...row('self-throw'), cases: 2, crashes: 2, hangs: 0 })
    assert.deepEqual(row('self-exit'), { ...row('self-exit'), cases: 2, crashes: 2, hangs: 0 })
    assert.deepEqual(row('self-hang'), { ...row('self-hang'), cases: 2, crashes: 0, hangs: 2 })
    assert.deepEqual(row('self-oom'), { ...row('self-oom'), cases: 2, crashes: 2, hangs: 0 })
    assert.deepEqual(row('self-ok'), { ...row('self-ok'), cases: 2, crashes: 0, hangs: 0 })
    const ids = report.failures.map(f => `${f.id} ${f.kind}`)
    assert.ok(ids.includes('self-hang:5:1 hang') && ids.includes('self-oom:5:0 crash'), ids.join(', '))
    assert.match(report.failures.find(f => f.id === 'self-throw:5:0')?.detail ?? '', /thrown on purpose/)
  })
})
