/// The `policy.*` keys: profiles parsed and typed at load, every bad field refused with one line
/// naming it; the whole policy checked at start (unknown profile names, services, list files,
/// quarantine actions without a quarantine); the default profile equal to today's behaviour.
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadConfig } from '../../config/load.js'
import { trueTypes } from '../../config/policy.js'
import { PolicySet } from '../../src/policy/policy-set.js'
import { defaultProfile } from '../../src/policy/profile.js'
import { detect } from '../../src/engine/filetype.js'
import type { FileType } from '../../src/engine/filetype.js'

describe('config: policy.*', () => {
  const dir = mkdtempSync(join(tmpdir(), 'scanwall-policy-config-'))
  after(() => { rmSync(dir, { recursive: true, force: true }) })

  for (const [what, policy, key] of [
    ['an unknown profile field', { profiles: { strict: { blockEverything: true } } }, 'policy.profiles.strict.blockEverything'],
    ['a switch that is not a boolean', { profiles: { strict: { blockMacros: 'yes' } } }, 'policy.profiles.strict.blockMacros'],
    ['a type that does not exist', { profiles: { strict: { blockTypes: ['pe', 'exe'] } } }, 'policy.profiles.strict.blockTypes[1]'],
    ['an action that does not exist', { profiles: { strict: { onThreat: 'drop' } } }, 'policy.profiles.strict.onThreat'],
    ['a fail mode that does not exist', { profiles: { strict: { onTimeout: 'maybe' } } }, 'policy.profiles.strict.onTimeout'],
    ['a relative list path', { profiles: { strict: { denyList: 'deny.txt' } } }, 'policy.profiles.strict.denyList'],
    ['a bad Content-Type pattern', { profiles: { strict: { skipContentTypes: ['image'] } } }, 'policy.profiles.strict.skipContentTypes[0]'],
    ['a bad Transfer-Ignore list', { profiles: { strict: { transferIgnore: 'jpg;png' } } }, 'policy.profiles.strict.transferIgnore'],
    ['a negative size', { profiles: { strict: { maxObjectBytes: -1 } } }, 'policy.profiles.strict.maxObjectBytes'],
    ['a bad trusted domain', { profiles: { strict: { trustedDomains: ['exa mple.com'] } } }, 'policy.profiles.strict.trustedDomains[0]'],
    ['a service mapped to nothing', { services: { avscan: '' } }, 'policy.services.avscan'],
  ] as const) {
    it(`refuses ${what} with one line naming ${key}`, () => {
      assert.throws(() => loadConfig({ env: {}, overrides: { policy } }), (err: Error) => err.message.includes(key) && !err.message.includes('\n'))
    })
  }

  for (const [what, overrides, pattern] of [
    ['a service naming a profile that does not exist', { policy: { services: { avscan: 'nosuch' } } }, /^(config: )?policy\.services\.avscan: no profile named "nosuch"/],
    ['a service that icap.services does not have', { policy: { profiles: { a: {} }, services: { nosuch: 'a' } } }, /^(config: )?policy\.services\.nosuch: not a service path/],
    ['a quarantine action without a quarantine', { policy: { profiles: { a: { onThreat: 'quarantine' } } } }, /^(config: )?policy\.profiles\.a\.onThreat is quarantine but quarantine\.enabled is false/],
    ['a list file that cannot be read', { policy: { profiles: { a: { denyList: '/nonexistent/deny.txt' } } } }, /^(config: )?policy\.profiles\.a\.denyList: cannot read \/nonexistent\/deny\.txt/],
  ] as const) {
    it(`refuses ${what} when the policy is built, naming the key`, () => {
      const config = loadConfig({ env: {}, overrides })
      assert.throws(() => PolicySet.build(config), (err: Error & { code?: string }) => err.code === 'CONFIG_INVALID' && pattern.test(err.message))
    })
  }

  it('without policy.* every service and clamd use a default profile equal to today\'s behaviour', () => {
    const set = PolicySet.build(loadConfig({ env: {} }))
    for (const profile of [set.forService('avscan'), set.forService('srv_clamav'), set.clamd]) {
      assert.deepEqual({ ...profile, maxObjectBytes: defaultProfile.maxObjectBytes }, defaultProfile)
    }
  })

  it('the node-wide keys feed the defaults (scan.oversize, scan.failMode, alertBrokenContainers, icap.transfer*)', () => {
    const set = PolicySet.build(loadConfig({ env: {}, overrides: { scan: { oversize: 'allow', failMode: 'open', alertBrokenContainers: true }, icap: { transferIgnore: 'jpg' } } }))
    const p = set.forService('avscan')
    assert.deepEqual([p.blockOversize, p.failMode, p.blockBroken, p.transferIgnore], [false, 'open', true, 'jpg'])
  })

  it('services choose their profile; a profile fills what it leaves out; lists are read', () => {
    writeFileSync(join(dir, 'deny.txt'), 'bad.test\nworse.test/x\n')
    const set = PolicySet.build(loadConfig({
      env: {},
      overrides: {
        icap: { services: ['avscan', 'strict'] },
        clamd: { profile: 'strict' },
        policy: { profiles: { strict: { blockUnsignedCode: true, denyList: join(dir, 'deny.txt'), transferPreview: 'exe,dll', transferIgnore: 'jpg,png' } }, services: { strict: 'strict' } },
      },
    }))
    assert.equal(set.forService('avscan').name, 'default')
    const strict = set.forService('strict')
    assert.deepEqual([strict.name, strict.blockUnsignedCode, strict.blockLimits, strict.transferPreview, strict.transferIgnore, strict.denyList?.size], ['strict', true, true, 'exe,dll', 'jpg,png', 2])
    assert.equal(set.clamd, strict)
    set.close()
  })

  it('config/policy.ts knows every true type the engine detects', () => {
    // FileType is a union; detect() must never return a name the config refuses. Check the samples.
    const samples: FileType[] = [detect(Buffer.from('MZ')), detect(Buffer.from('PK\u0003\u0004')), detect(Buffer.from('hello')), detect(Buffer.from([0xca, 0xfe, 0xba, 0xbe]))]
    for (const t of samples) assert.ok((trueTypes as readonly string[]).includes(t), t)
  })
})
