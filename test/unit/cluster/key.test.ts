/// The cluster key (src/cluster/key.ts): read once from keyFile or key, checked the same way for the
/// node and the CLI, with an error naming the key it is about.
import assert from 'node:assert/strict'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { readClusterKey } from '../../../src/cluster/key.js'

describe('cluster key', () => {
  const dir = mkdtempSync(join(tmpdir(), 'scanwall-key-'))

  it('takes cluster.key when no keyFile is set', async () => {
    assert.equal((await readClusterKey({ key: 'a-key-of-16-chars-or-more', keyFile: '' })).toString(), 'a-key-of-16-chars-or-more')
  })

  it('prefers cluster.keyFile and trims its line end', async () => {
    const file = join(dir, 'key')
    writeFileSync(file, 'the-file-key-0123456789\n', { mode: 0o600 })
    assert.equal((await readClusterKey({ key: 'ignored-inline-key-0123', keyFile: file })).toString(), 'the-file-key-0123456789')
  })

  it('refuses a short or missing key, naming the key', async () => {
    await assert.rejects(readClusterKey({ key: 'short', keyFile: '' }), /cluster\.key: a shared key of at least 16/)
    await assert.rejects(readClusterKey({ key: '', keyFile: '' }), /cluster\.key:/)
    const file = join(dir, 'short')
    writeFileSync(file, 'tiny\n')
    await assert.rejects(readClusterKey({ key: 'a-key-of-16-chars-or-more', keyFile: file }), /cluster\.keyFile: a shared key/)
  })

  it('says which file it cannot read', async () => {
    await assert.rejects(readClusterKey({ key: '', keyFile: join(dir, 'missing') }), /cluster\.keyFile: cannot read .*missing/)
  })
})
