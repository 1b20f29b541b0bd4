/// Scanwall's clamd listener where it is meant to differ from clamd or has no clamd to compare with:
/// the npm `clamscan` package (PING, SCAN/CONTSCAN/MULTISCAN old-style, nVERSION, zINSTREAM) over
/// TCP and the unix socket; paths outside clamd.localScan.dirs (Access denied), local scans off
/// (COMMAND UNAVAILABLE), FILDES (a clear ERROR), SHUTDOWN refused unless allowed and obeyed when
/// it is, the connection bound, and a client that goes on writing past StreamMaxLength still
/// reading the error line rather than EPIPE.
import assert from 'node:assert/strict'
import { connect, type Socket } from 'node:net'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { Readable } from 'node:stream'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import NodeClam from 'clamscan'
import { cliMain } from '../helpers/scanwall-node.js'
import { eicar } from '../helpers/eicar.js'
import { defaultSetup, startScanwallClamd, writeTestDb, type ClamdEndpoint } from '../helpers/clamd-peer.js'
import { chunkLength, exchange } from '../helpers/clamd-client.js'

const run = promisify(execFile)

describe('Scanwall clamd listener: npm clamscan, access rules, FILDES, SHUTDOWN, limits', function () {
  this.timeout(120_000)
  let dir: string
  let db: string
  let scanDir: string
  let node: ClamdEndpoint
  const started: ClamdEndpoint[] = []

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sw-clamd-own-'))
    scanDir = join(dir, 'files')
    mkdirSync(join(scanDir, 'tree'), { recursive: true })
    writeFileSync(join(scanDir, 'clean.txt'), 'clean\n')
    writeFileSync(join(scanDir, 'eicar.com'), eicar)
    writeFileSync(join(scanDir, 'tree', 'a.txt'), 'clean\n')
    writeFileSync(join(scanDir, 'tree', 'b.com'), eicar)
    writeFileSync(join(dir, 'outside.com'), eicar)
    db = join(dir, 'db')
    writeTestDb(db)
    node = await startScanwallClamd(join(dir, 'node'), db, defaultSetup(scanDir), { maxConnections: 20 })
    started.push(node)
  })

  after(async () => {
    await Promise.all(started.map(async s => await s.daemon.stop()))
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true })
  })

  for (const via of ['tcp', 'unix'] as const) {
    describe(`npm clamscan over ${via}`, () => {
      let clam: NodeClam
      before(async () => {
        const target = via === 'tcp' ? { host: node.host, port: node.port } : { socket: node.socket }
        clam = await new NodeClam().init({ clamdscan: { ...target, localFallback: false, multiscan: false, timeout: 20_000 }, clamscan: { active: false }, preference: 'clamdscan' })
      })
      it('getVersion', async () => { assert.match(await clam.getVersion(), /^ClamAV Scanwall-/) })
      it('isInfected: EICAR and a clean file', async () => {
        const bad = await clam.isInfected(join(scanDir, 'eicar.com'))
        assert.equal(bad.isInfected, true)
        assert.deepEqual(bad.viruses, ['Eicar-Test-Signature'])
        assert.equal((await clam.isInfected(join(scanDir, 'clean.txt'))).isInfected, false)
      })
      it('scanStream (zINSTREAM)', async () => {
        const r = await clam.scanStream(Readable.from([eicar.subarray(0, 10), eicar.subarray(10)]))
        assert.equal(r.isInfected, true)
        assert.deepEqual(r.viruses, ['Eicar-Test-Signature'])
        assert.equal((await clam.scanStream(Readable.from([Buffer.from('clean bytes')]))).isInfected, false)
      })
      it('scanDir (CONTSCAN)', async () => {
        const r = await clam.scanDir(join(scanDir, 'tree'))
        assert.deepEqual(r.badFiles, [join(scanDir, 'tree', 'b.com')])
      })
    })
  }

  it('a path outside clamd.localScan.dirs is Access denied, whether it exists or not', async () => {
    for (const path of [join(dir, 'outside.com'), join(dir, 'nothing-here'), 'relative/path', `${scanDir}/../outside.com`]) {
      assert.equal((await exchange(node, Buffer.from(`nSCAN ${path}\n`))).toString(), `${path}: Access denied. ERROR\n`)
    }
  })

  it('a symlink inside the allowed directory that leads outside it is Access denied', async () => {
    const { symlinkSync } = await import('node:fs')
    const link = join(scanDir, 'link-out.com')
    symlinkSync(join(dir, 'outside.com'), link)
    try {
      assert.equal((await exchange(node, Buffer.from(`zSCAN ${link}\0`))).toString(), `${link}: Access denied. ERROR\0`)
    } finally {
      rmSync(link)
    }
  })

  it('FILDES gets a clear ERROR (descriptors cannot be received), alone and inside a session', async () => {
    const expected = 'FILDES is not supported (descriptors cannot be received): use INSTREAM. ERROR\0'
    assert.equal((await exchange(node, Buffer.from('zFILDES\0'), { via: 'unix' })).toString(), expected)
    assert.equal((await exchange(node, Buffer.from('zIDSESSION\0zFILDES\0zPING\0zEND\0'), { via: 'unix' })).toString(), `1: ${expected}2: PONG\0`)
  })

  it('SHUTDOWN is refused unless clamd.allowShutdown, and the node keeps answering', async () => {
    assert.equal((await exchange(node, Buffer.from('zSHUTDOWN\0'))).toString(), 'SHUTDOWN refused: clamd.allowShutdown is off. ERROR\0')
    assert.equal((await exchange(node, Buffer.from('QUIT'))).toString(), 'SHUTDOWN refused: clamd.allowShutdown is off. ERROR\n')
    assert.equal((await exchange(node, Buffer.from('zPING\0'))).toString(), 'PONG\0')
  })

  it('with clamd.allowShutdown, SHUTDOWN stops the node cleanly (exit 0, as on SIGTERM)', async () => {
    const other = await startScanwallClamd(join(dir, 'node-shutdown'), db, defaultSetup(scanDir), { allowShutdown: true })
    started.push(other)
    assert.equal((await exchange(other, Buffer.from('zSHUTDOWN\0'))).toString(), '')
    const exit = await other.daemon.exited
    assert.deepEqual(exit, { code: 0, signal: null })
  })

  it('a clamd detection lands in the same decision database as ICAP (scanwall events)', async () => {
    const reply = await exchange(node, Buffer.concat([Buffer.from('zINSTREAM\0'), chunkLength(eicar.length), eicar, chunkLength(0)]))
    assert.equal(reply.toString(), 'stream: Eicar-Test-Signature FOUND\0')
    const env = { ...process.env, SCANWALL_STATS_PATH: join(dir, 'node', 'records.sqlite') }
    let events: Array<Record<string, unknown>> = []
    // The writer commits in batches (stats.flushMs): wait for the batch, not a fixed time.
    for (let i = 0; i < 50 && !events.some(e => e['service'] === 'clamd'); i++) {
      await new Promise(resolve => setTimeout(resolve, 200))
      const { stdout } = await run(process.execPath, [cliMain, 'events', '--since', '1h', '--json'], { env, timeout: 30_000 })
      events = stdout.trim().split('\n').filter(l => l !== '').map(l => JSON.parse(l) as Record<string, unknown>)
    }
    const found = events.find(e => e['service'] === 'clamd')
    assert.ok(found !== undefined, JSON.stringify(events))
    assert.match(JSON.stringify(found), /Eicar-Test-Signature/)
  })

  it('with local scans off, path commands are COMMAND UNAVAILABLE and INSTREAM still works', async () => {
    const off = await startScanwallClamd(join(dir, 'node-off'), db, defaultSetup(scanDir), { localScan: { enabled: false } })
    started.push(off)
    assert.equal((await exchange(off, Buffer.from(`nCONTSCAN ${scanDir}\n`))).toString(), 'COMMAND UNAVAILABLE\n')
    assert.equal((await exchange(off, Buffer.concat([Buffer.from('zINSTREAM\0'), chunkLength(eicar.length), eicar, chunkLength(0)]))).toString(), 'stream: Eicar-Test-Signature FOUND\0')
  })

  it('connections past clamd.maxConnections are closed at accept; the open ones are still served', async () => {
    const open: Socket[] = []
    try {
      for (let i = 0; i < 20; i++) {
        open.push(await new Promise<Socket>((resolve, reject) => { const s = connect(node.port, node.host, () => resolve(s)); s.on('error', reject) }))
      }
      await new Promise(resolve => setTimeout(resolve, 100))
      const refused = await exchange(node, Buffer.from('zPING\0')).then(b => b.toString(), (err: NodeJS.ErrnoException) => err.code)
      assert.ok(refused === '' || refused === 'ECONNRESET', `the 21st connection is closed unanswered (got ${refused})`)
      const first = open[0]
      assert.ok(first !== undefined)
      const reply = await new Promise<string>(resolve => {
        let got = ''
        first.on('data', d => { got += d.toString() })
        first.on('close', () => resolve(got))
        first.end('zPING\0')
      })
      assert.equal(reply, 'PONG\0')
    } finally {
      for (const s of open) s.destroy()
      // The server learns of those closes asynchronously: until it has, a new connection is still
      // past the limit and closed at accept (the next test's client would see EPIPE, not our limit).
      for (let i = 0; i < 100; i++) {
        const pong = await exchange(node, Buffer.from('zPING\0')).then(b => b.toString(), () => '')
        if (pong === 'PONG\0') break
        await new Promise(resolve => setTimeout(resolve, 50))
      }
    }
  })

  /// What a raw TCP client reads until the server's EOF; `send` runs once connected (and may reject).
  async function readToEnd (send: (socket: Socket, reject: (err: Error) => void) => void): Promise<string> {
    const socket = connect(node.port, node.host)
    try {
      return await new Promise<string>((resolve, reject) => {
        let text = ''
        socket.on('data', d => { text += d.toString('latin1') })
        socket.on('error', reject)
        socket.on('end', () => resolve(text))
        socket.on('connect', () => { send(socket, reject) })
      })
    } finally {
      socket.destroy()
    }
  }

  it('a client that goes on writing past StreamMaxLength reads the error line, not EPIPE', async () => {
    const got = await readToEnd(socket => {
      socket.write(Buffer.concat([Buffer.from('zINSTREAM\0'), chunkLength(512 * 1024), Buffer.alloc(512 * 1024)]))
      // Announces past the 1 MiB limit, then keeps sending the bytes it announced.
      socket.write(Buffer.concat([chunkLength(1024 * 1024), Buffer.alloc(1024 * 1024)]))
      socket.write(Buffer.alloc(256 * 1024))
    })
    assert.equal(got, 'INSTREAM size limit exceeded. ERROR\0')
  })

  it('a client that stops for seconds (starved of CPU) before writing on past StreamMaxLength still reads the error line', async () => {
    // The server answers at the over-limit length and keeps reading; this client neither reads nor
    // writes for 3 s (longer than the fixed 2 s the server used to wait, shorter than ReadTimeout),
    // then writes 16 MiB more (past any socket buffer, so a closed server would fail the write) and
    // only then reads.
    const got = await readToEnd((socket, reject) => {
      socket.pause()
      socket.write(Buffer.concat([Buffer.from('zINSTREAM\0'), chunkLength(512 * 1024), Buffer.alloc(512 * 1024), chunkLength(1024 * 1024)]))
      setTimeout(() => {
        socket.write(Buffer.alloc(16 * 1024 * 1024), err => {
          if (err !== undefined && err !== null) reject(new Error(`the server closed before the client had written: ${err.message}`))
          else socket.resume()
        })
      }, 3_000)
    })
    assert.equal(got, 'INSTREAM size limit exceeded. ERROR\0')
  })
})
