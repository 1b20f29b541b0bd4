/// The management console in a browser (issue #16): Debian's chromium, headless, driven by
/// playwright-core, run inside the bed's client namespace (a wrapper does `ip netns exec`), against
/// the console of node n1 of the three-node test bed. It logs in, sees all three nodes, takes one
/// offline and sees its buckets move to the others (and back), releases a quarantined object,
/// watches the traffic chart change under load, finds a stored XSS attempt inert (no dialog
/// opens), and saves a screenshot of each page under test-output/console/.
import assert from 'node:assert/strict'
import { fileURLToPath } from 'node:url'
import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs'
import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import { chromium, type Browser, type Page } from 'playwright-core'
import { TestBed, inNs, vip, icapPort, type NodeProc } from './testbed.js'
import { Harness, sleep } from './harness.js'
import { eicar } from '../helpers/eicar.js'
import { addUser, hostileUrl, hostileUser } from '../helpers/console-client.js'

const repo = fileURLToPath(new URL('../../..', import.meta.url))
const chromiumPath = '/usr/bin/chromium'
const shots = join(repo, 'test-output', 'console')
const consolePort = 8443

describe('console: the whole cluster in a browser (network namespaces, chromium)', function () {
  this.timeout(400_000)
  const bed = new TestBed(repo, { tag: 'w' })
  const h = new Harness(bed)
  let browser: Browser | undefined
  let page: Page
  const alerts: string[] = []
  const n1 = (): NodeProc => bed.nodes[0]!

  const shot = async (name: string): Promise<void> => { await page.screenshot({ path: join(shots, `${name}.png`), fullPage: true }) }
  /// Owned buckets per node of the default instance, as the cluster page shows them.
  const owned = async (): Promise<Map<string, number>> => {
    await page.goto(`https://${n1().ip}:${consolePort}/cluster`)
    const rows = await page.$$eval('table.members[data-instance="default"] tbody tr', trs => trs.map(tr => [tr.getAttribute('data-node') ?? '', Number(tr.querySelector('td.owned')?.textContent ?? 'NaN')] as const))
    return new Map(rows)
  }
  const waitFor = async (what: string, check: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> => {
    const deadline = Date.now() + timeoutMs
    while (Date.now() < deadline) { if (await check()) return; await sleep(500) }
    throw new Error(`timed out: ${what}`)
  }

  before(async function () {
    if (!existsSync(chromiumPath)) throw new Error(`${chromiumPath} missing: install Debian package chromium (test/setup-peers.sh)`)
    mkdirSync(shots, { recursive: true })
    const quarantineKey = randomBytes(32).toString('hex')
    await h.setUp(() => ({}), undefined, n => ({
      console: { host: '0.0.0.0', port: consolePort, stateDir: join(bed.dir, `${n.name}-console`), pollMs: 1000 },
      quarantine: { enabled: true, dir: join(bed.dir, `${n.name}-quarantine`), key: quarantineKey },
    }))
    await addUser(n1().config, 'operator', 'admin', 'operator password')
    // Chromium in the client namespace: the consoles listen on the nodes' bed addresses.
    const wrapper = join(bed.dir, 'chromium-in-client-ns')
    writeFileSync(wrapper, `#!/bin/sh\nexec ip netns exec ${bed.clientNs} ${chromiumPath} "$@"\n`)
    chmodSync(wrapper, 0o755)
    browser = await chromium.launch({ executablePath: wrapper, args: ['--no-sandbox'], headless: true })
    const context = await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 1400, height: 900 } })
    page = await context.newPage()
    page.on('dialog', dialog => {
      if (dialog.type() === 'confirm') { void dialog.accept(); return }
      alerts.push(`${dialog.type()}: ${dialog.message()}`)
      void dialog.dismiss()
    })
  })

  afterEach(function () { if (this.currentTest?.state === 'failed') h.failed = true })

  after(async function () {
    await browser?.close()
    await h.tearDown()
  })

  it('logs in and shows all three nodes of the cluster, each answering for itself', async () => {
    await page.goto(`https://${n1().ip}:${consolePort}/cluster`)
    assert.match(page.url(), /\/login$/, 'an anonymous visit lands on the login page')
    await page.fill('input[name=user]', 'operator')
    await page.fill('input[name=password]', 'operator password')
    await Promise.all([page.waitForURL(/\/cluster$/), page.click('form#login button')])
    const nodes = await page.$$eval('#nodes tbody tr', trs => trs.map(tr => ({ node: tr.getAttribute('data-node'), down: tr.classList.contains('down') })))
    assert.deepEqual(nodes.map(n => n.node).sort(), ['n1', 'n2', 'n3'])
    assert.ok(nodes.every(n => !n.down), JSON.stringify(nodes))
    const shares = await owned()
    assert.equal([...shares.values()].reduce((a, b) => a + b, 0), 256, JSON.stringify([...shares]))
    await shot('cluster')
  })

  it('takes n2 offline from n1\'s page and shows its buckets moving to n1 and n3, then back', async () => {
    const before = await owned()
    assert.ok((before.get('n2') ?? 0) > 0)
    await page.click('#nodes tr[data-node="n2"] button:has-text("offline")')
    await waitFor('n2 owns no bucket', async () => (await owned()).get('n2') === 0)
    const after = await owned()
    console.log(`    buckets before: ${JSON.stringify([...before])}, after n2 offline: ${JSON.stringify([...after])}`)
    assert.equal((after.get('n1') ?? 0) + (after.get('n3') ?? 0), 256)
    assert.ok((after.get('n1') ?? 0) > (before.get('n1') ?? 0) && (after.get('n3') ?? 0) > (before.get('n3') ?? 0))
    await shot('cluster-n2-offline')
    await page.click('#nodes tr[data-node="n2"] button:has-text("online")')
    await waitFor('n2 owns buckets again', async () => ((await owned()).get('n2') ?? 0) > 0)
    await h.settled(bed.nodes.map(n => n.name))
  })

  it('lists a quarantined object (hostile URL and user shown inert) and releases it', async () => {
    const file = join(bed.dir, 'eicar.com')
    writeFileSync(file, eicar)
    await inNs(bed.clientNs, 'c-icap-client', '-i', vip, '-p', String(icapPort), '-s', 'avscan', '-f', file, '-resp', hostileUrl, '-x', `X-Authenticated-User: ${hostileUser}`, '-o', join(bed.dir, 'answer'))
    await page.goto(`https://${n1().ip}:${consolePort}/quarantine`)
    await waitFor('the object is listed', async () => { await page.reload(); return await page.locator('#quarantine tbody tr').count() > 0 })
    const row = page.locator('#quarantine tbody tr').first()
    assert.equal(await row.locator('td.url').textContent(), hostileUrl)
    assert.equal(await row.locator('td.user').textContent(), hostileUser)
    await shot('quarantine')
    await row.locator('button:has-text("release")').click()
    await waitFor('released', async () => /released/.test(await page.locator('#quarantine tbody tr').first().locator('td.qstate').textContent() ?? ''))
    await shot('quarantine-released')
    await page.goto(`https://${n1().ip}:${consolePort}/events`)
    await waitFor('the event is listed', async () => { await page.reload(); return await page.locator('#events td.url', { hasText: 'evil.test' }).count() > 0 })
    await shot('events')
    assert.deepEqual(alerts, [], 'a hostile value ran as script')
  })

  it('shows the traffic chart rising under load', async () => {
    await page.goto(`https://${n1().ip}:${consolePort}/traffic`)
    await page.waitForSelector('#chart[data-total-objects]')
    const before = Number(await page.getAttribute('#chart', 'data-total-objects'))
    const load = await h.load()
    // Read from the page's chart element (the page's CSP allows no evaluated strings).
    const chart = async (name: string): Promise<number> => Number(await page.getAttribute('#chart', name))
    await waitFor('the chart counts the load', async () => await chart('data-total-objects') > before + 50, 60_000)
    await waitFor('the chart shows a rate', async () => await chart('data-last-objects-rate') > 0, 30_000)
    await sleep(3000)
    await shot('traffic')
    const attempts = await load.stop()
    const after = Number(await page.getAttribute('#chart', 'data-total-objects'))
    console.log(`    chart: ${before} objects before the load, ${after} during it (${attempts.filter(a => a.ok).length} load transactions)`)
    assert.ok(after > before)
  })

  it('shows signatures per node and the masked configuration', async () => {
    await page.goto(`https://${n1().ip}:${consolePort}/signatures`)
    assert.equal(await page.locator('#signatures tbody tr').count(), 3)
    await shot('signatures')
    await page.goto(`https://${n1().ip}:${consolePort}/config`)
    const config = await page.locator('#config').textContent() ?? ''
    assert.doesNotMatch(config, /scanwall-cluster-test-key/, 'the cluster key is masked')
    assert.match(config, /"key": "\(set\)"/)
    await shot('config')
  })
})
