/// Policy profiles end to end through c-icap-client (issue #12's must-show list): a blocked true
/// type, the trusted-domain exception, unsigned JAR and OCX blocked and signed ones passed, a blocked
/// URL (deny list, reloaded when its file changes), each action (block, quarantine and block with
/// `scanwall quarantine export` byte-identical, log only), OPTIONS Transfer-* from the service's
/// profile, `scanwall quarantine release` letting the same object through, and a policy reload
/// (a bad one refused, the old one serving) while a keep-alive connection stays up.
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { connect } from 'node:net'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { randomBytes } from 'node:crypto'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pino } from 'pino'
import { startNode, type RunningNode } from '../../src/node.js'
import { loadConfig } from '../../config/load.js'
import { cliMain } from '../helpers/scanwall-node.js'
import { makePolicyObjects, policyConfig, type PolicyObjects } from '../helpers/policy-fixtures.js'
import { testNodeConfig } from '../helpers/node-config.js'

const run = promisify(execFile)
const clientPath = '/usr/bin/c-icap-client'

describe('policy profiles through c-icap-client', function () {
  this.timeout(180_000)
  const dir = mkdtempSync(join(tmpdir(), 'scanwall-policy-cicap-'))
  const configFile = join(dir, 'scanwall.json')
  let objects: PolicyObjects
  let node: RunningNode | undefined
  let port = 0
  let config: Record<string, unknown> = {}

  const scanwall = async (...args: string[]): Promise<string> => (await run(process.execPath, [cliMain, ...args, '--config', configFile], { timeout: 30_000 })).stdout
  /// One RESPMOD of `body` as the response to `url` on `service`: the ICAP answer as printed by -v.
  async function respmod (service: string, body: Buffer, url: string): Promise<string> {
    const file = join(dir, `body-${randomBytes(4).toString('hex')}`)
    writeFileSync(file, body)
    const { stdout, stderr } = await run(clientPath, ['-i', '127.0.0.1', '-p', String(port), '-s', service, '-f', file, '-resp', url, '-v', '-o', `${file}.answer`], { timeout: 30_000 })
    return stdout + stderr
  }
  const blocked = (answer: string, threat: RegExp): void => { assert.match(answer, /X-Infection-Found: .*Threat=/, answer); assert.match(answer, threat, answer) }
  const passed = (answer: string): void => { assert.doesNotMatch(answer, /X-Infection-Found/, answer); assert.match(answer, /ICAP\/1\.0 20[046]/, answer) }

  before(async () => {
    if (!existsSync(clientPath)) throw new Error(`${clientPath} missing: install Debian package c-icap (test/setup-peers.sh)`)
    objects = makePolicyObjects(dir)
    config = {
      ...testNodeConfig(dir, 'policy-node'),
      quarantine: { enabled: true, dir: join(dir, 'quarantine'), key: randomBytes(32).toString('hex') },
      stats: { path: join(dir, 'records.sqlite'), flushMs: 50 },
      ...policyConfig(objects, 'trusted.test'),
    }
    config = { ...config, icap: { port: 0, services: ['avscan', 'strict', 'logonly'] }, policy: { ...(config['policy'] as object), listDebounceMs: 50 } }
    writeFileSync(configFile, JSON.stringify(config))
    node = await startNode(loadConfig({ file: configFile, env: {} }), pino({ level: 'silent' }))
    port = node.icap.address?.port ?? 0
  })
  after(async () => {
    await node?.stop()
    rmSync(dir, { recursive: true, force: true })
  })

  it('OPTIONS advertises Transfer-Preview / Transfer-Ignore of each service\'s profile', async () => {
    const strict = await run(clientPath, ['-i', '127.0.0.1', '-p', String(port), '-s', 'strict', '-v'], { timeout: 30_000 })
    assert.match(strict.stdout + strict.stderr, /Transfer-Preview: exe,dll,ocx,jar,zip/)
    assert.match(strict.stdout + strict.stderr, /Transfer-Ignore: jpg,png,gif/)
    const plain = await run(clientPath, ['-i', '127.0.0.1', '-p', String(port), '-s', 'avscan', '-v'], { timeout: 30_000 })
    assert.match(plain.stdout + plain.stderr, /Transfer-Preview: \*/)
    assert.doesNotMatch(plain.stdout + plain.stderr, /Transfer-Ignore/)
  })

  it('blocks a true type (an ELF program) on strict, passes it on the default profile', async () => {
    blocked(await respmod('strict', objects.elf, 'http://files.example/tool.pdf'), /Scanwall\.Policy\.BlockedType\.elf/)
    passed(await respmod('avscan', objects.elf, 'http://files.example/tool.pdf'))
  })

  it('a trusted domain (the host or a parent) is exempt', async () => {
    passed(await respmod('strict', objects.elf, 'http://dl.trusted.test/tool'))
    blocked(await respmod('strict', objects.elf, 'http://trusted.test.example/tool'), /BlockedType\.elf/)
  })

  it('blocks an unsigned JAR and an unsigned OCX; passes signed ones', async () => {
    blocked(await respmod('strict', objects.unsignedJar, 'http://files.example/applet.jar'), /Scanwall\.Policy\.UnsignedJava/)
    blocked(await respmod('strict', objects.unsignedOcx, 'http://files.example/control.ocx'), /Scanwall\.Policy\.UnsignedCode\.DLL/)
    passed(await respmod('strict', objects.signedJar, 'http://files.example/applet.jar'))
    passed(await respmod('strict', objects.signedOcx, 'http://files.example/control.ocx'))
  })

  it('blocks a denied URL unscanned, and follows the deny list file when it changes', async () => {
    blocked(await respmod('strict', Buffer.from('harmless text\n'), 'http://www.denied.test/page'), /Scanwall\.Policy\.DeniedURL/)
    blocked(await respmod('strict', Buffer.from('harmless text\n'), 'http://127.0.0.1/denied/x'), /DeniedURL/)
    passed(await respmod('strict', Buffer.from('harmless text\n'), 'http://later.test/page'))
    writeFileSync(objects.denyList, 'later.test\n')
    const deadline = Date.now() + 10_000
    for (;;) {
      const answer = await respmod('strict', Buffer.from('harmless text\n'), 'http://later.test/page')
      if (/DeniedURL/.test(answer)) break
      if (Date.now() > deadline) assert.fail('the changed deny list was not applied within 10 s')
      await new Promise(resolve => setTimeout(resolve, 200))
    }
    passed(await respmod('strict', Buffer.from('harmless text\n'), 'http://www.denied.test/page'))
    // The block was decided without a scan: the record says so, not 'clean'.
    await node?.recorder?.flush()
    const events = (await scanwall('events', '--since', '1h', '--json')).trim().split('\n').filter(Boolean).map(l => JSON.parse(l) as Record<string, unknown>)
    const denied = events.filter(e => e['url'] === 'http://www.denied.test/page')
    assert.ok(denied.length > 0 && denied.every(e => e['verdict'] === 'unscanned' && e['action'] === 'block'), JSON.stringify(denied))
  })

  it('actions: quarantine and block (export byte-identical), then release lets the same object through', async () => {
    blocked(await respmod('strict', objects.eicarZip, 'http://files.example/sample.zip'), /Eicar/)
    const listed = (await scanwall('quarantine', 'list', '--json')).trim().split('\n').filter(Boolean).map(l => JSON.parse(l) as Record<string, unknown>)
    const entry = listed.find(e => e['url'] === 'http://files.example/sample.zip')
    assert.ok(entry !== undefined, JSON.stringify(listed))
    const out = join(dir, 'exported.zip')
    await scanwall('quarantine', 'export', String(entry['id']), out)
    assert.ok(readFileSync(out).equals(objects.eicarZip), 'export returns the blocked zip byte-identical')
    await scanwall('quarantine', 'release', String(entry['id']))
    const deadline = Date.now() + 10_000
    for (;;) {
      const answer = await respmod('strict', objects.eicarZip, 'http://files.example/sample.zip')
      if (!/X-Infection-Found/.test(answer)) break
      if (Date.now() > deadline) assert.fail('the released object was still blocked after 10 s')
      await new Promise(resolve => setTimeout(resolve, 500))
    }
  })

  it('actions: block only (strict\'s onPolicy) keeps nothing; log only passes and records the detection', async () => {
    const before = (await scanwall('quarantine', 'list', '--json')).trim().split('\n').filter(Boolean).length
    blocked(await respmod('strict', objects.unsignedOcx, 'http://files.example/other.ocx'), /UnsignedCode/)
    passed(await respmod('logonly', objects.eicarZip, 'http://files.example/logged.zip'))
    passed(await respmod('logonly', objects.unsignedOcx, 'http://files.example/logged.ocx'))
    assert.equal((await scanwall('quarantine', 'list', '--json')).trim().split('\n').filter(Boolean).length, before)
    await node?.recorder?.flush()
    const events = (await scanwall('events', '--since', '1h', '--json')).trim().split('\n').filter(Boolean).map(l => JSON.parse(l) as Record<string, unknown>)
    const logged = events.filter(e => String(e['url']).includes('logged'))
    assert.deepEqual(logged.map(e => e['action']).sort(), ['detect', 'detect'], JSON.stringify(logged))
    assert.ok(logged.some(e => /Eicar/.test(String(e['threat']))) && logged.some(e => e['threat'] === 'Scanwall.Policy.UnsignedCode.DLL'), JSON.stringify(logged))
  })

  it('reload: a new policy applies to the next object on an open connection; a bad one is refused and the old one serves', async () => {
    assert.ok(node !== undefined)
    // A keep-alive connection opened before the reload must stay usable after it.
    const socket = connect(port, '127.0.0.1')
    await new Promise<void>((resolve, reject) => { socket.once('connect', resolve); socket.once('error', reject) })
    const options = async (): Promise<string> => {
      socket.write(`OPTIONS icap://127.0.0.1:${port}/strict ICAP/1.0\r\nHost: 127.0.0.1\r\nEncapsulated: null-body=0\r\n\r\n`)
      return await new Promise<string>(resolve => { socket.once('data', (d: Buffer) => { resolve(d.toString('latin1')) }) })
    }
    assert.match(await options(), /Transfer-Preview: exe,dll,ocx,jar,zip/)
    const strict = { ...(config['policy'] as { profiles: Record<string, object> }).profiles['strict'], blockTypes: [], transferPreview: 'exe' }
    const next = { ...config, policy: { ...(config['policy'] as object), profiles: { ...(config['policy'] as { profiles: object }).profiles, strict } } }
    node.reloadPolicy(loadConfig({ overrides: next, env: {} }))
    assert.match(await options(), /Transfer-Preview: exe\r\n/)
    passed(await respmod('strict', objects.elf, 'http://files.example/tool.bin'))
    const bad = { ...next, policy: { ...next.policy, services: { strict: 'nosuch' } } }
    assert.throws(() => { node?.reloadPolicy(loadConfig({ overrides: bad, env: {} })) }, /policy\.services\.strict: no profile named "nosuch"/)
    assert.match(await options(), /Transfer-Preview: exe\r\n/, 'the old policy keeps serving')
    socket.destroy()
  })
})
