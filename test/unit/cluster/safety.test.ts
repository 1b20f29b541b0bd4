import assert from 'node:assert/strict'
import { pino } from 'pino'
import { SafetyNets, type OwnershipFacts } from '../../../src/cluster/agent-safety.js'
import { computeBuckets, bucketsOf } from '../../../src/cluster/buckets.js'
import { parseResetListing } from '../../../src/cluster/resets.js'
import { toBitmap } from '../../../src/cluster/bitmap.js'
import type { PeerView } from '../../../src/cluster/agent-types.js'
import type { PeerBeat } from '../../../src/cluster/types.js'
import type { ForeignAnswers } from '../../../src/cluster/reset-guard.js'
import { pathChanges } from '../../../src/cluster/quorum-gate.js'
import type { PeerMembership } from '../../../src/cluster/membership.js'

const log = pino({ level: 'silent' })
const B = 64

function peer (id: string, failed: boolean): PeerView {
  const beat = { node: id, state: 'online', weight: 1, owned: toBitmap([], B), mapVersion: 1 } as unknown as PeerBeat
  return { beat, seenAt: 0, failed, address: undefined }
}

describe('the kernel reset check in the agent (agent-safety.ts, resets.ts)', () => {
  // n1's view after n3 fell silent (quorum off): its map covers n1 and n2, it claims that share.
  const peers = new Map([['n2', peer('n2', false)], ['n3', peer('n3', true)]])
  const home = new Set(bucketsOf(computeBuckets([{ id: 'n1', weight: 1 }, { id: 'n2', weight: 1 }, { id: 'n3', weight: 1 }], B), 'n1'))
  const map = computeBuckets([{ id: 'n1', weight: 1 }, { id: 'n2', weight: 1 }], B)
  const claims = new Set(bucketsOf(map, 'n1'))
  const taken = [...claims].filter(b => !home.has(b))
  const facts = (now: number, over: Partial<OwnershipFacts> = {}): OwnershipFacts => ({ claims, peers, map, weight: 1, now, ...over })
  const restricted = (nets: SafetyNets, f: OwnershipFacts): number[] => {
    const next = new Set(f.claims)
    nets.restrict(next, undefined, f)
    return [...next].sort((a, b) => a - b)
  }

  it('steps back to the home share on the first report, yields reset home buckets only 2 s later, and ends with a new map', () => {
    const reports: ForeignAnswers[] = []
    const nets = new SafetyNets('default', 'n1', B, log, { duplicate: () => {}, foreign: f => reports.push(f) })
    assert.ok(taken.length > 0 && home.size > 0)
    const someHome = [...home].slice(0, 3)
    nets.foreignAnswers(50, 500, [taken[0]!, ...someHome], 30_000, facts(1000))
    assert.deepEqual(reports[0]?.released, [...taken].sort((a, b) => a - b), 'the first report gives up exactly what was taken over')
    assert.deepEqual(restricted(nets, facts(1100)), [...home].filter(b => claims.has(b)).sort((a, b) => a - b))
    nets.foreignAnswers(50, 500, someHome, 30_000, facts(2000))
    assert.deepEqual(reports[1]?.released, [], 'home buckets are yielded only when resets go on for 2 s')
    nets.foreignAnswers(50, 500, someHome, 30_000, facts(3100))
    assert.deepEqual(reports[2]?.released, [...someHome].sort((a, b) => a - b))
    assert.ok(restricted(nets, facts(3200)).every(b => home.has(b) && !someHome.includes(b)))
    // A new map (n3 heard again) is a new situation: nothing is held back any more.
    const healed = computeBuckets([{ id: 'n1', weight: 1 }, { id: 'n2', weight: 1 }, { id: 'n3', weight: 1 }], B)
    assert.deepEqual(restricted(nets, facts(3300, { map: healed })), [...claims].sort((a, b) => a - b))
  })

  it('lets the step-back run out after its hold', () => {
    const nets = new SafetyNets('default', 'n1', B, log, { duplicate: () => {}, foreign: () => {} })
    nets.foreignAnswers(50, 500, [taken[0]!], 1000, facts(0))
    assert.ok(restricted(nets, facts(999)).length < claims.size)
    assert.equal(restricted(nets, facts(1000)).length, claims.size)
  })

  it('reads the counter and the buckets of recent resets from the owner table listing', () => {
    const listing = 'table ip scanwall_default {\n\tcounter foreign_resets {\n\t\tpackets 60 bytes 2400\n\t}\n\n\tset foreign_buckets {\n\t\ttype mark\n\t\tsize 65535\n' +
      '\t\tflags dynamic,timeout\n\t\ttimeout 4s\n\t\telements = { 0x00000015 expires 3s512ms, 0x00000008 expires 2s1ms }\n\t}\n}\n'
    assert.deepEqual(parseResetListing(listing), { packets: 60, buckets: [8, 21] })
    assert.deepEqual(parseResetListing(listing.replace(/\t\telements[^\n]*\n/, '')), { packets: 60, buckets: [] })
    assert.throws(() => parseResetListing('table ip x {\n}\n'), /no counter foreign_resets/)
  })
})

describe('heartbeat path changes (quorum-gate.ts → swClusterPathChanged)', () => {
  const row = (paths: Array<[string, boolean, number | undefined]>): PeerMembership[] =>
    [{ id: 'n3', heard: true, hearsUs: true, inPartition: true, outsideMs: 0, paths: paths.map(([path, up, silentMs]) => ({ path, up, silentMs })) }]

  it('reports a path going down or coming back, not one heard for the first time', () => {
    assert.deepEqual(pathChanges(row([['service', false, undefined], ['ring1', false, undefined]]), row([['service', true, 10], ['ring1', false, undefined]])), [])
    assert.deepEqual(pathChanges(row([['service', true, 10], ['ring1', true, 20]]), row([['service', false, 310], ['ring1', true, 20]])), [{ peer: 'n3', path: 'service', up: false, silentMs: 310 }])
    assert.deepEqual(pathChanges(row([['service', false, 900]]), row([['service', true, 5]])), [{ peer: 'n3', path: 'service', up: true, silentMs: 5 }])
  })
})
