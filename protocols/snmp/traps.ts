/// SCANWALL-MIB notifications (SNMPv2 traps): infection detected (rate-limited), node state change,
/// health test failed/recovered, signature DB reloaded or failed to load, and the cluster's quorum
/// changes, duplicate owners and heartbeat path changes. They are sent to every
/// configured target (SNMPv3 authPriv with this node's engine ID as the authoritative sender, or
/// SNMPv2c) and, in AgentX mode, through the master agent. Triggers come from Metrics' events and
/// from the injected HealthView (read when it says a result changed, and polled); sending never
/// throws into the code that raised the event.
import snmp from 'net-snmp'
import type { Metrics, MetricsEvents } from '../../src/metrics.js'
import type { HealthView, HealthStatus } from '../../src/cluster/view.js'
import type { SnmpTrapTargetConfig, SnmpUserConfig } from '../../config/snmp.js'
import type { Logger } from '../../src/log.js'
import { errorMessage, ScanwallError } from '../../src/errors.js'
import { branch, notifications, notifyObjects, nodeStateCodes, counter64, counter64Number, gauge32, type Counter64Encoding, type ScanReadout } from './mib.js'
import { usmUser } from './agent.js'
import { pathStateCodes } from './mib-cluster.js'

const T = snmp.ObjectType

export interface TrapSenderOptions {
  readonly nodeId: string
  readonly enterpriseOid: string
  readonly engineId: Buffer
  readonly targets: readonly SnmpTrapTargetConfig[]
  readonly users: readonly SnmpUserConfig[]
  readonly infectionIntervalMs: number
  readonly healthPollMs: number
  /// AgentX mode: notifications also go to the master agent.
  readonly subagent?: snmp.Subagent | undefined
}

export interface TrapSources {
  readonly metrics: Metrics
  readonly scan: Pick<ScanReadout, 'dbVersion' | 'signatureCount'>
  readonly health: HealthView
}

interface Sender {
  send: (oid: string, varbinds: snmp.Varbind[], upTime: number) => Promise<void>
  /// SNMP sessions and AgentX want Counter64 values in different shapes (see mib.ts).
  c64: Counter64Encoding
}

function sessionFor (target: SnmpTrapTargetConfig, users: readonly SnmpUserConfig[], engineId: Buffer): snmp.Session {
  const transport = target.host.includes(':') ? 'udp6' : 'udp4'
  if (target.version === 'v2c') {
    return snmp.createSession(target.host, target.community ?? '', { version: snmp.Version2c, trapPort: target.port, transport })
  }
  const user = users.find(u => u.name === target.user)
  if (user === undefined) throw new ScanwallError('CONFIG_INVALID', `snmp.trapTargets: ${target.host}:${target.port} names user '${target.user}', which is not in snmp.users`)
  return snmp.createV3Session(target.host, usmUser(user), { version: snmp.Version3, trapPort: target.port, transport, engineID: engineId.toString('hex') })
}

export class TrapSender {
  readonly #options: TrapSenderOptions
  readonly #sources: TrapSources
  readonly #log: Logger
  readonly #sessions: snmp.Session[] = []
  readonly #senders: Sender[] = []
  readonly #health = new Map<string, HealthStatus>()
  #lastInfectionTrap = 0
  #heldBack = 0
  #pending: MetricsEvents['infection'][0] | undefined
  #infectionTimer: NodeJS.Timeout | undefined
  #healthTimer: NodeJS.Timeout | undefined
  #unsubscribeHealth: (() => void) | undefined
  readonly #inFlight = new Set<Promise<void>>()

  constructor (options: TrapSenderOptions, sources: TrapSources, log: Logger) {
    this.#options = options
    this.#sources = sources
    this.#log = log
    for (const target of options.targets) {
      const session = sessionFor(target, options.users, options.engineId)
      session.on('error', (err: Error) => log.warn({ err: err.message, target: `${target.host}:${target.port}` }, 'SNMP trap session error'))
      this.#sessions.push(session)
      this.#senders.push({
        c64: counter64,
        send: async (oid, varbinds, upTime) => await new Promise<void>((resolve, reject) => {
          session.trap(oid, varbinds, { upTime }, error => { if (error !== null) reject(error); else resolve() })
        }),
      })
    }
    const subagent = options.subagent
    if (subagent !== undefined) {
      this.#senders.push({
        c64: counter64Number,
        send: async (oid, varbinds) => await new Promise<void>((resolve, reject) => {
          subagent.notify(oid, varbinds, error => { if (error !== null) reject(error); else resolve() })
        }),
      })
    }
  }

  /// Subscribes to the node's events and starts polling health. Nothing is sent without targets.
  start (): void {
    if (this.#senders.length === 0) return
    const events = this.#sources.metrics.events
    events.on('infection', this.#onInfection)
    events.on('state', this.#onState)
    events.on('sigdb', this.#onSigdb)
    events.on('cluster', this.#onCluster)
    this.#pollHealth()
    this.#healthTimer = setInterval(() => this.#pollHealth(), this.#options.healthPollMs)
    this.#healthTimer.unref()
    // A view that says when results change (the cluster's health tests) is read at once then.
    this.#unsubscribeHealth = this.#sources.health.subscribe?.(() => this.#pollHealth())
  }

  /// Stops listening; waits for notifications already handed to the sockets.
  async close (): Promise<void> {
    const events = this.#sources.metrics.events
    events.off('infection', this.#onInfection)
    events.off('state', this.#onState)
    events.off('sigdb', this.#onSigdb)
    events.off('cluster', this.#onCluster)
    clearInterval(this.#healthTimer)
    this.#unsubscribeHealth?.()
    clearTimeout(this.#infectionTimer)
    await Promise.allSettled([...this.#inFlight])
    for (const session of this.#sessions) session.close()
  }

  #oid (...parts: Array<string | number>): string { return [this.#options.enterpriseOid, ...parts].join('.') }
  #nodeScalar (sub: number): string { return this.#oid(branch.node, sub, 0) }
  #notifyObject (sub: number): string { return this.#oid(branch.notifyObjects, sub, 0) }
  #nodeIdVarbind (): snmp.Varbind { return { oid: this.#nodeScalar(1), type: T.OctetString, value: this.#options.nodeId } }

  #send (name: keyof typeof notifications, varbinds: (c64: Counter64Encoding) => snmp.Varbind[]): void {
    const oid = this.#oid(branch.notifications, notifications[name])
    const upTime = Math.floor((Date.now() - this.#sources.metrics.startedAt) / 10) % 2 ** 32
    for (const { send, c64 } of this.#senders) {
      const sent = send(oid, [this.#nodeIdVarbind(), ...varbinds(c64)], upTime).catch((err: unknown) => { this.#log.warn({ err: errorMessage(err), notification: name }, 'SNMP notification not sent') })
      this.#inFlight.add(sent)
      void sent.finally(() => this.#inFlight.delete(sent))
    }
    this.#log.debug({ notification: name }, 'SNMP notification sent')
  }

  readonly #onInfection = (event: MetricsEvents['infection'][0]): void => {
    const now = Date.now()
    if (now - this.#lastInfectionTrap >= this.#options.infectionIntervalMs && this.#infectionTimer === undefined) {
      this.#sendInfection(event, this.#heldBack)
      return
    }
    // Quiet interval: count it, and send the last one held back when the interval ends.
    this.#heldBack++
    this.#pending = event
    this.#infectionTimer ??= setTimeout(() => {
      this.#infectionTimer = undefined
      const pending = this.#pending
      if (pending !== undefined) this.#sendInfection(pending, this.#heldBack - 1)
    }, Math.max(0, this.#options.infectionIntervalMs - (now - this.#lastInfectionTrap)))
  }

  #sendInfection (event: MetricsEvents['infection'][0], heldBack: number): void {
    this.#lastInfectionTrap = Date.now()
    this.#heldBack = 0
    this.#pending = undefined
    this.#send('swInfectionDetected', c64 => [
      { oid: this.#notifyObject(notifyObjects.swNotifyThreat), type: T.OctetString, value: event.threat.slice(0, 255) },
      { oid: this.#notifyObject(notifyObjects.swNotifyService), type: T.OctetString, value: (event.service ?? '').slice(0, 255) },
      { oid: this.#notifyObject(notifyObjects.swNotifySuppressed), type: T.Unsigned32, value: gauge32(heldBack) },
      { oid: this.#nodeScalar(14), type: T.Counter64, value: c64(this.#sources.metrics.infections) },
    ])
  }

  readonly #onState = (event: MetricsEvents['state'][0]): void => {
    this.#send('swNodeStateChanged', () => [
      { oid: this.#nodeScalar(2), type: T.Integer, value: nodeStateCodes[event.to] },
      { oid: this.#notifyObject(notifyObjects.swNotifyPreviousState), type: T.Integer, value: nodeStateCodes[event.from] },
    ])
  }

  readonly #onSigdb = (event: MetricsEvents['sigdb'][0]): void => {
    if (event.ok) {
      this.#send('swSigDbReloaded', () => [
        { oid: this.#nodeScalar(5), type: T.OctetString, value: event.version },
        { oid: this.#nodeScalar(7), type: T.Gauge32, value: gauge32(event.signatures) },
      ])
    } else {
      this.#send('swSigDbLoadFailed', () => [
        { oid: this.#nodeScalar(5), type: T.OctetString, value: this.#sources.scan.dbVersion },
        { oid: this.#notifyObject(notifyObjects.swNotifyDetail), type: T.OctetString, value: event.error.slice(0, 255) },
      ])
    }
  }

  readonly #onCluster = (event: MetricsEvents['cluster'][0]): void => {
    const service = { oid: this.#notifyObject(notifyObjects.swNotifyService), type: T.OctetString, value: event.instance.slice(0, 255) }
    const detail = { oid: this.#notifyObject(notifyObjects.swNotifyDetail), type: T.OctetString, value: event.detail.slice(0, 255) }
    if (event.kind === 'path') {
      this.#send('swClusterPathChanged', () => [
        service,
        { oid: this.#notifyObject(notifyObjects.swNotifyPeer), type: T.OctetString, value: event.peer.slice(0, 255) },
        { oid: this.#notifyObject(notifyObjects.swNotifyPath), type: T.OctetString, value: event.path.slice(0, 255) },
        { oid: this.#notifyObject(notifyObjects.swNotifyPathState), type: T.Integer, value: event.up ? pathStateCodes.up : pathStateCodes.down },
        detail,
      ])
      return
    }
    this.#send(event.kind === 'quorum' ? 'swClusterQuorumChanged' : 'swClusterDuplicateOwner', () => [service, detail])
  }

  /// Failed: a test that was ok or unknown (or first seen) now fails. Recovered: a failed test passes.
  #pollHealth (): void {
    let rows
    try {
      rows = this.#sources.health.tests()
    } catch (err) {
      this.#log.warn({ err: errorMessage(err) }, 'health view failed')
      return
    }
    for (const row of rows) {
      const before = this.#health.get(row.name) ?? 'unknown'
      this.#health.set(row.name, row.status)
      const name = row.status === 'failed' && before !== 'failed'
        ? 'swHealthTestFailed'
        : row.status === 'ok' && before === 'failed' ? 'swHealthTestRecovered' : undefined
      if (name === undefined) continue
      this.#send(name, () => [
        { oid: this.#notifyObject(notifyObjects.swNotifyService), type: T.OctetString, value: row.name.slice(0, 255) },
        { oid: this.#notifyObject(notifyObjects.swNotifyDetail), type: T.OctetString, value: row.output.slice(0, 255) },
      ])
    }
  }
}
