import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { createServer, type Server } from 'node:http'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ListSource } from '../../src/spam/list-source.js'
import { SenderListSet } from '../../src/spam/lists.js'
import { Dnsbl, reversedName } from '../../src/spam/dnsbl.js'
import { SpamFilter } from '../../src/spam/filter.js'
import { RuleSet } from '../../src/spam/rules.js'
import { BayesModel } from '../../src/spam/bayes.js'
import { startDns } from '../helpers/dns-server.js'

describe('spam lists fetched from a URL', () => {
  let server: Server
  let port = 0
  let list = 'spammer@bad.example\n'
  let digestOverride: string | undefined
  let lastModified = new Date('2026-01-01T00:00:00Z')
  const requests: Array<{ path: string, ims: string | undefined }> = []
  let cache = ''

  before(async () => {
    cache = mkdtempSync(join(tmpdir(), 'spam-lists-'))
    server = createServer((req, res) => {
      requests.push({ path: req.url ?? '', ims: req.headers['if-modified-since'] })
      if (req.url === '/block.txt') {
        const ims = req.headers['if-modified-since']
        if (ims !== undefined && new Date(ims) >= lastModified) { res.writeHead(304); res.end(); return }
        res.writeHead(200, { 'last-modified': lastModified.toUTCString() })
        res.end(list)
      } else if (req.url === '/block.txt.sha256') {
        res.end(`${digestOverride ?? createHash('sha256').update(list).digest('hex')}  block.txt\n`)
      } else { res.writeHead(404); res.end() }
    })
    await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
    port = (server.address() as { port: number }).port
  })
  after(async () => {
    await new Promise(resolve => server.close(resolve))
    rmSync(cache, { recursive: true, force: true })
  })

  it('applies the list, sends If-Modified-Since, applies a changed list on the next fetch, keeps the last good one on a bad digest', async () => {
    const lists = new SenderListSet()
    const source = new ListSource({ name: 'remote', kind: 'block', source: `http://127.0.0.1:${port}/block.txt` }, lists, cache)
    const filter = new SpamFilter({ rules: new RuleSet([]), model: new BayesModel(), senderLists: lists })
    const mail = (from: string): Buffer => Buffer.from(`From: ${from}\r\nSubject: hi\r\n\r\nhello\r\n`)
    assert.equal(await source.load(), 'updated')
    assert.equal((await filter.classify(mail('spammer@bad.example'))).verdict, 'spam')
    assert.equal((await filter.classify(mail('other@bulk.example'))).verdict, 'ham')
    // Unchanged on the server: 304, nothing applied.
    assert.equal(await source.refresh(), 'not-modified')
    assert.equal(requests.at(-1)?.ims, lastModified.toUTCString())
    // The server's list changes: the next fetch applies it.
    list = 'bulk.example\n'
    lastModified = new Date('2026-02-01T00:00:00Z')
    assert.equal(await source.refresh(), 'updated')
    assert.equal((await filter.classify(mail('other@mx.bulk.example'))).verdict, 'spam')
    assert.equal((await filter.classify(mail('spammer@bad.example'))).verdict, 'ham')
    // A list whose digest does not match is refused; the last good list stays.
    list = 'everyone.example\n'
    lastModified = new Date('2026-03-01T00:00:00Z')
    digestOverride = '0'.repeat(64)
    assert.equal(await source.refresh(), 'kept')
    assert.equal((await filter.classify(mail('other@bulk.example'))).verdict, 'spam')
    assert.equal((await filter.classify(mail('x@everyone.example'))).verdict, 'ham')
    // A restart with the server gone starts from the cached last good copy.
    digestOverride = undefined
    const again = new SenderListSet()
    const offline = new ListSource({ name: 'remote', kind: 'block', source: 'http://127.0.0.1:1/block.txt' }, again, cache)
    assert.equal(await offline.load(), 'kept')
    assert.equal(again.entries('remote'), 1)
  })
})

describe('DNS blocklist through a resolver on loopback', () => {
  it('reverses IPv4 and IPv6 addresses', () => {
    assert.equal(reversedName('192.0.2.1', 'bl.test'), '1.2.0.192.bl.test')
    assert.equal(reversedName('::ffff:192.0.2.1', 'bl.test'), '1.2.0.192.bl.test')
    assert.equal(reversedName('2001:db8::1', 'bl.test'), '1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.bl.test')
    assert.equal(reversedName('not-an-ip', 'bl.test'), undefined)
  })
  it('a listed client scores spam, an unlisted one does not, and answers are cached for their TTL', async () => {
    const dns = await startDns(new Map([['2.0.0.127.bl.test', '127.0.0.2'], ['9.2.0.192.bl.test', '127.0.0.2']]), 300)
    try {
      const dnsbl = new Dnsbl({ zones: [{ zone: 'bl.test', score: 20 }], servers: [`127.0.0.1:${dns.port}`], timeoutMs: 2000, negativeTtlSeconds: 300 })
      const filter = new SpamFilter({ rules: new RuleSet([]), model: new BayesModel(), addressLists: dnsbl })
      const mail = Buffer.from('From: a@example.org\r\nSubject: hi\r\n\r\nhello\r\n')
      const listed = await filter.classify(mail, { client: '192.0.2.9' })
      assert.equal(listed.verdict, 'spam')
      assert.deepEqual(listed.rules.map(r => r.name), ['DNSBL:bl.test'])
      assert.equal((await filter.classify(mail, { client: '192.0.2.10' })).verdict, 'ham')
      await filter.classify(mail, { client: '192.0.2.9' })
      await filter.classify(mail, { client: '192.0.2.10' })
      assert.deepEqual(dns.queries.filter(q => q.endsWith('bl.test')), ['9.2.0.192.bl.test', '10.2.0.192.bl.test'])
      assert.equal(dnsbl.stats.cached, 2)
    } finally {
      await dns.close()
    }
  })
  it('a resolver that does not answer counts as not listed', async () => {
    const dnsbl = new Dnsbl({ zones: [{ zone: 'bl.test', score: 20 }], servers: ['127.0.0.1:9'], timeoutMs: 300, negativeTtlSeconds: 300 })
    assert.deepEqual(await dnsbl.check('192.0.2.9'), [])
  })
})
