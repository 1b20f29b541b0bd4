/// Round trip per format handler: the container is built here with the real tool, EICAR is nested at
/// depth 1 and at depth 5 (the format wrapping itself), and an engine that knows only EICAR's MD5
/// must find it, which proves the handler extracted it byte for byte, at the path of names the
/// containers hold (level1.zip > level2.zip > ... > eicar.com), which proves the path is reported.
import assert from 'node:assert/strict'
import { eicar } from '../../helpers/eicar.js'
import { builders, type Builder, type Inner } from '../../helpers/containers.js'
import { hashOnlyEngine, scanBytes } from '../../helpers/engine.js'
import type { Engine } from '../../../src/engine/engine.js'

function nest (builder: Builder, depth: number): { bytes: Buffer, path: string[] } {
  let inner: Inner = { name: 'eicar.com', bytes: eicar }
  const path: string[] = []
  for (let level = depth; level >= 1; level--) {
    path.unshift(inner.name)
    inner = { name: `level${level}.${builder.ext}`, bytes: builder.build(inner) }
  }
  return { bytes: inner.bytes, path }
}

describe('format handlers: round trip with the real tools (issue #4)', function () {
  this.timeout(60_000)
  let engine: Engine
  before(async () => { engine = await hashOnlyEngine(eicar, 'Test.EICAR.HDB') })

  for (const builder of builders) {
    for (const depth of [1, 5]) {
      it(`${builder.format}: finds EICAR at depth ${depth}`, async () => {
        const { bytes, path } = nest(builder, depth)
        const verdict = await scanBytes(engine, bytes, 'object')
        assert.equal(verdict.status, 'infected', `verdict ${JSON.stringify(verdict)}`)
        const found = verdict.findings[0]
        assert.equal(found?.name, 'Test.EICAR.HDB')
        // A healthy container is read to its end: nothing in it may be reported broken.
        assert.deepEqual(verdict.findings.filter(f => f.kind !== 'signature'), [])
        // The container chain: 'object', then per level the layers it adds (mbox: the message, then
        // its attachment), whose last one is the member's name where the format stores names.
        const perLevel = builder.layers ?? 1
        assert.equal(found.path.length, depth * perLevel + 1, `path ${found.path.join(' > ')}`)
        assert.equal(found.path[0], 'object')
        path.forEach((name, i) => {
          const segment = found.path[(i + 1) * perLevel] ?? ''
          // Handlers may name a child after a member path ("a/b"): the last part is the name.
          if (builder.named) assert.equal(segment.split('/').at(-1), name, `level ${i + 1} of ${found.path.join(' > ')}`)
          else assert.notEqual(segment, '', `level ${i + 1} of ${found.path.join(' > ')}`)
        })
      })
    }
  }
})
