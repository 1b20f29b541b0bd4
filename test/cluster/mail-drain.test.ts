/// Draining the mail instance under SMTP traffic (issue #13, item 7), live: three node namespaces run
/// a `mail` cluster instance whose port is the milter's (VIP .101:7357, beside an `http` one). In
/// the client namespace a real Postfix (Debian's, test/helpers/postfix.ts, its own queue) has
/// `smtpd_milters = inet:VIP:7357` and relays to an SMTP sink there (mail-sink.ts). Messages go in
/// with swaks through Postfix's relay listener, so Postfix owns each one: its smtp client hands it
/// to its own milter-checked smtpd, over cached sessions (a milter connection lives as long as its
/// SMTP session, across messages). First, a drain with a message open (a hand-driven session over
/// a bridge in the client namespace, on the node that also holds Postfix's cached session): the
/// drain waits for it and it is delivered; the idle milter connection closes, so Postfix's next
/// message over the cached session gets 451 4.7.1 and waits in its deferred queue, delivered once
/// through another node after a flush. Then, under load, `scanwall node offline --instance mail`
/// drains one node: its milter connections finish the message they are in and close; a later
/// message on such a session gets Postfix's milter_default_action (tempfail), stays in Postfix's
/// queue and is retried. Asserted: every message accepted by Postfix reaches the sink exactly once, scanned
/// (X-Virus-Status: clean, the node named); the drained node owned mail buckets and scanned mail
/// before, owns none after, accepts no new milter connection and holds none open; its http
/// instance keeps its buckets. Deferrals (retried) are counted and printed, not hidden.
import assert from 'node:assert/strict'
import { fileURLToPath } from 'node:url'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { chmodSync, existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { Duplex } from 'node:stream'
import { TestBed, inNs, sh, type BedInstance } from './testbed.js'
import { Harness, sleep } from './harness.js'
import { Postfix } from '../helpers/postfix.js'
import { SmtpSession } from '../helpers/smtp-session.js'
import { parseOffline } from '../../src/cluster/control-reply.js'

const repo = fileURLToPath(new URL('../../..', import.meta.url))

const milterPort = 7357
const http: BedInstance = { name: 'http', vip: '10.213.0.100', port: 1344, beatPort: 5405 }
const mail: BedInstance = { name: 'mail', vip: '10.213.0.101', port: milterPort, beatPort: 5406 }
/// Ports inside the client namespace (its own loopback: nothing else listens there).
const [smtpPort, relayPort, sinkPort] = [2525, 2526, 2527]

interface Delivered { readonly id: number | null, readonly node: string | null, readonly status: string | null }

describe('cluster: draining the mail instance under SMTP traffic (Postfix in a namespace, network namespaces)', function () {
  this.timeout(300_000)
  const bed = new TestBed(repo, { tag: 'm', instances: [http, mail] })
  const h = new Harness(bed)
  // Postfix's own directories, outside the bed's (0700, with the cluster key): its daemons run as
  // user postfix and must reach them.
  const postfixDir = mkdtempSync(join(tmpdir(), 'scanwall-mail-drain-'))
  let postfix: Postfix | undefined
  let stopSink: (() => Promise<void>) | undefined
  const delivered: Delivered[] = []

  before(async function () {
    chmodSync(postfixDir, 0o755)
    if (!existsSync('/usr/bin/swaks')) throw new Error('/usr/bin/swaks missing: install Debian package swaks (test/setup-peers.sh)')
    // The milter listens on every address of the node; the mail instance's port is milter.port.
    // A skip list (for a sender no test uses) makes the milter answer MAIL FROM, and Postfix wait for
    // that answer: a 250 to MAIL FROM means the node holds the message.
    await h.setUp(() => ({}), undefined, () => ({ milter: { host: '0.0.0.0', port: milterPort, skip: { senders: ['nobody@skip.invalid'] } } }))
    const sink = bed.spawnIn(bed.clientNs, process.execPath, join(repo, 'dist/test/cluster/mail-sink.js'), String(sinkPort))
    const ready = new Promise<void>((resolve, reject) => {
      createInterface({ input: sink.stdout! }).on('line', line => {
        const record = JSON.parse(line) as Delivered & { ready?: boolean }
        if (record.ready === true) resolve()
        else delivered.push(record)
      })
      sink.once('exit', code => { reject(new Error(`mail sink exited with ${code}`)) })
    })
    await ready
    stopSink = async () => { sink.stdin!.end(); await new Promise(resolve => sink.once('exit', resolve)) }
    postfix = await Postfix.start({
      dir: postfixDir,
      netns: bed.clientNs,
      smtpPort,
      relayPort,
      sinkPort,
      milter: `inet:${mail.vip}:${milterPort}`,
      extraMain: [
        // Postfix's smtp client keeps its sessions to the milter-checked smtpd open across messages,
        // so drained milter connections are met in the middle of SMTP sessions.
        // (At most 5 messages per session: new sessions, from new source ports, spread over the nodes.)
        // (Matched against the next hop's host alone: `[127.0.0.1]:PORT` never matches, and Postfix
        // then quits each session after its message.)
        'smtp_connection_cache_destinations = 127.0.0.1',
        'smtp_connection_reuse_count_limit = 5',
        // An idle cached session (and its milter connection) outlives the drain…
        'smtp_connection_cache_time_limit = 300s',
        'connection_cache_ttl_limit = 300s',
        // …and a 4xx on it defers the message: Postfix's default (2) would try a second session in
        // the same delivery, land on another node and never show the deferral.
        'smtp_mx_session_limit = 1',
        // A deferred message is retried by Postfix itself within seconds (the test flushes too).
        'queue_run_delay = 2s',
        'minimal_backoff_time = 2s',
        'maximal_backoff_time = 4s',
        'in_flow_delay = 0',
      ],
    })
  })

  afterEach(function () { if (this.currentTest?.state === 'failed') h.failed = true })

  after(async function () {
    if (h.failed && postfix !== undefined) console.log(`---- postfix log (tail)\n${postfix.log().split('\n').slice(-30).join('\n')}`)
    await postfix?.stop()
    await stopSink?.()
    await h.tearDown()
    rmSync(postfixDir, { recursive: true, force: true })
  })

  /// Sends messages through Postfix's relay listener (no milter there: Postfix takes each one into
  /// its queue) from `lanes` swaks loops until stopped; returns the ids Postfix accepted.
  function sender (lanes: number): { stop: () => Promise<number[]>, count: () => number } {
    const accepted: number[] = []
    const failures: string[] = []
    let next = 0
    const state = { running: true }
    const lane = async (): Promise<void> => {
      while (state.running) {
        const id = ++next
        try {
          await inNs(bed.clientNs, 'swaks', '--server', '127.0.0.1', '--port', String(relayPort), '--from', 'alice@example.org', '--to', 'bob@example.net',
            '--add-header', `X-Load-Id: ${id}`, '--body', `message ${id} while a node drains`, '--hide-all', '--timeout', '60')
          accepted.push(id)
        } catch (err) {
          failures.push(`${id}: ${String(err).split('\n')[0]}`)
        }
      }
    }
    const lanesDone = Promise.all(Array.from({ length: lanes }, lane))
    return {
      count: () => accepted.length,
      stop: async () => {
        state.running = false
        await lanesDone
        assert.deepEqual(failures, [], 'Postfix refused a submission')
        return accepted
      },
    }
  }

  const byNode = (records: readonly Delivered[]): Record<string, number> => {
    const counts: Record<string, number> = {}
    for (const r of records) counts[r.node ?? 'unscanned'] = (counts[r.node ?? 'unscanned'] ?? 0) + 1
    return counts
  }

  /// A hand-driven SMTP session to Postfix's milter-checked listener in the client namespace, over
  /// a bridge process there (stdin and stdout to a TCP connection).
  const bridge = "const s=require('net').connect(Number(process.argv[1]),'127.0.0.1');process.stdin.pipe(s);s.pipe(process.stdout);s.on('close',()=>process.exit(0));s.on('error',()=>process.exit(1))"
  async function nsSession (): Promise<SmtpSession> {
    const child = bed.spawnIn(bed.clientNs, process.execPath, '-e', bridge, String(smtpPort))
    const stream = Duplex.from({ readable: child.stdout!, writable: child.stdin! })
    return await SmtpSession.over(stream)
  }

  async function until (what: string, done: () => boolean | Promise<boolean>, timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs
    while (!await done()) {
      if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
      await sleep(100)
    }
  }

  async function relay (id: number): Promise<void> {
    await inNs(bed.clientNs, 'swaks', '--server', '127.0.0.1', '--port', String(relayPort), '--from', 'alice@example.org', '--to', 'bob@example.net',
      '--add-header', `X-Load-Id: ${id}`, '--body', `message ${id}`, '--hide-all', '--timeout', '60')
  }

  const milterConnections = async (): Promise<number[]> => await Promise.all(bed.nodes.map(async n => await bed.established(n, mail)))
  const sum = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0)

  it('drains with a message open: the message finishes on the drained node, the next one on its session gets 451 4.7.1, Postfix defers what it owns and delivers it once after', async () => {
    const pf = postfix as Postfix
    const [cachedId, openId, deferredId] = [900_000, 900_001, 900_002]
    // One message through Postfix's own smtp client: its session to the milter-checked listener
    // stays cached, and with it a milter connection on the node that scanned the message.
    await relay(cachedId)
    await until('the first relay message at the sink', () => delivered.some(d => d.id === cachedId), 60_000)
    const victimName = delivered.find(d => d.id === cachedId)?.node
    const victim = bed.nodes.find(n => n.name === victimName)
    assert.ok(victim !== undefined, `the message was scanned by no known node: ${victimName ?? 'none'}`)
    await until('the cached session\'s milter connection', async () => sum(await milterConnections()) === 1 && await bed.established(victim, mail) === 1)
    // A session of our own whose milter connection is on the same node (its source port decides
    // the node: new sessions until one lands there), left in the middle of a message.
    let session: SmtpSession | undefined
    for (let tries = 0; tries < 30 && session === undefined; tries++) {
      const s = await nsSession()
      assert.equal((await s.command('EHLO client.scanwall.test')).code, 250)
      const answer = await s.command('MAIL FROM:<alice@example.org>')
      assert.equal(answer.code, 250, answer.text)
      await until('the new session\'s milter connection', async () => sum(await milterConnections()) === 2)
      if (await bed.established(victim, mail) === 2) session = s
      else {
        await s.command('QUIT')
        s.close()
        await until('the other node to close that milter connection', async () => sum(await milterConnections()) === 1)
      }
    }
    assert.ok(session !== undefined, `no SMTP session of 30 got its milter connection on ${victim.name}`)
    assert.equal((await session.command('RCPT TO:<bob@example.net>')).code, 250)
    assert.equal((await session.command('DATA')).code, 354)
    session.write(`From: <alice@example.org>\r\nTo: <bob@example.net>\r\nSubject: open\r\nX-Load-Id: ${openId}\r\n\r\nfirst half,\r\n`)
    const logBefore = pf.log().length
    let offlineDone = false
    const offline = sh(process.execPath, h.cli, 'node', 'offline', '--config', victim.config, '--instance', mail.name).finally(() => { offlineDone = true })
    // The buckets go at once; the idle milter connection closes; the open one stays, and so the
    // drain is not over.
    await until('the victim to give its mail buckets away', async () => ((await h.status(victim))['mail']?.owned.length ?? -1) === 0)
    await until('the idle milter connection to close', async () => await bed.established(victim, mail) === 1)
    assert.equal(offlineDone, false, '`node offline` returned while a message was open on the node')
    // Postfix's next message over its cached session meets the closed milter connection.
    await relay(deferredId)
    let reason = ''
    await until('the relay message in Postfix\'s deferred queue', async () => {
      const deferred = (await pf.queue()).filter(m => m.queue_name === 'deferred')
      reason = deferred[0]?.recipients[0]?.delay_reason ?? ''
      return deferred.length === 1
    }, 60_000)
    assert.match(reason, /4\.7\.1/)
    // The open message ends: scanned by the drained node, delivered; then the drain is over.
    session.write('second half, after the drain began.\r\n.\r\n')
    const end = await session.reply(120_000)
    assert.equal(end.code, 250, `the open message was not taken: ${end.code} ${end.text}`)
    const result = parseOffline(JSON.parse(await offline))
    assert.ok('drained' in result && result.drained, JSON.stringify(result))
    const next = await session.command('MAIL FROM:<alice@example.org>')
    assert.equal(next.code, 451, next.text)
    assert.match(next.text, /4\.7\.1/)
    await session.command('QUIT').catch(() => undefined)
    session.close()
    const log = pf.log().slice(logBefore)
    assert.match(log, /milter-reject: MAIL from \S+: 451 4\.7\.1 /, log)
    assert.match(log, /status=deferred \(.*4\.7\.1/, log)
    await pf.flush()
    await until('every message at the sink', () => [cachedId, openId, deferredId].every(id => delivered.some(d => d.id === id)), 120_000)
    await until('Postfix\'s queue to empty', async () => (await pf.queue()).length === 0, 60_000)
    const of = (id: number): Delivered[] => delivered.filter(d => d.id === id)
    assert.deepEqual(of(cachedId), [{ id: cachedId, node: victim.name, status: 'clean' }])
    assert.deepEqual(of(openId), [{ id: openId, node: victim.name, status: 'clean' }], 'the open message was not finished by the drained node')
    assert.equal(of(deferredId).length, 1, 'the deferred message was not delivered exactly once')
    assert.notEqual(of(deferredId)[0]?.node, victim.name, 'the drained node scanned the retried message')
    assert.equal(of(deferredId)[0]?.status, 'clean')
    console.log(`    drained ${victim.name} with a message open: it finished there; Postfix deferred the next one (${reason}) and delivered it via ${of(deferredId)[0]?.node ?? '?'} after a flush`)
    await sh(process.execPath, h.cli, 'node', 'online', '--config', victim.config, '--instance', mail.name)
    await h.settled(bed.nodes.map(n => n.name), 15_000, mail)
  })

  it('loses no message while `node offline --instance mail` drains a node: each one is delivered exactly once, deferrals retried by Postfix', async () => {
    const victim = bed.nodes[1]!
    const pf = postfix as Postfix
    delivered.length = 0 // this test counts its own messages only
    const before = (await h.status(victim))['mail']?.owned.length ?? 0
    assert.ok(before > 0, 'the victim owned no mail buckets to begin with')
    const load = sender(4)
    // Until every node has scanned mail (sessions spread by their source ports), at most 60 s.
    for (let waited = 0; waited < 60_000 && !bed.nodes.every(n => delivered.some(d => d.node === n.name)); waited += 250) await sleep(250)
    // Drain while the victim holds milter connections (cached SMTP sessions keep theirs open between
    // messages): the case where a session meets its milter gone and Postfix must defer and retry.
    let openAtDrain = 0
    for (let waited = 0; waited < 30_000 && (openAtDrain = await bed.established(victim, mail)) === 0; waited += 100) await sleep(100)
    const beforeDrain = byNode(delivered)
    const out = await sh(process.execPath, h.cli, 'node', 'offline', '--config', victim.config, '--instance', mail.name)
    const result = parseOffline(JSON.parse(out))
    const drainedAt = delivered.length
    await bed.resetServed()
    // Traffic goes on after the drain; the victim must take none of it.
    const sentAtDrain = load.count()
    for (let waited = 0; waited < 30_000 && load.count() < sentAtDrain + 20; waited += 250) await sleep(250)
    const whileOut = { mail: (await bed.served(victim, mail)).size, open: await bed.established(victim, mail) }
    const view = await h.status(victim)
    const ids = await load.stop()
    // Postfix retries deferred mail by itself (2 s backoff); a flush now and then makes it sooner.
    for (let waited = 0; waited < 120_000 && new Set(delivered.map(d => d.id)).size < ids.length; waited += 1000) {
      if (waited % 5000 === 0) await pf.flush()
      await sleep(1000)
    }
    const log = pf.log()
    const deferred = (log.match(/status=deferred/g) ?? []).length
    const milterTempfails = log.split('\n').filter(l => l.includes('milter-reject') && / 4\d\d /.test(l)).length
    // (Delivered after the drain: some were scanned by the victim just before it, in flight.)
    const afterDrain = byNode(delivered.slice(drainedAt))
    console.log(`    drained ${victim.name} (mail) in ${'ms' in result ? result.ms : '?'} ms, ${before} buckets and ${openAtDrain} milter connections before; ${ids.length} messages accepted by Postfix, ` +
      `${delivered.length} delivered; scanned by node before the drain ${JSON.stringify(beforeDrain)}, after it ${JSON.stringify(afterDrain)}; ` +
      `Postfix deferred ${deferred} delivery attempts (${milterTempfails} milter tempfails), all retried; while out ${victim.name} accepted ${whileOut.mail} mail connections, ${whileOut.open} open`)
    assert.ok('drained' in result && result.drained, out)
    assert.ok((beforeDrain[victim.name] ?? 0) > 0 && openAtDrain > 0, 'the victim scanned no mail or held no milter connection when drained: the drain proved nothing')
    // Every accepted message exactly once, scanned and clean; nothing left in Postfix's queue.
    const counts = new Map<number | null, number>()
    for (const d of delivered) counts.set(d.id, (counts.get(d.id) ?? 0) + 1)
    assert.deepEqual(ids.filter(id => counts.get(id) !== 1).map(id => `${id}×${counts.get(id) ?? 0}`), [], 'a message was lost or delivered twice')
    assert.equal(delivered.length, ids.length, 'the sink got messages nobody sent')
    assert.deepEqual(delivered.filter(d => d.status !== 'clean' || d.node === null), [], 'a message went through unscanned')
    assert.deepEqual((await pf.queue()).map(m => `${m.queue_name} ${m.queue_id}`), [], 'mail left in Postfix\'s queue')
    // The drained node: no mail buckets, no new mail connection, none open; http untouched.
    assert.equal(view['mail']?.owned.length, 0, 'the drained node still owns mail buckets')
    assert.ok((view['http']?.owned.length ?? 0) > 0, 'the drain took the http instance too')
    assert.equal(whileOut.mail, 0, 'the drained node accepted new milter connections')
    assert.equal(whileOut.open, 0, 'the drained node still holds milter connections')
    await sh(process.execPath, h.cli, 'node', 'online', '--config', victim.config, '--instance', mail.name)
    await h.settled(bed.nodes.map(n => n.name), 15_000, mail)
    const back = (await h.status(victim))['mail']?.owned.length ?? 0
    assert.ok(back > 0, 'the node did not get its mail buckets back')
  })
})
