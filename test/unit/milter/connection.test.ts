/// The milter server over real loopback sockets with a test handler that records what it is given:
/// negotiation (the steps and actions taken, the macros asked, MAIL FROM freed when the handler
/// gives no verdict there), no replies where none are due, the message rebuilt byte for byte,
/// several messages per connection, early verdicts at MAIL FROM, modifications the MTA did not
/// grant left out, progress while a verdict takes long, the limits, a malformed packet closing only
/// its own connection, drain, and the unix socket.
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { MilterServer, type MilterAnswer, type MilterEnvelope, type MilterHandler, type MessageSummary, type VerdictReply } from '../../../protocols/milter/index.js'
import { MilterClient, messagePackets, mta, show } from '../../helpers/milter-client.js'

interface Seen { envelope: MilterEnvelope, summary: MessageSummary, bytes: Buffer }

class TestHandler implements MilterHandler {
  readonly seen: Seen[] = []
  discarded = 0
  early: VerdictReply | undefined
  answer: MilterAnswer = { verdict: { kind: 'accept' } }
  delayMs = 0
  mail (): VerdictReply | undefined { return this.early }
  openMessage (): ReturnType<MilterHandler['openMessage']> {
    const chunks: Buffer[] = []
    return {
      write: bytes => { chunks.push(Buffer.from(bytes)); return undefined },
      finish: async (envelope, summary) => {
        this.seen.push({ envelope, summary, bytes: Buffer.concat(chunks) })
        if (this.delayMs > 0) await new Promise(resolve => setTimeout(resolve, this.delayMs))
        return this.answer
      },
      discard: async () => { this.discarded++ },
    }
  }
}

const message = 'From: alice@example.org\r\nSubject: test\r\nX-Virus-Status: forged\r\n\r\nhello\r\n'
const limits = { maxPacketBytes: 70_000, maxHeaders: 50, maxMessageBytes: 1_000_000 }

async function start (handler: MilterHandler, extra: Partial<ConstructorParameters<typeof MilterServer>[0]> = {}): Promise<{ server: MilterServer, port: number }> {
  const server = new MilterServer({ host: '127.0.0.1', port: 0, socket: undefined, maxConnections: 10, limits, idleTimeoutMs: 10_000, progressMs: 50, macros: { connect: ['j', '{client_addr}'], eom: ['i'] }, ...extra }, handler)
  const address = await server.listen()
  return { server, port: address?.port ?? 0 }
}

const envelope = (): Buffer[] => [mta.optneg(), mta.macros('C', { j: 'mx' }), mta.connect('c.example', '192.0.2.9'), mta.helo('c.example'), mta.mail('<alice@example.org>'), mta.rcpt('<bob@example.net>'), mta.rcpt('<carol@example.net>')]

describe('milter connection', function () {
  this.timeout(30_000)
  let server: MilterServer | undefined
  afterEach(async () => { await server?.close(0); server = undefined })

  it('negotiates the steps it needs, answers only MAIL FROM, DATA and the end, and rebuilds the message', async () => {
    const handler = new TestHandler()
    const s = await start(handler)
    server = s.server
    const client = await MilterClient.open({ port: s.port })
    // DATA is asked for (no NODATA) and answered: connection.ts says why (Nagle and delayed ACKs).
    client.write(...envelope(), mta.data(), mta.macros('E', { i: 'Q1' }), ...messagePackets(message))
    const replies = await client.replies(4)
    assert.deepEqual(replies.map(show), ['O version=6 actions=0x31 steps=0x1cb180 0="j {client_addr}" 5="i"', 'c', 'c', 'a'])
    const seen = handler.seen[0]
    assert.ok(seen !== undefined)
    assert.equal(seen.bytes.toString('latin1'), message)
    assert.equal(seen.summary.size, Buffer.byteLength(message))
    assert.deepEqual(seen.summary.headers.map(h => h.name), ['From', 'Subject', 'X-Virus-Status'])
    assert.deepEqual(seen.envelope.recipients, ['<bob@example.net>', '<carol@example.net>'])
    assert.equal(seen.envelope.sender, '<alice@example.org>')
    assert.equal(seen.envelope.client?.address, '192.0.2.9')
    assert.equal(seen.envelope.macros.get('i'), 'Q1')
    assert.equal(seen.envelope.macros.get('j'), 'mx')
    client.close()
  })

  it('with no verdicts at MAIL FROM (mailVerdicts false) frees MAIL FROM too: only the end is answered, and mail() is not asked', async () => {
    const handler = new TestHandler()
    handler.early = { kind: 'reject' } // never asked: the message goes on to its end
    const s = await start(handler, { mailVerdicts: false })
    server = s.server
    const client = await MilterClient.open({ port: s.port })
    client.write(...envelope(), ...messagePackets(message))
    const replies = await client.replies(2)
    assert.deepEqual(replies.map(show), ['O version=6 actions=0x31 steps=0x1cf180 0="j {client_addr}" 5="i"', 'a'])
    assert.equal(handler.seen[0]?.bytes.toString('latin1'), message)
    // An MTA that does not grant NR_MAIL still gets its answer to MAIL FROM.
    handler.early = undefined
    const older = await MilterClient.open({ port: s.port })
    older.write(mta.optneg({ version: 6, actions: 0x1ff, steps: 0x1fffff & ~0x4000 }), mta.connect('c', '192.0.2.1'), mta.mail('<a@b>'), ...messagePackets(message))
    assert.deepEqual((await older.replies(3)).map(show).slice(1), ['c', 'a'])
    client.close()
    older.close()
  })

  it('answers every step when the MTA grants no no-reply flags, and adds the leading space itself', async () => {
    const handler = new TestHandler()
    const s = await start(handler)
    server = s.server
    const client = await MilterClient.open({ port: s.port })
    client.write(mta.optneg({ version: 6, actions: 0x1ff, steps: 0 }), mta.connect('c', '192.0.2.1'), mta.helo('c'), mta.mail('<a@b>'), mta.rcpt('<c@d>'),
      mta.header('Subject', 'x'), mta.eoh(), mta.body(Buffer.from('b\r\n')), mta.eom())
    const replies = await client.replies(9)
    assert.deepEqual(replies.map(show), ['O version=6 actions=0x31 steps=0x0 0="j {client_addr}" 5="i"', 'c', 'c', 'c', 'c', 'c', 'c', 'c', 'a'])
    assert.equal(handler.seen[0]?.bytes.toString('latin1'), 'Subject: x\r\n\r\nb\r\n')
    client.close()
  })

  it('passes several messages on one connection, aborted ones thrown away, and skips a message accepted at MAIL FROM', async () => {
    const handler = new TestHandler()
    const s = await start(handler)
    server = s.server
    const client = await MilterClient.open({ port: s.port })
    client.write(...envelope(), ...messagePackets(message), mta.abort(), mta.abort())
    client.write(mta.mail('<x@y>'), mta.rcpt('<z@w>'), mta.header('Subject', ' dropped'), mta.abort())
    client.write(mta.mail('<second@y>'), mta.rcpt('<z@w>'), ...messagePackets('Subject: two\r\n\r\nsecond\r\n'))
    await client.replies(6)
    handler.early = { kind: 'accept' }
    client.write(mta.mail('<skip@y>'), mta.rcpt('<z@w>'))
    const replies = await client.replies(7)
    assert.deepEqual(replies.map(show).slice(1), ['c', 'a', 'c', 'c', 'a', 'a'])
    assert.deepEqual(handler.seen.map(s => s.envelope.sender), ['<alice@example.org>', '<second@y>'])
    assert.equal(handler.seen[1]?.bytes.toString('latin1'), 'Subject: two\r\n\r\nsecond\r\n')
    assert.equal(handler.discarded, 1, 'the aborted message was thrown away')
    client.close()
  })

  it('sends granted modifications before the verdict and leaves out what the MTA did not grant', async () => {
    const handler = new TestHandler()
    handler.answer = {
      verdict: { kind: 'reply', code: '550', text: '5.7.1 Virus found: Eicar-Test 100%' },
      modifications: [{ kind: 'changeHeader', index: 1, name: 'X-Virus-Status', value: 'infected' }, { kind: 'addHeader', name: 'X-Virus-Scanned', value: 'Scanwall' }, { kind: 'quarantine', reason: 'virus' }],
    }
    const s = await start(handler)
    server = s.server
    const a = await MilterClient.open({ port: s.port })
    a.write(...envelope(), ...messagePackets(message))
    assert.deepEqual((await a.replies(6)).map(show).slice(2), ['m 1 ["X-Virus-Status"," infected"]', 'h ["X-Virus-Scanned"," Scanwall"]', 'q ["virus"]', 'y ["550 5.7.1 Virus found: Eicar-Test 100%%"]'])
    const b = await MilterClient.open({ port: s.port })
    b.write(mta.optneg({ version: 6, actions: 0x01, steps: 0x0fffff }), mta.mail('<a@b>'), ...messagePackets(message))
    assert.deepEqual((await b.replies(4)).map(show).slice(2), ['h ["X-Virus-Scanned","Scanwall"]', 'y ["550 5.7.1 Virus found: Eicar-Test 100%%"]'])
    a.close()
    b.close()
  })

  it('sends progress while the verdict takes long', async () => {
    const handler = new TestHandler()
    handler.delayMs = 400
    const s = await start(handler)
    server = s.server
    const client = await MilterClient.open({ port: s.port })
    client.write(...envelope(), ...messagePackets(message))
    const deadline = Date.now() + 5_000
    while (client.packets.at(-1)?.command !== 'a' && Date.now() < deadline) await client.replies(client.packets.length + 1, 5_000)
    const replies = client.packets.map(show)
    assert.equal(replies.at(-1), 'a')
    assert.ok(replies.filter(r => r === 'p').length >= 2, replies.join(' '))
    client.close()
  })

  it('marks a message past the header count or the size limit, and stops writing it', async () => {
    const handler = new TestHandler()
    const s = await start(handler)
    server = s.server
    const client = await MilterClient.open({ port: s.port })
    const many = Array.from({ length: 60 }, (_, i) => `X-H${i}: v`).join('\r\n')
    client.write(...envelope(), ...messagePackets(`${many}\r\n\r\nbody\r\n`))
    client.write(mta.mail('<a@b>'), ...messagePackets(`Subject: big\r\n\r\n${'x'.repeat(1_100_000)}\r\n`))
    await client.replies(5)
    assert.equal(handler.seen[0]?.summary.overLimit, 'headers')
    assert.equal(handler.seen[0]?.summary.headers.length, 50)
    assert.equal(handler.seen[1]?.summary.overLimit, 'size')
    assert.ok((handler.seen[1]?.bytes.length ?? 0) <= limits.maxMessageBytes)
    assert.ok((handler.seen[1]?.summary.size ?? 0) > limits.maxMessageBytes)
    client.close()
  })

  it('closes a connection that sends a malformed or oversized packet, and only that one', async () => {
    const handler = new TestHandler()
    const s = await start(handler)
    server = s.server
    const errors: string[] = []
    s.server.on('protocolError', e => errors.push(e.reason))
    const good = await MilterClient.open({ port: s.port })
    good.write(...envelope())
    await good.replies(2)
    for (const bad of [Buffer.from([0, 0, 0, 0]), Buffer.from([0, 0x10, 0, 0, 0x42]), Buffer.from('GET / HTTP/1.1\r\n\r\n'), mta.helo('before negotiation')]) {
      const client = await MilterClient.open({ port: s.port })
      client.write(bad)
      await client.closedByServer()
    }
    assert.equal(errors.length, 4, errors.join('; '))
    good.write(...messagePackets(message))
    assert.equal((await good.replies(3)).map(show).at(-1), 'a', 'the good connection goes on')
    good.close()
  })

  it('drains: the message in progress is answered, then the connection closes; new connections are refused', async () => {
    const handler = new TestHandler()
    handler.delayMs = 200
    const s = await start(handler)
    server = s.server
    const busy = await MilterClient.open({ port: s.port })
    const idle = await MilterClient.open({ port: s.port })
    idle.write(mta.optneg())
    await idle.replies(1)
    busy.write(...envelope(), ...messagePackets(message))
    await busy.replies(2)
    await new Promise(resolve => setTimeout(resolve, 50))
    s.server.drain()
    await idle.closedByServer()
    await busy.closedByServer()
    assert.equal(busy.packets.map(show).at(-1), 'a')
    const late = await MilterClient.open({ port: s.port })
    await late.closedByServer()
  })

  it('listens on a unix socket', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'milter-'))
    try {
      const handler = new TestHandler()
      const s = await start(handler, { port: undefined, socket: join(dir, 'milter.sock') })
      server = s.server
      const client = await MilterClient.open({ path: join(dir, 'milter.sock') })
      client.write(...envelope(), ...messagePackets(message))
      assert.equal((await client.replies(3)).map(show).at(-1), 'a')
      assert.equal(handler.seen[0]?.envelope.listener, 'unix')
      client.close()
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
