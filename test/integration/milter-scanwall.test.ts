/// The milter listener of a real node (real scan pool, quarantine, decision database) driven by a
/// milter client as Postfix drives it. Golden transcripts: each case's packets both ways, rendered
/// one per line in test/fixtures/milter/<case>.transcript (body packets by size only, so no file
/// holds the EICAR sample; the version in X-Virus-Scanned normalised); regenerate after an intended
/// change with SCANWALL_UPDATE_GOLDEN=1 and review the diff. Then the actions of the mail profile:
/// reject naming the threat for EICAR as base64, in a zip and in a quoted-printable part;
/// quarantine (ours and `q`), discard, headers only; one record per message.
import assert from 'node:assert/strict'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import { pino } from 'pino'
import { loadConfig } from '../../config/load.js'
import { startNode, type RunningNode } from '../../src/node.js'
import { freePort } from '../helpers/ports.js'
import { MilterClient, messagePackets, mta, replyPackets, show } from '../helpers/milter-client.js'
import { attachmentMail, eicarMail, qpMail, textMail } from '../helpers/mail.js'
import { eicar } from '../helpers/eicar.js'
import { repoRoot } from '../helpers/scanwall-node.js'

const run = promisify(execFile)
const fixtureDir = join(repoRoot, 'test', 'fixtures', 'milter')
const envelope = (sender: string, ...recipients: string[]): Buffer[] => [
  mta.optneg(), mta.macros('C', { j: 'mx.scanwall.test', '{client_addr}': '192.0.2.25' }), mta.connect('client.example', '192.0.2.25', 41000), mta.helo('client.example'),
  mta.macros('M', { i: 'QID0001', '{auth_authen}': '' }), mta.mail(`<${sender}>`), ...recipients.map(r => mta.rcpt(`<${r}>`)),
]

/// A request packet as a transcript line: bodies by size only.
function showRequest (bytes: Buffer): string {
  const p = replyPackets(bytes)[0]
  if (p === undefined) return '?'
  if (p.command === 'B') return `B <${p.data.length} bytes>`
  if (p.command === 'C') {
    const end = p.data.indexOf(0)
    return `C ${p.data.toString('latin1', 0, end)} family=${String.fromCharCode(p.data[end + 1] ?? 0)} port=${p.data.readUInt16BE(end + 2)} ${p.data.toString('latin1', end + 4).replace(/\0$/, '')}`
  }
  if (p.command === 'D') {
    const list = p.data.toString('latin1', 1).replace(/\0$/, '').split('\0')
    return `D ${String.fromCharCode(p.data[0] ?? 0)} ${list.map((v, i) => i % 2 === 0 ? v : `=${JSON.stringify(v)} `).join('').trim()}`
  }
  if (p.command === 'O') return `O version=${p.data.readUInt32BE(0)} actions=0x${p.data.readUInt32BE(4).toString(16)} steps=0x${p.data.readUInt32BE(8).toString(16)}`
  return show(p)
}

interface Case { readonly name: string, readonly packets: Buffer[], readonly replies: number }

describe('milter listener of a node (real scan, quarantine, records)', function () {
  this.timeout(120_000)
  const dir = mkdtempSync(join(tmpdir(), 'scanwall-milter-'))
  const configFile = join(dir, 'scanwall.json')
  let node: RunningNode | undefined
  let port = 0
  let version = ''

  async function startWith (actions: Record<string, string>): Promise<void> {
    await node?.stop()
    port = await freePort()
    writeFileSync(configFile, JSON.stringify({
      node: { id: 'golden' },
      icap: { port: 0 },
      console: { port: 0 }, // no listener on the default port (suites run side by side)
      clamd: { port: 0 },
      milter: { port, progressMs: 60_000, actions },
      scan: { workers: 1, spoolDir: join(dir, 'spool') },
      quarantine: { enabled: true, dir: join(dir, 'quarantine'), key: randomBytes(32).toString('hex') },
      stats: { path: join(dir, 'records.sqlite'), flushMs: 50 },
    }))
    node = await startNode(loadConfig({ file: configFile, env: {} }), pino({ level: 'silent' }))
  }

  async function exchange (packets: Buffer[], replies: number): Promise<string[]> {
    const client = await MilterClient.open({ port })
    try {
      client.write(...packets)
      return (await client.replies(replies)).map(show)
    } finally {
      client.close()
    }
  }

  before(async () => {
    version = (JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string }).version
    await startWith({})
  })
  after(async () => {
    await node?.stop()
    rmSync(dir, { recursive: true, force: true })
  })

  const cases: Case[] = [
    // DATA (T) as Postfix sends it once NODATA is not negotiated: answered with `c`.
    { name: 'clean-forged-status', packets: [...envelope('alice@example.org', 'bob@example.net'), mta.data(), ...messagePackets(textMail('alice@example.org', 'bob@example.net', 'hi', 'hello', ['X-Virus-Status: clean (forged)', 'X-Virus-Status: second']))], replies: 6 },
    { name: 'eicar-base64-reject', packets: [...envelope('mallory@example.com', 'bob@example.net'), mta.data(), ...messagePackets(eicarMail('mallory@example.com', 'bob@example.net'))], replies: 3 },
    {
      name: 'two-messages-with-abort',
      packets: [...envelope('a@example.org', 'b@example.net'), mta.data(), ...messagePackets(textMail('a@example.org', 'b@example.net', 'one', 'first')), mta.abort(),
        mta.mail('<c@example.org>'), mta.rcpt('<d@example.net>'), mta.data(), mta.header('Subject', ' dropped'), mta.abort(),
        mta.mail('<e@example.org>'), mta.rcpt('<f@example.net>'), mta.data(), ...messagePackets(textMail('e@example.org', 'f@example.net', 'two', 'second')), mta.quit()],
      replies: 10,
    },
  ]

  for (const c of cases) {
    it(`golden transcript: ${c.name}`, async () => {
      const replies = await exchange(c.packets, c.replies)
      const transcript = [...c.packets.map(p => `> ${showRequest(p)}`), ...replies.map(r => `< ${r}`)].join('\n').replaceAll(`Scanwall ${version} `, 'Scanwall <version> ') + '\n'
      const file = join(fixtureDir, `${c.name}.transcript`)
      if (process.env['SCANWALL_UPDATE_GOLDEN'] === '1') writeFileSync(file, transcript)
      assert.ok(existsSync(file), `${file} missing: run with SCANWALL_UPDATE_GOLDEN=1 and review it`)
      assert.equal(transcript, readFileSync(file, 'utf8'))
    })
  }

  it('rejects EICAR in a zip and in a quoted-printable part with 550 naming the threat', async () => {
    writeFileSync(join(dir, 'eicar.com'), eicar)
    writeFileSync(join(dir, 'notes.txt'), 'notes\n')
    await run('zip', ['-q', '-j', join(dir, 'e.zip'), join(dir, 'notes.txt'), join(dir, 'eicar.com')])
    const zipped = attachmentMail('m@example.com', 'b@example.net', 'zip', 'e.zip', 'application/zip', readFileSync(join(dir, 'e.zip')))
    for (const mail of [zipped, qpMail('m@example.com', 'b@example.net', 'qp')]) {
      const replies = await exchange([...envelope('m@example.com', 'b@example.net'), ...messagePackets(mail)], 2)
      assert.match(replies.at(-1) ?? '', /^y \["550 5\.7\.1 Message rejected: Eicar[^"]* found"\]$/, replies.join(' | '))
    }
  })

  it('quarantines in ours and in the MTA hold queue, discards, or delivers with headers only', async () => {
    await startWith({ infected: 'quarantine' })
    const held = await exchange([...envelope('m@example.com', 'b@example.net'), ...messagePackets(eicarMail('m@example.com', 'b@example.net'))], 4)
    assert.deepEqual(held.slice(1).map(r => r.replace(/Eicar[^ )"]*/g, 'EICAR').replace(/Scanwall [^ ]+ on/, 'Scanwall V on')),
      ['h ["X-Virus-Scanned"," Scanwall V on golden"]', 'h ["X-Virus-Status"," infected (EICAR)"]', 'q ["Scanwall: EICAR"]', 'a'])
    const { stdout } = await run(process.execPath, [join(repoRoot, 'dist', 'src', 'cli', 'main.js'), 'quarantine', 'list', '--json', '--config', configFile])
    const entry = JSON.parse(stdout.trim().split('\n')[0] ?? '{}') as Record<string, unknown>
    assert.equal(entry['service'], 'milter')
    assert.equal(entry['client'], '192.0.2.25')
    await startWith({ infected: 'discard' })
    assert.equal((await exchange([...envelope('m@example.com', 'b@example.net'), ...messagePackets(eicarMail('m@example.com', 'b@example.net'))], 2)).at(-1), 'd')
    await startWith({ infected: 'headers' })
    const headersOnly = await exchange([...envelope('m@example.com', 'b@example.net'), ...messagePackets(eicarMail('m@example.com', 'b@example.net'))], 4)
    assert.match(headersOnly.join(' | '), /h \["X-Virus-Status"," infected \(Eicar[^)]*\)"\] \| a$/)
  })

  it('records each message in the decision database, with usage per sender and recipient (scanwall stats --by sender|recipient)', async () => {
    await new Promise(resolve => setTimeout(resolve, 300))
    const { stdout } = await run(process.execPath, [join(repoRoot, 'dist', 'src', 'cli', 'main.js'), 'stats', '--by', 'service', '--json', '--config', configFile])
    const milter = stdout.trim().split('\n').map(l => JSON.parse(l) as Record<string, unknown>).find(r => r['service'] === 'milter')
    assert.ok(milter !== undefined, stdout)
    assert.ok(Number(milter['infections']) >= 4, stdout)
    const bySender = await run(process.execPath, [join(repoRoot, 'dist', 'src', 'cli', 'main.js'), 'stats', '--by', 'sender', '--since', '24h', '--json', '--config', configFile])
    const mallory = bySender.stdout.trim().split('\n').map(l => JSON.parse(l) as Record<string, unknown>).find(r => r['sender'] === 'mallory@example.com')
    assert.ok(mallory !== undefined && Number(mallory['infections']) >= 1, bySender.stdout)
    const byRecipient = await run(process.execPath, [join(repoRoot, 'dist', 'src', 'cli', 'main.js'), 'stats', '--by', 'recipient', '--since', '24h', '--config', configFile])
    assert.match(byRecipient.stdout, /bob@example\.net/)
  })
})
