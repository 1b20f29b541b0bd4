/// Cases the fuzzer found, rebuilt from their ids (target:seed:case), each a regression test.
import assert from 'node:assert/strict'
import { caseInput } from './cases.js'
import { layoutOf } from './layout.js'
import { engineTarget, eicarName } from './targets/engine.js'
import { hashOnlyEngine, scanBytes } from '../helpers/engine.js'
import { eicar } from '../helpers/eicar.js'
import type { Engine } from '../../src/engine/engine.js'

interface Reproducer { readonly id: string, readonly what: string }

const reproducers: readonly Reproducer[] = [
  { id: 'ole2:1:8', what: 'OLE2 truncated in the sector after the packaged EICAR (fixed in ole2.ts: pad to the highest referenced sector)' },
  { id: 'ole2:1:70', what: 'OLE2 truncated inside its last sector' },
  { id: 'tnef:1:1856', what: 'TNEF with EICAR\'s data record repeated (the copy emptied) before the next attachment (fixed in tnef.ts: the first record is kept as its own child)' },
  { id: 'zip:1:0', what: 'stored zip, EICAR\'s local record duplicated before the central directory (the EOCD offset no longer matches: read as prepended data, every offset shifted)' },
  { id: 'zip:1:25', what: 'stored zip, central directory names a local offset that holds no local header' },
  { id: 'zip:1:31', what: 'stored zip, 39 bytes inserted after EICAR\'s data (central directory offsets now short)' },
  { id: 'zip:20261202:1', what: 'stored zip, central record\'s name/extra lengths set to 0x7fff then 0xec' },
  { id: 'zip:20261202:13', what: 'stored zip, EICAR\'s record duplicated, then the duplicate\'s size set to 0x7fffffff' },
]

/// Cases whose fault was memory: the scan must not allocate past `maxMiB` of ArrayBuffers.
const memoryReproducers: ReadonlyArray<Reproducer & { maxMiB: number }> = [
  { id: 'zstd:1:1344', what: 'zstd frame header declaring a 1.7 GB content size (fixed in zstd.ts: refuse windows over 128 MiB, content sizes past the limits)', maxMiB: 256 },
]

function rebuild (id: string): Buffer {
  const [target = '', seed = '', caseNo = ''] = id.split(':')
  const seeds = engineTarget.seeds(new Set([target])).filter(s => s.target === target)
  return caseInput(target, seeds, seeds.map(s => layoutOf(s.layout, s.bytes)), Number(seed), Number(caseNo)).mutant.bytes
}

describe('fuzz: reproducers of cases found (issue #10)', function () {
  this.timeout(60_000)
  let engine: Engine
  before(async () => { engine = await hashOnlyEngine(eicar, eicarName) })

  for (const r of memoryReproducers) {
    it(`${r.id}: ${r.what}`, async () => {
      const bytes = rebuild(r.id)
      const before = process.memoryUsage().arrayBuffers
      await scanBytes(engine, bytes)
      // No collection in between: an allocation made during the scan is still counted here.
      const grown = (process.memoryUsage().arrayBuffers - before) / 2 ** 20
      assert.ok(grown < r.maxMiB, `ArrayBuffers grew ${grown.toFixed(0)} MiB`)
    })
  }

  for (const r of reproducers) {
    it(`${r.id}: ${r.what}`, async () => {
      const verdict = await scanBytes(engine, rebuild(r.id))
      assert.ok(verdict.findings.some(f => f.name === eicarName && f.path.length >= 2), `EICAR lost: ${JSON.stringify(verdict)}`)
    })
  }
})
