/// The spam and content filters on the milter path, through Debian's Postfix (test/helpers/postfix.ts:
/// a private instance, smtpd_milters at a real node, relaying to an SMTP sink; swaks sends). Incoming
/// mail (the SMTP client set by XCLIENT to an outside address): a spam message is refused with 550
/// naming spam, a suspect one delivered tagged (X-Spam-* header fields, subject tag), a ham one
/// delivered untouched (body byte for byte; only Postfix's Received and our X- fields added).
/// Outgoing mail (SASL-authenticated by XCLIENT LOGIN, or from our networks): a test card number is
/// quarantined (Postfix's hold queue and ours) and the admin's notification reaches the sink; a
/// clean one is delivered without spam headers (outgoing mail is not spam-filtered). Results are
/// in the decision database (`scanwall stats --by rule`). The messages are written against the
/// shipped rules (src/spam/rules/default.ts); the Bayes model is empty (a fresh database).
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync, chmodSync } from 'node:fs'
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import { pino } from 'pino'
import { loadConfig } from '../../config/load.js'
import { startNode, type RunningNode } from '../../src/node.js'
import { freePort } from '../helpers/ports.js'
import { Postfix, swaks } from '../helpers/postfix.js'
import { SmtpSink, type SunkMessage } from '../helpers/smtp-sink.js'
import { cliMain } from '../helpers/scanwall-node.js'
import { statsUntil } from '../helpers/stats.js'

const run = promisify(execFile)
const crlf = (text: string): string => text.replace(/\r?\n/g, '\r\n')

/// Written to hit many shipped rules at once: advance-fee, lottery, pharmacy, "not spam" claims,
/// earnings, a numeric link, urgency, an adult and shouting subject.
const spamMail = crlf(`From: "Prize Desk" <desk@lucky.example>
To: <bob@example.net>
Subject: FREE CASH for you!!!
Date: Wed, 03 Dec 2026 08:00:00 +0000
Message-ID: <win-1@lucky.example>

Dear friend,
You have won! As next of kin you will receive the transfer of the sum of US$ 12,500,000 USD.
Make money fast: earn $5,000 per week from home. Buy viagra and cialis at no cost, 100% guarantee.
This is not spam. Click here to verify your account: http://192.0.2.7/claim
Act now!!! Limited time offer.
`)

/// A few rules only: a prize notice, a pharmacy word, a guarantee and a call to act (suspect, not spam).
const suspectMail = crlf(`From: "Shop" <news@shop.example>
To: <bob@example.net>
Subject: Your free sample
Date: Wed, 03 Dec 2026 08:01:00 +0000
Message-ID: <sample-1@shop.example>

Dear customer,
you have been selected for a risk-free sample of our viagra alternative, 100% guarantee.
Click here and order now.
`)

const hamBody = crlf(`Hi Bob,

the compiler upgrade is scheduled for Thursday; please review the patch queue
before the meeting. The minutes of last week are on the wiki.

Ann
`)
const hamHeaders = crlf(`From: Ann <ann@partner.example>
To: <bob@example.net>
Subject: minutes of the build meeting
Date: Wed, 03 Dec 2026 08:02:00 +0000
Message-ID: <minutes-1@partner.example>
X-Spam-Status: No, forged outside
`)

const cardMail = crlf(`From: <alice@example.org>
To: <buyer@partner.example>
Subject: order 1177
Date: Wed, 03 Dec 2026 08:03:00 +0000
Message-ID: <order-1177@example.org>

Please charge the company card 4111 1111 1111 1111 for order 1177.
`)

/// A message's header fields, unfolded, in order (name lower-case).
function fields (data: string): Array<[string, string]> {
  const head = data.slice(0, data.indexOf('\r\n\r\n'))
  const out: Array<[string, string]> = []
  for (const line of head.split('\r\n')) {
    const last = out.at(-1)
    if (/^[ \t]/.test(line) && last !== undefined) last[1] += line
    else {
      const at = line.indexOf(':')
      out.push([line.slice(0, at).toLowerCase(), line.slice(at + 1)])
    }
  }
  return out
}
const bodyOf = (data: string): string => data.slice(data.indexOf('\r\n\r\n') + 4)
/// The body as swaks sends a file: it ends DATA with CRLF "." CRLF after the file's own last CRLF.
const sentBody = (mail: string): string => `${bodyOf(mail)}\r\n`

describe('Postfix → Scanwall milter: spam and content filters (real Postfix, swaks, SMTP sink)', function () {
  this.timeout(240_000)
  const dir = mkdtempSync(join(tmpdir(), 'scanwall-spam-postfix-'))
  const configFile = join(dir, 'scanwall.json')
  let node: RunningNode | undefined
  let postfix: Postfix | undefined
  let sink: SmtpSink | undefined
  let smtpPort = 0
  const outside = ['--xclient-addr', '203.0.113.9']

  function mailFile (name: string, text: string): string {
    const file = join(dir, `${name}.eml`)
    writeFileSync(file, text)
    return file
  }

  async function next (count: number): Promise<SunkMessage> {
    const all = await (sink as SmtpSink).waitFor(count)
    return all[count - 1] as SunkMessage
  }

  before(async () => {
    chmodSync(dir, 0o755)
    const milterPort = await freePort()
    smtpPort = await freePort()
    const relayPort = await freePort()
    sink = await SmtpSink.start()
    writeFileSync(configFile, JSON.stringify({
      node: { id: 'spam-node' },
      icap: { port: 0 },
      clamd: { port: 0 },
      milter: {
        port: milterPort,
        notify: { enabled: true, relayHost: '127.0.0.1', relayPort: sink.port, from: 'scanwall@example.org', admin: 'security@example.org' },
      },
      scan: { workers: 1, spoolDir: join(dir, 'spool') },
      quarantine: { enabled: true, dir: join(dir, 'quarantine'), key: randomBytes(32).toString('hex') },
      stats: { path: join(dir, 'records.sqlite'), flushMs: 50 },
      spam: { enabled: true, listCacheDir: join(dir, 'lists') },
      contentFilter: { enabled: true, icap: false, rules: [{ name: 'cards', action: 'quarantine', detect: 'card', notify: ['admin'] }] },
    }))
    node = await startNode(loadConfig({ file: configFile, env: {} }), pino({ level: 'silent' }))
    postfix = await Postfix.start({
      dir: join(dir, 'postfix'),
      smtpPort,
      relayPort,
      sinkPort: sink.port,
      milter: `inet:127.0.0.1:${milterPort}`,
      // XCLIENT lets swaks play an outside client or an authenticated user; loopback only, a test MTA.
      extraMain: ['smtpd_authorized_xclient_hosts = 127.0.0.0/8', 'relay_domains = example.net, partner.example', 'smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination'],
    })
  })
  after(async () => {
    await postfix?.stop()
    await node?.stop()
    await sink?.close()
    rmSync(dir, { recursive: true, force: true })
  })

  it('refuses an incoming spam message with 550 naming spam; nothing is delivered', async () => {
    const count = (sink as SmtpSink).messages.length
    const sent = await swaks(smtpPort, 'desk@lucky.example', 'bob@example.net', mailFile('spam', spamMail), outside)
    assert.notEqual(sent.code, 0, sent.output)
    assert.match(sent.output, /<\*\* +550 5\.7\.1 Spam \(score \d+(\.\d)?\)/, sent.output)
    const pattern = /milter-reject: END-OF-MESSAGE .*5\.7\.1 Spam/
    assert.match(await (postfix as Postfix).logMatching(pattern), pattern)
    assert.equal((sink as SmtpSink).messages.length, count)
  })

  it('delivers an incoming suspect message tagged: X-Spam-* header fields and the subject tag', async () => {
    const count = (sink as SmtpSink).messages.length
    const sent = await swaks(smtpPort, 'news@shop.example', 'bob@example.net', mailFile('suspect', suspectMail), outside)
    assert.equal(sent.code, 0, sent.output)
    const message = await next(count + 1)
    assert.match(message.data, /^X-Spam-Status: Yes, score=[\d.]+ suspect=5 spam=9 verdict=suspect\r$/m, message.data)
    assert.match(message.data, /^X-Spam-Score: [\d.]+\r$/m)
    assert.match(message.data, /^X-Spam-Rules: .*BODY_PHARMA/m)
    assert.match(message.data, /^Subject: \[SPAM\?\] Your free sample\r$/m)
    assert.equal(bodyOf(message.data), sentBody(suspectMail))
  })

  it('delivers an incoming ham message untouched: the body byte for byte, only Received and our X- fields added', async () => {
    const count = (sink as SmtpSink).messages.length
    const sent = await swaks(smtpPort, 'ann@partner.example', 'bob@example.net', mailFile('ham', `${hamHeaders}\r\n${hamBody}`), outside)
    assert.equal(sent.code, 0, sent.output)
    const message = await next(count + 1)
    assert.equal(bodyOf(message.data), sentBody(`${hamHeaders}\r\n${hamBody}`))
    const got = fields(message.data)
    const ours = /^x-(spam|virus)-/
    const theirs = got.filter(([name]) => name !== 'received' && !ours.test(name))
    assert.deepEqual(theirs, fields(`${hamHeaders}\r\n`).filter(([name]) => !ours.test(name)), message.data)
    assert.match(message.data, /^X-Spam-Status: No, score=-?[\d.]+ .*verdict=ham\r$/m)
    assert.doesNotMatch(message.data, /forged outside/, 'the X-Spam-Status from outside is replaced')
    assert.match(message.data, /^X-Virus-Status: clean\r$/m)
  })

  it('quarantines an authenticated sender\'s mail with a card number (hold queue and ours) and notifies the admin', async () => {
    const count = (sink as SmtpSink).messages.length
    const sent = await swaks(smtpPort, 'alice@example.org', 'buyer@partner.example', mailFile('card', cardMail), [...outside, '--xclient-login', 'alice'])
    assert.equal(sent.code, 0, sent.output)
    const held = (await (postfix as Postfix).queue()).filter(m => m.queue_name === 'hold')
    assert.equal(held.length, 1, JSON.stringify(await (postfix as Postfix).queue()))
    assert.equal(held[0]?.sender, 'alice@example.org')
    const notice = await next(count + 1)
    assert.deepEqual(notice.to, ['security@example.org'])
    assert.match(notice.data, /^Subject: Message held: cards\r$/m, notice.data)
    assert.match(notice.data, /alice@example\.org/)
    assert.doesNotMatch(notice.data, /4111/, 'the notification does not repeat the card number')
    const { stdout } = await run(process.execPath, [cliMain, 'quarantine', 'list', '--json', '--config', configFile])
    const ours = stdout.trim().split('\n').map(l => JSON.parse(l) as Record<string, unknown>)
    assert.ok(ours.some(e => e['service'] === 'milter' && e['threat'] === 'Content.cards'), stdout)
    await new Promise(resolve => setTimeout(resolve, 500))
    assert.equal((sink as SmtpSink).messages.filter(m => m.to.includes('buyer@partner.example')).length, 0, 'the held message was not delivered')
  })

  it('does not spam-filter outgoing mail from our networks (loopback by default)', async () => {
    const count = (sink as SmtpSink).messages.length
    const sent = await swaks(smtpPort, 'ops@example.org', 'bob@example.net', mailFile('out', suspectMail))
    assert.equal(sent.code, 0, sent.output)
    const message = await next(count + 1)
    assert.doesNotMatch(message.data, /X-Spam-/)
    assert.match(message.data, /^Subject: Your free sample\r$/m)
  })

  it('records what the filters did as each message\'s event (scanwall events): spam refused, suspect tagged, card held', async () => {
    const deadline = Date.now() + 15_000
    let events: Array<Record<string, unknown>> = []
    const want = (filter: string): Record<string, unknown> | undefined => events.find(e => e['filterAction'] === filter)
    while (Date.now() < deadline) {
      const { stdout } = await run(process.execPath, [cliMain, 'events', '--since', '1h', '--json', '--config', configFile])
      events = stdout.trim().split('\n').filter(Boolean).map(l => JSON.parse(l) as Record<string, unknown>)
      if (want('spam:reject') !== undefined && want('spam:tag') !== undefined && want('content:quarantine') !== undefined) break
      await new Promise(resolve => setTimeout(resolve, 500))
    }
    assert.deepEqual([want('spam:reject')?.['action'], want('spam:reject')?.['threat'], want('spam:reject')?.['verdict'], want('spam:reject')?.['sender']], ['block', 'Spam', 'clean', 'desk@lucky.example'], JSON.stringify(events))
    assert.match(String(want('spam:reject')?.['reason']), /^spam score \d/)
    assert.deepEqual([want('spam:tag')?.['action'], want('spam:tag')?.['threat']], ['detect', 'Spam'])
    assert.deepEqual([want('content:quarantine')?.['action'], want('content:quarantine')?.['threat']], ['quarantine', 'Content.cards'])
    assert.match(String(want('content:quarantine')?.['quarantineId']), /^[0-9a-f]{24}$/)
    // Ham delivered and the clean outgoing mail are no events (counted in the hourly aggregates only).
    assert.equal(events.filter(e => e['service'] === 'milter').length, 3, JSON.stringify(events))
  })

  it('records the results for scanwall stats --by rule', async () => {
    // rule, mails, flagged, blocked: the card mail held; pharmacy words in the spam (refused) and the suspect mail.
    await statsUntil(configFile, 'rule', out => /^cards\t1\t1\t1$/m.test(out) && /^BODY_PHARMA\t2\t2\t1$/m.test(out))
  })
})
