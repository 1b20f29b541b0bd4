import assert from 'node:assert/strict'
import { decide, defaultProfile, type Profile } from '../../src/policy/decide.js'
import { renderBlockPage } from '../../src/policy/block-page.js'
import type { Verdict, VerdictStatus } from '../../src/engine/verdict.js'
import type { ErrorCode } from '../../src/errors.js'
import { oversizeFinding } from '../../src/scan/input.js'

const stats = { bytes: 1, objects: 1, depth: 0, ms: 1 }
function verdict (status: VerdictStatus, name?: string, code?: ErrorCode): Verdict {
  return {
    status,
    findings: name === undefined ? [] : [{ name, kind: status === 'infected' ? 'signature' : 'limit', path: ['object'] }],
    stats,
    ...(code === undefined ? {} : { error: { code, message: code } }),
  }
}

describe('decide()', () => {
  const open: Profile = { ...defaultProfile, failMode: 'open' }
  const lenient: Profile = { ...defaultProfile, blockLimits: false, blockEncrypted: false }
  const passOversize: Profile = { ...defaultProfile, blockOversize: false }
  const lenientKeepsOversize: Profile = { ...lenient, blockOversize: true }
  const table: Array<[string, Verdict, Profile, string, string?]> = [
    ['clean allows', verdict('clean'), defaultProfile, 'allow'],
    ['infected blocks with the threat', verdict('infected', 'Eicar-Test-Signature'), defaultProfile, 'block', 'Eicar-Test-Signature'],
    ['infected blocks even fail-open', verdict('infected', 'X'), open, 'block', 'X'],
    ['limit blocks by default', verdict('limit', 'Heuristics.Limits.Exceeded.MaxFileSize'), defaultProfile, 'block', 'Heuristics.Limits.Exceeded.MaxFileSize'],
    ['limit allowed when the profile says so', verdict('limit', 'Heuristics.Limits.Exceeded.MaxFileSize'), lenient, 'allow'],
    ['an object over the size limit blocks by default (scan.oversize: block)', verdict('limit', oversizeFinding.name), defaultProfile, 'block', 'Heuristics.Limits.Exceeded.MaxObjectSize'],
    ['an object over the size limit passes with scan.oversize: allow, other limits still block', verdict('limit', oversizeFinding.name), passOversize, 'allow'],
    ['other limits are not the size limit\'s to pass', verdict('limit', 'Heuristics.Limits.Exceeded.MaxFileSize'), passOversize, 'block', 'Heuristics.Limits.Exceeded.MaxFileSize'],
    ['the size limit is not the other limits\' to pass', verdict('limit', oversizeFinding.name), lenientKeepsOversize, 'block', 'Heuristics.Limits.Exceeded.MaxObjectSize'],
    ['encrypted blocks by default', verdict('encrypted', 'Heuristics.Encrypted.Zip'), defaultProfile, 'block', 'Heuristics.Encrypted.Zip'],
    ['encrypted allowed when the profile says so', verdict('encrypted', 'Heuristics.Encrypted.Zip'), lenient, 'allow'],
    ['queue full fails closed as overload', verdict('error', undefined, 'SCAN_QUEUE_FULL'), defaultProfile, 'fail'],
    ['queue full fail-open allows', verdict('error', undefined, 'SCAN_QUEUE_FULL'), open, 'allow'],
    ['worker crash fails closed with a block', verdict('error', undefined, 'SCAN_WORKER_CRASHED'), defaultProfile, 'block', 'Scanwall.ScanError'],
    ['timeout fails closed with the time limit', verdict('timeout', undefined, 'SCAN_TIMEOUT'), defaultProfile, 'block', 'Heuristics.Limits.Exceeded.MaxScanTime'],
    ['timeout fail-open allows', verdict('timeout', undefined, 'SCAN_TIMEOUT'), open, 'allow'],
    ['aborted is never an allow', verdict('aborted'), open, 'fail'],
  ]
  for (const [title, v, profile, action, threat] of table) {
    it(title, () => {
      const decision = decide(v, { service: 'avscan' }, profile)
      assert.equal(decision.action, action)
      if (threat !== undefined) assert.equal(decision.action === 'block' ? decision.threat : undefined, threat)
    })
  }
})

describe('block page', () => {
  it('inserts every value HTML-escaped', () => {
    const html = renderBlockPage('<p>{{threat}}|{{url}}|{{node}}|{{service}}</p>', { threat: 'A<b>', url: 'http://x/?a=1&b="2"', node: 'n1', service: 'avscan' })
    assert.equal(html, '<p>A&lt;b&gt;|http://x/?a=1&amp;b=&quot;2&quot;|n1|avscan</p>')
  })
})
