/// Interop with the real ICAP client from Debian's c-icap package: a clean object gets 204 (or the
/// byte-identical 200 echo with -no204) and EICAR gets a block with X-Infection-Found, in RESPMOD
/// and REQMOD, with and without preview. The node is started the way `scanwall start` does it.
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { randomBytes } from 'node:crypto'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pino } from 'pino'
import { startNode, type RunningNode } from '../../src/node.js'
import { loadConfig } from '../../config/load.js'
import { eicar } from '../helpers/eicar.js'

const run = promisify(execFile)
const clientPath = '/usr/bin/c-icap-client'

describe('c-icap-client against Scanwall', function () {
  this.timeout(120_000)
  let node: RunningNode
  let port = 0
  const dir = mkdtempSync(join(tmpdir(), 'scanwall-cicap-'))
  const files = { eicar: join(dir, 'eicar.com'), small: join(dir, 'small.bin'), large: join(dir, 'large.bin') }

  before(async () => {
    if (!existsSync(clientPath)) throw new Error(`${clientPath} missing: install Debian package c-icap (test/setup-peers.sh)`)
    writeFileSync(files.eicar, eicar)
    writeFileSync(files.small, randomBytes(800))
    writeFileSync(files.large, randomBytes(300_000))
    const config = loadConfig({ env: {}, overrides: { icap: { port: 0 }, clamd: { port: 0 }, milter: { port: 0 }, console: { port: 0 }, scan: { workers: 1, spoolDir: join(dir, 'spool') }, node: { id: 'cicap-test' } } })
    node = await startNode(config, pino({ level: 'silent' }))
    port = node.icap.address?.port ?? 0
    assert.ok(port > 0)
  })
  after(async () => {
    await node?.stop()
    rmSync(dir, { recursive: true, force: true })
  })

  async function client (args: string[]): Promise<{ text: string, out: Buffer }> {
    const out = join(dir, `out-${randomBytes(4).toString('hex')}`)
    const { stdout, stderr } = await run(clientPath, ['-i', '127.0.0.1', '-p', String(port), '-v', '-o', out, ...args], { timeout: 30_000 })
    const body = existsSync(out) ? readFileSync(out) : Buffer.alloc(0)
    rmSync(out, { force: true })
    return { text: stdout + stderr, out: body }
  }

  it('gets a clean 200 for OPTIONS with Preview, Allow 204 and the service', async () => {
    for (const service of ['avscan', 'srv_clamav', 'virus_scan']) {
      const { text } = await client(['-s', service])
      assert.match(text, /ICAP\/1\.0 200 OK/)
      assert.match(text, /Allow 204: Yes/)
      assert.match(text, /Preview: 1024/)
      assert.match(text, /ISTag: "SW-[^"]+"/)
      assert.match(text, /X-Scanwall-Node: cicap-test/, 'the answering node is named (icap.nodeHeader defaults on)')
    }
  })

  const modes: Array<[string, string[]]> = [
    ['RESPMOD', ['-resp', 'http://origin.test/file']],
    ['REQMOD', ['-req', 'http://origin.test/upload', '-method', 'POST']],
  ]
  const previews: Array<[string, string[]]> = [
    ['with preview', []],
    ['with a 0-byte preview', ['-w', '0']],
    ['without preview', ['-nopreview']],
  ]
  for (const [method, modeArgs] of modes) {
    for (const [how, previewArgs] of previews) {
      it(`${method} ${how}: 204 for clean objects, small and large`, async () => {
        for (const file of [files.small, files.large]) {
          const { text } = await client(['-s', 'avscan', '-f', file, ...modeArgs, ...previewArgs])
          assert.match(text, /ICAP\/1\.0 204 No Content/, `${file}: ${text.slice(0, 500)}`)
        }
      })
      it(`${method} ${how}: with -no204, the original body back byte-identical (or 204 for a body that ended in the preview)`, async () => {
        for (const file of [files.small, files.large]) {
          const { text, out } = await client(['-s', 'avscan', '-f', file, '-no204', ...modeArgs, ...previewArgs])
          // RFC 3507 §4.5: a 204 may answer a preview whatever Allow says; the 800-byte file fits the
          // default 1024-byte preview (ends with ieof), so it is answered there without 100 Continue.
          if (file === files.small && previewArgs.length === 0) {
            assert.match(text, /ICAP\/1\.0 204 No Content/)
            continue
          }
          assert.match(text, /ICAP\/1\.0 200 OK/)
          assert.ok(out.equals(readFileSync(file)), `${file}: echoed body differs (${out.length} bytes)`)
        }
      })
      it(`${method} ${how}: a block with X-Infection-Found for EICAR`, async () => {
        for (const extra of [[], ['-no204']]) {
          const { text, out } = await client(['-s', 'avscan', '-f', files.eicar, ...modeArgs, ...previewArgs, ...extra])
          assert.match(text, /ICAP\/1\.0 200 OK/)
          assert.match(text, /X-Infection-Found: Type=0; Resolution=2; Threat=Eicar-Test-Signature;/)
          assert.match(text, /X-Virus-ID: Eicar-Test-Signature/)
          assert.match(text, /HTTP\/1\.1 403 Forbidden/)
          assert.match(out.toString('utf8'), /Eicar-Test-Signature/, 'the block page names the threat')
          assert.ok(!out.includes(eicar), 'nothing of the sample comes back')
        }
      })
    }
  }
})
