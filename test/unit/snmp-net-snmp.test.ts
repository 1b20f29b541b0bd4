/// net-snmp internals that protocols/snmp relies on beyond the package's documented API: the version
/// is pinned, and these checks fail if an upgrade changes the shape of what we patch or wrap
/// (agentx-framing.ts: Subagent.socket and onMsg; agentx-octets.ts: AgentXPdu.writeOctetString;
/// mib.ts refreshBeforeReads: the read dispatch methods, called through `this`).
import assert from 'node:assert/strict'
import { createSocket, type Socket as UdpSocket, type SocketType } from 'node:dgram'
import { once } from 'node:events'
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { createServer, Socket, type AddressInfo, type Server } from 'node:net'
import snmp from 'net-snmp'
import { repoRoot } from '../helpers/scanwall-node.js'
import { frameAgentxReads } from '../../protocols/snmp/agentx-framing.js'
import { fixAgentxOctetStrings } from '../../protocols/snmp/agentx-octets.js'
import { refreshBeforeReads } from '../../protocols/snmp/mib.js'

/// What the tests reach into, typed loosely on purpose: these are the undeclared parts.
interface SubagentInside { socket?: unknown, onMsg?: unknown, getRequest?: unknown, getNextRequest?: unknown, getBulkRequest?: unknown }
const inside = (o: object): Record<string, unknown> => o as Record<string, unknown>

const agentxGet = 5
const agentxResponse = 18

/// A 20-byte AgentX header with an empty payload (RFC 2741 §6.1), network byte order.
function agentxHeader (type: number, packetId: number): Buffer {
  const b = Buffer.alloc(20)
  b.writeUInt8(1, 0)
  b.writeUInt8(type, 1)
  b.writeUInt8(0x10, 2)
  b.writeUInt32BE(1, 4)
  b.writeUInt32BE(packetId, 12)
  return b
}

/// Resolves once `ready()` holds, or after `ms` (the assertion that follows then says what is missing).
async function until (ready: () => boolean, ms: number): Promise<void> {
  const deadline = Date.now() + ms
  while (!ready() && Date.now() < deadline) await new Promise(resolve => setTimeout(resolve, 10))
}

describe('net-snmp internals we patch (pinned version)', () => {
  it('is pinned to one exact version in package.json, the lockfile and node_modules', () => {
    const pkg = JSON.parse(readFileSync(`${repoRoot}/package.json`, 'utf8')) as { dependencies: Record<string, string> }
    const lock = JSON.parse(readFileSync(`${repoRoot}/package-lock.json`, 'utf8')) as { packages: Record<string, { version?: string, dependencies?: Record<string, string> }> }
    const wanted = pkg.dependencies['net-snmp'] ?? ''
    assert.match(wanted, /^\d+\.\d+\.\d+$/, 'net-snmp must be an exact version: the patches below are written against it')
    assert.equal(lock.packages['']?.dependencies?.['net-snmp'], wanted)
    assert.equal(lock.packages['node_modules/net-snmp']?.version, wanted)
    const installed = createRequire(`${repoRoot}/package.json`)('net-snmp/package.json') as { version: string }
    assert.equal(installed.version, wanted)
  })

  describe('Subagent (agentx-framing.ts, refreshBeforeReads)', () => {
    let master: Server
    let subagent: snmp.Subagent
    let toSubagent: Socket | undefined

    before(async () => {
      master = createServer(s => {
        toSubagent = s
      })
      await new Promise<void>(resolve => master.listen(0, '127.0.0.1', resolve))
      subagent = snmp.createSubagent({ master: '127.0.0.1', masterPort: (master.address() as AddressInfo).port })
      subagent.on('error', () => {})
    })
    after(async () => {
      (inside(subagent)['socket'] as Socket | undefined)?.destroy()
      await new Promise<void>(resolve => master.close(() => resolve()))
    })

    it('keeps its TCP socket in `socket`, with one data listener, and decodes in onMsg(buffer)', () => {
      const s = inside(subagent) as SubagentInside
      assert.ok(s.socket instanceof Socket, 'subagent.socket is a net.Socket')
      assert.equal(s.socket.listeners('data').length, 1, 'exactly the one listener frameAgentxReads replaces')
      assert.equal(typeof s.onMsg, 'function')
      assert.equal((s.onMsg as (...a: unknown[]) => void).length, 2, 'onMsg (buffer, rinfo)')
    })

    it('has getRequest/getNextRequest/getBulkRequest (pdu), dispatched through `this` so an instance wrapper runs', async () => {
      const s = inside(subagent) as SubagentInside
      for (const method of ['getRequest', 'getNextRequest', 'getBulkRequest'] as const) {
        assert.equal(typeof s[method], 'function', method)
        assert.equal((s[method] as (...a: unknown[]) => void).length, 1, `${method} (pdu)`)
      }
      let refreshes = 0
      refreshBeforeReads(subagent, () => { refreshes++ }, err => { throw err })
      frameAgentxReads(subagent)
      await until(() => toSubagent !== undefined, 5000)
      assert.ok(toSubagent !== undefined, 'the sub-agent connected to the master')
      // Two Get PDUs in one TCP write: net-snmp alone decodes only the first; framed, both reach
      // getRequest, wrapped on the instance.
      toSubagent.write(Buffer.concat([agentxHeader(agentxGet, 7), agentxHeader(agentxGet, 8)]))
      await until(() => refreshes >= 2, 5000)
      assert.equal(refreshes, 2)
    })
  })

  it('AgentXPdu.writeOctetString (buffer, value) is the static every OCTET STRING goes through (agentx-octets.ts)', () => {
    const pdu = inside(snmp.AgentXPdu)
    assert.equal(typeof pdu['writeOctetString'], 'function')
    assert.equal((pdu['writeOctetString'] as (...a: unknown[]) => void).length, 2)
    assert.equal(typeof pdu['createFromVariables'], 'function')
    fixAgentxOctetStrings()
    // Encoded through the PDU encoder, not by calling the patch: proves net-snmp looks the static up
    // at call time. Non-ASCII text and binary data must go out as their bytes, padded to 4.
    const encode = (value: unknown): Buffer => {
      const create = pdu['createFromVariables'] as (vars: object) => { toBuffer: () => Buffer }
      return create({ pduType: agentxResponse, varbinds: [{ oid: '1.3.6.1.4.1.99999.1', type: snmp.ObjectType.OctetString, value }] }).toBuffer()
    }
    assert.deepEqual(encode('é').subarray(-8), Buffer.from('00000002c3a90000', 'hex'))
    assert.deepEqual(encode(Buffer.from([1, 2, 3, 4, 5])).subarray(-12), Buffer.from('000000050102030405000000', 'hex'))
  })

  it('Agent has getRequest/getNextRequest/getBulkRequest (socket, message, rinfo), dispatched through `this`', async () => {
    const sockets: UdpSocket[] = []
    const dgramModule = { createSocket: (type: SocketType): UdpSocket => { const s = createSocket(type); sockets.push(s); return s } }
    const agent = snmp.createAgent({ port: 0, address: '127.0.0.1', engineID: '8000B98380aabbccdd', accessControlModelType: snmp.AccessControlModelType.None, dgramModule }, () => {})
    try {
      const [socket] = sockets
      assert.ok(socket !== undefined)
      await once(socket, 'listening')
      const port = socket.address().port
      const a = inside(agent)
      for (const method of ['getRequest', 'getNextRequest', 'getBulkRequest']) {
        assert.equal(typeof a[method], 'function', method)
        assert.equal((a[method] as (...x: unknown[]) => void).length, 3, `${method} (socket, message, rinfo)`)
      }
      agent.getAuthorizer().addCommunity('shape')
      let refreshes = 0
      refreshBeforeReads(agent, () => { refreshes++ }, err => { throw err })
      const session = snmp.createSession('127.0.0.1', 'shape', { port, version: snmp.Version2c })
      try {
        await new Promise<void>((resolve, reject) => {
          session.get(['1.3.6.1.2.1.1.1.0'], err => { if (err === null) resolve(); else reject(err) })
        })
      } finally {
        session.close()
      }
      assert.equal(refreshes, 1)
    } finally {
      agent.close()
    }
  })
})
