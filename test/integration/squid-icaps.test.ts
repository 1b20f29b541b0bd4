/// ICAP over TLS (issue #12 item 6) end to end: certificates made here with openssl (a CA, the
/// node's certificate for 127.0.0.1, a client certificate for Squid, and one from a CA the node does
/// not trust); a Scanwall node with icaps:// requiring client certificates and an allow list of
/// 127.0.0.1; Debian's Squid configured with only the icaps:// URL. EICAR is blocked and a clean
/// file passes through TLS; a client without a certificate, one with an untrusted certificate and
/// one from 127.0.0.2 (outside the allow list) are all refused before any ICAP is read.
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls'
import { connect as netConnect } from 'node:net'
import { eicar } from '../helpers/eicar.js'
import { startOrigin, sha256, type Origin } from '../helpers/origin.js'
import { startSquid, type Squid } from '../helpers/squid.js'
import { curl } from '../helpers/curl.js'
import { tailFile } from '../helpers/daemon.js'
import { startScanwallNode, type ScanwallNode } from '../helpers/scanwall-node.js'
import { freePort } from '../helpers/ports.js'

const execFileAsync = promisify(execFile)

/// A CA and certificates signed by it, with the openssl command line tool.
async function makeCertificates (dir: string): Promise<Record<string, string>> {
  const f = (name: string): string => join(dir, name)
  const ssl = async (...args: string[]): Promise<void> => { await execFileAsync('openssl', args, { cwd: dir }) }
  for (const ca of ['ca', 'rogue-ca']) {
    await ssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', `/CN=Scanwall test ${ca}`, '-keyout', f(`${ca}.key`), '-out', f(`${ca}.pem`))
  }
  const leaf = async (name: string, ca: string, cn: string, ext: string): Promise<void> => {
    await ssl('req', '-newkey', 'rsa:2048', '-nodes', '-subj', `/CN=${cn}`, '-keyout', f(`${name}.key`), '-out', f(`${name}.csr`))
    await writeFile(f(`${name}.ext`), ext)
    await ssl('x509', '-req', '-in', f(`${name}.csr`), '-CA', f(`${ca}.pem`), '-CAkey', f(`${ca}.key`), '-CAcreateserial', '-days', '2', '-extfile', f(`${name}.ext`), '-out', f(`${name}.pem`))
  }
  await leaf('server', 'ca', '127.0.0.1', 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n')
  await leaf('client', 'ca', 'squid', 'extendedKeyUsage=clientAuth\n')
  await leaf('rogue', 'rogue-ca', 'squid', 'extendedKeyUsage=clientAuth\n')
  // Squid reads its files as the proxy user (test keys only).
  for (const name of ['ca.pem', 'client.pem', 'client.key']) await chmod(f(name), 0o644)
  await chmod(dir, 0o755)
  return { ca: f('ca.pem'), serverCert: f('server.pem'), serverKey: f('server.key'), clientCert: f('client.pem'), clientKey: f('client.key'), rogueCert: f('rogue.pem'), rogueKey: f('rogue.key') }
}

/// An OPTIONS over TLS from `source`: the answer, or how the connection failed.
async function tlsOptions (port: number, extra: ConnectionOptions, source = '127.0.0.1'): Promise<{ reply: string, error: string | undefined }> {
  return await new Promise(resolve => {
    let reply = ''
    const raw = netConnect({ host: '127.0.0.1', port, localAddress: source })
    raw.on('error', () => {})
    const socket = tlsConnect({ socket: raw, host: '127.0.0.1', ...extra }, () => {
      socket.write('OPTIONS icaps://127.0.0.1/avscan ICAP/1.0\r\nHost: 127.0.0.1\r\nEncapsulated: null-body=0\r\n\r\n')
    })
    socket.on('data', (chunk: Buffer) => {
      reply += chunk.toString('latin1')
      if (reply.includes('\r\n\r\n')) { socket.destroy(); resolve({ reply, error: undefined }) }
    })
    socket.on('error', err => { resolve({ reply, error: err.message }) })
    socket.on('close', () => { resolve({ reply, error: reply === '' ? 'closed' : undefined }) })
    setTimeout(() => { socket.destroy(); resolve({ reply, error: 'no answer' }) }, 10_000).unref()
  })
}

describe('ICAP over TLS: Squid scans through icaps://, unwanted clients are refused', function () {
  this.timeout(180_000)
  let dir = ''
  let certs: Record<string, string> = {}
  let origin: Origin | undefined
  let squid: Squid | undefined
  let node: ScanwallNode | undefined
  let tlsPort = 0
  const clean = randomBytes(2 * 1024 * 1024)

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'scanwall-icaps-'))
    certs = await makeCertificates(dir)
    origin = await startOrigin(new Map([['/clean.bin', { body: clean }], ['/eicar.com', { body: eicar }]]))
    tlsPort = await freePort()
    node = await startScanwallNode({
      dir,
      env: {
        SCANWALL_ICAP_TLS: 'true',
        SCANWALL_ICAP_TLS_PORT: String(tlsPort),
        SCANWALL_ICAP_TLS_CERT: certs['serverCert'] ?? '',
        SCANWALL_ICAP_TLS_KEY: certs['serverKey'] ?? '',
        SCANWALL_ICAP_TLS_CA: certs['ca'] ?? '',
        SCANWALL_ICAP_TLS_CLIENT_CERTIFICATES: 'require',
        SCANWALL_ICAP_ALLOW: '127.0.0.1/32',
        SCANWALL_LOG_TRANSACTIONS: 'all',
      },
    })
    squid = await startSquid({
      dir: await mkdtemp(join(tmpdir(), 'scanwall-squid-')),
      icapHost: '127.0.0.1',
      icapPort: tlsPort,
      icapService: 'avscan',
      icapTls: { cafile: certs['ca'] ?? '', cert: certs['clientCert'] ?? '', key: certs['clientKey'] ?? '' },
    })
  })

  after(async () => {
    await squid?.daemon.stop(5000)
    await node?.daemon.stop(10_000)
    await origin?.close()
    if (squid !== undefined) await rm(join(squid.cacheLog, '..'), { recursive: true, force: true })
    if (dir !== '') await rm(dir, { recursive: true, force: true })
  })

  afterEach(function () {
    if (this.currentTest?.state !== 'failed') return
    process.stderr.write(`--- squid cache.log ---\n${squid === undefined ? '' : tailFile(squid.cacheLog, 3000)}\n--- scanwall ---\n${node?.daemon.tail(3000) ?? ''}\n`)
  })

  /// Whether the node's log shows a line matching `pattern` (polled: a line may lag the answer).
  async function logged (pattern: RegExp): Promise<boolean> {
    for (let i = 0; i < 50; i++) {
      if (readFileSync(node?.daemon.logFile ?? '', 'utf8').split('\n').some(l => pattern.test(l))) return true
      await new Promise(resolve => setTimeout(resolve, 100))
    }
    return false
  }

  it('passes a clean file byte-identical through icaps://', async () => {
    assert.ok(squid !== undefined && origin !== undefined)
    const res = await curl({ proxy: squid.proxyUrl, url: origin.url('/clean.bin'), dir })
    assert.equal(res.status, 200, res.text.slice(0, 300))
    assert.equal(res.bodySha256, sha256(clean))
    assert.ok(await logged(/"method":"RESPMOD".*\/clean\.bin.*"verdict":"clean"/), 'the node scanned it')
  })

  it('answers EICAR with the block page through icaps://', async () => {
    assert.ok(squid !== undefined && origin !== undefined)
    const res = await curl({ proxy: squid.proxyUrl, url: origin.url('/eicar.com'), dir })
    assert.equal(res.status, 403, res.text.slice(0, 300))
    assert.match(res.text, /Eicar/i)
  })

  it('serves a client with a certificate from the trusted CA', async () => {
    const got = await tlsOptions(tlsPort, { ca: readFileSync(certs['ca'] ?? ''), cert: readFileSync(certs['clientCert'] ?? ''), key: readFileSync(certs['clientKey'] ?? '') })
    assert.match(got.reply, /^ICAP\/1\.0 200 OK\r\n/, got.error)
  })

  it('refuses a client without a certificate, and one whose certificate the CA did not sign', async () => {
    const none = await tlsOptions(tlsPort, { ca: readFileSync(certs['ca'] ?? '') })
    assert.equal(none.reply, '', 'no ICAP answer without a client certificate')
    assert.ok(none.error !== undefined)
    const rogue = await tlsOptions(tlsPort, { ca: readFileSync(certs['ca'] ?? ''), cert: readFileSync(certs['rogueCert'] ?? ''), key: readFileSync(certs['rogueKey'] ?? '') })
    assert.equal(rogue.reply, '', 'no ICAP answer with an untrusted certificate')
    assert.ok(rogue.error !== undefined)
    assert.ok(await logged(/"listener":"icaps".*icaps connection refused/), 'the refusals are logged')
  })

  it('refuses a client outside the allow list before the handshake, even with a good certificate', async () => {
    const got = await tlsOptions(tlsPort, { ca: readFileSync(certs['ca'] ?? ''), cert: readFileSync(certs['clientCert'] ?? ''), key: readFileSync(certs['clientKey'] ?? '') }, '127.0.0.2')
    assert.equal(got.reply, '')
    assert.ok(got.error !== undefined)
    assert.ok(await logged(/"listener":"icap","client":"127\.0\.0\.2".*client not in the allow list/), 'the refusal is logged')
  })
})
