/// Issue #14 through a real Squid: an upload (POST, REQMOD) carrying an IBAN is blocked by the
/// content filter with the block page naming the rule, and never reaches the origin; a clean
/// upload passes; the hit is in the decision database (`scanwall stats --by rule`).
import assert from 'node:assert/strict'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startOrigin, type Origin } from '../helpers/origin.js'
import { startSquid, type Squid } from '../helpers/squid.js'
import { curl } from '../helpers/curl.js'
import { tailFile } from '../helpers/daemon.js'
import { startScanwallNode, type ScanwallNode } from '../helpers/scanwall-node.js'
import { statsUntil } from '../helpers/stats.js'

describe('content filter on REQMOD uploads through Squid', function () {
  this.timeout(180_000)
  let dir = ''
  let origin: Origin | undefined
  let squid: Squid | undefined
  let node: ScanwallNode | undefined
  let config = ''

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'scanwall-cf-squid-'))
    origin = await startOrigin(new Map())
    config = join(dir, 'scanwall.json')
    await writeFile(config, JSON.stringify({
      stats: { path: join(dir, 'records.sqlite') },
      contentFilter: { enabled: true, rules: [{ name: 'iban', detect: 'iban', action: 'block' }, { name: 'internal', words: ['project bluebird'], action: 'log' }] },
    }))
    node = await startScanwallNode({ dir, args: ['--config', config] })
    squid = await startSquid({ dir: await mkdtemp(join(tmpdir(), 'scanwall-squid-')), icapHost: node.host, icapPort: node.port, icapService: node.service })
  })

  after(async () => {
    await squid?.daemon.stop(5000)
    await node?.daemon.stop(5000)
    await origin?.close()
    if (squid !== undefined) await rm(join(squid.cacheLog, '..'), { recursive: true, force: true })
    if (dir !== '') await rm(dir, { recursive: true, force: true })
  })

  afterEach(function () {
    if (this.currentTest?.state === 'failed') process.stderr.write(`${squid === undefined ? '' : tailFile(squid.cacheLog, 2000)}\n${node?.daemon.tail(3000) ?? ''}\n`)
  })

  const post = async (path: string, body: Buffer): Promise<Awaited<ReturnType<typeof curl>>> => {
    assert.ok(squid !== undefined && origin !== undefined)
    return await curl({ proxy: squid.proxyUrl, url: origin.url(path), dir, upload: body })
  }

  // The clean uploads go first: when the block was the very first REQMOD through a fresh Squid,
  // curl once got the 403's headers and never its body (seen once, 04:47 UTC run; not yet explained).
  it('passes a clean upload and one that only hits a log rule', async () => {
    for (const [path, body] of [['/upload/clean.txt', 'nothing to see here\n'], ['/upload/log.txt', 'status of project bluebird\n']] as const) {
      const res = await post(path, Buffer.from(body))
      assert.equal(res.status, 200, res.text.slice(0, 300))
      assert.equal(origin?.hits.filter(h => h.path === path).length, 1)
    }
  })

  it('blocks an upload carrying an IBAN; the origin never receives it', async () => {
    const res = await post('/upload/payment.txt', Buffer.from('Please pay to DE89 3704 0044 0532 0130 00 by Friday.\n'))
    assert.equal(res.status, 403, res.text.slice(0, 300))
    assert.match(res.text, /Content\.iban/)
    assert.equal(origin?.hits.filter(h => h.path === '/upload/payment.txt').length, 0)
  })

  it('records the hits for scanwall stats --by rule', async () => {
    await statsUntil(config, 'rule', out => /^iban\t1\t1\t1$/m.test(out) && /^internal\t1\t1\t0$/m.test(out), 10_000)
  })
})
