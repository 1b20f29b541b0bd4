/// The normalised forms Debian's clamscan writes for a page (`--leave-temps --tempdir D`): its
/// `nocomment.html`, `notags.html` and `javascript` files, found under D after one scan per page
/// (a form clamscan did not write is undefined). Scans run a few at a time.
import { spawn } from 'node:child_process'
import { mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'

export interface ClamscanForms {
  nocomment?: Buffer | undefined
  notags?: Buffer | undefined
  javascript?: Buffer | undefined
}

function find (dir: string, name: string): string | undefined {
  for (const entry of readdirSync(dir)) {
    const path = join(dir, entry)
    if (statSync(path).isDirectory()) {
      const found = find(path, name)
      if (found !== undefined) return found
    } else if (entry === name) return path
  }
  return undefined
}

function scanOne (file: string, db: string, temp: string): Promise<ClamscanForms> {
  mkdirSync(temp, { recursive: true })
  return new Promise((resolve, reject) => {
    const child = spawn('clamscan', ['--no-summary', '--leave-temps', '--tempdir', temp, '-d', db, file], { stdio: ['ignore', 'ignore', 'pipe'] })
    let err = ''
    child.stderr.on('data', (d: Buffer) => { err += d.toString() })
    child.on('error', reject)
    child.on('close', code => {
      if (code !== 0 && code !== 1) { reject(new Error(`clamscan exited ${String(code)}: ${err}`)); return }
      const read = (name: string): Buffer | undefined => { const p = find(temp, name); return p === undefined ? undefined : readFileSync(p) }
      resolve({ nocomment: read('nocomment.html'), notags: read('notags.html'), javascript: read('javascript') })
    })
  })
}

/// The forms of each file (by index), with `parallel` clamscan processes at a time.
export async function clamscanForms (files: readonly string[], db: string, tempRoot: string, parallel = 3): Promise<ClamscanForms[]> {
  const out: ClamscanForms[] = new Array<ClamscanForms>(files.length)
  let next = 0
  const worker = async (): Promise<void> => {
    while (next < files.length) {
      const i = next++
      out[i] = await scanOne(files[i]!, db, join(tempRoot, String(i)))
    }
  }
  await Promise.all(Array.from({ length: parallel }, worker))
  return out
}
