/// ClamAV's own black-box list for clamd (unit_tests/check_clamd.c, see ../shared/CLAMD-NOTES.md)
/// run against a real clamd and against Scanwall's clamd listener on the same DB and settings:
/// every case's reply must be the same bytes. Normalised explicitly, and only: the version text
/// (clamd `ClamAV 1.4.6`, Scanwall `ClamAV Scanwall-…/<db>/<date>`), clamd's `.UNOFFICIAL` on
/// signatures from unsigned files, STATS' numbers and per-thread lines, and for MULTISCAN and
/// sessions (replies in completion order) the order of the replies.
import assert from 'node:assert/strict'
import { connect, type Socket } from 'node:net'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { eicar } from '../helpers/eicar.js'
import { bodyMarker, defaultSetup, hashSample, startClamd, startScanwallClamd, writeTestDb, type ClamdEndpoint } from '../helpers/clamd-peer.js'
import { chunkLength, exchange, instream, type ExchangeOptions } from '../helpers/clamd-client.js'

/// The explicit normalisations (see the header). `sort`: compare the set of replies, not their order.
function normalise (reply: Buffer, sort: boolean): string {
  let text = reply.toString('latin1')
    .replace(/ClamAV [^\s/|\0\n]+(\/[^|\0\n]*)?/g, 'ClamAV <version>')
    .replace(/\.UNOFFICIAL/g, '')
    .replace(/THREADS: [^\n]*\n/g, 'THREADS: <n>\n')
    .replace(/QUEUE: \d+ items\n(\t[^\n]*\n)*/g, 'QUEUE: <n> items\n')
    .replace(/MEMSTATS: [^\n]*\n/g, 'MEMSTATS: <n>\n')
  if (sort) {
    const parts = text.split(/(?<=[\0\n])(?=\d+: |\/)/)
    text = parts.sort().join('')
  }
  return text
}

const z = (cmd: string): Buffer => Buffer.from(`z${cmd}\0`, 'latin1')
const n = (cmd: string): Buffer => Buffer.from(`n${cmd}\n`, 'latin1')
const old = (cmd: string): Buffer => Buffer.from(cmd, 'latin1')

interface Case { readonly name: string, readonly request: () => Buffer, readonly options?: ExchangeOptions, readonly sort?: boolean, readonly shows?: RegExp }

describe('clamd conformance (check_clamd cases): Scanwall answers the bytes clamd answers', function () {
  this.timeout(180_000)
  let dir: string
  let clamd: ClamdEndpoint
  let scanwall: ClamdEndpoint
  let paths: Record<'clean' | 'eicar' | 'missing' | 'tree', string>

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sw-clamd-conf-'))
    const scanDir = join(dir, 'files')
    const tree = join(scanDir, 'tree')
    mkdirSync(join(tree, 'sub'), { recursive: true })
    paths = { clean: join(scanDir, 'clean.txt'), eicar: join(scanDir, 'eicar.com'), missing: join(scanDir, 'missing.txt'), tree }
    writeFileSync(paths.clean, 'nothing to see here\n')
    writeFileSync(paths.eicar, eicar)
    writeFileSync(join(tree, 'clean.txt'), 'clean\n')
    writeFileSync(join(tree, 'sub', 'hash.bin'), hashSample)
    writeFileSync(join(tree, 'marker.txt'), Buffer.concat([Buffer.from('x '), bodyMarker]))
    const db = join(dir, 'db')
    writeTestDb(db)
    const setup = { ...defaultSetup(scanDir), commandReadTimeout: 2, readTimeout: 2, idleTimeout: 2 }
    ;[clamd, scanwall] = await Promise.all([startClamd(join(dir, 'clamd'), db, setup), startScanwallClamd(join(dir, 'scanwall'), db, setup)])
  })

  after(async () => {
    await Promise.all([clamd?.daemon.stop(), scanwall?.daemon.stop()])
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true })
  })

  async function both (c: Case): Promise<void> {
    const [theirs, ours] = await Promise.all([exchange(clamd, c.request(), c.options), exchange(scanwall, c.request(), c.options)])
    assert.equal(normalise(ours, c.sort ?? false), normalise(theirs, c.sort ?? false), `clamd answered ${JSON.stringify(theirs.toString('latin1'))}`)
    if (c.shows !== undefined) assert.match(ours.toString('latin1'), c.shows)
  }

  const cases: Case[] = []
  // Basic commands in every framing clamd takes (old-style only for those it allows so).
  for (const [form, frame] of [['z', z], ['n', n], ['old-style', old]] as const) {
    cases.push(
      { name: `${form} PING`, request: () => frame('PING'), shows: /^PONG[\0\n]$/ },
      { name: `${form} VERSION`, request: () => frame('VERSION'), shows: /^ClamAV Scanwall-/ },
      { name: `${form} VERSIONCOMMANDS`, request: () => frame('VERSIONCOMMANDS') },
      { name: `${form} STATS`, request: () => frame('STATS') },
      { name: `${form} RELOAD`, request: () => frame('RELOAD') },
      { name: `${form} RANDOM (unknown)`, request: () => frame('RANDOM'), shows: /^UNKNOWN COMMAND[\0\n]$/ },
      { name: `${form} END outside a session`, request: () => frame('END'), shows: /^UNKNOWN COMMAND[\0\n]$/ },
      { name: `${form} ping (commands are case-sensitive)`, request: () => frame('ping') },
      { name: `${form} PING with an argument`, request: () => frame('PING x') }
    )
    for (const cmd of ['SCAN', 'CONTSCAN', 'MULTISCAN', 'ALLMATCHSCAN']) {
      cases.push(
        { name: `${form} ${cmd} an infected file`, request: () => frame(`${cmd} ${paths.eicar}`) },
        { name: `${form} ${cmd} a clean file`, request: () => frame(`${cmd} ${paths.clean}`) },
        { name: `${form} ${cmd} a missing file`, request: () => frame(`${cmd} ${paths.missing}`) },
        { name: `${form} ${cmd} a directory`, request: () => frame(`${cmd} ${paths.tree}/`), sort: cmd === 'MULTISCAN' },
        { name: `${form} ${cmd} without its argument`, request: () => frame(cmd) }
      )
    }
  }
  cases.push(
    { name: 'nPING ended by CR LF', request: () => Buffer.from('nPING\r\n') },
    { name: 'only the first command outside a session is answered', request: () => Buffer.concat([z('PING'), z('VERSION')]) },
    { name: 'a prefixed command cut off by EOF gets nothing', request: () => Buffer.from('zPING') },
    { name: 'zINSTREAM EICAR in one chunk (rspamd)', request: () => instream('z', eicar), shows: /^stream: Eicar-Test-Signature FOUND\0$/ },
    { name: 'nINSTREAM clean', request: () => instream('n', Buffer.from('hello\n')), shows: /^stream: OK\n$/ },
    { name: 'zINSTREAM EICAR in 1-byte chunks, written a byte at a time', request: () => instream('z', eicar, 1), options: { pieceBytes: 1 }, shows: /FOUND/ },
    { name: 'zINSTREAM empty', request: () => instream('z', Buffer.alloc(0)) },
    { name: 'zINSTREAM with a chunk length of 0xffffffff', request: () => Buffer.concat([z('INSTREAM'), chunkLength(0xffffffff)]), shows: /^INSTREAM size limit exceeded\. ERROR\0$/ },
    { name: 'zINSTREAM exactly StreamMaxLength', request: () => instream('z', Buffer.alloc(1024 * 1024, 0x61), 256 * 1024), shows: /^stream: OK\0$/ },
    { name: 'zINSTREAM one byte past StreamMaxLength over two chunks', request: () => Buffer.concat([z('INSTREAM'), chunkLength(1024 * 1024), Buffer.alloc(1024 * 1024), chunkLength(1)]) },
    { name: 'zINSTREAM cut off mid-chunk gets nothing', request: () => Buffer.concat([z('INSTREAM'), chunkLength(10), Buffer.alloc(5)]) },
    { name: 'old-style INSTREAM', request: () => old('INSTREAM') },
    { name: 'IDSESSION with every allowed command pipelined', sort: true, shows: /^(\d+: [^\0]*\0){6}$/, request: () => Buffer.concat([z('IDSESSION'), z('PING'), z('VERSION'), z('VERSIONCOMMANDS'), z(`SCAN ${paths.eicar}`), z(`SCAN ${paths.clean}`), instream('z', eicar), z('END')]) },
    { name: 'the same session sent one byte at a time', sort: true, options: { pieceBytes: 1 }, request: () => Buffer.concat([z('IDSESSION'), z('PING'), z('VERSION'), z(`SCAN ${paths.eicar}`), instream('z', eicar, 7), z('END')]) },
    { name: 'nIDSESSION with n commands', sort: true, request: () => Buffer.concat([n('IDSESSION'), n('PING'), n(`SCAN ${paths.clean}`), n('END')]) },
    { name: '1,024 VERSIONs in one session (ids 1..1024)', sort: true, shows: /1024: ClamAV/, request: () => Buffer.concat([z('IDSESSION'), ...Array.from({ length: 1024 }, () => z('VERSION')), z('END')]) },
    { name: 'STATS inside a session', request: () => Buffer.concat([z('IDSESSION'), z('STATS'), z('END')]) },
    { name: 'CONTSCAN inside a session is refused', request: () => Buffer.concat([z('IDSESSION'), z('PING'), z(`CONTSCAN ${paths.tree}`), z('PING'), z('END')]), sort: true, shows: /Command invalid inside IDSESSION\. ERROR/ },
    { name: 'an unknown command inside a session', request: () => Buffer.concat([z('IDSESSION'), z('RANDOM'), z('END')]) },
    { name: 'IDSESSION inside a session', request: () => Buffer.concat([z('IDSESSION'), z('IDSESSION'), z('END')]) },
    { name: 'a session ended by EOF without END', request: () => Buffer.concat([z('IDSESSION'), z('PING')]) },
    { name: 'INSTREAM over the limit inside a session', request: () => Buffer.concat([z('IDSESSION'), z('INSTREAM'), chunkLength(0xffffffff), z('PING'), z('END')]) },
    { name: 'old-style IDSESSION', request: () => old('IDSESSION') },
    { name: 'silence until CommandReadTimeout', request: () => Buffer.alloc(0), options: { halfClose: false }, shows: /^COMMAND READ TIMED OUT\n$/ },
    { name: 'a partial command until CommandReadTimeout', request: () => Buffer.from('zPIN'), options: { halfClose: false }, shows: /^COMMAND READ TIMED OUT\n$/ },
    { name: 'a stalled INSTREAM until ReadTimeout', request: () => Buffer.concat([z('INSTREAM'), chunkLength(10), Buffer.alloc(3)]), options: { halfClose: false }, shows: /^COMMAND READ TIMED OUT\n$/ },
    { name: 'an unprefixed command inside a session until the timeout', request: () => Buffer.concat([z('IDSESSION'), z('PING'), Buffer.from('PING\n')]), options: { halfClose: false } },
    { name: 'an idle session until IdleTimeout', request: () => Buffer.concat([z('IDSESSION'), z('PING')]), options: { halfClose: false }, shows: /^1: PONG\0COMMAND READ TIMED OUT\n$/ },
    { name: 'a client that does not half-close still gets its reply and EOF', request: () => z('PING'), options: { halfClose: false } }
  )
  for (const c of cases) it(c.name, async () => { await both(c) })

  it('about 250 idle connections, then RELOAD still answers', async () => {
    const idle: Socket[] = []
    try {
      for (const target of [clamd, scanwall]) {
        for (let i = 0; i < 125; i++) {
          idle.push(await new Promise<Socket>((resolve, reject) => {
            const s = connect(target.port, target.host, () => resolve(s))
            s.on('error', reject)
          }))
        }
      }
      await both({ name: 'RELOAD', request: () => z('RELOAD'), shows: /^RELOADING\0$/ })
    } finally {
      for (const s of idle) s.destroy()
    }
  })
})
