/// The `clamd.*` keys: defaults (127.0.0.1:3310, no socket, local scans off), the environment names,
/// range checks that fail with one line naming the key, and the start-time checks of the adapter
/// (local scans without directories, a missing directory, clamd.port equal to icap.port).
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pino } from 'pino'
import { loadConfig } from '../../config/load.js'
import { startNode } from '../../src/node.js'

describe('config: clamd.*', () => {
  const dir = mkdtempSync(join(tmpdir(), 'scanwall-clamd-config-'))
  after(() => { rmSync(dir, { recursive: true, force: true }) })

  it('defaults to TCP 127.0.0.1:3310, no unix socket, local scans and SHUTDOWN off', () => {
    const c = loadConfig({ env: {} }).clamd
    assert.deepEqual([c.host, c.port, c.socket, c.localScan.enabled, c.allowShutdown, c.streamMaxBytes], ['127.0.0.1', 3310, '', false, false, 100 * 1024 * 1024])
  })

  it('takes SCANWALL_CLAMD_HOST, SCANWALL_CLAMD_PORT (0: off) and SCANWALL_CLAMD_SOCKET', () => {
    const c = loadConfig({ env: { SCANWALL_CLAMD_HOST: '0.0.0.0', SCANWALL_CLAMD_PORT: '0', SCANWALL_CLAMD_SOCKET: '/run/x.sock' } }).clamd
    assert.deepEqual([c.host, c.port, c.socket], ['0.0.0.0', 0, '/run/x.sock'])
  })

  for (const [what, overrides, key] of [
    ['a port past 65535', { clamd: { port: 70000 } }, 'clamd.port'],
    ['a port that is not a number', { clamd: { port: '33x' } }, 'clamd.port'],
    ['no connections at all', { clamd: { maxConnections: 0 } }, 'clamd.maxConnections'],
    ['a zero stream limit', { clamd: { streamMaxBytes: 0 } }, 'clamd.streamMaxBytes'],
    ['a relative local-scan directory', { clamd: { localScan: { dirs: ['srv/files'] } } }, 'clamd.localScan.dirs'],
  ] as const) {
    it(`refuses ${what} with one line naming ${key}`, () => {
      assert.throws(() => loadConfig({ env: {}, overrides }), (err: Error) => err.message.includes(key) && !err.message.includes('\n'))
    })
  }

  for (const [what, clamd, pattern] of [
    ['local scans without directories', { port: 0, localScan: { enabled: true } }, /^(config: )?clamd\.localScan\.dirs must list at least one directory/],
    ['a local-scan directory that does not exist', { port: 0, localScan: { enabled: true, dirs: ['/nonexistent/scanwall'] } }, /^(config: )?clamd\.localScan\.dirs\[0\] "\/nonexistent\/scanwall": /],
    ['clamd.port equal to icap.port', { port: 1344 }, /^(config: )?clamd\.port 1344 is icap\.port too/],
    ['a profile that policy.profiles does not have', { port: 0, profile: 'nosuch' }, /^(config: )?clamd\.profile: no profile named "nosuch"/],
  ] as const) {
    it(`stops start-up on ${what}, naming the key`, async () => {
      const config = loadConfig({ env: {}, overrides: { icap: { port: 1344 }, snmp: { enabled: false }, scan: { workers: 1, spoolDir: join(dir, 'spool') }, clamd } })
      await assert.rejects(startNode(config, pino({ level: 'silent' })), (err: Error & { code?: string }) => err.code === 'CONFIG_INVALID' && pattern.test(err.message))
    })
  }
})
