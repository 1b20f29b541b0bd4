/// The milter parser alone: a whole SMTP session's packets give the same commands in one buffer
/// and cut at every byte; every command decoded; the packet limit checked on the length, before
/// the data; malformed packets stop the parser with a reason.
import assert from 'node:assert/strict'
import { MilterParser, packet, type MilterEvent } from '../../../protocols/milter/index.js'
import { mta, messagePackets } from '../../helpers/milter-client.js'

const limits = { maxPacketBytes: 70_000 }

function show (e: MilterEvent): string {
  switch (e.kind) {
    case 'optneg': return `optneg:${e.version}:${e.actions.toString(16)}:${e.steps.toString(16)}`
    case 'macros': return `macros:${e.command}:${JSON.stringify([...e.macros])}`
    case 'connect': return `connect:${e.hostname}:${e.family}:${e.port}:${e.address}`
    case 'helo': return `helo:${e.name}`
    case 'mail':
    case 'rcpt': return `${e.kind}:${e.address}:${e.args.join(',')}`
    case 'header': return `header:${e.name}:${JSON.stringify(e.value)}`
    case 'body':
    case 'eom': return `${e.kind}:${Buffer.from(e.bytes).toString('latin1')}`
    case 'unknown': return `unknown:${e.line}`
    case 'malformed': return `malformed:${e.reason}`
    case 'abort':
    case 'data':
    case 'eoh':
    case 'quit':
    case 'quitNewConnection': return e.kind
  }
}

function run (pieces: readonly Uint8Array[]): string[] {
  const p = new MilterParser(limits)
  return pieces.flatMap(piece => p.push(piece).map(show))
}

const session = Buffer.concat([
  mta.optneg(),
  mta.macros('C', { j: 'mx.example', '{daemon_name}': 'smtpd' }),
  mta.connect('client.example', '192.0.2.7', 40000),
  mta.helo('client.example'),
  mta.macros('M', { i: 'ABC123', '{auth_authen}': 'alice' }),
  mta.mail('<alice@example.org>', 'SIZE=120', 'BODY=8BITMIME'),
  mta.rcpt('<bob@example.net>'),
  ...messagePackets('Subject: hi\r\nX-Folded: a\r\n\tb\r\n\r\nline one\r\nline two\r\n'),
  mta.abort(),
  mta.quit(),
])

const expected = [
  'optneg:6:1ff:1fffff',
  'macros:C:[["j","mx.example"],["daemon_name","smtpd"]]',
  'connect:client.example:inet:40000:192.0.2.7',
  'helo:client.example',
  'macros:M:[["i","ABC123"],["auth_authen","alice"]]',
  'mail:<alice@example.org>:SIZE=120,BODY=8BITMIME',
  'rcpt:<bob@example.net>:',
  'header:Subject:" hi"',
  'header:X-Folded:" a\\r\\n\\tb"',
  'eoh',
  'body:line one\r\nline two\r\n',
  'eom:',
  'abort',
  'quit',
]

describe('milter parser', () => {
  it('decodes a whole session given in one buffer', () => {
    assert.deepEqual(run([session]), expected)
  })

  it('gives the same commands byte by byte and at every single cut', () => {
    const bodyJoined = (events: string[]): string[] => events.reduce<string[]>((out, e) => {
      const last = out.at(-1)
      if (e.startsWith('body:') && last?.startsWith('body:') === true) out[out.length - 1] = last + e.slice(5)
      else out.push(e)
      return out
    }, [])
    assert.deepEqual(bodyJoined(run([...session].map(b => Uint8Array.of(b)))), expected)
    for (let cut = 1; cut < session.length; cut++) assert.deepEqual(run([session.subarray(0, cut), session.subarray(cut)]), expected, `cut at ${cut}`)
  })

  it('reads connect for IPv6, unix and unknown families', () => {
    assert.deepEqual(run([mta.connect('h6', '2001:db8::1', 25)]), ['connect:h6:inet6:25:2001:db8::1'])
    const unix = packet(0x43, Buffer.concat([Buffer.from('localhost\0L'), Buffer.from([0, 0]), Buffer.from('/run/x\0')]))
    assert.deepEqual(run([unix]), ['connect:localhost:unix:0:/run/x'])
    assert.deepEqual(run([packet(0x43, Buffer.from('unknown\0U'))]), ['connect:unknown:unknown:0:'])
  })

  it('refuses a packet over the limit from its length alone, before any data arrives', () => {
    const header = Buffer.alloc(4)
    header.writeUInt32BE(limits.maxPacketBytes + 1)
    assert.deepEqual(run([header]), [`malformed:packet of ${limits.maxPacketBytes + 1} bytes over the limit of ${limits.maxPacketBytes}`])
  })

  it('stops at malformed packets, with what came before kept', () => {
    const cases: Array<[Buffer, string]> = [
      [Buffer.from([0, 0, 0, 0]), 'malformed:zero packet length'],
      [packet(0x5a, Buffer.from('x')), 'malformed:unknown command byte 0x5a'],
      [packet(0x4f, Buffer.alloc(8)), 'malformed:option negotiation shorter than 12 bytes'],
      [packet(0x4c, Buffer.from('Subject\0no nul')), 'malformed:header without name and value'],
      [packet(0x4d, Buffer.alloc(0)), 'malformed:M without its NUL-terminated address'],
      [packet(0x43, Buffer.from('host\0X')), 'malformed:connect with unknown family "X"'],
      [packet(0x43, Buffer.from('host\0' + '4')), 'connect:host:inet:0:'],
    ]
    for (const [bad, reason] of cases) {
      const events = run([Buffer.concat([mta.helo('a'), bad, mta.helo('b')])])
      if (reason.startsWith('malformed')) assert.deepEqual(events, ['helo:a', reason])
      else assert.deepEqual(events, ['helo:a', reason, 'helo:b'])
    }
  })

  it('takes a macro packet for a command it does not know, and an odd trailing name', () => {
    assert.deepEqual(run([packet(0x44, Buffer.from('Zfoo\0bar\0lonely\0'))]), ['macros:Z:[["foo","bar"]]'])
  })
})
