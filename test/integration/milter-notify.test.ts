/// Notifications on infection through a real node and a local SMTP sink as the relay: the admin
/// and the recipients are told, from the templates; the sender only when it is ours (a client in
/// notify.localNetworks), never an external one (backscatter); past maxPerMinute nothing more goes.
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pino } from 'pino'
import { loadConfig } from '../../config/load.js'
import { startNode, type RunningNode } from '../../src/node.js'
import { freePort } from '../helpers/ports.js'
import { MilterClient, messagePackets, mta } from '../helpers/milter-client.js'
import { eicarMail, textMail } from '../helpers/mail.js'
import { SmtpSink } from '../helpers/smtp-sink.js'

describe('milter notifications (real node, SMTP sink as relay)', function () {
  this.timeout(120_000)
  const dir = mkdtempSync(join(tmpdir(), 'scanwall-notify-'))
  let node: RunningNode | undefined
  let sink: SmtpSink | undefined
  let port = 0

  before(async () => {
    sink = await SmtpSink.start()
    port = await freePort()
    const file = join(dir, 'scanwall.json')
    writeFileSync(file, JSON.stringify({
      node: { id: 'n-notify' },
      icap: { port: 0 },
      console: { port: 0 }, // no listener on the default port (suites run side by side)
      clamd: { port: 0 },
      scan: { workers: 1, spoolDir: join(dir, 'spool') },
      stats: { enabled: false },
      milter: { port, notify: { enabled: true, relayPort: sink.port, from: 'scanwall@example.org', admin: 'admin@example.org', recipients: true, sender: true, localNetworks: ['10.0.0.0/8'], maxPerMinute: 2, subject: 'Virus {threat} for {recipients}' } },
    }))
    node = await startNode(loadConfig({ file, env: {} }), pino({ level: 'silent' }))
  })
  after(async () => {
    await node?.stop()
    await sink?.close()
    rmSync(dir, { recursive: true, force: true })
  })

  async function send (client: string, sender: string, mail: string): Promise<void> {
    const c = await MilterClient.open({ port })
    c.write(mta.optneg(), mta.connect('c', client), mta.mail(`<${sender}>`), mta.rcpt('<bob@example.net>'), ...messagePackets(mail))
    await c.replies(2) // the negotiation and the verdict: without skip lists MAIL FROM is not answered
    c.close()
  }

  it('tells the admin and the recipients, not an external sender; a clean message tells no one', async () => {
    await send('192.0.2.50', 'clean@example.com', textMail('clean@example.com', 'bob@example.net', 'hi', 'hello'))
    await send('192.0.2.50', 'forged@example.com', eicarMail('forged@example.com', 'bob@example.net'))
    const [n] = await (sink as SmtpSink).waitFor(1)
    await new Promise(resolve => setTimeout(resolve, 500))
    assert.equal((sink as SmtpSink).messages.length, 1)
    assert.equal(n?.from, 'scanwall@example.org')
    assert.deepEqual([...(n?.to ?? [])].sort(), ['admin@example.org', 'bob@example.net'])
    assert.match(n?.data ?? '', /^Subject: Virus Eicar\S* for bob@example\.net\r$/m)
    assert.match((n?.data ?? '').replace(/=\r\n/g, ''), /from forged@example\.com to bob@example\.net/)
  })

  it('tells a sender of ours (a client in localNetworks), and stops at maxPerMinute', async () => {
    await send('10.1.2.3', 'alice@example.org', eicarMail('alice@example.org', 'bob@example.net'))
    const messages = await (sink as SmtpSink).waitFor(2)
    assert.deepEqual([...(messages[1]?.to ?? [])].sort(), ['admin@example.org', 'alice@example.org', 'bob@example.net'])
    await send('10.1.2.3', 'alice@example.org', eicarMail('alice@example.org', 'bob@example.net'))
    await new Promise(resolve => setTimeout(resolve, 1000))
    assert.equal((sink as SmtpSink).messages.length, 2, 'the third notification in a minute was dropped')
  })
})
