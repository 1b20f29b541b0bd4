/// The clamd parser alone: the same request cut at every byte boundary gives the same events as
/// whole; framings and the old-style rule; the stream limit checked on the length, before the bytes.
import assert from 'node:assert/strict'
import { ClamdParser, type ClamdEvent } from '../../protocols/clamd/index.js'

const limits = { maxCommandBytes: 64, streamMaxBytes: 16 }
const length = (n: number): Buffer => { const b = Buffer.alloc(4); b.writeUInt32BE(n); return b }

/// Events as comparable text; stream bytes joined, so chunking does not change the result.
function run (pieces: readonly Buffer[]): string[] {
  const p = new ClamdParser(limits)
  const out: string[] = []
  for (const piece of pieces) {
    for (const e of p.push(piece)) {
      const last = out.at(-1)
      if (e.kind === 'chunk' && last?.startsWith('chunk:') === true) out[out.length - 1] = last + Buffer.from(e.bytes).toString('latin1')
      else out.push(show(e))
    }
  }
  return out
}

function show (e: ClamdEvent): string {
  switch (e.kind) {
    case 'command': return `command:${e.command.framing}:${e.command.name}:${e.command.path}:${JSON.stringify(e.terminator)}`
    case 'unknown': return `unknown:${JSON.stringify(e.terminator)}`
    case 'chunk': return `chunk:${Buffer.from(e.bytes).toString('latin1')}`
    case 'malformed': return `malformed:${e.reason}`
    case 'streamEnd':
    case 'streamTooLarge': return e.kind
  }
}

describe('clamd parser', () => {
  const session = Buffer.concat([Buffer.from('zIDSESSION\0nSCAN /a b\nzINSTREAM\0'), length(3), Buffer.from('abc'), length(2), Buffer.from('de'), length(0), Buffer.from('zEND\0')])

  it('parses a session with a stream into commands, stream bytes and its end', () => {
    assert.deepEqual(run([session]), [
      'command:z:IDSESSION::"\\u0000"', 'command:n:SCAN:/a b:"\\n"', 'command:z:INSTREAM::"\\u0000"', 'chunk:abcde', 'streamEnd', 'command:z:END::"\\u0000"',
    ])
  })

  it('gives the same events for every split of the input, down to single bytes', () => {
    const whole = run([session])
    for (let cut = 1; cut < session.length; cut++) assert.deepEqual(run([session.subarray(0, cut), session.subarray(cut)]), whole, `cut at ${cut}`)
    assert.deepEqual(run([...session].map(b => Buffer.from([b]))), whole)
  })

  it('takes an old-style command as the first packet up to its newline, CR dropped, and nothing after', () => {
    assert.deepEqual(run([Buffer.from('PING')]), ['command:old:PING::"\\n"'])
    assert.deepEqual(run([Buffer.from('SCAN /x\r\nPING\n')]), ['command:old:SCAN:/x:"\\n"'])
    assert.deepEqual(run([Buffer.from('STATS')]), ['unknown:"\\n"'], 'STATS is prefixed-only')
  })

  it('refuses what clamd does not know: lower case, missing or extra arguments', () => {
    for (const line of ['zping\0', 'zSCAN\0', 'zPING x\0']) assert.deepEqual(run([Buffer.from(line)]), ['unknown:"\\u0000"'], line)
  })

  it('checks a chunk length against the limit before any of its bytes arrive', () => {
    assert.deepEqual(run([Buffer.concat([Buffer.from('zINSTREAM\0'), length(17)])]), ['command:z:INSTREAM::"\\u0000"', 'streamTooLarge'])
    assert.deepEqual(run([Buffer.concat([Buffer.from('zINSTREAM\0'), length(16), Buffer.alloc(16, 0x61), length(0)])]).at(-1), 'streamEnd')
    assert.deepEqual(run([Buffer.concat([Buffer.from('zINSTREAM\0'), length(10), Buffer.alloc(10), length(7)])]).at(-1), 'streamTooLarge')
  })

  it('stops at an overlong line or an unprefixed command inside a session', () => {
    assert.deepEqual(run([Buffer.from(`z${'A'.repeat(100)}`)]), ['malformed:line too long'])
    assert.deepEqual(run([Buffer.from('zIDSESSION\0PING\n')]), ['command:z:IDSESSION::"\\u0000"', 'malformed:not prefixed'])
  })
})
