/// A membership-only cluster node for the quorum bed (quorum.test.ts), run inside a node namespace:
/// the real heartbeat transports (one per path), the multi-path channel, Membership and, when given,
/// the witness client, exchanging real heartbeats. No buckets: it prints one JSON line each time its
/// action, partition or quorum changes, so the test can time fences and takeovers against the cuts
/// it makes with nftables. Argument: one JSON object (NodeSpec).
import { HeartbeatTransport, type Endpoint } from '../../protocols/cluster/transport.js'
import { MultiPathChannel } from '../../protocols/cluster/paths.js'
import { readMembership } from '../../protocols/cluster/membership-fields.js'
import { WitnessClient } from '../../protocols/cluster/witness-client.js'
import { Membership, describeMembership } from '../../src/cluster/membership.js'
import { membershipBeat } from './beats.js'

export interface NodeSpec {
  readonly id: string
  readonly voters: string[]
  readonly key: string
  readonly intervalMs: number
  readonly suspectMs: number
  readonly deadMs: number
  readonly graceMs: number
  readonly paths: Array<{ name: string, bind: Endpoint, peers: Endpoint[], multicast?: Endpoint }>
  readonly witness?: Endpoint
}

const spec = JSON.parse(process.argv[2] ?? '{}') as NodeSpec
const key = Buffer.from(spec.key)
const transports = spec.paths.map(p => ({ name: p.name, transport: new HeartbeatTransport({ bind: p.bind, peers: p.peers, multicast: p.multicast, key, cluster: 'q', selfId: spec.id, maxSkewMs: 5000 }) }))
for (const t of transports) await t.transport.start()
const channel = new MultiPathChannel(transports)
const membership = new Membership({ self: spec.id, voters: spec.voters, paths: transports.map(t => t.name), suspectMs: spec.suspectMs, deadMs: spec.deadMs, graceMs: spec.graceMs, waitForAll: true, stallMs: 3 * spec.intervalMs }, performance.now())
const witness = spec.witness === undefined ? undefined : new WitnessClient({ witness: spec.witness, key, cluster: 'q', node: spec.id, voters: spec.voters.length })
await witness?.start()
channel.on('arrival', (node, path) => membership.arrived(node, path, performance.now()))
channel.on('message', m => {
  const r = readMembership(m as unknown as Record<string, unknown>)
  if (r !== undefined && r !== 'invalid') membership.report(m.node, r)
})

const boot = `${spec.id}-${process.pid}`
const bootTs = Date.now()
let seq = 0
let last = ''
let partition: readonly string[] = []
const tick = (): void => {
  membership.witness(witness?.grant())
  const snap = membership.evaluate(performance.now())
  const p = snap.decision.partition
  const changed = p.join() !== partition.join()
  partition = p
  // As the agent will: a new partition is asked for and announced at once, not at the next interval.
  if (changed) {
    witness?.ask(p)
    beat()
  }
  // ready: the buckets of peers outside the partition may be taken now (what a takeover waits for).
  const state = { action: snap.action, state: snap.decision.state, partition: p, by: snap.decision.by ?? null, ready: membership.takeoverReady(performance.now()) }
  const key = JSON.stringify(state)
  if (key !== last) {
    last = key
    const why = [...describeMembership(snap), ...(witness === undefined ? [] : [`witness: ${JSON.stringify(witness.status())}`])]
    process.stdout.write(`${JSON.stringify({ t: Date.now(), ...state, why })}\n`)
  }
}
function beat (): void {
  channel.send(membershipBeat('q', spec.id, boot, bootTs, ++seq, membership.evaluate(performance.now()).report))
}
setInterval(() => {
  tick()
  witness?.ask(partition)
  beat()
}, spec.intervalMs)
// Checks four times per interval, as the agent does.
setInterval(tick, Math.max(5, spec.intervalMs / 4))
process.on('SIGTERM', () => process.exit(0))
