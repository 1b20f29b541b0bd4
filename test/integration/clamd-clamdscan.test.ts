/// Debian's clamdscan against a real clamd and against Scanwall's clamd listener, both loading the
/// same DB, over TCP (TCPSocket/TCPAddr) and the unix socket (LocalSocket): a clean file, EICAR, a
/// directory, --stream, -m, --stream -m, --ping, --version and --reload must print the same output
/// and exit with the same code. Normalised explicitly, and nothing else: the version line (clamd's
/// `ClamAV 1.4.6`, Scanwall's `ClamAV Scanwall-…/<db>/<date>`), clamd's `.UNOFFICIAL` suffix on
/// signatures from unsigned files, the summary's times and dates, and for -m (threads) the order
/// of the result lines.
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { eicar } from '../helpers/eicar.js'
import { requireProgram } from '../helpers/peers.js'
import { bodyMarker, clientConf, defaultSetup, hashSample, startClamd, startScanwallClamd, writeTestDb, type ClamdEndpoint } from '../helpers/clamd-peer.js'

interface Run { readonly code: number | null, readonly stdout: string, readonly stderr: string }

async function clamdscan (conf: string, args: readonly string[]): Promise<Run> {
  return await new Promise(resolve => {
    execFile('clamdscan', [`--config-file=${conf}`, ...args], { timeout: 60_000 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : null
      resolve({ code, stdout, stderr })
    })
  })
}

/// The explicit normalisations (see the header); `sortLines` for multithreaded scans.
export function normalise (text: string, sortLines = false): string {
  let out = text
    .replace(/ClamAV [^\s/]+(\/[^\n\0]*)?/g, 'ClamAV <version>')
    .replace(/^(Time|Start Date|End Date):.*$/gm, '$1: <time>')
  out = out.replace(/\.UNOFFICIAL/g, '')
  if (!sortLines) return out
  const [results = '', summary = ''] = out.split(/(?=\n-+ SCAN SUMMARY)/)
  return results.split('\n').sort().join('\n') + summary
}

describe('clamdscan against clamd and against Scanwall (same output and exit code)', function () {
  this.timeout(180_000)
  let dir: string
  let clamd: ClamdEndpoint
  let scanwall: ClamdEndpoint
  let files: Record<'clean' | 'eicar' | 'tree', string>

  before(async () => {
    requireProgram('clamdscan')
    dir = mkdtempSync(join(tmpdir(), 'sw-clamdscan-'))
    const scanDir = join(dir, 'files')
    const tree = join(scanDir, 'tree')
    mkdirSync(join(tree, 'sub'), { recursive: true })
    files = { clean: join(scanDir, 'clean.txt'), eicar: join(scanDir, 'eicar.com'), tree }
    writeFileSync(files.clean, 'nothing to see here\n')
    writeFileSync(files.eicar, eicar)
    writeFileSync(join(tree, 'a-clean.txt'), 'clean\n')
    writeFileSync(join(tree, 'b-eicar.com'), eicar)
    writeFileSync(join(tree, 'sub', 'hash.bin'), hashSample)
    writeFileSync(join(tree, 'sub', 'marker.txt'), Buffer.concat([Buffer.from('prefix '), bodyMarker, Buffer.from(' suffix\n')]))
    const db = join(dir, 'db')
    writeTestDb(db)
    const setup = defaultSetup(scanDir)
    ;[clamd, scanwall] = await Promise.all([startClamd(join(dir, 'clamd'), db, setup), startScanwallClamd(join(dir, 'scanwall'), db, setup)])
  })

  after(async () => {
    await Promise.all([clamd?.daemon.stop(), scanwall?.daemon.stop()])
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true })
  })

  // `shows`: what Scanwall's own output must contain, so an empty or broken answer on both sides
  // cannot pass as agreement; `code` the exit status both must have.
  const cases: Array<{ name: string, args: () => string[], sort?: boolean, shows: RegExp, code: number }> = [
    { name: 'a clean file', args: () => [files.clean], shows: /clean\.txt: OK\n/, code: 0 },
    { name: 'EICAR', args: () => [files.eicar], shows: /eicar\.com: Eicar-Test-Signature FOUND\n/, code: 1 },
    { name: 'a directory', args: () => [files.tree], shows: /Scanwall\.Test\.Body FOUND[^]*Infected files: 3/, code: 1 },
    { name: '--stream (EICAR)', args: () => ['--stream', files.eicar], shows: /Eicar-Test-Signature FOUND/, code: 1 },
    { name: '--stream (a directory)', args: () => ['--stream', files.tree], shows: /Scanwall\.Test\.Hash FOUND[^]*Infected files: 3/, code: 1 },
    { name: '-m', args: () => ['-m', files.tree], sort: true, shows: /Infected files: 3/, code: 1 },
    { name: '--stream -m', args: () => ['--stream', '-m', files.tree], sort: true, shows: /Infected files: 3/, code: 1 },
    { name: '--ping', args: () => ['--ping', '1'], shows: /PONG/, code: 0 },
    { name: '--version', args: () => ['--version'], shows: /^ClamAV <version>\n$/, code: 0 },
    // clamdscan prints nothing for a reload on either side; the exit status says it was answered.
    { name: '--reload', args: () => ['--reload'], shows: /^$/, code: 0 },
  ]

  for (const via of ['tcp', 'unix'] as const) {
    for (const c of cases) {
      it(`${c.name} over ${via === 'tcp' ? 'TCPSocket/TCPAddr' : 'LocalSocket'}`, async () => {
        const [theirs, ours] = await Promise.all([
          clamdscan(clientConf(dir, clamd, via), c.args()),
          clamdscan(clientConf(dir, scanwall, via), c.args()),
        ])
        const expected = { code: theirs.code, stdout: normalise(theirs.stdout, c.sort), stderr: normalise(theirs.stderr, c.sort) }
        const actual = { code: ours.code, stdout: normalise(ours.stdout, c.sort), stderr: normalise(ours.stderr, c.sort) }
        assert.deepEqual(actual, expected)
        assert.equal(ours.code, c.code)
        assert.match(normalise(ours.stdout), c.shows)
        if (c.name === '--version') assert.match(ours.stdout, /^ClamAV Scanwall-[^/]+\/[0-9a-f]+\/\w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4}\n$/)
      })
    }
  }
})
