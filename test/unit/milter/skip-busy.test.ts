/// The skip lists and busy hours alone: which envelopes are accepted at MAIL FROM unscanned (client
/// networks v4 and v6, SASL users, allow-listed senders and domains), which sizes are deferred at
/// which times (windows passing midnight included), and the mail profile's outcome per decision.
import assert from 'node:assert/strict'
import type { MilterEnvelope } from '../../../protocols/milter/index.js'
import { skipCheck } from '../../../src/milter/skip.js'
import { busyCheck, inWindows, parseWindows } from '../../../src/milter/busy.js'
import { outcomeOf } from '../../../src/milter/actions.js'
import { decide, defaultProfile } from '../../../src/policy/decide.js'
import type { Verdict } from '../../../src/engine/verdict.js'

function envelope (address: string, sender: string, macros: Record<string, string> = {}): MilterEnvelope {
  return { remote: '127.0.0.1', listener: 'tcp', client: { hostname: 'h', family: address.includes(':') ? 'inet6' : 'inet', address, port: 1 }, helo: 'h', sender, senderArgs: [], recipients: [], macros: new Map(Object.entries(macros)) }
}

describe('milter skip lists, busy hours and mail outcomes', () => {
  it('skips clients in the listed networks, authenticated senders and allow-listed senders or domains', () => {
    const check = skipCheck({ networks: ['10.0.0.0/8', '2001:db8::/32', '192.0.2.7'], authenticated: true, senders: ['boss@example.org', '@partner.example'] })
    assert.ok(check !== undefined)
    const reason = (e: MilterEnvelope): string | undefined => check(e)?.reason
    assert.equal(reason(envelope('10.1.2.3', '<x@y>')), 'skip:network')
    assert.equal(reason(envelope('2001:db8::5', '<x@y>')), 'skip:network')
    assert.equal(reason(envelope('192.0.2.7', '<x@y>')), 'skip:network')
    assert.equal(reason(envelope('192.0.2.8', '<x@y>')), undefined)
    assert.equal(reason(envelope('192.0.2.8', '<x@y>', { auth_authen: 'alice' })), 'skip:authenticated')
    assert.equal(reason(envelope('192.0.2.8', '<x@y>', { auth_authen: '' })), undefined)
    assert.equal(reason(envelope('192.0.2.8', '<Boss@Example.org>')), 'skip:sender')
    assert.equal(reason(envelope('192.0.2.8', '<anyone@partner.example>')), 'skip:sender')
    assert.equal(reason(envelope('192.0.2.8', '<anyone@notpartner.example>')), undefined)
    assert.equal(reason(envelope('192.0.2.8', '<>')), undefined, 'a bounce is scanned')
    assert.equal(skipCheck({ networks: [], authenticated: false, senders: [] }), undefined)
  })

  it('defers only messages over the size inside a window, windows passing midnight included', () => {
    const windows = parseWindows(['09:00-17:00', '22:30-02:00'])
    const at = (h: number, m: number): Date => new Date(2026, 11, 3, h, m)
    assert.equal(inWindows(windows, at(9, 0)), true)
    assert.equal(inWindows(windows, at(16, 59)), true)
    assert.equal(inWindows(windows, at(17, 0)), false)
    assert.equal(inWindows(windows, at(23, 0)), true)
    assert.equal(inWindows(windows, at(1, 59)), true)
    assert.equal(inWindows(windows, at(2, 0)), false)
    let now = at(10, 0)
    const check = busyCheck({ windows: ['09:00-17:00'], maxBytes: 1000, reply: '452 4.3.1 busy, later' }, () => now)
    assert.ok(check !== undefined)
    const e = envelope('192.0.2.1', '<a@b>')
    assert.deepEqual(check(e, 1001), { reply: { kind: 'reply', code: '452', text: '4.3.1 busy, later' }, reason: 'busy-hours' })
    assert.equal(check(e, 1000), undefined)
    now = at(18, 0)
    assert.equal(check(e, 1_000_000), undefined)
  })

  it('counts a decision as clean, infected, limit or error', () => {
    const stats = { bytes: 1, objects: 1, depth: 0, ms: 1 }
    const v = (status: Verdict['status'], name?: string, kind: 'signature' | 'limit' | 'encrypted' = 'signature', code?: 'SCAN_QUEUE_FULL' | 'SCAN_WORKER_CRASHED'): Verdict =>
      ({ status, findings: name === undefined ? [] : [{ name, kind, path: [] }], stats, ...(code === undefined ? {} : { error: { code, message: code } }) })
    const outcome = (verdict: Verdict): string => outcomeOf(verdict, decide(verdict, { service: 'milter' }, defaultProfile))
    assert.equal(outcome(v('clean')), 'clean')
    assert.equal(outcome(v('infected', 'Eicar-Test-Signature')), 'infected')
    assert.equal(outcome(v('encrypted', 'Heuristics.Encrypted.Zip', 'encrypted')), 'infected')
    assert.equal(outcome(v('limit', 'Heuristics.Limits.Exceeded.MaxFiles', 'limit')), 'limit')
    assert.equal(outcome(v('timeout')), 'limit')
    assert.equal(outcome(v('error', undefined, 'signature', 'SCAN_WORKER_CRASHED')), 'error')
    assert.equal(outcome(v('error', undefined, 'signature', 'SCAN_QUEUE_FULL')), 'error')
  })
})
