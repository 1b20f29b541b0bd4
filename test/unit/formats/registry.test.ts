/// The format registry loads each handler's module on first use: every registered type must load a
/// handler for that very type (a wrong line would otherwise surface only when such a file arrives).
import assert from 'node:assert/strict'
import { handledTypes, handlerFor, hasHandler } from '../../../src/engine/formats/registry.js'

describe('format registry: handlers loaded on first use', () => {
  it('loads a handler for every registered type, and for that type', async () => {
    assert.ok(handledTypes.length >= 30)
    for (const type of handledTypes) assert.equal((await handlerFor(type))?.type, type, type)
  })

  it('has no handler for plain text and unknown bytes', async () => {
    assert.equal(await handlerFor('text'), undefined)
    assert.equal(await handlerFor('unknown'), undefined)
    assert.equal(hasHandler('text'), false)
    assert.equal(hasHandler('zip'), true)
  })
})
