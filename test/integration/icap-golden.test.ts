/// Golden ICAP transcripts over a real socket: each test/fixtures/icap/<case>.request is sent to a
/// real server (real scan pool) and the bytes that come back, with Date and ISTag normalised, must
/// equal <case>.response. Previews that need 100 Continue are sent in two parts, the second only
/// after the 100 arrived. Regenerate after an intended change with SCANWALL_UPDATE_GOLDEN=1 and
/// review the diff.
import assert from 'node:assert/strict'
import { readFileSync, writeFileSync, existsSync } from 'node:fs'
import { join } from 'node:path'
import { IcapParser } from 'icap-server-lite'
import { startIcap, RawClient, normalise, type Harness } from './icap-harness.js'
import { fixtureDir, fixtureNames, readRequest } from '../unit/icap/fixtures.js'
import { eicar } from '../helpers/eicar.js'

interface Plan { readonly cuts: number[], readonly responses: number, readonly fatal: boolean }

/// Where the client must stop and wait for 100 Continue, and how many responses to expect, found
/// by running the request through the parser the way the server does.
function plan (request: Buffer): Plan {
  const parser = new IcapParser({ maxHeaderBytes: 65_536, maxHeaderCount: 100, maxChunkBytes: 1 << 30 })
  const cuts: number[] = []
  let responses = 0
  let fatal = false
  let rejected = false
  for (let i = 0; i < request.length; i++) {
    const queue = [...parser.push(request.subarray(i, i + 1))]
    while (queue.length > 0) {
      const e = queue.shift()
      if (e === undefined) break
      if (e.kind === 'head') rejected = /nosuch|resp_only/.test(e.request.uri) && e.request.method !== 'OPTIONS'
      if (e.kind === 'preview-end') {
        if (rejected) { responses++; parser.afterPreview(false); queue.push(...parser.next()); continue }
        cuts.push(i + 1)
        responses++
        queue.push(...parser.afterPreview(true))
      }
      if (e.kind === 'end') { responses++; queue.push(...parser.next()) }
      if (e.kind === 'error') { responses++; fatal = true }
    }
  }
  return { cuts, responses, fatal }
}

async function exchange (port: number, request: Buffer): Promise<Buffer> {
  const { cuts, responses, fatal } = plan(request)
  const client = await RawClient.open(port)
  try {
    let from = 0
    let seen = 0
    for (const cut of cuts) {
      client.write(request.subarray(from, cut))
      from = cut
      const got = await client.responses(seen + 1)
      assert.match(got[got.length - 1]?.toString('latin1') ?? '', /^ICAP\/1\.0 100 Continue\r\n\r\n$/, '100 Continue arrives alone after the preview')
      seen = got.length
    }
    client.write(request.subarray(from))
    if (fatal) await client.closedByServer()
    else await client.responses(responses)
    return client.received
  } finally {
    client.destroy()
  }
}

describe('ICAP golden transcripts', function () {
  this.timeout(60_000)
  let icap: Harness
  before(async () => { icap = await startIcap() })
  after(async () => { await icap.close() })

  for (const name of fixtureNames()) {
    it(`answers ${name} exactly as recorded`, async () => {
      const request = readRequest(name)
      const response = await exchange(icap.port, request)
      const actual = normalise(response)
      const file = join(fixtureDir, `${name}.response`)
      // Only an explicit update writes expectations: a missing one is a failure, never recorded as found.
      if (process.env['SCANWALL_UPDATE_GOLDEN'] === '1') writeFileSync(file, actual, 'latin1')
      assert.ok(existsSync(file), `no recorded answer ${file}: record it with SCANWALL_UPDATE_GOLDEN=1 and review it`)
      assert.equal(actual, readFileSync(file, 'latin1'))
    })
  }

  it('echoes the original message byte-identical when Allow: 204 is absent', async () => {
    const request = readRequest('respmod-clean-echo')
    const response = await exchange(icap.port, request)
    const headEnd = request.indexOf('\r\n\r\n') + 4
    const resHdrAt = request.indexOf('HTTP/1.1 200 OK')
    const original = request.subarray(resHdrAt)
    const answerBody = response.subarray(response.indexOf('\r\n\r\n') + 4)
    assert.ok(headEnd > 0)
    assert.equal(answerBody.toString('latin1'), original.toString('latin1'), 'same HTTP header bytes, same chunked body')
  })

  it('puts the three verdict headers and a 403 page on an infected object, in REQMOD too', async () => {
    for (const name of ['respmod-infected', 'reqmod-post-infected']) {
      const text = (await exchange(icap.port, readRequest(name))).toString('latin1')
      assert.match(text, /^ICAP\/1\.0 200 OK\r\n/)
      assert.match(text, /\r\nX-Infection-Found: Type=0; Resolution=2; Threat=Eicar-Test-Signature;\r\n/)
      assert.match(text, /\r\nX-Violations-Found: 1\r\n\t-\r\n\tEicar-Test-Signature\r\n\t0\r\n\t0\r\n/)
      assert.match(text, /\r\nX-Virus-ID: Eicar-Test-Signature\r\n/)
      assert.match(text, /\r\nEncapsulated: res-hdr=0, res-body=\d+\r\n\r\nHTTP\/1\.1 403 Forbidden\r\n/)
      assert.ok(!text.includes(eicar.toString('latin1')), 'nothing of the infected body is sent back')
    }
  })

  it('logs each transaction once with client, url, verdict and threat', async () => {
    const before = icap.logs.length
    await exchange(icap.port, readRequest('respmod-infected'))
    const lines = icap.logs.slice(before).filter(l => l.msg === 'icap')
    assert.equal(lines.length, 1)
    assert.equal(lines[0]?.['client'], '192.0.2.7')
    assert.equal(lines[0]?.['user'], 'alice')
    assert.equal(lines[0]?.['url'], 'http://origin.test/file.txt')
    assert.equal(lines[0]?.['verdict'], 'infected')
    assert.equal(lines[0]?.['threat'], 'Eicar-Test-Signature')
    assert.equal(lines[0]?.['status'], 200)
    assert.equal(lines[0]?.['bytes'], 68)
  })
})
