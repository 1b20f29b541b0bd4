/// `scanwall start` with a broken configuration, through the real binary: it must stop before
/// anything starts with exit 78 and exactly one stderr line naming the key (no stack trace).
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { cliMain } from '../helpers/scanwall-node.js'

describe('scanwall start with bad configuration (CLI)', function () {
  this.timeout(30_000)
  const dir = mkdtempSync(join(tmpdir(), 'scanwall-cli-config-'))
  after(() => { rmSync(dir, { recursive: true, force: true }) })

  /// Runs `scanwall start --config FILE`. Should a broken setting be accepted after all, the node
  /// would start (without SNMP, on a free port) and the timeout would end it: a status, not a hang.
  const start = (name: string, settings: Record<string, unknown> | string, env: Record<string, string> = {}) => {
    const file = join(dir, `${name}.json`)
    const safe = { log: { level: 'silent' }, snmp: { enabled: false }, icap: { port: 0 } }
    writeFileSync(file, typeof settings === 'string' ? settings : JSON.stringify({ ...safe, ...settings }))
    return spawnSync(process.execPath, [cliMain, 'start', '--config', file], { encoding: 'utf8', timeout: 20_000, env: { PATH: process.env['PATH'], ...env } })
  }

  for (const [name, settings, env, key] of [
    ['a queue of zero', { scan: { maxQueue: 0 } }, {}, 'scan.maxQueue'],
    ['a negative port', { icap: { port: -1 } }, {}, 'icap.port'],
    ['a bad enum', { scan: { oversize: 'maybe' } }, {}, 'scan.oversize'],
    ['a malformed cluster instance', { cluster: { instances: [{ vip: '10.1.2.3', ports: ['1344'] }] } }, {}, 'cluster.instances[0].ports[0]'],
    ['an unknown key', { scan: { maxQeue: 5 } }, {}, 'scan.maxQeue'],
    ['a bad environment value', {}, { SCANWALL_SCAN_WORKERS: 'four' }, 'scan.workers'],
    ['a milter skip network with a prefix past /32', { milter: { port: 0, skip: { networks: ['10.0.0.0/99'] } } }, {}, 'milter.skip.networks'],
  ] as const) {
    it(`exits 78 on ${name}, with one stderr line naming ${key}`, () => {
      const r = start(name.replace(/\W/g, '-'), settings, env)
      assert.equal(r.status, 78, `status ${r.status} signal ${r.signal} stderr ${r.stderr}`)
      const lines = r.stderr.split('\n')
      assert.equal(lines.length, 2, r.stderr) // one line and its newline
      assert.ok(lines[0]?.startsWith(`scanwall: config: ${key} `), r.stderr)
      assert.equal(lines[1], '')
      assert.equal(r.stdout, '')
    })
  }

  for (const [name, settings, key] of [
    ['quarantine without a key', { quarantine: { enabled: true, dir: join(dir, 'q') } }, 'quarantine.key'],
    ['a short quarantine key', { quarantine: { enabled: true, dir: join(dir, 'q'), key: 'abcd' } }, 'quarantine.key'],
    ['a stats URL that is no PostgreSQL', { stats: { url: 'mysql://db.example/records' } }, 'stats.url'],
    ['a stats URL nobody answers', { stats: { url: 'postgres://nobody@127.0.0.1:1/none' } }, 'stats.url'],
  ] as const) {
    it(`exits 78 on ${name} before the signatures load, with one line naming ${key}`, () => {
      const r = start(name.replace(/\W/g, '-'), { stats: { path: join(dir, 'records.sqlite') }, ...settings })
      assert.equal(r.status, 78, `status ${r.status} signal ${r.signal} stderr ${r.stderr}`)
      assert.match(r.stderr, new RegExp(`^scanwall: config: ${key.replace('.', '\\.')}: [^\n]+\n$`))
    })
  }

  it('names the file when it is not JSON', () => {
    const r = start('not-json', '{ "scan": { ')
    assert.equal(r.status, 78)
    assert.match(r.stderr, /^scanwall: config: --config \S+not-json\.json: [^\n]+\n$/)
  })

  it('shows the rule and the value: scan.maxQueue must be an integer >= 1 (got 0)', () => {
    assert.equal(start('max-queue', { scan: { maxQueue: 0 } }).stderr, 'scanwall: config: scan.maxQueue must be an integer >= 1 (got 0)\n')
  })
})
