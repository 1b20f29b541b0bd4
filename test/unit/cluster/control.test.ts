/// The control socket (src/cluster/control.ts) over a real unix socket: signed requests reach the
/// handler and come back as typed values; a wrong key, a stale or nonce-less request and a replay of
/// a captured request are refused; the socket is mode 0600; malformed replies are refused by the
/// client's parsers (control-reply.ts) with a message naming the field.
import assert from 'node:assert/strict'
import { createHmac } from 'node:crypto'
import { mkdtempSync, statSync } from 'node:fs'
import { connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ControlServer, control, controlCall, type ControlHandler } from '../../../src/cluster/control.js'
import { parseOffline, parseStatus } from '../../../src/cluster/control-reply.js'
import type { NodeStatus } from '../../../src/cluster/agent.js'

const key = Buffer.from('control-test-key-0123456789')

const row: NodeStatus = {
  id: 'n1',
  self: true,
  state: 'online',
  weight: 1,
  capacity: 1,
  mapped: 128,
  owned: 128,
  load: { cpu: 0.1, memory: 0.2, queue: 0, poolBusy: 0 },
  connections: 3,
  lastHeartbeatMs: 0,
  mapVersion: 1234,
  signatureVersion: 'sig-1',
  configVersion: 'cfg-1',
  healthy: true,
  failing: [],
}

/// Sends one raw line and returns the raw reply line.
async function rawCall (path: string, line: string): Promise<{ ok: boolean, error?: string, result?: unknown }> {
  return await new Promise((resolve, reject) => {
    const socket = connect(path)
    let data = ''
    socket.setEncoding('utf8')
    socket.on('connect', () => socket.write(line))
    socket.on('data', (d: string) => { data += d })
    socket.on('end', () => { resolve(JSON.parse(data) as { ok: boolean, error?: string }) })
    socket.on('error', reject)
  })
}

function signed (body: Record<string, unknown>, withKey = key): string {
  const text = JSON.stringify(body)
  return `${JSON.stringify({ body: text, mac: createHmac('sha256', withKey).update(text).digest('hex') })}\n`
}

describe('cluster control socket', () => {
  const dir = mkdtempSync(join(tmpdir(), 'scanwall-control-'))
  const path = join(dir, 'run', 'control.sock')
  const calls: string[] = []
  const handler: ControlHandler = {
    status: instance => { calls.push(`status ${String(instance)}`); return { default: { nodes: [row], owned: [0, 1, 2], mapVersion: 1234, rejects: { mac: 2 } } } },
    offline: async (instance, wait) => { calls.push(`offline ${String(instance)} ${String(wait)}`); return wait ? { drained: true, connections: 0, ms: 12 } : { draining: ['default'] } },
    online: instance => {
      if (instance === 'nope') throw new Error(`no cluster instance '${instance}'`)
      calls.push(`online ${String(instance)}`)
      return { online: ['default'] }
    },
  }
  const server = new ControlServer(path, key, handler)
  before(async () => { await server.listen() })
  after(async () => { await server.close() })

  it('is a socket only its owner may use (mode 0600)', () => {
    assert.equal(statSync(path).mode & 0o777, 0o600)
  })

  it('answers status, offline and online with typed values', async () => {
    const status = await control.status(path, key, 'default')
    assert.deepEqual(status['default']?.nodes[0], row)
    assert.deepEqual(status['default']?.owned, [0, 1, 2])
    assert.deepEqual(await control.offline(path, key), { drained: true, connections: 0, ms: 12 })
    assert.deepEqual(await control.offline(path, key, 'default', false), { draining: ['default'] })
    assert.deepEqual(await control.online(path, key, 'default'), { online: ['default'] })
    assert.deepEqual(calls.splice(0), ['status default', 'offline undefined true', 'offline default false', 'online default'])
  })

  it('passes the handler\'s error back as a CLUSTER_CONTROL error', async () => {
    await assert.rejects(control.online(path, key, 'nope'), /no cluster instance 'nope'/)
  })

  it('refuses a request signed with another key', async () => {
    await assert.rejects(controlCall(path, Buffer.from('not-the-key-at-all-0000'), { cmd: 'status' }), /authentication failed/)
    assert.deepEqual(calls.splice(0), [])
  })

  it('refuses a captured request sent again (replay), and one without a nonce or with an old timestamp', async () => {
    const line = signed({ cmd: 'online', ts: Date.now(), nonce: '0123456789abcdef0123456789abcdef' })
    assert.equal((await rawCall(path, line)).ok, true)
    const again = await rawCall(path, line)
    assert.deepEqual(again, { ok: false, error: 'replayed request' })
    assert.deepEqual(await rawCall(path, signed({ cmd: 'online', ts: Date.now() })), { ok: false, error: 'bad request: no nonce' })
    assert.deepEqual(await rawCall(path, signed({ cmd: 'online', ts: Date.now() - 120_000, nonce: 'fedcba9876543210fedcba9876543210' })), { ok: false, error: 'stale request' })
    assert.deepEqual(calls.splice(0), ['online undefined'])
  })

  it('refuses unknown commands and garbage, and keeps serving', async () => {
    assert.deepEqual(await rawCall(path, signed({ cmd: 'reboot', ts: Date.now(), nonce: '00112233445566778899aabbccddeeff' })), { ok: false, error: 'unknown command reboot' })
    assert.equal((await rawCall(path, 'this is not json\n')).ok, false)
    assert.equal((await rawCall(path, '{"body":"{}","mac":"zz"}\n')).error, 'bad request')
    assert.ok((await control.status(path, key))['default'] !== undefined)
  })
})

describe('cluster control replies (typed parsing)', () => {
  const good = { default: { nodes: [row], owned: [1], mapVersion: 7, rejects: {} } }

  it('accepts a well-formed status and keeps an optional address', () => {
    const parsed = parseStatus({ default: { ...good.default, nodes: [{ ...row, self: false, address: '10.0.0.2:5405' }] } })
    assert.equal(parsed['default']?.nodes[0]?.address, '10.0.0.2:5405')
  })

  it('refuses a state outside the union, a fractional count, and a missing field, naming it', () => {
    assert.throws(() => parseStatus({ default: { ...good.default, nodes: [{ ...row, state: 'sleeping' }] } }), /status\.default\.nodes\[0\]\.state is not one of joining, online/)
    assert.throws(() => parseStatus({ default: { ...good.default, nodes: [{ ...row, owned: 1.5 }] } }), /nodes\[0\]\.owned is not an integer/)
    assert.throws(() => parseStatus({ default: { ...good.default, owned: ['1'] } }), /status\.default\.owned\[0\] is not an integer/)
    assert.throws(() => parseStatus({ default: { nodes: [], owned: [] } }), /mapVersion is not an integer/)
    assert.throws(() => parseOffline({ drained: 'yes', connections: 0, ms: 1 }), /offline\.drained is not a boolean/)
  })
})
