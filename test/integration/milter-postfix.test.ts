/// Debian's Postfix in front of Scanwall's milter listener, end to end: a private Postfix instance
/// (test/helpers/postfix.ts: its own config, queue and data directories, loopback ports) with
/// `smtpd_milters` pointing at a real node, relaying to an SMTP sink; messages sent with swaks.
/// Clean mail is delivered with the status headers (a forged X-Virus-Status replaced); EICAR as a
/// base64 attachment, in a zip and in a quoted-printable part is refused with 550 naming the
/// threat; the quarantine action puts the message in Postfix's hold queue and in ours; a skip list
/// lets a message through unscanned; with
/// Scanwall stopped Postfix defers (milter_default_action = tempfail) and nothing is lost; busy
/// hours defer a large message that Postfix delivers once the window is over.
import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, rmSync, writeFileSync, chmodSync } from 'node:fs'
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
import { SmtpSink } from '../helpers/smtp-sink.js'
import { attachmentMail, eicarMail, qpMail, textMail } from '../helpers/mail.js'
import { eicar } from '../helpers/eicar.js'
import { cliMain } from '../helpers/scanwall-node.js'

const run = promisify(execFile)

describe('Postfix → Scanwall milter (real Postfix, swaks, SMTP sink)', function () {
  this.timeout(240_000)
  const dir = mkdtempSync(join(tmpdir(), 'scanwall-postfix-'))
  const configFile = join(dir, 'scanwall.json')
  const quarantineKey = randomBytes(32).toString('hex')
  let node: RunningNode | undefined
  let postfix: Postfix | undefined
  let sink: SmtpSink | undefined
  let milterPort = 0
  let smtpPort = 0
  let relayPort = 0

  async function startScanwall (milter: Record<string, unknown> = {}): Promise<void> {
    await node?.stop()
    writeFileSync(configFile, JSON.stringify({
      node: { id: 'pf-node' },
      icap: { port: 0 },
      console: { port: 0 }, // no listener on the default port (suites run side by side)
      clamd: { port: 0 },
      milter: { port: milterPort, ...milter },
      scan: { workers: 1, spoolDir: join(dir, 'spool') },
      quarantine: { enabled: true, dir: join(dir, 'quarantine'), key: quarantineKey },
      stats: { path: join(dir, 'records.sqlite'), flushMs: 50 },
    }))
    node = await startNode(loadConfig({ file: configFile, env: {} }), pino({ level: 'silent' }))
  }

  function mailFile (name: string, text: string): string {
    const file = join(dir, `${name}.eml`)
    writeFileSync(file, text)
    return file
  }

  before(async () => {
    chmodSync(dir, 0o755)
    ;[milterPort, smtpPort, relayPort] = [await freePort(), await freePort(), await freePort()]
    sink = await SmtpSink.start()
    await startScanwall()
    postfix = await Postfix.start({ dir: join(dir, 'postfix'), smtpPort, relayPort, sinkPort: sink.port, milter: `inet:127.0.0.1:${milterPort}` })
  })
  after(async () => {
    await postfix?.stop()
    await node?.stop()
    await sink?.close()
    rmSync(dir, { recursive: true, force: true })
  })

  it('delivers a clean message with X-Virus-Scanned and X-Virus-Status: clean, the forged status replaced', async () => {
    const sent = await swaks(smtpPort, 'alice@example.org', 'bob@example.net', mailFile('clean', textMail('alice@example.org', 'bob@example.net', 'clean', 'hello bob', ['X-Virus-Status: clean (forged outside)'])))
    assert.equal(sent.code, 0, sent.output)
    const [message] = await (sink as SmtpSink).waitFor(1)
    assert.ok(message !== undefined)
    assert.deepEqual(message.to, ['bob@example.net'])
    assert.match(message.data, /^X-Virus-Status: clean\r$/m, message.data)
    assert.doesNotMatch(message.data, /forged outside/)
    assert.match(message.data, /^X-Virus-Scanned: Scanwall \S+ on pf-node\r$/m)
    assert.match(message.data, /hello bob/)
  })

  it('refuses EICAR as a base64 attachment, inside a zip and inside a quoted-printable part with 550 naming the threat', async () => {
    writeFileSync(join(dir, 'eicar.com'), eicar)
    writeFileSync(join(dir, 'notes.txt'), 'notes\n')
    await run('zip', ['-q', '-j', join(dir, 'e.zip'), join(dir, 'notes.txt'), join(dir, 'eicar.com')])
    const mails = {
      base64: eicarMail('mallory@example.com', 'bob@example.net'),
      zip: attachmentMail('mallory@example.com', 'bob@example.net', 'zip', 'e.zip', 'application/zip', readFileSync(join(dir, 'e.zip'))),
      qp: qpMail('mallory@example.com', 'bob@example.net', 'qp'),
    }
    const before = (sink as SmtpSink).messages.length
    for (const [name, mail] of Object.entries(mails)) {
      const sent = await swaks(smtpPort, 'mallory@example.com', 'bob@example.net', mailFile(name, mail))
      assert.notEqual(sent.code, 0, `${name}: ${sent.output}`)
      assert.match(sent.output, /<\*\* +550 5\.7\.1 Message rejected: Eicar\S* found/, `${name}: ${sent.output}`)
    }
    const pattern = /milter-reject: END-OF-MESSAGE .*5\.7\.1 Message rejected: Eicar/
    assert.match(await (postfix as Postfix).logMatching(pattern), pattern)
    assert.equal((sink as SmtpSink).messages.length, before, 'nothing infected was delivered')
    assert.deepEqual(await (postfix as Postfix).queue(), [])
  })

  it('quarantines: the message goes to Postfix\'s hold queue and into Scanwall\'s quarantine', async () => {
    await startScanwall({ actions: { infected: 'quarantine' } })
    const sent = await swaks(smtpPort, 'mallory@example.com', 'carol@example.net', mailFile('held', eicarMail('mallory@example.com', 'carol@example.net')))
    assert.equal(sent.code, 0, sent.output)
    const held = (await (postfix as Postfix).queue()).filter(m => m.queue_name === 'hold')
    assert.equal(held.length, 1, JSON.stringify(await (postfix as Postfix).queue()))
    assert.equal(held[0]?.sender, 'mallory@example.com')
    const { stdout } = await run(process.execPath, [cliMain, 'quarantine', 'list', '--json', '--config', configFile])
    const ours = stdout.trim().split('\n').map(l => JSON.parse(l) as Record<string, unknown>)
    assert.ok(ours.some(e => e['service'] === 'milter' && /Eicar/.test(String(e['threat']))), stdout)
  })

  it('accepts unscanned what the skip lists name (here: the client network), without status headers', async () => {
    await startScanwall({ skip: { networks: ['127.0.0.0/8'] } })
    const count = (sink as SmtpSink).messages.length
    const sent = await swaks(smtpPort, 'ops@example.org', 'bob@example.net', mailFile('skipped', eicarMail('ops@example.org', 'bob@example.net')))
    assert.equal(sent.code, 0, sent.output)
    const messages = await (sink as SmtpSink).waitFor(count + 1)
    assert.doesNotMatch(messages.at(-1)?.data ?? '', /X-Virus-Status/)
    await startScanwall()
  })

  it('defers while Scanwall is stopped (milter_default_action = tempfail), and the message goes through once it is back', async () => {
    await node?.stop()
    node = undefined
    const file = mailFile('later', textMail('dave@example.org', 'erin@example.net', 'later', 'sent while the scanner was down'))
    const deferred = await swaks(smtpPort, 'dave@example.org', 'erin@example.net', file)
    assert.notEqual(deferred.code, 0, deferred.output)
    assert.match(deferred.output, /<\*\* +451 4\.7\.1/, deferred.output)
    assert.deepEqual((await (postfix as Postfix).queue()).filter(m => m.queue_name !== 'hold'), [], 'Postfix took nothing it could lose')
    await startScanwall()
    const count = (sink as SmtpSink).messages.length
    const sent = await swaks(smtpPort, 'dave@example.org', 'erin@example.net', file)
    assert.equal(sent.code, 0, sent.output)
    const messages = await (sink as SmtpSink).waitFor(count + 1)
    assert.match(messages.at(-1)?.data ?? '', /sent while the scanner was down/)
  })

  it('defers a large message during busy hours and delivers it after the window (queue flushed)', async () => {
    await startScanwall({ busy: { windows: ['00:00-24:00'], maxBytes: 50_000 } })
    const count = (sink as SmtpSink).messages.length
    const small = await swaks(relayPort, 'frank@example.org', 'grace@example.net', mailFile('small', textMail('frank@example.org', 'grace@example.net', 'small', 'small one')))
    assert.equal(small.code, 0, small.output)
    await (sink as SmtpSink).waitFor(count + 1)
    const big = await swaks(relayPort, 'frank@example.org', 'grace@example.net', mailFile('big', textMail('frank@example.org', 'grace@example.net', 'big', 'x'.repeat(76).concat('\n').repeat(1500))))
    assert.equal(big.code, 0, big.output)
    let deferred: Awaited<ReturnType<Postfix['queue']>> = []
    for (let i = 0; i < 100 && deferred.length === 0; i++) {
      deferred = (await (postfix as Postfix).queue()).filter(m => m.queue_name === 'deferred')
      if (deferred.length === 0) await new Promise(resolve => setTimeout(resolve, 200))
    }
    assert.equal(deferred.length, 1, (postfix as Postfix).log().split('\n').slice(-10).join('\n'))
    assert.match(deferred[0]?.recipients[0]?.delay_reason ?? '', /452 4\.3\.1 Large messages are deferred during busy hours/)
    const now = new Date()
    const hour = (now.getHours() + 2) % 24
    const window = `${String(hour).padStart(2, '0')}:00-${String((hour + 1) % 24).padStart(2, '0')}:00`
    await startScanwall({ busy: { windows: [window], maxBytes: 50_000 } })
    await (postfix as Postfix).flush()
    const messages = await (sink as SmtpSink).waitFor(count + 2)
    assert.match(messages.at(-1)?.data ?? '', /Subject: big/)
    assert.match(messages.at(-1)?.data ?? '', /^X-Virus-Status: clean\r$/m)
  })
})
