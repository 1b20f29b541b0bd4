import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadConfig } from '../../config/load.js'

describe('config', () => {
  const dir = mkdtempSync(join(tmpdir(), 'scanwall-config-'))
  after(() => { rmSync(dir, { recursive: true, force: true }) })

  it('starts from embedded defaults: ICAP on 127.0.0.1:1344, bundled signatures', () => {
    const config = loadConfig({ env: {} })
    assert.equal(config.icap.host, '127.0.0.1')
    assert.equal(config.icap.port, 1344)
    assert.match(config.signatures.dir, /signatures$/)
    assert.deepEqual(config.icap.services.slice(0, 1), ['avscan'])
  })

  it('takes SCANWALL_ICAP_HOST, SCANWALL_ICAP_PORT and SCANWALL_SIGNATURES_DIR from the environment', () => {
    const config = loadConfig({ env: { SCANWALL_ICAP_HOST: '127.0.0.2', SCANWALL_ICAP_PORT: '11344', SCANWALL_SIGNATURES_DIR: '/x' } })
    assert.equal(config.icap.host, '127.0.0.2')
    assert.equal(config.icap.port, 11344)
    assert.equal(config.signatures.dir, '/x')
  })

  it('reads --config files', () => {
    const file = join(dir, 'ok.json')
    writeFileSync(file, JSON.stringify({ icap: { port: 2344 }, scan: { failMode: 'open' } }))
    const config = loadConfig({ file, env: {} })
    assert.equal(config.icap.port, 2344)
    assert.equal(config.scan.failMode, 'open')
  })

  it('rejects an unknown key with one line that names it', () => {
    const file = join(dir, 'unknown.json')
    writeFileSync(file, JSON.stringify({ icap: { prot: 1 } }))
    assert.throws(() => loadConfig({ file, env: {} }), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'CONFIG_INVALID')
      assert.match(err.message, /icap\.prot/)
      assert.doesNotMatch(err.message, /\n/)
      return true
    })
  })

  it('rejects a bad value with one line that names the key', () => {
    assert.throws(() => loadConfig({ env: { SCANWALL_ICAP_PORT: 'seventy' } }), /icap\.port/)
  })

  it('bounds scan.inlineMaxBytes by what the I/O thread may match itself', () => {
    const file = join(dir, 'inline.json')
    writeFileSync(file, JSON.stringify({ scan: { inlineMaxBytes: 1 << 20 } }))
    assert.throws(() => loadConfig({ file, env: {} }), (err: Error) => {
      assert.match(err.message, /scan\.inlineMaxBytes/)
      assert.doesNotMatch(err.message, /\n/)
      return true
    })
    writeFileSync(file, JSON.stringify({ scan: { inlineMaxBytes: 0 } }))
    assert.equal(loadConfig({ file, env: {} }).scan.inlineMaxBytes, 0)
  })
})
