/// decide() and decideUnscanned() rule by rule and in combination: type blocking by true type and
/// category, the active-content rules (unsigned Java, unsigned PE/DLL/CAB, untrusted publishers,
/// macros) with their trusted-domain exception, lists, what not to scan, the actions (block,
/// quarantine, log only), fail modes per cause, and release. Pure: verdicts and facts are built here.
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { act, decide, decideUnscanned, policyContext, type Decision, type PolicyContext } from '../../src/policy/decide.js'
import { builtinFallbacks, defaultProfile, resolveProfile, type Profile } from '../../src/policy/profile.js'
import { HostList } from '../../src/policy/lists.js'
import type { CodeFact, ObjectFacts, Verdict, VerdictStatus } from '../../src/engine/verdict.js'
import type { ProfileSpec } from '../../config/policy.js'

const stats = { bytes: 1, objects: 1, depth: 0, ms: 1 }
const noFacts: ObjectFacts = { types: ['text'], encrypted: false, code: [], macros: false, script: false }
function verdict (status: VerdictStatus, facts: Partial<ObjectFacts> = {}, finding?: string): Verdict {
  return { status, findings: finding === undefined ? [] : [{ name: finding, kind: status === 'infected' ? 'signature' : 'limit', path: ['object'] }], stats, facts: { ...noFacts, ...facts } }
}
const profile = (spec: ProfileSpec, lists: { allow?: HostList, deny?: HostList } = {}): Profile => resolveProfile('p', spec, builtinFallbacks, lists)
const at = (url: string): PolicyContext => policyContext({ service: 'avscan', url })
const ctx = at('http://downloads.example.test/file.bin')
const pe = (signed: boolean, signer?: string, dll = false): CodeFact => ({ kind: 'pe', path: ['object'], signed, dll, ...(signer === undefined ? {} : { signer }) })
const jar = (signed: boolean, signer?: string): CodeFact => ({ kind: 'jar', path: ['object'], signed, ...(signer === undefined ? {} : { signer }) })
const cab = (signed: boolean): CodeFact => ({ kind: 'cab', path: ['object'], signed })

function expect (d: Decision, action: Decision['action'], threat?: string): void {
  assert.equal(d.action, action, JSON.stringify(d))
  if (threat !== undefined) assert.equal('threat' in d ? d.threat : undefined, threat, JSON.stringify(d))
}

describe('policy rules: type blocking by true type', () => {
  it('blocks a listed true type anywhere in the object, passes others', () => {
    const p = profile({ blockTypes: ['rar'] })
    expect(decide(verdict('clean', { types: ['zip', 'rar', 'text'] }), ctx, p), 'block', 'Scanwall.Policy.BlockedType.rar')
    expect(decide(verdict('clean', { types: ['zip', 'text'] }), ctx, p), 'allow')
  })
  it('categories: executable, archive, script, jar', () => {
    expect(decide(verdict('clean', { types: ['gzip', 'elf'] }), ctx, profile({ blockTypes: ['executable'] })), 'block', 'Scanwall.Policy.BlockedType.elf')
    expect(decide(verdict('clean', { types: ['gzip', 'tar'] }), ctx, profile({ blockTypes: ['archive'] })), 'block', 'Scanwall.Policy.BlockedType.tar')
    expect(decide(verdict('clean', { types: ['gzip'] }), ctx, profile({ blockTypes: ['archive'] })), 'allow')
    expect(decide(verdict('clean', { script: true }), ctx, profile({ blockTypes: ['script'] })), 'block', 'Scanwall.Policy.BlockedType.script')
    expect(decide(verdict('clean', { types: ['zip'], code: [jar(true)] }), ctx, profile({ blockTypes: ['jar'] })), 'block', 'Scanwall.Policy.BlockedType.jar')
  })
  it('an encrypted archive blocks by blockEncrypted, switchable', () => {
    const v = verdict('encrypted', { types: ['zip'], encrypted: true }, 'Heuristics.Encrypted.Zip')
    expect(decide(v, ctx, profile({})), 'block', 'Heuristics.Encrypted.Zip')
    expect(decide(v, ctx, profile({ blockEncrypted: false })), 'allow')
  })
  it('the default profile blocks no type', () => {
    expect(decide(verdict('clean', { types: ['pe', 'rar', 'java-class'], code: [pe(false), jar(false)], macros: true, script: true }), ctx, defaultProfile), 'allow')
  })
})

describe('policy rules: active content', () => {
  const strict = profile({ blockUnsignedJava: true, blockUnsignedCode: true, blockMacros: true })
  it('unsigned JAR and applet blocked, signed passes', () => {
    expect(decide(verdict('clean', { code: [jar(false)] }), ctx, strict), 'block', 'Scanwall.Policy.UnsignedJava')
    expect(decide(verdict('clean', { code: [jar(true, 'Example Corp')] }), ctx, strict), 'allow')
  })
  it('unsigned PE, DLL/OCX and CAB blocked, each named; signed passes', () => {
    expect(decide(verdict('clean', { code: [pe(false)] }), ctx, strict), 'block', 'Scanwall.Policy.UnsignedCode.PE')
    expect(decide(verdict('clean', { code: [pe(false, undefined, true)] }), ctx, strict), 'block', 'Scanwall.Policy.UnsignedCode.DLL')
    expect(decide(verdict('clean', { code: [cab(false)] }), ctx, strict), 'block', 'Scanwall.Policy.UnsignedCode.CAB')
    expect(decide(verdict('clean', { code: [pe(true, 'Example Corp', true), cab(true)] }), ctx, strict), 'allow')
  })
  it('each switch alone: Java rules do not block PE and the reverse', () => {
    expect(decide(verdict('clean', { code: [pe(false)] }), ctx, profile({ blockUnsignedJava: true })), 'allow')
    expect(decide(verdict('clean', { code: [jar(false)] }), ctx, profile({ blockUnsignedCode: true })), 'allow')
  })
  it('with trusted publishers, only their signatures pass (case-insensitive)', () => {
    const p = profile({ blockUnsignedCode: true, blockUnsignedJava: true, trustedPublishers: ['Example Corp'] })
    expect(decide(verdict('clean', { code: [pe(true, 'example corp')] }), ctx, p), 'allow')
    expect(decide(verdict('clean', { code: [pe(true, 'Mallory Ltd')] }), ctx, p), 'block', 'Scanwall.Policy.UntrustedPublisher.PE')
    expect(decide(verdict('clean', { code: [jar(true)] }), ctx, p), 'block', 'Scanwall.Policy.UntrustedPublisher.Java')
  })
  it('Office macros blocked when switched on', () => {
    expect(decide(verdict('clean', { types: ['ole2'], macros: true }), ctx, strict), 'block', 'Scanwall.Policy.OfficeMacros')
    expect(decide(verdict('clean', { types: ['ole2'], macros: true }), ctx, profile({ blockUnsignedCode: true })), 'allow')
  })
  it('a trusted domain (the host or a parent) is exempt from type and active-content rules, not from threats', () => {
    const p = profile({ blockUnsignedCode: true, blockTypes: ['rar'], trustedDomains: ['example.test'] })
    expect(decide(verdict('clean', { code: [pe(false)], types: ['pe'] }), ctx, p), 'allow')
    expect(decide(verdict('clean', { types: ['rar'] }), at('http://example.test/a.rar'), p), 'allow')
    expect(decide(verdict('clean', { code: [pe(false)] }), at('http://example.test.evil.test/x.exe'), p), 'block')
    expect(decide(verdict('clean', { code: [pe(false)] }), at('http://notexample.test/x.exe'), p), 'block')
    expect(decide(verdict('infected', {}, 'Eicar-Test-Signature'), ctx, p), 'block', 'Eicar-Test-Signature')
  })
  it('a threat outranks a policy rule (the threat is named)', () => {
    expect(decide(verdict('infected', { code: [pe(false)] }, 'Win.Trojan.X'), ctx, strict), 'block', 'Win.Trojan.X')
  })
  it('a policy rule outranks limits, encrypted and broken (the rule is named)', () => {
    expect(decide(verdict('limit', { code: [pe(false)] }, 'Heuristics.Limits.Exceeded.MaxFileSize'), ctx, strict), 'block', 'Scanwall.Policy.UnsignedCode.PE')
  })
})

describe('policy actions and fail modes', () => {
  it('onThreat: block, quarantine and block, or log only', () => {
    const v = verdict('infected', {}, 'Eicar-Test-Signature')
    assert.deepEqual(decide(v, ctx, profile({ onThreat: 'block' })), { action: 'block', reason: 'infected', threat: 'Eicar-Test-Signature' })
    assert.deepEqual(decide(v, ctx, profile({ onThreat: 'quarantine' })), { action: 'block', reason: 'infected', threat: 'Eicar-Test-Signature', quarantine: true })
    assert.deepEqual(decide(v, ctx, profile({ onThreat: 'log' })), { action: 'allow', reason: 'log-only: infected', threat: 'Eicar-Test-Signature' })
  })
  it('onPolicy applies to rule blocks independently of onThreat', () => {
    const p = profile({ blockUnsignedCode: true, onThreat: 'block', onPolicy: 'log' })
    expect(decide(verdict('clean', { code: [pe(false)] }), ctx, p), 'allow', 'Scanwall.Policy.UnsignedCode.PE')
    expect(decide(verdict('infected', {}, 'X'), ctx, p), 'block', 'X')
  })
  it('quarantine is the default action when quarantine.enabled (today\'s behaviour)', () => {
    const p = resolveProfile('q', {}, { ...builtinFallbacks, quarantine: true })
    assert.equal(decide(verdict('infected', {}, 'X'), ctx, p).action === 'block' && (decide(verdict('infected', {}, 'X'), ctx, p) as { quarantine?: boolean }).quarantine, true)
  })
  it('fail modes per cause: error, timeout, overload each open or closed; failMode is their default', () => {
    const error: Verdict = { status: 'error', findings: [], stats, error: { code: 'SCAN_WORKER_CRASHED', message: 'x' } }
    const timeout: Verdict = { status: 'timeout', findings: [], stats, error: { code: 'SCAN_TIMEOUT', message: 'x' } }
    const overload: Verdict = { status: 'error', findings: [], stats, error: { code: 'SCAN_QUEUE_FULL', message: 'x' } }
    const p = profile({ onError: 'open', onTimeout: 'closed', onOverload: 'open' })
    expect(decide(error, ctx, p), 'allow')
    expect(decide(timeout, ctx, p), 'block', 'Heuristics.Limits.Exceeded.MaxScanTime')
    expect(decide(overload, ctx, p), 'allow')
    const q = profile({ failMode: 'open', onTimeout: 'closed' })
    expect(decide(error, ctx, q), 'allow')
    expect(decide(timeout, ctx, q), 'block')
    expect(decide(overload, ctx, profile({})), 'fail')
    // A fail-closed block judged no content: never quarantined.
    assert.equal((decide(error, ctx, profile({ onThreat: 'quarantine', onPolicy: 'quarantine' })) as { quarantine?: boolean }).quarantine, undefined)
  })
  it('broken containers: open (pass) or closed (block) per profile', () => {
    const v = verdict('broken', {}, 'Heuristics.Broken.Zip')
    expect(decide(v, ctx, profile({})), 'allow')
    expect(decide(v, ctx, profile({ blockBroken: true })), 'block', 'Heuristics.Broken.Zip')
  })
  it('a released object passes what it was blocked for, not a fail-closed block', () => {
    const released = { ...ctx, released: true }
    expect(decide(verdict('infected', {}, 'X'), released, profile({})), 'allow', 'X')
    expect(decide({ status: 'timeout', findings: [], stats }, released, profile({})), 'block')
  })
  it('act() maps each action', () => {
    assert.equal(act('log', 'r', 't').action, 'allow')
    assert.equal(act('block', 'r', 't').action, 'block')
  })
})

describe('policy before the scan: lists and what not to scan', () => {
  const dir = mkdtempSync(join(tmpdir(), 'scanwall-policy-lists-'))
  after(() => { rmSync(dir, { recursive: true, force: true }) })
  const file = (name: string, text: string): HostList => { writeFileSync(join(dir, name), text); return new HostList(join(dir, name)) }

  it('deny list: a domain blocks it and its subdomains; a URL prefix blocks below it', () => {
    const deny = file('deny.txt', '# comment\nbad.test\nhttp://files.test/malware/\n')
    const p = profile({}, { deny })
    expect(decideUnscanned(at('http://bad.test/x'), p) ?? { action: 'allow', reason: '' }, 'block', 'Scanwall.Policy.DeniedURL')
    expect(decideUnscanned(at('http://a.b.bad.test:8080/x'), p) ?? { action: 'allow', reason: '' }, 'block')
    expect(decideUnscanned(at('http://files.test/malware/x.exe'), p) ?? { action: 'allow', reason: '' }, 'block')
    assert.equal(decideUnscanned(at('http://files.test/docs/x.pdf'), p), undefined)
    assert.equal(decideUnscanned(at('http://notbad.test/'), p), undefined)
  })
  it('allow list passes unscanned; deny wins over allow', () => {
    const allow = file('allow.txt', 'example.test\n')
    const deny = file('deny2.txt', 'evil.example.test\n')
    const p = profile({}, { allow, deny })
    expect(decideUnscanned(at('http://www.example.test/a'), p) ?? { action: 'block', reason: '', threat: '' }, 'allow')
    expect(decideUnscanned(at('http://evil.example.test/a'), p) ?? { action: 'allow', reason: '' }, 'block')
  })
  it('a deny-list block follows onPolicy (log only passes)', () => {
    const deny = file('deny3.txt', 'bad.test\n')
    expect(decideUnscanned(at('http://bad.test/'), profile({ onPolicy: 'log' }, { deny })) ?? { action: 'block', reason: '', threat: '' }, 'allow', 'Scanwall.Policy.DeniedURL')
  })
  it('a list file reloads with new entries; an unreadable file keeps the old ones', () => {
    const list = file('live.txt', 'one.test\n')
    assert.equal(list.match('one.test', '/'), 'one.test')
    writeFileSync(join(dir, 'live.txt'), 'two.test\n')
    assert.equal(list.reload(), true)
    assert.equal(list.match('one.test', '/'), undefined)
    assert.equal(list.match('two.test', '/'), 'two.test')
    rmSync(join(dir, 'live.txt'))
    assert.equal(list.reload(), false)
    assert.equal(list.match('two.test', '/'), 'two.test')
  })
  it('Content-Type: skipContentTypes and scanContentTypes (parameters ignored, type/* patterns)', () => {
    const skip = profile({ skipContentTypes: ['image/*', 'video/mp4'] })
    const typed = (contentType: string): PolicyContext => ({ ...ctx, contentType })
    expect(decideUnscanned(typed('image/png'), skip) ?? { action: 'block', reason: '', threat: '' }, 'allow')
    expect(decideUnscanned(typed('Video/MP4; codecs=x'), skip) ?? { action: 'block', reason: '', threat: '' }, 'allow')
    assert.equal(decideUnscanned(typed('application/octet-stream'), skip), undefined)
    const only = profile({ scanContentTypes: ['application/*'] })
    assert.equal(decideUnscanned(typed('application/zip'), only), undefined)
    expect(decideUnscanned(typed('text/css'), only) ?? { action: 'block', reason: '', threat: '' }, 'allow')
  })
  it('skipTypes by the true type from the first bytes', () => {
    const p = profile({ skipTypes: ['graphics'] })
    expect(decideUnscanned(ctx, p, 'graphics') ?? { action: 'block', reason: '', threat: '' }, 'allow')
    assert.equal(decideUnscanned(ctx, p, 'pe'), undefined)
  })
  it('policyContext takes host, path and Content-Type from the scan context', () => {
    const c = policyContext({ service: 's', url: 'http://User@WWW.Example.test:8080/A/b?q=1', headers: { 'content-type': 'text/html' } })
    assert.equal(c.host, 'www.example.test')
    assert.equal(c.path, '/a/b?q=1')
    assert.equal(c.contentType, 'text/html')
  })
})
