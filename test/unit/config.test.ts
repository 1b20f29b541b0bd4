import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadConfig, isConfigError } from '../../config/load.js'
import { inlineMaxBytesCeiling } from '../../config/formats.js'
import { leafMaxBytes } from '../../src/engine/budget.js'

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

  it('reads icap.reusedReads (default true) and refuses a value that is not a boolean, naming the key', () => {
    assert.equal(loadConfig({ env: {} }).icap.reusedReads, true)
    const file = join(dir, 'reads.json')
    writeFileSync(file, JSON.stringify({ icap: { reusedReads: false } }))
    assert.equal(loadConfig({ file, env: {} }).icap.reusedReads, false)
    writeFileSync(file, JSON.stringify({ icap: { reusedReads: 'sometimes' } }))
    assert.throws(() => loadConfig({ file, env: {} }), /icap\.reusedReads/)
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

  /// The message loadConfig throws for `settings` written to a --config file.
  const failure = (name: string, settings: unknown): string => {
    const file = join(dir, `${name}.json`)
    writeFileSync(file, JSON.stringify(settings))
    try {
      loadConfig({ file, env: {} })
    } catch (err) {
      assert.ok(isConfigError(err), String(err))
      assert.doesNotMatch(err.message, /\n/)
      return err.message
    }
    return assert.fail(`${name}: loaded without an error`)
  }

  it('refuses scan.maxQueue: 0 with the key, the rule and the value', () => {
    assert.equal(failure('max-queue', { scan: { maxQueue: 0 } }), 'config: scan.maxQueue must be an integer >= 1 (got 0)')
  })

  for (const [name, settings, expected] of [
    ['a negative port', { icap: { port: -1 } }, 'config: icap.port must be an integer from 0 to 65535 (got -1)'],
    ['a port past 65535', { snmp: { port: 70000 } }, 'config: snmp.port must be an integer from 0 to 65535 (got 70000)'],
    ['port 0 to connect to', { snmp: { agentx: { port: 0 } } }, 'config: snmp.agentx.port must be an integer from 1 to 65535 (got 0)'],
    ['a fractional count', { scan: { workers: 1.5 } }, 'config: scan.workers must be an integer >= 1 (got 1.5)'],
    ['a number that is not a number', { scan: { timeoutMs: true } }, 'config: scan.timeoutMs must be an integer >= 1 (got true)'],
    ['a bad enum', { scan: { failMode: 'ajar' } }, /^config: scan\.failMode must be one of closed, open \(got "ajar"\)$/],
    ['a bad boolean', { snmp: { enabled: 'maybe' } }, /^config: snmp\.enabled must be of type Boolean \(got "maybe"\)$/],
    ['a non-string service', { icap: { services: ['avscan', 7] } }, /^config: icap\.services must be an array of non-empty strings/],
    ['an instance with a bad vip', { cluster: { instances: [{ vip: '10.0.0.300' }] } }, 'config: cluster.instances[0].vip must be an IPv4 address (got "10.0.0.300")'],
    ['an instance with a misspelt field', { cluster: { instances: [{ vip: '10.0.0.1', bukets: 3 }] } }, /^config: cluster\.instances\[0\]\.bukets is not a known field/],
    ['an instance with a bad port', { cluster: { instances: [{ vip: '10.0.0.1', ports: [1344, 0] }] } }, /^config: cluster\.instances\[0\]\.ports\[1\] must be an integer from 1 to 65535 \(got 0\)$/],
    ['an instance with a bad mode', { cluster: { instances: [{ vip: '10.0.0.1', mode: 'mesh' }] } }, /^config: cluster\.instances\[0\]\.mode must be one of hub, multicast \(got "mesh"\)$/],
    ['an instance with zero buckets', { cluster: { instances: [{ vip: '10.0.0.1', buckets: 0 }] } }, /^config: cluster\.instances\[0\]\.buckets must be an integer >= 1 \(got 0\)$/],
    ['an instance with a bad peer', { cluster: { instances: [{ vip: '10.0.0.1', peers: ['10.0.0.2'] }] } }, /^config: cluster\.instances\[0\]\.peers\[0\] must be "IPv4:port"/],
    ['a health test of an unknown kind', { cluster: { instances: [{ vip: '10.0.0.1', health: { tests: [{ name: 't', kind: 'ping' }] } }] } }, /^config: cluster\.instances\[0\]\.health\.tests\[0\]\.kind must be one of exec, /],
    ['two instances of one name', { cluster: { instances: [{ name: 'a', vip: '10.0.0.1' }, { name: 'a', vip: '10.0.0.2' }] } }, /^config: cluster\.instances\[1\]\.name "a" is used by an earlier instance/],
  ] as const) {
    it(`refuses ${name} with one line naming the key`, () => {
      const message = failure(name.replace(/\W/g, '-'), settings)
      if (typeof expected === 'string') assert.equal(message, expected)
      else assert.match(message, expected)
    })
  }

  it('names every bad key of one file on the one line', () => {
    const message = failure('two-bad', { scan: { maxQueue: 0 }, icap: { port: -1 } })
    assert.match(message, /scan\.maxQueue must be/)
    assert.match(message, /icap\.port must be/)
  })

  it('never shows the value of a secret key', () => {
    const message = failure('secret', { cluster: { key: 123456789 } })
    assert.match(message, /^config: cluster\.key must be of type String$/)
  })

  it('refuses an environment number with trailing junk (parseInt would take 12)', () => {
    assert.throws(() => loadConfig({ env: { SCANWALL_SCAN_WORKERS: '12abc' } }), /config: scan\.workers must be an integer >= 1 \(got NaN\)$/)
    assert.equal(loadConfig({ env: { SCANWALL_SCAN_WORKERS: '12' } }).scan.workers, 12)
  })

  it('reads no, off and 0 as false for a boolean from the environment (convict alone reads them as true)', () => {
    for (const word of ['no', 'off', '0', 'false']) assert.equal(loadConfig({ env: { SCANWALL_SNMP_ENABLED: word } }).snmp.enabled, false, word)
    for (const word of ['yes', 'on', '1', 'true']) assert.equal(loadConfig({ env: { SCANWALL_CLUSTER: word } }).cluster.enabled, true, word)
    assert.throws(() => loadConfig({ env: { SCANWALL_SNMP_ENABLED: 'maybe' } }), /config: snmp\.enabled must be of type Boolean \(got "maybe"\)$/)
  })

  it('names the --config file when it cannot be read or parsed', () => {
    const file = join(dir, 'broken.json')
    writeFileSync(file, '{ "scan": ')
    assert.throws(() => loadConfig({ file, env: {} }), (err: Error) => err.message.startsWith(`config: --config ${file}: `) && !err.message.includes('\n'))
    assert.throws(() => loadConfig({ file: join(dir, 'absent.json'), env: {} }), /absent\.json: ENOENT/)
  })

  it('hands out cluster instances parsed and typed, defaults filled', () => {
    const file = join(dir, 'instances.json')
    writeFileSync(file, JSON.stringify({ cluster: { instances: [{ vip: '10.0.0.1', peers: ['10.0.0.2:5405'] }, { name: 'mail', vip: '10.0.0.9', buckets: 64 }] } }))
    const [web, mail] = loadConfig({ file, env: {} }).cluster.instances
    assert.equal(web?.name, 'default')
    assert.deepEqual(web?.peers, [{ host: '10.0.0.2', port: 5405 }])
    assert.equal(web?.buckets, 256)
    assert.equal(mail?.buckets, 64)
    assert.deepEqual(mail?.bind, { host: '0.0.0.0', port: 5405 })
  })

  it('caps scan.inlineMaxBytes where the engine caps leaf matching', () => {
    assert.equal(inlineMaxBytesCeiling, leafMaxBytes)
  })
})
