/// Signature updates vouched for by ClamAV 1.5 `.sign` files (detached PKCS#7 chained to a trusted
/// root), through a real node and an HTTP mirror: a CVD and a cdiff whose RSA key nobody trusts are
/// installed on their .sign alone; a .sign over other bytes refuses the update and the old DB keeps
/// serving; with updates.requireSignFiles a mirror without .sign files is refused.
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pino } from 'pino'
import { loadConfig } from '../../config/load.js'
import { startNode, type RunningNode } from '../../src/node.js'
import { buildCdiff, buildCvd, testKey } from '../helpers/signed-db.js'
import { TestMirror } from '../helpers/mirror.js'
import { testSigner, type TestSigner } from '../helpers/sign-file.js'
import { RawClient, buildRequest } from './icap-harness.js'
import { testNodeConfig } from '../helpers/node-config.js'

const hexOf = (s: string): string => Buffer.from(s).toString('hex')
const marker = (n: number): string => `scanwall-signfile-marker-${n}`
const daily = (n: number): Record<string, string> => ({ 'daily.ndb': Array.from({ length: n }, (_, i) => `Sign.Marker${i + 1}:0:*:${hexOf(marker(i + 1))}\n`).join('') })
const main1 = { 'main.ndb': `Sign.Main:0:*:${hexOf('scanwall-signfile-main')}\n` }

interface LogLine { readonly msg: string, readonly [k: string]: unknown }

async function scanOnce (port: number, text: string): Promise<string> {
  const c = await RawClient.open(port)
  try {
    c.write(buildRequest({ body: Buffer.from(`xx${text}xx`), allow: '204' }).whole)
    const answer = ((await c.responses(1, 30_000))[0] ?? Buffer.alloc(0)).toString('latin1')
    return answer.startsWith('ICAP/1.0 204') ? 'clean' : /Threat=([^;\r\n]+)/.exec(answer)?.[1] ?? answer.split('\r\n')[0] ?? ''
  } finally {
    c.destroy()
  }
}

async function nodeFor (dir: string, id: string, updates: Record<string, unknown>, logs: LogLine[]): Promise<RunningNode> {
  const log = pino({ level: 'debug' }, { write (line: string) { logs.push(JSON.parse(line) as LogLine) } })
  const node = await startNode(loadConfig({
    env: {},
    overrides: {
      ...testNodeConfig(dir, id),
      scan: { workers: 1, spoolDir: join(dir, `${id}-spool`) },
      signatures: { cacheDir: join(dir, `${id}-cache`) },
      updates: { intervalMs: 3_600_000, ...updates },
    },
  }), log)
  await node.updates.check('test: first')
  return node
}

const refusals = (logs: readonly LogLine[]): string[] => logs.filter(l => l.msg === 'signature update refused; keeping the loaded DB').map(l => String(l['err']))

describe('signature updates with ClamAV 1.5 .sign files', function () {
  this.timeout(120_000)
  const key = testKey('untrusted-rsa')
  let signer: TestSigner
  let dir: string
  let mirror: TestMirror
  let node: RunningNode | undefined
  const logs: LogLine[] = []
  const publish = (name: string, data: Uint8Array, signedBytes: Uint8Array = data): void => {
    mirror.put(name, data)
    mirror.put(`${name}.sign`, signer.sign(signedBytes))
  }

  before(async () => {
    signer = testSigner()
    dir = await mkdtemp(join(tmpdir(), 'scanwall-signfile-'))
    mirror = await TestMirror.start()
    publish('main.cvd', buildCvd('main', 1, main1, key))
    publish('daily.cvd', buildCvd('daily', 1, daily(1), key))
    // The RSA key that signed the CVDs is not trusted: only the .sign files can vouch for them.
    node = await nodeFor(dir, 'signfile', { mirror: mirror.url, trustedCertificates: [signer.rootFile] }, logs)
  })

  after(async () => {
    await node?.stop()
    await mirror?.close()
    signer?.close()
    if (dir !== undefined) await rm(dir, { recursive: true, force: true })
  })

  it('installs CVDs whose .sign verifies although their RSA key is not trusted', async () => {
    assert.deepEqual(refusals(logs), [])
    assert.equal(node?.updates.version, 'daily:1 main:1')
    assert.equal(await scanOnce(node?.icap.address?.port ?? 0, marker(1)), 'Sign.Marker1')
    assert.ok(mirror.requests.some(r => r.path === 'daily.cvd.sign' && r.status === 200))
  })

  it('applies a cdiff vouched for by its .sign; refuses a version whose .sign covers other bytes and keeps the old DB', async () => {
    publish('daily-2.cdiff', buildCdiff('daily', 2, daily(1), daily(2), key))
    publish('daily.cvd', buildCvd('daily', 2, daily(2), key))
    await node?.updates.check('test: N+1')
    assert.deepEqual(refusals(logs), [])
    assert.equal(node?.updates.version, 'daily:2 main:1')
    assert.equal(await scanOnce(node?.icap.address?.port ?? 0, marker(2)), 'Sign.Marker2')
    // Version 3: both the cdiff's and the CVD's .sign are valid signatures, over the wrong bytes.
    const cdiff3 = buildCdiff('daily', 3, daily(2), daily(3), key)
    const cvd3 = buildCvd('daily', 3, daily(3), key)
    publish('daily-3.cdiff', cdiff3, Buffer.concat([cdiff3, Buffer.from('\n')]))
    publish('daily.cvd', cvd3, cvd3.subarray(0, cvd3.length - 1))
    await node?.updates.check('test: wrong bytes')
    assert.match(refusals(logs).at(-1) ?? '', /daily\.cvd\.sign: no signature verifies under a trusted root .*digest/i)
    assert.ok(logs.some(l => /daily-3\.cdiff\.sign: no signature verifies/.test(l.msg)), 'the cdiff was refused first')
    assert.equal(node?.updates.version, 'daily:2 main:1')
    assert.equal(await scanOnce(node?.icap.address?.port ?? 0, marker(3)), 'clean')
  })

  it('refuses a mirror without .sign files when updates.requireSignFiles is on, even under a trusted RSA key', async () => {
    const plain = await TestMirror.start()
    const strictLogs: LogLine[] = []
    let strict: RunningNode | undefined
    try {
      plain.put('main.cvd', buildCvd('main', 1, main1, key))
      plain.put('daily.cvd', buildCvd('daily', 1, daily(1), key))
      strict = await nodeFor(dir, 'strict', { mirror: plain.url, trustedKeys: [key.trusted], requireSignFiles: true }, strictLogs)
      assert.match(refusals(strictLogs).at(-1) ?? '', /main\.cvd\.sign is not on .* \(updates\.requireSignFiles\)/)
      assert.equal(await scanOnce(strict.icap.address?.port ?? 0, marker(1)), 'clean')
    } finally {
      await strict?.stop()
      await plain.close()
    }
  })
})
