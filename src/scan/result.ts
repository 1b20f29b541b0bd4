/// The worker's answer, parsed at the boundary: the main thread trusts nothing about the shape of
/// what a worker posts back (a bug or a stale worker build could send anything), so every field is
/// checked and copied into a typed value; anything else is a SCAN_BAD_RESULT error verdict.
import { maxCodeFacts, maxFactTypes, type CodeFact, type Finding, type ObjectFacts, type ScanStats, type Verdict, type VerdictStatus } from '../engine/verdict.js'
import type { ScanTaskResult } from './task.js'
import { isErrorCode, type ErrorCode } from '../errors.js'

const statuses: ReadonlySet<string> = new Set<VerdictStatus>(['clean', 'infected', 'limit', 'encrypted', 'broken', 'error', 'timeout', 'aborted'])
const kinds: ReadonlySet<string> = new Set<Finding['kind']>(['signature', 'heuristic', 'limit', 'encrypted', 'broken'])
/// A verdict names what decided it first; past this many findings the rest is noise, not evidence,
/// and a worker must not be able to make the main thread hold an unbounded list.
const maxFindings = 256

export class BadResult extends Error {}

type Obj = Record<string, unknown>

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v)

function str (o: Obj, key: string, where: string): string {
  const v = o[key]
  if (typeof v !== 'string') throw new BadResult(`${where}.${key} is not a string`)
  return v
}

function count (o: Obj, key: string): number {
  const v = o[key]
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new BadResult(`stats.${key} is not a count`)
  return v
}

function finding (v: unknown, i: number): Finding {
  const where = `findings[${i}]`
  if (!isObj(v)) throw new BadResult(`${where} is not an object`)
  const kind = str(v, 'kind', where)
  if (!kinds.has(kind)) throw new BadResult(`${where}.kind '${kind}' is unknown`)
  const path = v['path']
  if (!Array.isArray(path) || !path.every((s): s is string => typeof s === 'string')) throw new BadResult(`${where}.path is not a list of names`)
  const detail = v['detail']
  if (detail !== undefined && typeof detail !== 'string') throw new BadResult(`${where}.detail is not a string`)
  const base = { name: str(v, 'name', where), kind: kind as Finding['kind'], path: [...path] }
  return detail === undefined ? base : { ...base, detail }
}

const codeKinds: ReadonlySet<string> = new Set<CodeFact['kind']>(['pe', 'cab', 'jar'])
const names = (v: unknown, where: string): string[] => {
  if (!Array.isArray(v) || !v.every((s): s is string => typeof s === 'string')) throw new BadResult(`${where} is not a list of names`)
  return v
}
const flag = (o: Obj, key: string, where: string): boolean => {
  if (typeof o[key] !== 'boolean') throw new BadResult(`${where}.${key} is not a boolean`)
  return o[key]
}

function codeFact (v: unknown, i: number): CodeFact {
  const where = `facts.code[${i}]`
  if (!isObj(v)) throw new BadResult(`${where} is not an object`)
  const kind = str(v, 'kind', where)
  if (!codeKinds.has(kind)) throw new BadResult(`${where}.kind '${kind}' is unknown`)
  const fact: CodeFact = { kind: kind as CodeFact['kind'], path: names(v['path'], `${where}.path`), signed: flag(v, 'signed', where) }
  return {
    ...fact,
    ...(v['signer'] === undefined ? {} : { signer: str(v, 'signer', where).slice(0, 256) }),
    ...(v['dll'] === undefined ? {} : { dll: flag(v, 'dll', where) }),
  }
}

/// The walk's facts (bounded here too: a worker must not make the main thread hold a long list).
function facts (v: unknown): ObjectFacts {
  if (!isObj(v)) throw new BadResult('verdict.facts is not an object')
  if (!Array.isArray(v['code'])) throw new BadResult('facts.code is not a list')
  return {
    types: names(v['types'], 'facts.types').slice(0, maxFactTypes),
    encrypted: flag(v, 'encrypted', 'facts'),
    code: v['code'].slice(0, maxCodeFacts).map(codeFact),
    macros: flag(v, 'macros', 'facts'),
    script: flag(v, 'script', 'facts'),
  }
}

export function parseVerdict (v: unknown): Verdict {
  if (!isObj(v)) throw new BadResult('verdict is not an object')
  const status = str(v, 'status', 'verdict')
  if (!statuses.has(status)) throw new BadResult(`verdict.status '${status}' is unknown`)
  if (!Array.isArray(v['findings'])) throw new BadResult('verdict.findings is not a list')
  // Past maxFindings the rest is dropped, not refused: the first ones decided the verdict.
  const findings = v['findings'].slice(0, maxFindings).map(finding)
  if (!isObj(v['stats'])) throw new BadResult('verdict.stats is not an object')
  const stats: ScanStats = { bytes: count(v['stats'], 'bytes'), objects: count(v['stats'], 'objects'), depth: count(v['stats'], 'depth'), ms: count(v['stats'], 'ms') }
  if (status === 'infected' && findings.length === 0) throw new BadResult('an infected verdict without findings')
  const base = { status: status as VerdictStatus, findings, stats, ...(v['facts'] === undefined ? {} : { facts: facts(v['facts']) }) }
  if (v['error'] === undefined) return base
  if (!isObj(v['error'])) throw new BadResult('verdict.error is not an object')
  return { ...base, error: { code: errorCode(v['error'], 'verdict.error'), message: str(v['error'], 'message', 'verdict.error') } }
}

/// An error code from the table; anything else is a malformed result, not a code to pass on.
function errorCode (o: Obj, where: string): ErrorCode {
  const code = str(o, 'code', where)
  if (!isErrorCode(code)) throw new BadResult(`${where}.code '${code}' is not an error code`)
  return code
}

/// The typed result, or BadResult saying which field was wrong.
export function parseTaskResult (v: unknown): ScanTaskResult {
  if (!isObj(v)) throw new BadResult('the result is not an object')
  const body = v['body']
  if (body !== undefined && !(body instanceof ArrayBuffer)) throw new BadResult('body is not an ArrayBuffer')
  const withBody = body === undefined ? {} : { body }
  if (v['ok'] === true) return { ok: true, verdict: parseVerdict(v['verdict']), ...withBody }
  if (v['ok'] === false) return { ok: false, code: errorCode(v, 'result'), message: str(v, 'message', 'result'), ...withBody }
  throw new BadResult('result.ok is not a boolean')
}
