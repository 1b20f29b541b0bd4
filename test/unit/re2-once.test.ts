import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, relative } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

const distSrc = fileURLToPath(new URL('../../src/', import.meta.url))
const at = (path: string): string => pathToFileURL(join(distSrc, path)).href

/// The compiled JS files under a directory (type-only imports are gone from them).
function jsFiles (dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter(e => e.isFile() && e.name.endsWith('.js'))
    .map(e => join(e.parentPath, e.name))
}

describe('re2js: one copy per thread', () => {
  it('a thread that compiles spam, content-filter and PCRE expressions loads one build of re2js, once', () => {
    const dir = mkdtempSync(join(tmpdir(), 'scanwall-re2-'))
    try {
      const loads = join(dir, 'esm-loads.txt')
      writeFileSync(loads, '')
      // ESM loads are seen by a loader hook (it runs on its own thread: it appends to a file).
      writeFileSync(join(dir, 'hooks.mjs'), `import { appendFileSync } from 'node:fs'
export async function load (url, context, next) {
  if (url.includes('/re2js/')) appendFileSync(${JSON.stringify(loads)}, url + '\\n')
  return await next(url, context)
}
`)
      writeFileSync(join(dir, 'register.mjs'), `import { register } from 'node:module'\nregister(${JSON.stringify(pathToFileURL(join(dir, 'hooks.mjs')).href)})\n`)
      writeFileSync(join(dir, 'main.mjs'), `import { createRequire } from 'node:module'
const { RuleSet } = await import(${JSON.stringify(at('spam/rules.js'))})
const { compileContentRule } = await import(${JSON.stringify(at('content-filter/rules.js'))})
const { parsePcre } = await import(${JSON.stringify(at('engine/signatures/pcre.js'))})
const spam = new RuleSet([{ name: 'R', score: 1, regex: 'cheap\\\\s+pills', flags: 'i' }])
const content = compileContentRule({ name: 'C', action: 'log', regex: 'secret', flags: 'i' })
const pcre = parsePcre('0/abc[0-9]+/i')
const required = Object.keys(createRequire(import.meta.url).cache).filter(k => k.includes('/re2js/'))
console.log(JSON.stringify({ spam: spam.size, content: content.count('a Secret and a SECRET'), pcre: typeof pcre, required }))
`)
      const out = JSON.parse(execFileSync(process.execPath, ['--import', pathToFileURL(join(dir, 'register.mjs')).href, join(dir, 'main.mjs')], { encoding: 'utf8' })) as { spam: number, content: number, pcre: string, required: string[] }
      assert.deepEqual({ spam: out.spam, content: out.content, pcre: out.pcre }, { spam: 1, content: 1, pcre: 'object' }, 'all three compiled')
      assert.deepEqual(readFileSync(loads, 'utf8').split('\n').filter(l => l !== ''), [], 're2js\'s ESM build is never imported')
      assert.equal(out.required.length, 1, `one CommonJS build required: ${out.required.join(', ')}`)
      assert.match(out.required[0] ?? '', /re2js\/build\/index\.cjs$/)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('only src/engine/re2.ts loads re2js; everything else gets it from there', () => {
    const loaders = jsFiles(distSrc).filter(f => /['"]re2js['"]/.test(readFileSync(f, 'utf8'))).map(f => relative(distSrc, f))
    assert.deepEqual(loaders, ['engine/re2.js'])
  })
})
