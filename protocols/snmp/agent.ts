/// The node's SNMP agent (net-snmp): serves SCANWALL-MIB read-only, either on its own UDP socket or as
/// an AgentX sub-agent of the system's snmpd.
///
/// Access policy (secure by default): SNMPv3 USM users in authPriv (SHA/SHA-2 + AES) from config;
/// SNMPv2c only when snmp.community is set. With neither, the agent opens no socket at all and says
/// so in the log: nothing is exposed without credentials, and a default config still starts a node.
/// In AgentX mode snmpd does the authentication, so no local credentials are needed.
import { createSocket, type Socket, type SocketType } from 'node:dgram'
import { once } from 'node:events'
import snmp from 'net-snmp'
import type { SnmpUserConfig } from '../../config/snmp.js'
import type { Logger } from '../../src/log.js'
import { errorMessage } from '../../src/errors.js'
import { providerDefinitions, MibRefresher, refreshBeforeReads, counter64Number, type MibSources } from './mib.js'
import { frameAgentxReads } from './agentx-framing.js'
import { fixAgentxOctetStrings } from './agentx-octets.js'
import { engineIdFor, enterpriseNumber } from './engine-id.js'

export interface SnmpAgentOptions {
  readonly nodeId: string
  readonly host: string
  /// 0: any free port.
  readonly port: number
  readonly users: readonly SnmpUserConfig[]
  readonly community: string
  readonly enterpriseOid: string
  readonly agentx: { readonly enabled: boolean, readonly host: string, readonly port: number }
}

export type SnmpAgentMode = 'udp' | 'agentx' | 'off'

/// A net-snmp USM user from a configured one: always authPriv.
export function usmUser (u: SnmpUserConfig): snmp.User {
  return {
    name: u.name,
    level: snmp.SecurityLevel.authPriv,
    authProtocol: snmp.AuthProtocols[u.authProtocol],
    authKey: u.authKey,
    privProtocol: snmp.PrivProtocols[u.privProtocol],
    privKey: u.privKey,
  }
}

/// net-snmp treats port 0 as "161", so a free port is found first (UDP: bind to 0, read it, release).
async function freeUdpPort (host: string, type: SocketType): Promise<number> {
  const probe = createSocket(type)
  probe.bind(0, host)
  await once(probe, 'listening')
  const { port } = probe.address()
  await new Promise<void>(resolve => probe.close(() => resolve()))
  return port
}

function toSubagentCallback (resolve: () => void, reject: (err: Error) => void) {
  return (error: Error | null): void => { if (error !== null) reject(error); else resolve() }
}

/// The msgAuthoritativeEngineID of an SNMPv3 request as net-snmp parsed it; undefined for v1/v2c.
function requestEngineId (message: unknown): Buffer | undefined {
  if (typeof message !== 'object' || message === null || !('msgSecurityParameters' in message)) return undefined
  const params: unknown = message.msgSecurityParameters
  if (typeof params !== 'object' || params === null || !('msgAuthoritativeEngineID' in params)) return undefined
  const id: unknown = params.msgAuthoritativeEngineID
  return Buffer.isBuffer(id) ? id : Buffer.alloc(0)
}

/// RFC 3414 §3.2 step 3: a request must name this engine. net-snmp 3.29 authenticates with whatever
/// engine ID the request carries, which would let a request keyed to another node (a replay, or a
/// manager with a stale engine ID) through; such requests are dropped unanswered instead. Discovery
/// (empty engine ID) is answered by net-snmp before these dispatchers run.
function requireOwnEngineId (agent: snmp.Agent, engineId: Buffer, log: Logger): void {
  for (const method of ['getRequest', 'getNextRequest', 'getBulkRequest', 'setRequest'] as const) {
    const original = agent[method].bind(agent)
    agent[method] = (...args: unknown[]): void => {
      const id = requestEngineId(args[1])
      if (id !== undefined && !id.equals(engineId)) {
        log.debug({ engineId: id.toString('hex') }, 'SNMP request for another engine ID dropped')
        return
      }
      original(...args)
    }
  }
}

export class SnmpAgent {
  readonly mode: SnmpAgentMode
  /// The SnmpEngineID this node uses (for the agent and as the sender of SNMPv3 notifications).
  readonly engineId: Buffer
  readonly #agent: snmp.Agent | undefined
  readonly #subagent: snmp.Subagent | undefined
  readonly #address: { host: string, port: number } | undefined

  private constructor (mode: SnmpAgentMode, engineId: Buffer, parts: { agent?: snmp.Agent, subagent?: snmp.Subagent, address?: { host: string, port: number } }) {
    this.mode = mode
    this.engineId = engineId
    this.#agent = parts.agent
    this.#subagent = parts.subagent
    this.#address = parts.address
  }

  static async start (options: SnmpAgentOptions, sources: MibSources, log: Logger): Promise<SnmpAgent> {
    const engineId = engineIdFor(options.nodeId, enterpriseNumber(options.enterpriseOid))
    const onRefreshError = (err: unknown): void => { log.error({ err: errorMessage(err) }, 'SNMP: MIB refresh failed') }
    if (options.agentx.enabled) return await SnmpAgent.#startSubagent(options, sources, engineId, log, onRefreshError)
    if (options.users.length === 0 && options.community === '') {
      log.warn('SNMP agent not started: no snmp.users and no snmp.community configured (no access without credentials)')
      return new SnmpAgent('off', engineId, {})
    }
    const transport: SocketType = options.host.includes(':') ? 'udp6' : 'udp4'
    const port = options.port === 0 ? await freeUdpPort(options.host, transport) : options.port
    // Capture the socket net-snmp creates, to wait for the bind and see its errors.
    const sockets: Socket[] = []
    const dgramModule = { createSocket: (type: SocketType): Socket => { const s = createSocket(type); sockets.push(s); return s } }
    const agent = snmp.createAgent({
      address: options.host,
      port,
      transport,
      engineID: engineId.toString('hex'),
      accessControlModelType: snmp.AccessControlModelType.Simple, // every user and community read-only
      dgramModule,
    }, (error: Error | null) => {
      // Authentication failures and bad packets land here; they get no answer with data.
      if (error !== null) log.debug({ err: error.message }, 'SNMP request refused')
    })
    const socket = sockets[0]
    if (socket === undefined) throw new Error('net-snmp created no socket')
    try {
      await once(socket, 'listening')
    } catch (err) {
      agent.close()
      throw err
    }
    const authorizer = agent.getAuthorizer()
    for (const user of options.users) authorizer.addUser(usmUser(user))
    if (options.community !== '') authorizer.addCommunity(options.community)
    const mib = agent.getMib()
    for (const definition of providerDefinitions(options.enterpriseOid)) mib.registerProvider(definition)
    const refresher = new MibRefresher(mib, sources)
    refresher.refresh()
    refreshBeforeReads(agent, () => refresher.refresh(), onRefreshError)
    requireOwnEngineId(agent, engineId, log)
    const address = { host: options.host, port: socket.address().port }
    log.info({ ...address, engineId: engineId.toString('hex'), users: options.users.map(u => u.name), v2c: options.community !== '' }, 'SNMP agent listening')
    return new SnmpAgent('udp', engineId, { agent, address })
  }

  static async #startSubagent (options: SnmpAgentOptions, sources: MibSources, engineId: Buffer, log: Logger, onRefreshError: (err: unknown) => void): Promise<SnmpAgent> {
    fixAgentxOctetStrings()
    const subagent = snmp.createSubagent({ master: options.agentx.host, masterPort: options.agentx.port, description: `Scanwall node ${options.nodeId}` })
    frameAgentxReads(subagent)
    const failed = new Promise<never>((_resolve, reject) => subagent.once('error', reject))
    await Promise.race([new Promise<void>((resolve, reject) => subagent.open(toSubagentCallback(resolve, reject))), failed])
    subagent.on('error', (err: Error) => log.error({ err: err.message }, 'SNMP AgentX connection error'))
    const mib = subagent.getMib()
    for (const definition of providerDefinitions(options.enterpriseOid)) {
      await new Promise<void>((resolve, reject) => subagent.registerProvider(definition, toSubagentCallback(resolve, reject)))
    }
    const refresher = new MibRefresher(mib, sources, counter64Number)
    refresher.refresh()
    refreshBeforeReads(subagent, () => refresher.refresh(), onRefreshError)
    log.info({ master: `${options.agentx.host}:${options.agentx.port}` }, 'SNMP AgentX sub-agent registered')
    return new SnmpAgent('agentx', engineId, { subagent })
  }

  /// The UDP address served, in 'udp' mode.
  get address (): { host: string, port: number } | undefined { return this.#address }

  /// In AgentX mode, notifications go through the master (snmpd sends them to its trap sinks).
  get subagent (): snmp.Subagent | undefined { return this.#subagent }

  async close (): Promise<void> {
    if (this.#agent !== undefined) {
      const agent = this.#agent
      await new Promise<void>(resolve => agent.close(() => resolve()))
    }
    if (this.#subagent !== undefined) {
      const subagent = this.#subagent
      await new Promise<void>(resolve => subagent.close(() => resolve()))
    }
  }
}
