import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdtemp, writeFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createSocket } from 'node:dgram'
import { WitnessLedger } from '../../../src/cluster/witness-ledger.js'
import { WitnessServer } from '../../../protocols/cluster/witness-server.js'
import { WitnessClient } from '../../../protocols/cluster/witness-client.js'
import { encodeWitness, decodeWitness, type WitnessAsk } from '../../../protocols/cluster/witness-messages.js'
import type { Endpoint } from '../../../protocols/cluster/transport.js'

const key = Buffer.from('witness-test-key-0123456789')
const sleep = async (ms: number): Promise<void> => { await new Promise(resolve => setTimeout(resolve, ms)) }

describe('witness ledger (one vote, one partition at a time)', () => {
  it('is silent for one lease after start, then gives the vote to the first asker and renews it', () => {
    const l = new WitnessLedger(500, 0)
    assert.equal(l.ask('c', ['a'], 100).reason, 'starting')
    assert.deepEqual(l.ask('c', ['a'], 600), { granted: true, holder: ['a'], leaseMs: 500, reason: 'granted' })
    assert.deepEqual(l.ask('c', ['b'], 700), { granted: false, holder: ['a'], leaseMs: 500, reason: 'held' })
    assert.equal(l.ask('c', ['a'], 1000).reason, 'renewed')
    assert.equal(l.ask('c', ['b'], 1400).granted, false, 'the renewal extended the lease')
    assert.equal(l.ask('c', ['b'], 1501).reason, 'granted', 'an expired lease passes to the next asker')
  })

  it('moves the vote to a subset of the holder at once, never to two disjoint halves', () => {
    const l = new WitnessLedger(500, 0)
    assert.equal(l.ask('c', ['b', 'a', 'c', 'd'], 600).reason, 'granted')
    assert.deepEqual(l.ask('c', ['c', 'd'], 610), { granted: true, holder: ['c', 'd'], leaseMs: 500, reason: 'moved' })
    assert.equal(l.ask('c', ['a', 'b'], 620).granted, false)
    assert.equal(l.ask('c', ['a', 'b', 'c', 'd'], 630).granted, false, 'a superset waits for the lease')
    assert.equal(l.ask('c', ['d'], 640).reason, 'moved')
  })

  it('keeps clusters apart', () => {
    const l = new WitnessLedger(500, 0)
    assert.equal(l.ask('http', ['a'], 600).granted, true)
    assert.equal(l.ask('mail', ['b'], 600).granted, true)
    assert.deepEqual(Object.keys(l.holders(700)).sort(), ['http', 'mail'])
  })
})

describe('witness over loopback UDP', () => {
  const closers: Array<() => Promise<void>> = []
  afterEach(async () => { for (const c of closers.splice(0).reverse()) await c() })

  async function witness (leaseMs = 300): Promise<{ server: WitnessServer, at: Endpoint }> {
    const server = new WitnessServer({ listen: { host: '127.0.0.1', port: 0 }, key, leaseMs, maxSkewMs: 5000 })
    const at = await server.start()
    closers.push(async () => { await server.close() })
    return { server, at }
  }

  async function client (at: Endpoint, node: string, k = key): Promise<WitnessClient> {
    const c = new WitnessClient({ witness: at, key: k, cluster: 'c', node, voters: 2, bind: { host: '127.0.0.1', port: 0 } })
    await c.start()
    closers.push(async () => { await c.close() })
    return c
  }

  const until = async (cond: () => boolean, ms = 3000): Promise<void> => {
    const end = Date.now() + ms
    while (!cond()) {
      if (Date.now() > end) throw new Error('condition not reached')
      await sleep(10)
    }
  }

  it('two halves of a split pair ask every 50 ms (lease 600 ms): exactly one holds the vote, and it passes over only when the holder stops asking', async () => {
    const { at } = await witness(600)
    const a = await client(at, 'a')
    const b = await client(at, 'b')
    await sleep(620) // the witness's start-up silence
    let both = 0
    let granted = { a: 0, b: 0 }
    const timer = setInterval(() => {
      a.ask(['a'])
      b.ask(['b'])
      if (a.grant() !== undefined && b.grant() !== undefined) both++
      if (a.grant() !== undefined) granted.a++
      if (b.grant() !== undefined) granted.b++
    }, 50)
    closers.push(async () => { clearInterval(timer) })
    await until(() => granted.a + granted.b > 10)
    assert.equal(both, 0)
    assert.ok(granted.a === 0 || granted.b === 0, `both held the vote at different times: ${JSON.stringify(granted)}`)
    const holder = granted.a > 0 ? a : b
    const other = holder === a ? b : a
    assert.deepEqual(other.status().holder, holder === a ? ['a'] : ['b'])
    // The holder goes quiet (dies): the vote passes once its lease ran out, never earlier.
    clearInterval(timer)
    const quietAt = performance.now()
    granted = { a: 0, b: 0 }
    await until(() => { other.ask(holder === a ? ['b'] : ['a']); return other.grant() !== undefined }, 2000)
    const after = performance.now() - quietAt
    assert.equal(holder.grant(performance.now() + 1), undefined, 'the old holder still counts its grant')
    assert.ok(after >= 500, `the vote passed over ${Math.round(after)} ms after the holder went quiet, inside its lease`)
  })

  it('a survivor of a pair keeps the vote at once (its partition is a subset of the whole)', async () => {
    const { at } = await witness(300)
    const a = await client(at, 'a')
    await sleep(320)
    a.ask(['a', 'b'])
    await until(() => a.grant() !== undefined)
    a.ask(['a'])
    await until(() => a.grant()?.length === 1, 500)
    assert.equal(a.status().reason, 'moved')
  })

  it('answers nothing to a wrong key, and rejects replays and stale asks', async () => {
    const { server, at } = await witness(300)
    const stranger = await client(at, 'x', Buffer.from('not-the-cluster-key-at-all'))
    await sleep(320)
    stranger.ask(['x'])
    const raw = createSocket('udp4')
    closers.push(async () => { await new Promise<void>(resolve => raw.close(() => resolve())) })
    await new Promise<void>(resolve => raw.bind(0, '127.0.0.1', () => resolve()))
    const replies: string[] = []
    raw.on('message', buf => { const d = decodeWitness(buf, key); if (d.ok && d.message.type === 'witness-reply') replies.push(`${d.message.seq}:${d.message.reason}`) })
    const ask = (over: Partial<WitnessAsk>): void => {
      const m: WitnessAsk = { v: 1, type: 'witness-ask', cluster: 'c', node: 'r', boot: 'b1', bootTs: 1, seq: 1, ts: Date.now(), partition: ['r'], voters: 2, ...over }
      raw.send(encodeWitness(m, key), at.port, at.host)
    }
    ask({ seq: 5 })
    ask({ seq: 5 })
    ask({ seq: 4 })
    ask({ seq: 6, ts: Date.now() - 60_000 })
    ask({ seq: 7, partition: ['s'] }) // a partition without the asker
    ask({ seq: 1, boot: 'b2', bootTs: 2 })
    await until(() => replies.length >= 2)
    await sleep(100)
    assert.deepEqual(replies, ['5:granted', '1:renewed'])
    assert.equal(stranger.status().lastAnswerMs, undefined)
    assert.deepEqual(Object.fromEntries(server.rejects), { decode: 2, replay: 2, skew: 1 })
  })

  it('`scanwall witness` runs as a process; a bad option is one line and exit 78', async () => {
    const cli = fileURLToPath(new URL('../../../src/cli/main.js', import.meta.url))
    const dir = await mkdtemp(join(tmpdir(), 'witness-'))
    closers.push(async () => { await rm(dir, { recursive: true, force: true }) })
    const keyFile = join(dir, 'key')
    await writeFile(keyFile, key.toString('utf8'))
    const bad = spawn(process.execPath, [cli, 'witness', '--listen', 'nowhere', '--key-file', keyFile])
    let err = ''
    bad.stderr.on('data', (d: Buffer) => { err += d.toString() })
    const [code] = await once(bad, 'exit') as [number]
    assert.equal(code, 78)
    assert.equal(err, "scanwall witness: --listen: 'nowhere' is not IPv4:port\n")
    const proc = spawn(process.execPath, [cli, 'witness', '--listen', '127.0.0.1:0', '--key-file', keyFile, '--lease-ms', '200'], { env: { ...process.env, LOG_LEVEL: 'silent' } })
    closers.push(async () => { if (proc.exitCode === null) { proc.kill('SIGTERM'); await once(proc, 'exit') } })
    let out = ''
    proc.stdout.on('data', (d: Buffer) => { out += d.toString() })
    await until(() => /listening on/.test(out))
    const port = Number(/:(\d+)\n/.exec(out)?.[1])
    const c = await client({ host: '127.0.0.1', port }, 'a')
    await until(() => { c.ask(['a']); return c.grant() !== undefined }, 3000)
    proc.kill('SIGTERM')
    const [exit] = await once(proc, 'exit') as [number]
    assert.equal(exit, 0)
  })
})
