import assert from 'node:assert/strict'
import { join } from 'node:path'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { run, ourMibDir, baseMibDir, mibArgs } from '../helpers/snmp.js'
import { scalars, branch, notifications, notifyObjects, defaultEnterpriseOid, providerDefinitions } from '../../protocols/snmp/mib.js'

describe('SCANWALL-MIB text file', function () {
  this.timeout(30_000)
  const file = join(ourMibDir, 'SCANWALL-MIB.txt')

  it('passes smilint -l 3 with no errors and no warnings', async () => {
    // SMIPATH: where smilint finds SNMPv2-SMI/TC/CONF (Debian ships them only in non-free).
    const result = await run('smilint', ['-l', '3', '-s', file], { ...process.env, SMIPATH: baseMibDir })
    assert.equal(result.code, 0)
    assert.equal(result.stdout + result.stderr, '', 'smilint reported problems')
  })

  it('smilint does report a broken copy (the check above can fail)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'scanwall-mib-'))
    try {
      const text = await readFile(file, 'utf8')
      const broken = text.replace('DESCRIPTION "This node\'s id', 'DESCRIPTIO "This node\'s id')
      assert.notEqual(broken, text)
      await writeFile(join(dir, 'SCANWALL-MIB.txt'), broken)
      const result = await run('smilint', ['-l', '3', '-s', join(dir, 'SCANWALL-MIB.txt')], { ...process.env, SMIPATH: baseMibDir })
      assert.match(result.stdout + result.stderr, /error/)
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })

  it('names every OID the agent serves and sends exactly as the code numbers it', async () => {
    const expected = new Map<string, string>()
    for (const s of scalars) expected.set(s.name, `${defaultEnterpriseOid}.${branch.node}.${s.sub}`)
    for (const p of providerDefinitions(defaultEnterpriseOid)) {
      for (const c of p.tableColumns ?? []) expected.set(c.name, `${p.oid}.${c.number}`)
    }
    for (const [name, n] of Object.entries(notifications)) expected.set(name, `${defaultEnterpriseOid}.${branch.notifications}.${n}`)
    for (const [name, n] of Object.entries(notifyObjects)) expected.set(name, `${defaultEnterpriseOid}.${branch.notifyObjects}.${n}`)
    const names = [...expected.keys()]
    const result = await run('snmptranslate', [...mibArgs, '-On', ...names.map(n => `SCANWALL-MIB::${n}`)])
    const oids = result.stdout.split('\n').filter(line => line !== '')
    assert.equal(oids.length, names.length, result.stderr.split('\n').filter(l => !/Cannot find module|Did not find/.test(l)).join('\n'))
    names.forEach((name, i) => assert.equal(oids[i], `.${expected.get(name)}`, name))
  })
})
