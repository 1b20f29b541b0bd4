/// Phase 2 of issue #17 without a network: the quorum configuration keys and their one-line errors,
/// the membership field's validation on the wire, and the agent's gate binding the votes derived
/// from peer addresses to the node ids heard there.
import assert from 'node:assert/strict'
import { pino } from 'pino'
import { parseInstances } from '../../../src/cluster/config.js'
import { validate } from '../../../protocols/cluster/messages.js'
import { QuorumGate } from '../../../src/cluster/quorum-gate.js'
import { membershipBeat } from '../../cluster/beats.js'

const log = pino({ level: 'silent' })

describe('quorum configuration (cluster.instances[].members / .quorum)', () => {
  it('is on by default with peers, one vote per peer address, with the documented timing', () => {
    const [i] = parseInstances([{ vip: '10.0.0.1', peers: ['10.0.0.2:5405', '10.0.0.3:5405'] }])
    assert.deepEqual(i?.quorum, { members: undefined, suspectMs: 300, graceMs: 150, applyBudgetMs: 50, waitForAll: true, witness: undefined, witnessBind: undefined })
  })

  it('is off for a lone node, and when disabled', () => {
    assert.equal(parseInstances([{ vip: '10.0.0.1' }])[0]?.quorum, undefined)
    assert.equal(parseInstances([{ vip: '10.0.0.1', peers: ['10.0.0.2:5405'], quorum: { enabled: false } }])[0]?.quorum, undefined)
  })

  it('takes members and a witness', () => {
    const [i] = parseInstances([{ vip: '10.0.0.1', members: ['a', 'b'], quorum: { witness: '10.0.0.9:5409' } }])
    assert.deepEqual(i?.quorum?.members, ['a', 'b'])
    assert.deepEqual(i?.quorum?.witness, { host: '10.0.0.9', port: 5409 })
  })

  it('takes extra heartbeat paths besides service, with unique names', () => {
    const [i] = parseInstances([{ vip: '10.0.0.1', peers: ['10.0.0.2:5405'], paths: [{ name: 'ring1', bind: '10.1.0.1:5405', peers: ['10.1.0.2:5405'] }] }])
    assert.deepEqual(i?.paths, [{ name: 'ring1', bind: { host: '10.1.0.1', port: 5405 }, peers: [{ host: '10.1.0.2', port: 5405 }], multicast: undefined }])
    assert.throws(() => parseInstances([{ vip: '10.0.0.1', paths: [{ name: 'service', bind: '10.1.0.1:5405' }] }]), /cluster\.instances\[0\]\.paths\[0\]\.name must match/)
    assert.throws(() => parseInstances([{ vip: '10.0.0.1', paths: [{ name: 'r', bind: 'x' }] }]), /cluster\.instances\[0\]\.paths\[0\]\.bind/)
  })

  it('refuses bad values with one line naming the key', () => {
    assert.throws(() => parseInstances([{ vip: '10.0.0.1', members: ['a', 'a'] }]), /^Error: cluster\.instances\[0\]\.members lists a node id twice$/)
    assert.throws(() => parseInstances([{ vip: '10.0.0.1', members: ['a', 'b'], quorum: { witness: 'nowhere' } }]), /cluster\.instances\[0\]\.quorum\.witness must be "IPv4:port"/)
    assert.throws(() => parseInstances([{ vip: '10.0.0.1', quorum: { enabled: true } }]), /cluster\.instances\[0\]\.quorum\.enabled needs/)
    assert.throws(() => parseInstances([{ vip: '10.0.0.1', peers: ['10.0.0.2:5405'], quorum: { enabled: false, witness: '10.0.0.9:5409' } }]), /quorum\.witness needs quorum/)
    assert.throws(() => parseInstances([{ vip: '10.0.0.1', quorum: { votes: 3 } }]), /votes/)
  })
})

describe('the membership field of a heartbeat', () => {
  const good = membershipBeat('c', 'b', 'boot', 1, 1, { heard: { a: ['service'] }, partition: ['a', 'b'], quorate: true })

  it('is kept when well-formed and dropped with the beat when not', () => {
    const ok = validate(good)
    assert.ok(ok.ok)
    assert.deepEqual(ok.message.membership?.partition, ['a', 'b'])
    const bad = validate({ ...good, membership: { heard: { a: 'service' }, partition: ['a'], quorate: true } })
    assert.deepEqual(bad, { ok: false, reason: 'malformed membership fields' })
  })

  it('is optional (a node without quorum)', () => {
    const { membership: _, ...old } = good
    const ok = validate(old)
    assert.ok(ok.ok)
    assert.equal(ok.message.membership, undefined)
  })
})

describe('quorum gate', () => {
  const options = { cluster: 'c', self: 'a', voters: ['a', '@10.0.0.2:5405', '@10.0.0.3:5405'], suspectMs: 250, deadMs: 500, graceMs: 50, waitForAll: true, stallMs: 75, paths: ['service'] }

  it('binds a vote known by its address to the node heard from there, and counts it', () => {
    const gate = new QuorumGate(options, log, 0)
    assert.equal(gate.action, 'fence')
    gate.heard(membershipBeat('c', 'b', 'x', 1, 1, { heard: { a: ['service'] }, partition: ['a', 'b'], quorate: false }), '10.0.0.2:5405', 10)
    gate.evaluate(20)
    assert.deepEqual(gate.status().partition, ['a', 'b'])
    assert.equal(gate.status().votes, 2)
    assert.equal(gate.status().expected, 3)
    // Not all three seen yet since start (wait_for_all), so still no buckets.
    assert.equal(gate.status().state, 'waiting')
    gate.heard(membershipBeat('c', 'c3', 'y', 1, 1, { heard: { a: ['service'], b: ['service'] }, partition: ['a', 'b', 'c3'], quorate: false }), '10.0.0.3:5405', 30)
    gate.heard(membershipBeat('c', 'b', 'x', 1, 2, { heard: { a: ['service'], c3: ['service'] }, partition: ['a', 'b', 'c3'], quorate: false }), '10.0.0.2:5405', 30)
    gate.evaluate(40)
    assert.equal(gate.status().state, 'quorate')
    assert.equal(gate.action, 'serve')
  })

  it('does not give a vote to a node heard from an address that is not a configured peer', () => {
    const gate = new QuorumGate(options, log, 0)
    gate.heard(membershipBeat('c', 'intruder', 'x', 1, 1, { heard: { a: ['service'] }, partition: ['a', 'intruder'], quorate: true }), '10.0.0.66:5405', 10)
    gate.evaluate(20)
    assert.equal(gate.status().votes, 1)
    assert.equal(gate.status().state, 'minority')
    assert.equal(gate.action, 'fence')
  })
})
