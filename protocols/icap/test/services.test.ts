import assert from 'node:assert/strict'
import { ServiceTable } from '../services.js'
import { statusLine, reasonPhrase } from '../status.js'

describe('ICAP service table', () => {
  const table = new ServiceTable(['avscan', 'srv_clamav', 'resp_only:RESPMOD'])

  it('resolves the primary service and its aliases for both methods', () => {
    for (const name of ['avscan', 'srv_clamav']) {
      for (const method of ['REQMOD', 'RESPMOD', 'OPTIONS'] as const) {
        const found = table.lookup(name, method)
        assert.ok(found.ok, `${name} ${method}`)
        assert.equal(found.service.name, name)
        assert.equal(found.service.primary, 'avscan')
      }
    }
  })

  it('answers 404 for an unknown path and 405 for a method the service does not offer', () => {
    assert.deepEqual(table.lookup('nosuch', 'RESPMOD'), { ok: false, code: 'ICAP_SERVICE_NOT_FOUND', status: 404, message: "no ICAP service at 'nosuch'" })
    const reqmod = table.lookup('resp_only', 'REQMOD')
    assert.equal(reqmod.ok ? 0 : reqmod.status, 405)
    assert.ok(table.lookup('resp_only', 'OPTIONS').ok, 'OPTIONS works on every known service')
  })

  it('defaults to avscan and refuses unknown methods in an entry', () => {
    assert.deepEqual(new ServiceTable([]).names, ['avscan'])
    assert.throws(() => new ServiceTable(['x:PUT']), /unknown method PUT/)
  })
})

describe('ICAP status lines', () => {
  it('names every status the server sends', () => {
    for (const code of [100, 200, 204, 206, 400, 404, 405, 408, 500, 501, 503, 505]) {
      assert.match(statusLine(code), new RegExp(`^ICAP/1\\.0 ${code} [A-Z][A-Za-z ]+\\r\\n$`))
    }
    assert.equal(reasonPhrase(599), 'Server Error')
  })

  it('maps split clusters\' addresses to the services they offer, refusing unknown paths with the key named', () => {
    const table = new ServiceTable(['avscan', 'mailscan:REQMOD'])
    const map = table.offeredAt([
      { address: '10.0.0.100', services: ['avscan'], where: 'cluster.instances[0].services' },
      { address: '10.0.0.101', services: [], where: 'cluster.instances[1].services' },
    ])
    assert.deepEqual([...map], [['10.0.0.100', ['avscan']]], 'an empty list offers everything: no entry')
    const refused = table.lookup('mailscan', 'REQMOD', map.get('10.0.0.100'))
    assert.equal(refused.ok ? 0 : refused.status, 404)
    assert.ok(table.lookup('mailscan', 'REQMOD', map.get('10.0.0.101')).ok)
    assert.throws(() => table.offeredAt([{ address: '10.0.0.102', services: ['mail'], where: 'cluster.instances[2].services' }]),
      (err: Error & { code?: string }) => err.code === 'ICAP_CONFIG_INVALID' && /cluster\.instances\[2\]\.services: unknown ICAP service mail/.test(err.message))
  })
})
