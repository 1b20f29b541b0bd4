import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { mkdtemp, mkdir, rm, writeFile, readFile, readdir } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { pino } from 'pino'
import { loadConfig } from '../../config/load.js'
import { startNode, type RunningNode } from '../../src/node.js'
import { buildCdiff, buildCvd, pssSign, testKey, type TestKey } from '../helpers/signed-db.js'
import { createHash } from 'node:crypto'
import { TestMirror } from '../helpers/mirror.js'
import { cliMain } from '../helpers/scanwall-node.js'
import { RawClient, buildRequest, optionsRequest } from './icap-harness.js'
import { exchange, instream } from '../helpers/clamd-client.js'
import { createServer } from 'node:net'
import { testNodeConfig } from '../helpers/node-config.js'

const run = promisify(execFile)
const hexOf = (s: string): string => Buffer.from(s).toString('hex')
const markers = { one: 'scanwall-update-marker-one', two: 'scanwall-update-marker-two', three: 'scanwall-update-marker-three' }
const daily1 = { 'daily.ndb': `Upd.One:0:*:${hexOf(markers.one)}\n` }
const daily2 = { 'daily.ndb': `Upd.One:0:*:${hexOf(markers.one)}\nUpd.Two:0:*:${hexOf(markers.two)}\n` }
const daily3 = { 'daily.ndb': `${daily2['daily.ndb']}Upd.Three:0:*:${hexOf(markers.three)}\n` }
const main1 = { 'main.ndb': `Upd.Main:0:*:${hexOf('scanwall-update-marker-main')}\n` }

interface LogLine { readonly msg: string, readonly [k: string]: unknown }
const logged = (logs: readonly LogLine[], msg: string): LogLine[] => logs.filter(l => l.msg === msg)

/// One RESPMOD on a fresh connection: 'clean' (204), the threat name (200 with X-Infection-Found), or
/// the failure.
async function scanOnce (port: number, body: Buffer): Promise<string> {
  const c = await RawClient.open(port)
  try {
    c.write(buildRequest({ body, allow: '204' }).whole)
    const [r] = await c.responses(1, 30_000)
    const text = (r ?? Buffer.alloc(0)).toString('latin1')
    if (text.startsWith('ICAP/1.0 204')) return 'clean'
    const threat = /X-Infection-Found: Type=0; Resolution=2; Threat=([^;\r\n]+)/.exec(text)
    return text.startsWith('ICAP/1.0 200') && threat !== null ? threat[1] ?? '' : `FAILED: ${text.split('\r\n')[0] ?? ''}`
  } finally {
    c.destroy()
  }
}

async function istag (port: number): Promise<string> {
  const c = await RawClient.open(port)
  try {
    c.write(optionsRequest)
    const [r] = await c.responses(1)
    return /\r\nISTag: ("[^"]*")/.exec((r ?? Buffer.alloc(0)).toString('latin1'))?.[1] ?? ''
  } finally {
    c.destroy()
  }
}

/// Sustained load: `clients` loops on keep-alive connections, each alternating a clean body and one
/// with marker one (detected by every DB version), until stopped; counts answers and failures.
function sustainedLoad (port: number, clients: number): { stop: () => Promise<{ ok: number, failed: string[] }> } {
  const state = { running: true }
  let ok = 0
  const failed: string[] = []
  const loops = Array.from({ length: clients }, async (_, i) => {
    const c = await RawClient.open(port)
    try {
      for (let n = 0; state.running; n++) {
        const infected = (n + i) % 2 === 1
        const body = Buffer.concat([Buffer.alloc(2048, 0x61 + (n % 20)), infected ? Buffer.from(markers.one) : Buffer.alloc(0)])
        c.write(buildRequest({ body, allow: '204' }).whole)
        const all = await c.responses(n + 1, 30_000)
        const text = (all[n] ?? Buffer.alloc(0)).toString('latin1')
        const good = infected ? text.startsWith('ICAP/1.0 200') && text.includes('Threat=Upd.One') : text.startsWith('ICAP/1.0 204')
        if (good) ok++
        else failed.push(text.split('\r\n')[0] ?? '(empty)')
      }
    } catch (err) {
      failed.push(String(err))
    } finally {
      c.destroy()
    }
  })
  return { stop: async () => { state.running = false; await Promise.all(loops); return { ok, failed } } }
}

/// The same through the clamd listener: `clients` loops of one INSTREAM per connection (as clamdscan
/// --stream does), alternating a clean body and marker one.
function sustainedClamdLoad (port: number, clients: number): { stop: () => Promise<{ ok: number, failed: string[] }> } {
  const state = { running: true }
  let ok = 0
  const failed: string[] = []
  const loops = Array.from({ length: clients }, async (_, i) => {
    for (let n = 0; state.running; n++) {
      const infected = (n + i) % 2 === 1
      const body = Buffer.concat([Buffer.alloc(2048, 0x61 + (n % 20)), infected ? Buffer.from(markers.one) : Buffer.alloc(0)])
      const answer = await exchange({ host: '127.0.0.1', port }, instream('z', body)).then(b => b.toString('latin1'), (err: unknown) => String(err))
      if (answer === (infected ? 'stream: Upd.One FOUND\0' : 'stream: OK\0')) ok++
      else failed.push(answer)
    }
  })
  return { stop: async () => { state.running = false; await Promise.all(loops); return { ok, failed } } }
}

async function freePort (): Promise<number> {
  const server = createServer()
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise(resolve => server.close(resolve))
  return port
}

describe('signature updates from a mirror (HTTP, CVD + cdiff signed with a test key)', function () {
  this.timeout(180_000)
  let dir: string
  let mirror: TestMirror
  let key: TestKey
  let node: RunningNode | undefined
  let port: number
  let configFile: string
  const logs: LogLine[] = []
  const ours = (msg: string): LogLine[] => logged(logs, msg)

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'scanwall-updates-'))
    key = testKey()
    mirror = await TestMirror.start()
    mirror.put('main.cvd', buildCvd('main', 1, main1, key))
    mirror.put('daily.cvd', buildCvd('daily', 1, daily1, key))
    const local = join(dir, 'local')
    await mkdir(local)
    await writeFile(join(local, 'local.ndb'), `Local.Rule:0:*:${hexOf('scanwall-local-rule')}\n`)
    configFile = join(dir, 'config.json')
    await writeFile(configFile, JSON.stringify({
      ...testNodeConfig(dir, 'upd-node'),
      clamd: { port: await freePort() },
      scan: { workers: 2, spoolDir: join(dir, 'spool') },
      signatures: { dir: local, cacheDir: join(dir, 'cache') },
      updates: { mirror: mirror.url, intervalMs: 3_600_000, trustedKeys: [key.trusted] },
    }))
    const log = pino({ level: 'debug' }, { write (line: string) { logs.push(JSON.parse(line) as LogLine) } })
    node = await startNode(loadConfig({ file: configFile, env: {} }), log)
    port = node.icap.address?.port ?? 0
    await node.updates.check('test: first') // queued behind the start-up check
  })

  after(async () => {
    await node?.stop()
    await mirror?.close()
    if (dir !== undefined) await rm(dir, { recursive: true, force: true })
  })

  it('installs version N at start: the mirror\'s DB and the local rules detect, and nothing is written into signatures.dir', async () => {
    assert.equal(node?.updates.version, 'daily:1 main:1')
    assert.equal(await scanOnce(port, Buffer.from(`xx${markers.one}xx`)), 'Upd.One')
    assert.equal(await scanOnce(port, Buffer.from('xx scanwall-local-rule xx')), 'Local.Rule')
    assert.equal(await scanOnce(port, Buffer.from(`xx${markers.two}xx`)), 'clean')
    assert.deepEqual(await readdir(join(dir, 'local')), ['local.ndb'])
    assert.ok((await readdir(join(dir, 'cache', 'compiled'))).some(f => f.startsWith('scanwall-compiled-')))
    // The version check asked for the 512-byte header with a Range request.
    assert.ok(mirror.requests.some(r => r.path === 'daily.cvd' && r.range === 'bytes=0-511' && r.status === 206))
  })

  it('applies the cdiff for N+1 during sustained ICAP and clamd load: zero failed transactions, the new signature detects at once, the ISTag changes', async () => {
    const tagBefore = await istag(port)
    mirror.put('daily-2.cdiff', buildCdiff('daily', 2, daily1, daily2, key))
    mirror.put('daily.cvd', buildCvd('daily', 2, daily2, key))
    const load = sustainedLoad(port, 6)
    const clamdLoad = sustainedClamdLoad(node?.clamd?.address?.port ?? 0, 4)
    await new Promise(resolve => setTimeout(resolve, 300))
    await node?.updates.check('test: N+1')
    await new Promise(resolve => setTimeout(resolve, 300))
    const { ok, failed } = await load.stop()
    const clamd = await clamdLoad.stop()
    assert.deepEqual(failed, [], 'no transaction failed during the swap')
    assert.ok(ok > 20, `load was sustained (${ok} answers)`)
    assert.deepEqual(clamd.failed, [], 'no clamd INSTREAM failed during the swap')
    assert.ok(clamd.ok > 20, `clamd load was sustained (${clamd.ok} answers)`)
    assert.equal(await scanOnce(port, Buffer.from(`xx${markers.two}xx`)), 'Upd.Two')
    assert.equal(node?.updates.version, 'daily:2 main:1')
    assert.notEqual(await istag(port), tagBefore)
    const updated = ours('signatures updated').at(-1)
    assert.match(String(updated?.['how']), /daily 1→2 by cdiff/)
    // Incremental: the full daily.cvd was not downloaded again.
    assert.equal(mirror.requests.filter(r => r.path === 'daily.cvd' && r.range === undefined && r.status === 200).length, 1)
    // main.cvd had not changed: If-Modified-Since got a 304.
    assert.ok(mirror.requests.some(r => r.path === 'main.cvd' && r.status === 304))
  })

  it('refuses a corrupt update and an unsigned one, and keeps serving the old DB', async () => {
    const tag = await istag(port)
    const cdiff = Buffer.from(buildCdiff('daily', 3, daily2, daily3, key))
    cdiff[40] = (cdiff[40] ?? 0) ^ 1
    const cvd = Buffer.from(buildCvd('daily', 3, daily3, key))
    cvd[700] = (cvd[700] ?? 0) ^ 1
    mirror.put('daily-3.cdiff', cdiff)
    mirror.put('daily.cvd', cvd)
    await node?.updates.check('test: corrupt')
    assert.match(String(ours('signature update refused; keeping the loaded DB').at(-1)?.['err']), /daily\.cvd .*MD5/)
    assert.equal(node?.updates.version, 'daily:2 main:1')
    assert.equal(await scanOnce(port, Buffer.from(`xx${markers.three}xx`)), 'clean')
    assert.equal(await scanOnce(port, Buffer.from(`xx${markers.two}xx`)), 'Upd.Two')
    // Unsigned: a well-formed CVD without a digital signature, and a cdiff signed by an unknown key.
    const unsigned = Buffer.from(buildCvd('daily', 3, daily3, key))
    const fields = unsigned.subarray(0, 512).toString('latin1').trimEnd().split(':')
    fields[6] = ''
    unsigned.write(fields.join(':').padEnd(512, ' '), 0, 'latin1')
    mirror.put('daily-3.cdiff', buildCdiff('daily', 3, daily2, daily3, testKey('stranger')))
    mirror.put('daily.cvd', unsigned)
    await node?.updates.check('test: unsigned')
    assert.match(String(ours('signature update refused; keeping the loaded DB').at(-1)?.['err']), /unsigned/)
    assert.ok(logs.some(l => /daily-3\.cdiff: digital signature does not verify/.test(l.msg)), 'the stranger\'s cdiff was refused first')
    assert.equal(node?.updates.version, 'daily:2 main:1')
    assert.equal(await istag(port), tag)
    const state = JSON.parse(await readFile(join(dir, 'cache', 'updates', 'state.json'), 'utf8')) as { lastError?: string }
    assert.match(state.lastError ?? '', /unsigned/)
  })

  it('respects a 429: no request to the mirror until Retry-After has passed', async () => {
    mirror.refuse = { status: 429, retryAfter: '3600' }
    const before = mirror.requests.length
    await node?.updates.check('test: 429')
    assert.equal(mirror.requests.length, before + 1)
    const paused = ours('signature update paused: the mirror asked for a cool-down').at(-1)
    const until = Date.parse(String(paused?.['until']))
    assert.ok(until > Date.now() + 3_500_000 && until < Date.now() + 3_700_000, `cool-down of about an hour (until ${String(paused?.['until'])})`)
    await node?.updates.check('test: during cool-down')
    assert.equal(mirror.requests.length, before + 1, 'no request during the cool-down')
    assert.equal(node?.updates.version, 'daily:2 main:1')
    mirror.refuse = undefined
  })

  it('`scanwall sigs info` and `rollback`: the node follows state.json back to N, no SIGHUP', async () => {
    const info = JSON.parse((await run(process.execPath, [cliMain, 'sigs', 'info', '--config', configFile, '--json'])).stdout) as { version: string, previous: string, coolDownUntil: number }
    assert.equal(info.version, 'daily:2 main:1')
    assert.equal(info.previous, 'daily:1 main:1')
    assert.ok(info.coolDownUntil > Date.now())
    const tag = await istag(port)
    const back = JSON.parse((await run(process.execPath, [cliMain, 'sigs', 'rollback', '--config', configFile, '--json'])).stdout) as { version: string }
    assert.equal(back.version, 'daily:1 main:1')
    const deadline = Date.now() + 30_000
    while (node?.updates.version !== 'daily:1 main:1' && Date.now() < deadline) await new Promise(resolve => setTimeout(resolve, 100))
    assert.equal(node?.updates.version, 'daily:1 main:1')
    assert.equal(await scanOnce(port, Buffer.from(`xx${markers.two}xx`)), 'clean')
    assert.notEqual(await istag(port), tag)
  })
})

describe('a freshclam-maintained signature directory (no mirror): watched, reloaded without SIGHUP', function () {
  this.timeout(120_000)
  let dir: string
  let node: RunningNode | undefined
  let port: number
  const logs: LogLine[] = []

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'scanwall-watch-'))
    await mkdir(join(dir, 'clamav'))
    await writeFile(join(dir, 'clamav', 'local.ndb'), `Watch.Local:0:*:${hexOf('scanwall-watch-local')}\n`)
    const log = pino({ level: 'debug' }, { write (line: string) { logs.push(JSON.parse(line) as LogLine) } })
    node = await startNode(loadConfig({
      env: {},
      overrides: {
        ...testNodeConfig(dir, 'watch-node'),
        signatures: { dir: join(dir, 'clamav'), cacheDir: join(dir, 'cache') },
        updates: { debounceMs: 300 },
      },
    }), log)
    port = node.icap.address?.port ?? 0
  })

  after(async () => {
    await node?.stop()
    if (dir !== undefined) await rm(dir, { recursive: true, force: true })
  })

  async function until (what: () => boolean, label: string): Promise<void> {
    const deadline = Date.now() + 30_000
    while (!what()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${label}; logs: ${logs.map(l => l.msg).join(' | ')}`)
      await new Promise(resolve => setTimeout(resolve, 100))
    }
  }

  it('a CVD written in two parts: the half-written file does not load (old DB kept), the completed one does', async () => {
    // A freshclam directory holds ClamAV-signed files; the load checks the container's MD5 (the
    // updater checks signatures), so a test-key CVD stands in for daily.cvd here.
    const cvd = buildCvd('daily', 5, daily2, testKey())
    const seen = logs.length
    await writeFile(join(dir, 'clamav', 'daily.cvd'), cvd.subarray(0, 700))
    await until(() => logs.slice(seen).some(l => l.msg === 'signature directory changed but does not load (yet); keeping the loaded DB'), 'the partial write to be refused')
    assert.equal(await scanOnce(port, Buffer.from(`xx${markers.two}xx`)), 'clean')
    assert.equal(await scanOnce(port, Buffer.from('xx scanwall-watch-local xx')), 'Watch.Local')
    await writeFile(join(dir, 'clamav', 'daily.cvd'), cvd)
    await until(() => node?.updates.version === 'daily:5', 'the completed file to load')
    assert.equal(await scanOnce(port, Buffer.from(`xx${markers.two}xx`)), 'Upd.Two')
    assert.equal(await scanOnce(port, Buffer.from('xx scanwall-watch-local xx')), 'Watch.Local')
    assert.deepEqual((await readdir(join(dir, 'clamav'))).sort(), ['daily.cvd', 'local.ndb'], 'nothing written into the watched directory')
  })
})

describe('signature updates from a plain directory with a signed SHA-256 manifest', function () {
  this.timeout(120_000)
  let dir: string
  let node: RunningNode | undefined
  let port: number
  const logs: LogLine[] = []
  const key = testKey()
  const publish = async (files: Record<string, string>, sign = true): Promise<void> => {
    const mirror = join(dir, 'mirror')
    await rm(mirror, { recursive: true, force: true })
    await mkdir(mirror)
    for (const [name, text] of Object.entries(files)) await writeFile(join(mirror, name), text)
    const list = Object.entries(files).map(([name, text]) => `${createHash('sha256').update(text).digest('hex')}  ${name}`).join('\n') + '\n'
    await writeFile(join(mirror, 'SHA256SUMS'), list)
    if (sign) await writeFile(join(mirror, 'SHA256SUMS.sig'), pssSign(key, Buffer.from(list)))
  }

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'scanwall-manifest-'))
    await publish({ 'vendor.ndb': `Vendor.One:0:*:${hexOf('scanwall-vendor-one')}\n` })
    const log = pino({ level: 'debug' }, { write (line: string) { logs.push(JSON.parse(line) as LogLine) } })
    node = await startNode(loadConfig({
      env: {},
      overrides: {
        ...testNodeConfig(dir, 'manifest-node'),
        signatures: { cacheDir: join(dir, 'cache') },
        updates: { mirror: join(dir, 'mirror'), layout: 'manifest', trustedKeys: [key.trusted] },
      },
    }), log)
    port = node.icap.address?.port ?? 0
    await node.updates.check('test: first')
  })

  after(async () => {
    await node?.stop()
    if (dir !== undefined) await rm(dir, { recursive: true, force: true })
  })

  it('installs the listed files (with the bundled signatures), refuses a changed file, an unsigned or a wrongly signed manifest', async () => {
    assert.equal(await scanOnce(port, Buffer.from('xx scanwall-vendor-one xx')), 'Vendor.One')
    const tag = await istag(port)
    // A file changed after the manifest was signed.
    await publish({ 'vendor.ndb': `Vendor.One:0:*:${hexOf('scanwall-vendor-one')}\n` })
    await writeFile(join(dir, 'mirror', 'vendor.ndb'), `Vendor.Evil:0:*:${hexOf('scanwall-vendor-one')}\n`)
    await node?.updates.check('test: changed file')
    assert.equal(logged(logs, 'signatures updated').length, 1, 'the same manifest is no update')
    await publish({ 'vendor.ndb': `Vendor.Two:0:*:${hexOf('scanwall-vendor-two')}\n` }, false)
    await node?.updates.check('test: unsigned')
    assert.match(String(logged(logs, 'signature update refused; keeping the loaded DB').at(-1)?.['err']), /SHA256SUMS is unsigned/)
    await publish({ 'vendor.ndb': `Vendor.Two:0:*:${hexOf('scanwall-vendor-two')}\n` })
    await writeFile(join(dir, 'mirror', 'vendor.ndb'), `Vendor.Evil:0:*:${hexOf('scanwall-vendor-two')}\n`)
    await node?.updates.check('test: tampered')
    assert.match(String(logged(logs, 'signature update refused; keeping the loaded DB').at(-1)?.['err']), /vendor\.ndb does not match its SHA-256/)
    assert.equal(await scanOnce(port, Buffer.from('xx scanwall-vendor-two xx')), 'clean')
    assert.equal(await istag(port), tag)
    await publish({ 'vendor.ndb': `Vendor.Two:0:*:${hexOf('scanwall-vendor-two')}\n` })
    await node?.updates.check('test: good')
    assert.equal(await scanOnce(port, Buffer.from('xx scanwall-vendor-two xx')), 'Vendor.Two')
    assert.equal(await scanOnce(port, Buffer.from('X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*')), 'Eicar-Test-Signature')
    assert.notEqual(await istag(port), tag)
  })
})
