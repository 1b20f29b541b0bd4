/// A second MTA-side client: Sendmail's miltertest (Debian package miltertest, from OpenDKIM)
/// drives a real node with Lua scripts, for what Postfix does not show directly: the change and
/// deletion of forged status headers by index, and the discard verdict.
import assert from 'node:assert/strict'
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pino } from 'pino'
import { loadConfig } from '../../config/load.js'
import { startNode, type RunningNode } from '../../src/node.js'
import { freePort } from '../helpers/ports.js'
import { eicar } from '../helpers/eicar.js'

const run = promisify(execFile)
const miltertest = '/usr/bin/miltertest'

/// A Lua script: negotiate, connect, envelope, the headers, a body, end of message; then the checks.
function script (port: number, headers: ReadonlyArray<[string, string]>, body: string, checks: string): string {
  const lua = (s: string): string => JSON.stringify(s)
  return [
    `local conn = mt.connect("inet:${port}@127.0.0.1")`,
    'if conn == nil then error("connect failed") end',
    'if mt.conninfo(conn, "client.example", "192.0.2.9") ~= nil then error("conninfo failed") end',
    'if mt.mailfrom(conn, "<sender@example.org>") ~= nil then error("mailfrom failed") end',
    'if mt.getreply(conn) ~= SMFIR_CONTINUE then error("mailfrom reply") end',
    'if mt.rcptto(conn, "<rcpt@example.net>") ~= nil then error("rcptto failed") end',
    ...headers.map(([n, v]) => `if mt.header(conn, ${lua(n)}, ${lua(v)}) ~= nil then error("header failed") end`),
    'if mt.eoh(conn) ~= nil then error("eoh failed") end',
    `if mt.bodystring(conn, ${lua(body)}) ~= nil then error("body failed") end`,
    'if mt.eom(conn) ~= nil then error("eom failed") end',
    checks,
    'mt.disconnect(conn)',
  ].join('\n') + '\n'
}

describe('milter listener driven by miltertest', function () {
  this.timeout(120_000)
  const dir = mkdtempSync(join(tmpdir(), 'scanwall-miltertest-'))
  let node: RunningNode | undefined
  let port = 0

  async function startWith (infected: string): Promise<void> {
    await node?.stop()
    port = await freePort()
    const file = join(dir, 'scanwall.json')
    writeFileSync(file, JSON.stringify({ node: { id: 'mt' }, icap: { port: 0 }, clamd: { port: 0 }, console: { port: 0 }, stats: { enabled: false }, scan: { workers: 1, spoolDir: join(dir, 'spool') }, milter: { port, actions: { infected } } }))
    node = await startNode(loadConfig({ file, env: {} }), pino({ level: 'silent' }))
  }

  async function runScript (name: string, text: string): Promise<string> {
    const file = join(dir, `${name}.lua`)
    writeFileSync(file, text)
    try {
      const { stdout, stderr } = await run(miltertest, ['-vv', '-s', file], { timeout: 60_000 })
      return stdout + stderr
    } catch (err) {
      const e = err as { stdout?: string, stderr?: string, message: string }
      assert.fail(`miltertest ${name} failed: ${e.message}\n${e.stdout ?? ''}${e.stderr ?? ''}`)
    }
  }

  before(async () => {
    if (!existsSync(miltertest)) throw new Error(`${miltertest} missing: install Debian package miltertest (test/setup-peers.sh)`)
    await startWith('reject')
  })
  after(async () => {
    await node?.stop()
    rmSync(dir, { recursive: true, force: true })
  })

  it('changes the first forged X-Virus-Status, deletes the second, and accepts a clean message', async () => {
    await runScript('clean', script(port, [['From', 'sender@example.org'], ['X-Virus-Status', 'clean (forged)'], ['X-Virus-Status', 'again']], 'hello\r\n', [
      'if mt.getreply(conn) ~= SMFIR_ACCEPT then error("not accepted") end',
      'if not mt.eom_check(conn, MT_HDRCHANGE, "X-Virus-Status", " clean") then error("X-Virus-Status not changed to clean") end',
      'if not mt.eom_check(conn, MT_HDRDELETE, "X-Virus-Status") then error("second X-Virus-Status not deleted") end',
      'if not mt.eom_check(conn, MT_HDRADD, "X-Virus-Scanned") then error("X-Virus-Scanned not added") end',
    ].join('\n')))
  })

  it('rejects EICAR with a reply code (the 550 text is checked through Postfix), and discards it under the discard action', async () => {
    const body = `${Buffer.from(eicar).toString('latin1')}\r\n`
    await runScript('reject', script(port, [['Subject', 'x']], body, [
      'if mt.getreply(conn) ~= SMFIR_REPLYCODE then error("no reply code") end',
    ].join('\n')))
    await startWith('discard')
    await runScript('discard', script(port, [['Subject', 'x']], body, 'if mt.getreply(conn) ~= SMFIR_DISCARD then error("not discarded") end'))
  })
})
