/// One error table: the ICAP status of every code comes from the code tables (Scanwall's
/// src/errors.ts and icap-server-lite's icapErrors), and docs/icap.md lists exactly those codes
/// with exactly those statuses. Checked both ways: a code missing from the page, a row for a code
/// that no longer exists, and a status that differs all fail.
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { icapErrors } from 'icap-server-lite'
import { codes, icapStatusOf, ScanwallError, type ErrorCode } from '../../src/errors.js'

const page = fileURLToPath(new URL('../../../docs/icap.md', import.meta.url))
const heading = '## Error codes and their ICAP status'

/// code → status ('—' for none) from the page's table under `heading`.
function documented (): Map<string, string> {
  const text = readFileSync(page, 'utf8')
  const from = text.indexOf(heading)
  assert.ok(from >= 0, `docs/icap.md lacks '${heading}'`)
  const next = text.indexOf('\n## ', from + heading.length)
  const rows = new Map<string, string>()
  for (const line of text.slice(from, next < 0 ? undefined : next).split('\n')) {
    const cells = /^\| `([A-Z_]+)` \| ([0-9]{3}|—) \|/.exec(line)
    if (cells === null) continue
    assert.ok(!rows.has(cells[1] ?? ''), `${cells[1]} listed twice`)
    rows.set(cells[1] ?? '', cells[2] ?? '')
  }
  return rows
}

function inCode (): Map<string, string> {
  const table = new Map<string, string>()
  for (const [code, row] of Object.entries(icapErrors)) table.set(code, row.status === null ? '—' : String(row.status))
  for (const [code, row] of Object.entries(codes)) {
    assert.ok(!table.has(code), `${code} is in both tables`)
    table.set(code, row.icap === null ? '—' : String(row.icap))
  }
  return table
}

describe('the error table', () => {
  it('docs/icap.md lists every code with the ICAP status the code tables give it, and no other', () => {
    const doc = documented()
    const code = inCode()
    assert.ok(code.size > 10)
    for (const [name, status] of code) assert.equal(doc.get(name), status, `docs/icap.md row for ${name}`)
    for (const name of doc.keys()) assert.ok(code.has(name), `docs/icap.md lists ${name}, which no table has`)
  })

  it('a Scanwall error answers its code\'s status', () => {
    for (const name of Object.keys(codes) as ErrorCode[]) {
      assert.equal(new ScanwallError(name, 'x').icapStatus, icapStatusOf(name))
      assert.equal(icapStatusOf(name), codes[name].icap ?? 500)
    }
  })
})
