/// Fetches through a proxy with the real curl binary (what a user would run), writing the body to a
/// file so large objects are hashed by streaming instead of held in a test string.
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { createHash } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { randomUUID } from 'node:crypto'

const execFileAsync = promisify(execFile)

export interface CurlResult {
  readonly status: number
  readonly headers: string
  readonly bodyFile: string
  readonly bodyBytes: number
  readonly bodySha256: string
  /// The body as text, only read for small bodies (block pages, errors).
  readonly text: string
}

export interface CurlRequest {
  readonly proxy: string
  readonly url: string
  readonly dir: string
  readonly upload?: Buffer
  readonly timeoutS?: number
}

export async function curl (request: CurlRequest): Promise<CurlResult> {
  const id = randomUUID()
  const bodyFile = join(request.dir, `curl-${id}.body`)
  const headerFile = join(request.dir, `curl-${id}.headers`)
  const args = ['-sS', '--proxy', request.proxy, '--max-time', String(request.timeoutS ?? 60),
    '-o', bodyFile, '-D', headerFile, '-w', '%{http_code}']
  if (request.upload !== undefined) {
    const uploadFile = join(request.dir, `curl-${id}.upload`)
    await writeFile(uploadFile, request.upload)
    args.push('-H', 'Content-Type: application/octet-stream', '--data-binary', `@${uploadFile}`)
  }
  args.push(request.url)
  let stdout: string
  try {
    ({ stdout } = await execFileAsync('curl', args))
  } catch (err) {
    const e = err as { stderr?: string, message: string }
    throw new Error(`curl ${request.url} via ${request.proxy} failed: ${e.message} ${e.stderr ?? ''}`)
  }
  const hash = createHash('sha256')
  let bodyBytes = 0
  for await (const chunk of createReadStream(bodyFile)) {
    const bytes = chunk as Buffer
    bodyBytes += bytes.length
    hash.update(bytes)
  }
  const text = bodyBytes <= 1_000_000 ? await readFile(bodyFile, 'latin1') : ''
  return { status: Number(stdout.trim()), headers: await readFile(headerFile, 'latin1'), bodyFile, bodyBytes, bodySha256: hash.digest('hex'), text }
}
