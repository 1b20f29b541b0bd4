/// log.transactions over a real ICAP server: `flagged` (the default) writes the `icap` line for a
/// blocked object and none for a clean one or OPTIONS; `none` writes none; `all` writes every one.
/// The counters count every transaction whatever the setting.
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { startIcap, RawClient, buildRequest, optionsRequest, eventually, type Harness } from './icap-harness.js'
import { eicar } from '../helpers/eicar.js'
import type { TransactionLog } from '../../src/icap/observe.js'

describe('log.transactions (ICAP)', function () {
  this.timeout(60_000)
  for (const [mode, expected] of [['flagged', ['infected']], ['none', []], ['all', ['-', 'clean', 'infected']]] as Array<[TransactionLog, string[]]>) {
    it(`${mode}: lines for ${expected.length === 0 ? 'nothing' : expected.join(', ')}`, async () => {
      let icap: Harness | undefined
      try {
        icap = await startIcap({ icap: { logTransactions: mode } })
        const client = await RawClient.open(icap.port)
        client.write(optionsRequest)
        client.write(buildRequest({ body: randomBytes(2000), allow: '204' }).whole)
        client.write(buildRequest({ body: eicar }).whole)
        await client.responses(3)
        client.destroy()
        const h = icap
        await eventually(() => h.metrics.service('avscan').requests === 3, 'three transactions counted')
        assert.equal(h.metrics.service('avscan').infected, 1)
        assert.deepEqual(h.logs.filter(l => l.msg === 'icap').map(l => l['verdict']), expected)
      } finally {
        await icap?.close()
      }
    })
  }
})
