import assert from 'node:assert/strict'
import { decideQuorum, partitionOf, quorumOf, checkTiming, type MembershipReport, type QuorumDecision } from '../../../src/cluster/quorum.js'

/// A reachability graph: hears[a] = who a hears. Each node's report is computed from the graph the
/// way the nodes would converge on it (two rounds: heard-sets, then partitions).
function world (voters: string[], hears: Record<string, string[]>, witness?: { grant: string[] }): Map<string, QuorumDecision> {
  const heardOf = (id: string): Set<string> => new Set(hears[id] ?? [])
  const reportOf = (id: string, partition: readonly string[], quorate: boolean): MembershipReport =>
    ({ heard: Object.fromEntries([...heardOf(id)].map(p => [p, ['ring0']])), partition, quorate })
  // Round 1: partitions from heard-sets alone.
  const first = new Map<string, MembershipReport>(voters.map(id => [id, reportOf(id, [], false)]))
  const partitions = new Map(voters.map(id => [id, partitionOf(id, heardOf(id), first)]))
  const second = new Map(voters.map(id => [id, reportOf(id, partitions.get(id) ?? [], false)]))
  return new Map(voters.map(id => {
    const reports = new Map([...heardOf(id)].map(p => [p, second.get(p)!]))
    const grant = witness !== undefined && witness.grant.includes(id) ? witness.grant : undefined
    return [id, decideQuorum({ self: id, voters, hears: heardOf(id), reports, witnessGrant: grant, waitedForAll: true })]
  }))
}

const full = (ids: string[]): Record<string, string[]> => Object.fromEntries(ids.map(id => [id, ids.filter(p => p !== id)]))

/// hears minus the given directed edges (from → to: `to` no longer hears `from`).
function cut (hears: Record<string, string[]>, edges: Array<[string, string]>): Record<string, string[]> {
  const out = Object.fromEntries(Object.entries(hears).map(([k, v]) => [k, [...v]]))
  for (const [from, to] of edges) out[to] = (out[to] ?? []).filter(p => p !== from)
  return out
}

const both = (a: string, others: string[]): Array<[string, string]> => others.flatMap(o => [[a, o], [o, a]] as Array<[string, string]>)

function states (d: Map<string, QuorumDecision>): Record<string, string> {
  return Object.fromEntries([...d].map(([id, x]) => [id, `${x.state}${x.state === 'quorate' && !x.settled ? '/unsettled' : ''}`]))
}

describe('cluster quorum (votequorum semantics, mutual reachability)', () => {
  const three = ['n1', 'n2', 'n3']
  const five = ['n1', 'n2', 'n3', 'n4', 'n5']

  it('needs floor(n/2)+1 votes', () => {
    assert.deepEqual([1, 2, 3, 4, 5].map(quorumOf), [1, 2, 2, 3, 3])
  })

  it('a whole cluster is quorate and settled everywhere', () => {
    assert.deepEqual(states(world(three, full(three))), { n1: 'quorate', n2: 'quorate', n3: 'quorate' })
  })

  it('isolates a node whose heartbeats are cut both ways: the other two are a settled majority', () => {
    const d = world(three, cut(full(three), both('n3', ['n1', 'n2'])))
    assert.deepEqual(states(d), { n1: 'quorate', n2: 'quorate', n3: 'minority' })
    assert.deepEqual(d.get('n1')?.partition, ['n1', 'n2'])
    assert.match(d.get('n3')?.reason ?? '', /1 of 3 votes, needs 2: in a minority/)
  })

  it('a node that hears everyone but is not heard (outbound cut) counts no one', () => {
    const d = world(three, cut(full(three), [['n3', 'n1'], ['n3', 'n2']]))
    assert.deepEqual(states(d), { n1: 'quorate', n2: 'quorate', n3: 'minority' })
    assert.deepEqual(d.get('n3')?.partition, ['n3'])
  })

  it('a node that is heard but hears no one (inbound cut) is counted by no one', () => {
    const d = world(three, cut(full(three), [['n1', 'n3'], ['n2', 'n3']]))
    assert.deepEqual(states(d), { n1: 'quorate', n2: 'quorate', n3: 'minority' })
    assert.deepEqual(d.get('n1')?.partition, ['n1', 'n2'])
  })

  it('non-transitive reachability (n1–n2, n2–n3, not n1–n3): quorate but unsettled, so nobody takes', () => {
    const d = world(three, cut(full(three), both('n1', ['n3'])))
    assert.deepEqual(states(d), { n1: 'quorate/unsettled', n2: 'quorate/unsettled', n3: 'quorate/unsettled' })
    assert.match(d.get('n2')?.reason ?? '', /not transitive/)
  })

  it('five nodes split 3/2: only the three are quorate', () => {
    const d = world(five, cut(full(five), [...both('n4', ['n1', 'n2', 'n3']), ...both('n5', ['n1', 'n2', 'n3'])]))
    assert.deepEqual(states(d), { n1: 'quorate', n2: 'quorate', n3: 'quorate', n4: 'minority', n5: 'minority' })
  })

  it('five nodes split 2/2/1: nobody is quorate', () => {
    const hears = cut(full(five), [...both('n1', ['n3', 'n4', 'n5']), ...both('n2', ['n3', 'n4', 'n5']), ...both('n5', ['n3', 'n4'])])
    assert.deepEqual(Object.values(states(world(five, hears))), ['minority', 'minority', 'minority', 'minority', 'minority'])
  })

  it('an even split without a witness leaves both halves in a minority', () => {
    const four = ['a', 'b', 'c', 'd']
    const d = world(four, cut(full(four), [...both('a', ['c', 'd']), ...both('b', ['c', 'd'])]))
    assert.deepEqual(states(d), { a: 'minority', b: 'minority', c: 'minority', d: 'minority' })
    assert.match(d.get('a')?.reason ?? '', /exact half, and the witness gave no vote/)
  })

  it('an even split with a witness: only the half the witness votes for is quorate', () => {
    const four = ['a', 'b', 'c', 'd']
    const d = world(four, cut(full(four), [...both('a', ['c', 'd']), ...both('b', ['c', 'd'])]), { grant: ['c', 'd'] })
    assert.deepEqual(states(d), { a: 'minority', b: 'minority', c: 'quorate', d: 'quorate' })
    assert.equal(d.get('c')?.by, 'witness')
  })

  it('two nodes: the witness decides a split, and the whole pair needs no witness', () => {
    const two = ['a', 'b']
    assert.deepEqual(states(world(two, full(two))), { a: 'quorate', b: 'quorate' })
    assert.deepEqual(states(world(two, {}, { grant: ['b'] })), { a: 'minority', b: 'quorate' })
    assert.deepEqual(states(world(two, {})), { a: 'minority', b: 'minority' })
  })

  it('a witness grant for another partition, or a non-half partition, adds nothing', () => {
    const d = decideQuorum({ self: 'a', voters: ['a', 'b'], hears: new Set(), reports: new Map(), witnessGrant: ['a', 'b'], waitedForAll: true })
    assert.equal(d.state, 'minority')
    const lone = decideQuorum({ self: 'n1', voters: ['n1', 'n2', 'n3'], hears: new Set(), reports: new Map(), witnessGrant: ['n1'], waitedForAll: true })
    assert.equal(lone.state, 'minority', 'the witness must not lift 1 of 3')
  })

  it('wait_for_all: a fresh node is waiting until it sees all voters, or joins a quorate partition', () => {
    const report = (partition: string[], quorate: boolean): MembershipReport => ({ heard: { n1: ['ring0'] }, partition, quorate })
    const fresh = { self: 'n1', voters: ['n1', 'n2', 'n3'], hears: new Set(['n2']), witnessGrant: undefined, waitedForAll: false }
    const alone = decideQuorum({ ...fresh, reports: new Map([['n2', report(['n1', 'n2'], false)]]) })
    assert.equal(alone.state, 'waiting')
    assert.equal(alone.waitedForAll, false)
    const joining = decideQuorum({ ...fresh, reports: new Map([['n2', report(['n1', 'n2'], true)]]) })
    assert.equal(joining.state, 'quorate')
    const all = decideQuorum({ ...fresh, hears: new Set(['n2', 'n3']), reports: new Map([['n2', report(['n1', 'n2', 'n3'], false)], ['n3', report(['n1', 'n2', 'n3'], false)]]) })
    assert.equal(all.state, 'quorate')
    assert.equal(all.waitedForAll, true)
  })

  it('non-voters (peers learned at run time) add no votes', () => {
    const d = decideQuorum({ self: 'n1', voters: ['n1', 'n2', 'n3'], hears: new Set(['x']), reports: new Map([['x', { heard: { n1: [] }, partition: ['n1', 'x'], quorate: true }]]), witnessGrant: undefined, waitedForAll: true })
    assert.deepEqual([d.state, d.votes, d.partition], ['minority', 1, ['n1', 'x']])
  })

  it('refuses a timing where a fenced node could still accept when its buckets are taken', () => {
    assert.doesNotThrow(() => checkTiming({ intervalMs: 100, suspectMs: 250, deadMs: 500, graceMs: 50, applyMs: 50 }, 'cluster.instances[0]'))
    assert.throws(() => checkTiming({ intervalMs: 100, suspectMs: 300, deadMs: 500, graceMs: 100, applyMs: 50 }, 'cluster.instances[0]'), /cluster\.instances\[0\]\.missed/)
    assert.throws(() => checkTiming({ intervalMs: 100, suspectMs: 150, deadMs: 900, graceMs: 50, applyMs: 50 }, 'c'), /c\.suspectMs/)
  })
})
