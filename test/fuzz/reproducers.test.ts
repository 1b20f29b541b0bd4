/// Cases the fuzzer found, rebuilt from their ids (target:seed:case), each a regression test. Those
/// that wait for a fix in a file another change owns are skipped with the fix named; un-skip them
/// once it lands (they are the `lossesPendingElsewhere` of fuzz.test.ts).
import assert from 'node:assert/strict'
import { caseInput } from './cases.js'
import { layoutOf } from './layout.js'
import { engineTarget, eicarName } from './targets/engine.js'
import { hashOnlyEngine, scanBytes } from '../helpers/engine.js'
import { eicar } from '../helpers/eicar.js'
import type { Engine } from '../../src/engine/engine.js'

interface Reproducer { readonly id: string, readonly what: string, readonly pending?: string }

const reproducers: readonly Reproducer[] = [
  { id: 'ole2:1:8', what: 'OLE2 truncated in the sector after the packaged EICAR (fixed in ole2.ts: pad to the highest referenced sector)' },
  { id: 'ole2:1:70', what: 'OLE2 truncated inside its last sector' },
  { id: 'zip:1:0', what: 'stored zip, EICAR\'s local record duplicated before the central directory (the EOCD offset no longer matches: read as prepended data, every offset shifted)', pending: 'zip.ts: when a shifted local offset holds no local header, try the unshifted one' },
  { id: 'zip:1:25', what: 'stored zip, central directory names a local offset that holds no local header', pending: 'zip.ts: fall back to the local headers when a central record points at no local header' },
  { id: 'zip:1:31', what: 'stored zip, 39 bytes inserted after EICAR\'s data (central directory offsets now short)', pending: 'zip.ts: as zip:1:0' },
  { id: 'zip:20261202:1', what: 'stored zip, central record\'s name/extra lengths set to 0x7fff then 0xec', pending: 'zip.ts: fall back to the local headers when the central directory does not parse' },
  { id: 'zip:20261202:13', what: 'stored zip, EICAR\'s record duplicated, then the duplicate\'s size set to 0x7fffffff', pending: 'zip.ts: as zip:1:0' },
]

describe('fuzz: reproducers of cases found (issue #10)', function () {
  this.timeout(60_000)
  let engine: Engine
  before(async () => { engine = await hashOnlyEngine(eicar, eicarName) })

  for (const r of reproducers) {
    const test = r.pending === undefined ? it : it.skip
    test(`${r.id}: ${r.what}${r.pending === undefined ? '' : ` (pending ${r.pending})`}`, async () => {
      const [target = '', seed = '', caseNo = ''] = r.id.split(':')
      const seeds = engineTarget.seeds(new Set([target])).filter(s => s.target === target)
      const { mutant } = caseInput(target, seeds, seeds.map(s => layoutOf(s.layout, s.bytes)), Number(seed), Number(caseNo))
      assert.ok(mutant.keepsPrefix, 'the damage lies after EICAR')
      const verdict = await scanBytes(engine, mutant.bytes)
      assert.ok(verdict.findings.some(f => f.name === eicarName && f.path.length >= 2), `EICAR lost: ${JSON.stringify(verdict)}`)
    })
  }
})
