/// The console's pure parts: escaping, the login limiter's windows, sessions, scrypt users and
/// tokens on disk, masking of secrets in the shown configuration, and the peer channel's locks
/// (a request signed with another key, a changed body, a replay and a stale one are refused; an
/// answer is bound to its request; a call naming an unknown operation is refused).
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createHmac } from 'node:crypto'
import { escape, html } from '../../src/console/html.js'
import { LoginLimiter, Sessions, csrfMatches } from '../../src/console/sessions.js'
import { UserDb, hashPassword, verifyPassword } from '../../src/console/users.js'
import { maskedConfig } from '../../src/console/config-view.js'
import { PeerGate, parseCall } from '../../src/console/peer.js'
import { loadConfig } from '../../config/load.js'

describe('console: escaping, sessions, limiter, users, masking, peer gate', function () {
  this.timeout(60_000)
  const dir = mkdtempSync(join(tmpdir(), 'scanwall-console-unit-'))
  after(() => { rmSync(dir, { recursive: true, force: true }) })

  it('escapes every interpolated value and nothing the template wrote', () => {
    const hostile = '<script>alert(1)</script>"\'`&'
    assert.equal(escape(hostile), '&lt;script&gt;alert(1)&lt;/script&gt;&quot;&#39;&#96;&amp;')
    const out = html`<td title="${hostile}">${hostile}${[hostile, html`<b>${hostile}</b>`]}</td>`.text
    assert.doesNotMatch(out, /<script>/)
    assert.match(out, /^<td title="&lt;script&gt;/)
    assert.match(out, /<b>&lt;script&gt;/)
  })

  it('limits failed logins per key within the window, and forgets them after it or a success', () => {
    const limiter = new LoginLimiter(3, 60_000)
    const keys = ['ip:192.0.2.1', 'user:bob']
    for (let i = 0; i < 3; i++) { assert.equal(limiter.blockedFor(keys, 1000), 0); limiter.failed(keys, 1000) }
    assert.equal(limiter.blockedFor(keys, 2000), 59_000)
    // Another address trying the same user name is blocked too; another user from another address is not.
    assert.ok(limiter.blockedFor(['ip:198.51.100.9', 'user:bob'], 2000) > 0)
    assert.equal(limiter.blockedFor(['ip:198.51.100.9', 'user:carol'], 2000), 0)
    assert.equal(limiter.blockedFor(keys, 61_001), 0)
    limiter.failed(keys, 70_000)
    limiter.succeeded(keys)
    assert.equal(limiter.blockedFor(keys, 70_001), 0)
  })

  it('ends sessions at their expiry and checks CSRF tokens exactly', () => {
    const sessions = new Sessions(1000)
    const s = sessions.create({ name: 'alice', role: 'admin', via: 'session' }, 0)
    assert.equal(sessions.get(s.id, 999), s)
    assert.equal(sessions.get(s.id, 1000), undefined)
    const t = sessions.create({ name: 'alice', role: 'admin', via: 'session' }, 0)
    assert.ok(csrfMatches(t, t.csrf))
    assert.ok(!csrfMatches(t, s.csrf))
    assert.ok(!csrfMatches(t, undefined))
    assert.ok(!csrfMatches(t, `${t.csrf}x`))
  })

  it('keeps users as scrypt hashes and tokens as SHA-256, in a 0600 file', async () => {
    const hash = await hashPassword('correct horse')
    assert.match(hash, /^scrypt\$32768\$8\$1\$/)
    assert.ok(await verifyPassword('correct horse', hash))
    assert.ok(!await verifyPassword('correct horsE', hash))
    const db = new UserDb(join(dir, 'state'))
    await db.setUser('alice', 'admin', 'long enough password')
    await assert.rejects(db.setUser('bob', 'viewer', 'short'), /at least 8/)
    await assert.rejects(db.setUser('<b>', 'viewer', 'long enough password'), /not a valid name/)
    assert.equal(statSync(db.file).mode & 0o777, 0o600)
    assert.deepEqual(await db.login('alice', 'long enough password'), { name: 'alice', role: 'admin', via: 'session' })
    assert.equal(await db.login('alice', 'wrong password'), undefined)
    assert.equal(await db.login('nobody', 'long enough password'), undefined)
    const token = await db.addToken('ci', 'viewer')
    assert.deepEqual(await db.token(token), { name: 'token:ci', role: 'viewer', via: 'token' })
    assert.equal(await db.token(token.slice(0, -1) + (token.endsWith('A') ? 'B' : 'A')), undefined)
    const file = JSON.stringify(await db.read())
    // The secret is base64url and may itself hold '_': take everything after the id.
    const secret = token.split('_').slice(2).join('_')
    assert.equal(secret.length, 43)
    assert.ok(!file.includes(secret), 'the token secret is not stored')
    assert.ok(!file.includes('long enough password'))
  })

  it('masks every sensitive key of the shown configuration', () => {
    const config = loadConfig({
      env: {},
      overrides: {
        cluster: { key: 'cluster-secret-key', instances: [] },
        quarantine: { key: 'ab'.repeat(32) },
        stats: { url: 'postgres://u:pw@db/x' },
        snmp: { community: 'public-secret' },
        updates: { proxy: 'http://proxyuser:proxypass@proxy:3128' },
      },
    })
    const text = JSON.stringify(maskedConfig(config))
    for (const secret of ['cluster-secret-key', 'abab', 'pw@db', 'public-secret', 'proxypass']) assert.ok(!text.includes(secret), `${secret} shown`)
    assert.match(text, /"key":"\(set\)"/)
    assert.match(text, /"port":8443/)
  })

  it('refuses peer requests signed with another key, with a changed body, replayed or stale', () => {
    const key = Buffer.from('cluster key of the test')
    const gate = new PeerGate(key)
    const sign = (k: Buffer, ts: number, nonce: string, body: string): string => `${ts}:${nonce}:${createHmac('sha256', k).update([String(ts), nonce, body].join('\n')).digest('hex')}`
    const body = JSON.stringify({ op: 'snapshot' })
    const now = Date.now()
    assert.throws(() => gate.admit(sign(Buffer.from('another key'), now, 'a'.repeat(32), body), body, now), /bad cluster signature/)
    assert.throws(() => gate.admit(sign(key, now, 'b'.repeat(32), body), JSON.stringify({ op: 'apply' }), now), /bad cluster signature/)
    assert.throws(() => gate.admit(undefined, body, now), /without a cluster signature/)
    assert.throws(() => gate.admit(sign(key, now - 60_000, 'c'.repeat(32), body), body, now), /stale/)
    const good = sign(key, now, 'd'.repeat(32), body)
    assert.equal(gate.admit(good, body, now), 'd'.repeat(32))
    assert.throws(() => gate.admit(good, body, now + 10), /replayed/)
    // The answer's signature covers the request's nonce: an answer to another request does not fit.
    assert.notEqual(gate.sign('d'.repeat(32), '{}'), gate.sign('e'.repeat(32), '{}'))
    assert.throws(() => parseCall({ op: 'apply', operation: { op: 'format-disk' }, actor: { user: 'x', client: 'y', via: 'z' } }), /operation/)
    assert.throws(() => parseCall({ op: 'nope' }), /unknown/)
  })
})
