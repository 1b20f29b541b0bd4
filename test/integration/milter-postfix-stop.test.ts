/// Scanwall stopped behind a real Postfix, with a message in the middle of its transaction (issue
/// #13: "Scanwall stopped → Postfix defers, nothing is lost"). The node is the real `scanwall start`
/// (a child process), so it is stopped the ways an operator or a crash stops it: SIGTERM (graceful:
/// the milter drains) and SIGKILL. A hand-driven SMTP session (test/helpers/smtp-session.ts) holds a
/// message open at Postfix's milter-checked listener (MAIL FROM answered by the milter, DATA begun,
/// the body not ended) while the node is stopped; a second message goes in through Postfix's relay
/// listener, so Postfix itself owns it and must queue it. Asserted on the SMTP replies, Postfix's
/// log (`milter-reject … 4.7.1`, `status=deferred … 4.7.1`), its queue and the sink (Message-IDs):
/// - SIGTERM: the drained milter takes no new connection, lets the open message finish (scanned,
///   delivered), then closes; the next message on that SMTP session gets 451 4.7.1; the relay
///   message is deferred and, after a restart and a queue flush, delivered once.
/// - SIGKILL: the open message gets 451 4.7.1 at the end of DATA (Postfix queues nothing); the
///   client sends it again after the restart; the relay message waits in Postfix's deferred queue;
///   each is delivered exactly once.
import assert from 'node:assert/strict'
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freePort } from '../helpers/ports.js'
import { Postfix, swaks } from '../helpers/postfix.js'
import { SmtpSink } from '../helpers/smtp-sink.js'
import { SmtpSession } from '../helpers/smtp-session.js'
import { startScanwallNode, type ScanwallNode } from '../helpers/scanwall-node.js'

const from = 'dave@example.org'
const to = 'erin@example.net'

/// A message whose Message-ID says which one it is (the sink counts deliveries by it).
const message = (id: string, body: string): string =>
  [`From: <${from}>`, `To: <${to}>`, `Subject: ${id}`, `Message-ID: <${id}@scanwall.test>`, '', body, ''].join('\r\n')

async function until (what: string, done: () => boolean | Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!await done()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise(resolve => setTimeout(resolve, 100))
  }
}

/// True when a TCP connect to the port is refused (nothing listens).
async function refused (port: number): Promise<boolean> {
  return await new Promise<boolean>(resolve => {
    const socket = connect({ host: '127.0.0.1', port })
    socket.once('connect', () => { socket.destroy(); resolve(false) })
    socket.once('error', () => { socket.destroy(); resolve(true) })
  })
}

describe('Postfix → Scanwall stopped mid-transaction (SIGTERM, SIGKILL): Postfix defers, nothing is lost', function () {
  this.timeout(300_000)
  const dir = mkdtempSync(join(tmpdir(), 'scanwall-postfix-stop-'))
  const configFile = join(dir, 'scanwall.json')
  let node: ScanwallNode | undefined
  let postfix: Postfix | undefined
  let sink: SmtpSink | undefined
  let milterPort = 0
  let smtpPort = 0
  let relayPort = 0
  let boots = 0

  /// A fresh node process on the same milter port. A skip list is set (for a sender no test uses)
  /// so that the milter answers MAIL FROM and Postfix waits for that answer: once the SMTP client
  /// has its 250, the node holds the message (no race with the stop).
  async function startScanwall (): Promise<ScanwallNode> {
    boots++
    writeFileSync(configFile, JSON.stringify({
      milter: { port: milterPort, skip: { senders: ['nobody@skip.invalid'] } },
      // Long enough for the test to end the open message after SIGTERM.
      shutdown: { graceMs: 120_000 },
    }))
    node = await startScanwallNode({
      dir,
      args: ['--config', configFile],
      env: { SCANWALL_NODE_ID: `stop-node-${boots}`, SCANWALL_MILTER_PORT: String(milterPort), SCANWALL_SCAN_WORKERS: '1', SCANWALL_SNMP_ENABLED: 'false', SCANWALL_LOG_LEVEL: 'info' },
      startTimeoutMs: 60_000,
    })
    await until('the milter port', async () => !await refused(milterPort))
    return node
  }

  /// How many times the sink got the message with this Message-ID, and the node that scanned it.
  const deliveries = (id: string): Array<{ node: string | undefined, status: string | undefined }> =>
    (sink?.messages ?? []).filter(m => m.data.includes(`Message-ID: <${id}@scanwall.test>`)).map(m => ({
      node: /^X-Virus-Scanned: Scanwall \S+ on (\S+)\r$/m.exec(m.data)?.[1],
      status: /^X-Virus-Status: ([^\r\n]*)/m.exec(m.data)?.[1],
    }))

  /// Opens a session at the milter-checked listener and leaves a message in the middle of DATA.
  async function openMessage (id: string): Promise<SmtpSession> {
    const session = await SmtpSession.open(smtpPort)
    assert.equal((await session.command('EHLO client.scanwall.test')).code, 250)
    // The milter answers MAIL FROM (skip lists set): this 250 means the node holds the message.
    const mail = await session.command(`MAIL FROM:<${from}>`)
    assert.equal(mail.code, 250, mail.text)
    assert.equal((await session.command(`RCPT TO:<${to}>`)).code, 250)
    assert.equal((await session.command('DATA')).code, 354)
    session.write(message(id, 'first half of the body,\r\n'))
    return session
  }

  /// Ends the open message's body; the reply is Postfix's (after the milter's verdict, or its failure).
  async function endMessage (session: SmtpSession): Promise<{ code: number, text: string }> {
    session.write('second half, sent after the node was told to stop.\r\n.\r\n')
    return await session.reply(120_000)
  }

  /// Waits until Postfix holds the relay message in its deferred queue, and returns why.
  async function deferredReason (): Promise<string> {
    let reason = ''
    await until('the relay message in Postfix\'s deferred queue', async () => {
      const deferred = (await (postfix as Postfix).queue()).filter(m => m.queue_name === 'deferred')
      reason = deferred[0]?.recipients[0]?.delay_reason ?? ''
      return deferred.length === 1
    }, 120_000)
    return reason
  }

  /// Mail Postfix owns while the scanner is down: taken by the relay listener, refused by the
  /// milter-checked one (4.7.1) and kept deferred. Returns Postfix's log since `logBefore`.
  async function relayDeferred (id: string, logBefore: number): Promise<string> {
    const file = join(dir, `${id}.eml`)
    writeFileSync(file, message(id, 'sent through the relay listener while the scanner was down'))
    const sent = await swaks(relayPort, from, to, file)
    assert.equal(sent.code, 0, sent.output)
    assert.match(await deferredReason(), /4\.7\.1/)
    const log = (postfix as Postfix).log().slice(logBefore)
    assert.match(log, /status=deferred \(.*4\.7\.1/, log)
    return log
  }

  before(async () => {
    chmodSync(dir, 0o755)
    ;[milterPort, smtpPort, relayPort] = [await freePort(), await freePort(), await freePort()]
    sink = await SmtpSink.start()
    await startScanwall()
    postfix = await Postfix.start({ dir: join(dir, 'postfix'), smtpPort, relayPort, sinkPort: sink.port, milter: `inet:127.0.0.1:${milterPort}` })
  })

  afterEach(function () {
    if (this.currentTest?.state === 'failed') {
      console.log(`---- postfix log (tail)\n${postfix?.log().split('\n').slice(-25).join('\n') ?? ''}`)
      console.log(`---- scanwall log (tail)\n${node?.daemon.tail(3000) ?? ''}`)
    }
  })

  after(async () => {
    await postfix?.stop()
    await node?.daemon.stop(5_000)
    await sink?.close()
    rmSync(dir, { recursive: true, force: true })
  })

  it('SIGTERM: the open message finishes and is delivered, the next one on that session gets 451 4.7.1, the relay message is deferred and delivered once after the restart', async () => {
    const pf = postfix as Postfix
    const stopped = node as ScanwallNode
    const session = await openMessage('term-open')
    const logBefore = pf.log().length
    stopped.daemon.child.kill('SIGTERM')
    // The drained milter stops listening at once, while the open message keeps the process alive.
    await until('the milter listener to close', async () => await refused(milterPort))
    assert.ok(stopped.daemon.alive, 'the node exited with a message open on its milter connection')
    const end = await endMessage(session)
    assert.equal(end.code, 250, `the open message was not taken: ${end.code} ${end.text}`)
    await until('the open message at the sink', () => deliveries('term-open').length > 0)
    assert.deepEqual(deliveries('term-open'), [{ node: 'stop-node-1', status: 'clean' }])
    const exit = await stopped.daemon.exited
    assert.equal(exit.code, 0, `the node did not end cleanly after SIGTERM: ${JSON.stringify(exit)}`)
    // The same SMTP session, its milter connection gone: Postfix applies milter_default_action.
    const next = await session.command(`MAIL FROM:<${from}>`)
    assert.equal(next.code, 451, next.text)
    assert.match(next.text, /4\.7\.1/)
    await session.command('QUIT').catch(() => undefined)
    session.close()
    const log = await relayDeferred('term-relay', logBefore)
    assert.match(log, /milter-reject: MAIL from \S+: 451 4\.7\.1 /, log)
    assert.deepEqual(deliveries('term-relay'), [], 'delivered while the scanner was down')
    await startScanwall()
    await pf.flush()
    await until('the relay message at the sink', () => deliveries('term-relay').length > 0, 120_000)
    await until('Postfix\'s queue to empty', async () => (await pf.queue()).length === 0, 60_000)
    assert.deepEqual(deliveries('term-relay'), [{ node: 'stop-node-2', status: 'clean' }])
    assert.equal(deliveries('term-open').length, 1)
  })

  it('SIGKILL: the open message gets 451 4.7.1 (nothing queued), the relay message is deferred; after the restart each is delivered exactly once', async () => {
    const pf = postfix as Postfix
    const killed = node as ScanwallNode
    const session = await openMessage('kill-open')
    const logBefore = pf.log().length
    killed.daemon.child.kill('SIGKILL')
    assert.equal((await killed.daemon.exited).signal, 'SIGKILL')
    const end = await endMessage(session)
    assert.equal(end.code, 451, `the open message was not deferred: ${end.code} ${end.text}`)
    assert.match(end.text, /4\.7\.1/)
    session.close()
    assert.deepEqual((await pf.queue()).map(m => `${m.queue_name} ${m.queue_id}`), [], 'Postfix kept a message it answered 451 to')
    const log = await relayDeferred('kill-relay', logBefore)
    assert.match(log, /milter-reject: END-OF-MESSAGE from \S+: (451 )?4\.7\.1 /, log)
    assert.deepEqual([...deliveries('kill-open'), ...deliveries('kill-relay')], [], 'delivered while the scanner was down')
    await startScanwall()
    // The SMTP client keeps what got a 4xx and sends it again (here: the test, as a client would).
    const again = await openMessage('kill-open')
    assert.equal((await endMessage(again)).code, 250)
    await again.command('QUIT').catch(() => undefined)
    again.close()
    await pf.flush()
    await until('both messages at the sink', () => deliveries('kill-open').length > 0 && deliveries('kill-relay').length > 0, 120_000)
    await until('Postfix\'s queue to empty', async () => (await pf.queue()).length === 0, 60_000)
    assert.deepEqual(deliveries('kill-open'), [{ node: 'stop-node-3', status: 'clean' }])
    assert.deepEqual(deliveries('kill-relay'), [{ node: 'stop-node-3', status: 'clean' }])
  })
})
