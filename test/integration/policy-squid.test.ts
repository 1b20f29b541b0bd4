/// Policy profiles end to end through a real Squid 5 (curl → Squid → origin, Squid's RESPMOD to a
/// Scanwall node started as its own process with a --config file): a blocked true type with the
/// block page, the trusted-domain exception, unsigned JAR and OCX blocked and signed ones passed
/// byte-identical, a blocked URL, each action (block; quarantine and block, with `scanwall
/// quarantine export` returning the object byte-identical; log only, through a second Squid on the
/// logonly service).
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { mkdtemp, rm } from 'node:fs/promises'
import { readFileSync, writeFileSync } from 'node:fs'
import { randomBytes } from 'node:crypto'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startOrigin, sha256, type Origin, type OriginObject } from '../helpers/origin.js'
import { startSquid, type Squid } from '../helpers/squid.js'
import { curl, type CurlResult } from '../helpers/curl.js'
import { tailFile } from '../helpers/daemon.js'
import { cliMain, startScanwallNode, type ScanwallNode } from '../helpers/scanwall-node.js'
import { makePolicyObjects, policyConfig, type PolicyObjects } from '../helpers/policy-fixtures.js'

const run = promisify(execFile)

describe('policy profiles through Squid', function () {
  this.timeout(240_000)
  let dir = ''
  let configFile = ''
  let origin: Origin | undefined
  let strict: Squid | undefined
  let logonly: Squid | undefined
  let node: ScanwallNode | undefined
  let objects: PolicyObjects

  const get = async (squid: Squid | undefined, url: string): Promise<CurlResult> => {
    assert.ok(squid !== undefined)
    return await curl({ proxy: squid.proxyUrl, url, dir })
  }
  const at = (path: string): string => origin?.url(path) ?? ''
  const blockPage = (res: CurlResult, threat: RegExp): void => {
    assert.equal(res.status, 403, `expected the block page, got ${res.status}: ${res.text.slice(0, 300)}`)
    assert.match(res.text, threat)
  }
  const delivered = (res: CurlResult, body: Buffer): void => {
    assert.equal(res.status, 200, res.text.slice(0, 300))
    assert.equal(res.bodySha256, sha256(body), 'delivered byte-identical')
  }
  const scanwall = async (...args: string[]): Promise<string> => (await run(process.execPath, [cliMain, ...args, '--config', configFile], { timeout: 30_000 })).stdout

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'scanwall-policy-squid-'))
    objects = makePolicyObjects(dir)
    const files: Array<[string, Buffer]> = [
      ['/true.elf', objects.elf], ['/applet.jar', objects.unsignedJar], ['/signed.jar', objects.signedJar],
      ['/control.ocx', objects.unsignedOcx], ['/other.ocx', objects.unsignedOcx], ['/signed.ocx', objects.signedOcx], ['/sample.zip', objects.eicarZip],
      ['/denied/page.txt', Buffer.from('a page on a denied path\n')], ['/logged.zip', objects.eicarZip],
    ]
    origin = await startOrigin(new Map<string, OriginObject>(files.map(([path, body]) => [path, { body, headers: { 'Content-Type': 'application/octet-stream' } }])))
    configFile = join(dir, 'scanwall.json')
    writeFileSync(configFile, JSON.stringify({
      scan: { workers: 1 },
      quarantine: { enabled: true, dir: join(dir, 'quarantine'), key: randomBytes(32).toString('hex') },
      ...policyConfig(objects, 'localhost'),
    }))
    node = await startScanwallNode({ dir, args: ['--config', configFile] })
    strict = await startSquid({ dir: await mkdtemp(join(tmpdir(), 'scanwall-squid-')), icapHost: node.host, icapPort: node.port, icapService: 'strict' })
    logonly = await startSquid({ dir: await mkdtemp(join(tmpdir(), 'scanwall-squid-')), icapHost: node.host, icapPort: node.port, icapService: 'logonly' })
  })

  after(async () => {
    for (const squid of [strict, logonly]) {
      await squid?.daemon.stop(5000)
      if (squid !== undefined) await rm(join(squid.cacheLog, '..'), { recursive: true, force: true })
    }
    await node?.daemon.stop(5000)
    await origin?.close()
    if (dir !== '') await rm(dir, { recursive: true, force: true })
  })

  afterEach(function () {
    if (this.currentTest?.state !== 'failed') return
    const squid = strict === undefined ? '' : `--- squid cache.log ---\n${tailFile(strict.cacheLog, 2000)}\n--- access.log ---\n${tailFile(strict.accessLog, 1000)}`
    process.stderr.write(`${squid}\n--- scanwall ---\n${node?.daemon.tail(3000) ?? ''}\n`)
  })

  it('blocks a true type (an ELF program) with the block page naming the rule', async () => {
    blockPage(await get(strict, at('/true.elf')), /Scanwall\.Policy\.BlockedType\.elf/)
  })

  it('the trusted domain (localhost) gets the same program', async () => {
    delivered(await get(strict, `http://localhost:${origin?.port ?? 0}/true.elf`), objects.elf)
  })

  it('blocks an unsigned JAR and an unsigned OCX; delivers signed ones byte-identical', async () => {
    blockPage(await get(strict, at('/applet.jar')), /Scanwall\.Policy\.UnsignedJava/)
    blockPage(await get(strict, at('/control.ocx')), /Scanwall\.Policy\.UnsignedCode\.DLL/)
    delivered(await get(strict, at('/signed.jar')), objects.signedJar)
    delivered(await get(strict, at('/signed.ocx')), objects.signedOcx)
  })

  it('blocks a URL on the deny list', async () => {
    blockPage(await get(strict, at('/denied/page.txt')), /Scanwall\.Policy\.DeniedURL/)
  })

  it('quarantine and block: the object Squid fetched is exported byte-identical', async () => {
    blockPage(await get(strict, at('/sample.zip')), /Eicar/)
    const listed = (await scanwall('quarantine', 'list', '--json')).trim().split('\n').filter(Boolean).map(l => JSON.parse(l) as Record<string, unknown>)
    const entry = listed.find(e => String(e['url']).endsWith('/sample.zip'))
    assert.ok(entry !== undefined, JSON.stringify(listed))
    assert.equal(entry['service'], 'strict')
    const out = join(dir, 'exported.zip')
    await scanwall('quarantine', 'export', String(entry['id']), out)
    assert.ok(readFileSync(out).equals(objects.eicarZip), 'export returns the zip byte-identical')
  })

  it('block only (onPolicy block) keeps nothing; log only (the logonly service) delivers and logs', async () => {
    const before = (await scanwall('quarantine', 'list', '--json')).trim().split('\n').filter(Boolean).length
    blockPage(await get(strict, at('/other.ocx')), /UnsignedCode/)
    assert.equal((await scanwall('quarantine', 'list', '--json')).trim().split('\n').filter(Boolean).length, before)
    delivered(await get(logonly, at('/logged.zip')), objects.eicarZip)
    delivered(await get(logonly, at('/control.ocx')), objects.unsignedOcx)
    // The log line follows the answer: give the node's stdout a moment to reach the file.
    const deadline = Date.now() + 5000
    while (!/"url":"[^"]*\/logged\.zip","bytes":\d+,"verdict":"log-only"/.test(node?.daemon.tail(50_000) ?? '') && Date.now() < deadline) await new Promise(resolve => setTimeout(resolve, 100))
    assert.match(node?.daemon.tail(50_000) ?? '', /"url":"[^"]*\/logged\.zip","bytes":\d+,"verdict":"log-only"/)
  })
})
