/// Quarantine and the decision database end to end: c-icap-client sends EICAR inside a zip through a
/// node with quarantine on; the block is answered, `scanwall quarantine export` (the CLI binary, same
/// config file) returns the zip byte-identical, the file at rest holds no EICAR string and no execute
/// bit, and `scanwall events` / `scanwall stats` read the quarantine event and the aggregates back.
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { randomBytes } from 'node:crypto'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pino } from 'pino'
import { startNode, type RunningNode } from '../../src/node.js'
import { loadConfig } from '../../config/load.js'
import { eicar } from '../helpers/eicar.js'
import { cliMain } from '../helpers/scanwall-node.js'
import { testNodeConfig } from '../helpers/node-config.js'

const run = promisify(execFile)
const clientPath = '/usr/bin/c-icap-client'

describe('quarantine and decision records through c-icap-client', function () {
  this.timeout(120_000)
  const dir = mkdtempSync(join(tmpdir(), 'scanwall-quarantine-'))
  const configFile = join(dir, 'scanwall.json')
  const zipFile = join(dir, 'sample.zip')
  let node: RunningNode | undefined
  let port = 0

  async function scanwall (...args: string[]): Promise<string> {
    const { stdout } = await run(process.execPath, [cliMain, ...args, '--config', configFile], { timeout: 30_000 })
    return stdout
  }

  before(async () => {
    if (!existsSync(clientPath)) throw new Error(`${clientPath} missing: install Debian package c-icap (test/setup-peers.sh)`)
    writeFileSync(join(dir, 'eicar.com'), eicar)
    writeFileSync(join(dir, 'notes.txt'), randomBytes(3000).toString('base64'))
    await run('zip', ['-q', '-j', zipFile, join(dir, 'notes.txt'), join(dir, 'eicar.com')])
    writeFileSync(configFile, JSON.stringify({
      ...testNodeConfig(dir, 'q-node'),
      quarantine: { enabled: true, dir: join(dir, 'quarantine'), key: randomBytes(32).toString('hex') },
      stats: { path: join(dir, 'records.sqlite'), flushMs: 50 },
    }))
    node = await startNode(loadConfig({ file: configFile, env: {} }), pino({ level: 'silent' }))
    port = node.icap.address?.port ?? 0
  })
  after(async () => {
    await node?.stop()
    rmSync(dir, { recursive: true, force: true })
  })

  it('blocks EICAR in a zip, keeps it sealed, and exports it byte-identical', async () => {
    const { stdout, stderr } = await run(clientPath, ['-i', '127.0.0.1', '-p', String(port), '-s', 'avscan', '-f', zipFile, '-resp', 'http://origin.test/sample.zip', '-x', 'X-Client-IP: 192.0.2.10', '-x', 'X-Authenticated-User: alice', '-v', '-o', join(dir, 'answer')], { timeout: 30_000 })
    assert.match(stdout + stderr, /X-Infection-Found: .*Threat=Eicar/, stdout + stderr)
    const listed = (await scanwall('quarantine', 'list', '--json')).trim().split('\n').map(l => JSON.parse(l) as Record<string, unknown>)
    assert.equal(listed.length, 1)
    const entry = listed[0] ?? {}
    const id = String(entry['id'])
    assert.match(String(entry['threat']), /Eicar/)
    assert.equal(entry['url'], 'http://origin.test/sample.zip')
    assert.equal(entry['client'], '192.0.2.10')
    assert.equal(entry['user'], 'alice')
    assert.equal(entry['service'], 'avscan')
    assert.equal(entry['node'], 'q-node')
    const out = join(dir, 'exported.zip')
    await scanwall('quarantine', 'export', id, out)
    assert.ok(readFileSync(out).equals(readFileSync(zipFile)), 'export returns the blocked zip byte-identical')
    const names = readdirSync(join(dir, 'quarantine'))
    assert.deepEqual(names.sort(), [`${id}.json`, `${id}.q`])
    const atRest = readFileSync(join(dir, 'quarantine', `${id}.q`))
    assert.equal(atRest.indexOf('EICAR'), -1, 'the file at rest holds no EICAR string')
    assert.equal(atRest.indexOf('PK\u0003\u0004'), -1, 'nor the zip in the clear')
    assert.equal(statSync(join(dir, 'quarantine', `${id}.q`)).mode & 0o111, 0, 'not executable')
    assert.match(await scanwall('quarantine', 'show', id), /"sha256": "[0-9a-f]{64}"/)
  })

  it('records the quarantine as an event and the object in the hourly aggregates', async () => {
    await node?.recorder?.flush()
    const events = (await scanwall('events', '--since', '1h', '--json')).trim().split('\n').map(l => JSON.parse(l) as Record<string, unknown>)
    const q = events.find(e => e['action'] === 'quarantine')
    assert.ok(q !== undefined, JSON.stringify(events))
    assert.equal(q['client'], '192.0.2.10')
    assert.equal(q['user'], 'alice')
    assert.match(String(q['quarantineId']), /^[0-9a-f]{24}$/)
    const byUser = (await scanwall('stats', '--by', 'user', '--since', '24h', '--json')).trim().split('\n').map(l => JSON.parse(l) as Record<string, unknown>)
    assert.deepEqual(byUser.find(r => r['user'] === 'alice'), { user: 'alice', objects: 1, bytes: statSync(zipFile).size, infections: 1, blocks: 1 })
    assert.match(await scanwall('stats', '--by', 'threat'), /Eicar/)
  })

  it('releases and deletes by id through the CLI', async () => {
    const id = (await scanwall('quarantine', 'list')).split('\n')[1]?.split('\t')[0] ?? ''
    assert.match(await scanwall('quarantine', 'release', id), /released/)
    assert.match(await scanwall('quarantine', 'list'), /\(released\)/)
    await scanwall('quarantine', 'delete', id)
    assert.equal((await scanwall('quarantine', 'list', '--json')).trim(), '')
  })
})
