/// The target description block of an .ldb rule: `Key:Value` pairs separated by commas.
/// Target, FileSize, EntryPoint, NumberOfSections, Container and Intermediates are honoured
/// (matcher/ext.ts checks the last four per layer); Engine is checked against this engine's
/// functionality level; IconGroup1/2 (need .idb icon matching) and HandlerType are unsupported.
import { isKnownTarget } from './target.js'
import { isClTypeName } from './cltype.js'
import type { Conditions } from './types.js'

/// about ClamAV 1.4's functionality level: rules written for later engines are not loaded (as ClamAV skips them).
export const functionalityLevel = 200

export interface Tdb { readonly target: number, readonly fileSize: [number, number] | undefined, readonly conditions: Conditions }

function range (value: string): [number, number] | undefined {
  const m = /^(\d+)-(\d+)$/.exec(value) ?? /^(\d+)$/.exec(value)
  if (m === null) return undefined
  return [Number(m[1]), Number(m[2] ?? m[1])]
}

export function parseTdb (tdb: string): Tdb | string {
  let target = 0
  let fileSize: [number, number] | undefined
  const conditions: { -readonly [K in keyof Conditions]: Conditions[K] } = {}
  for (const item of tdb.split(',')) {
    const colon = item.indexOf(':')
    const key = colon < 0 ? item : item.slice(0, colon)
    const value = colon < 0 ? '' : item.slice(colon + 1)
    switch (key) {
      case 'Target':
        if (!/^\d+$/.test(value)) return `bad Target '${value}'`
        target = Number(value)
        if (!isKnownTarget(target)) return `unsupported:target type ${value}`
        break
      case 'FileSize': case 'EntryPoint': case 'NumberOfSections': {
        const r = range(value)
        if (r === undefined) return `bad ${key} '${value}'`
        if (key === 'FileSize') fileSize = r
        else if (key === 'EntryPoint') conditions.entryPoint = r
        else conditions.sections = r
        break
      }
      case 'Engine': {
        const r = range(value)
        if (r === undefined) return `bad Engine '${value}'`
        if (functionalityLevel < r[0] || functionalityLevel > r[1]) return `unsupported:Engine:${value} excludes this engine's functionality level`
        break
      }
      case 'Container':
        if (!isClTypeName(value)) return `bad Container '${value}'`
        conditions.container = value
        break
      case 'Intermediates': {
        const types = value.split('>')
        if (types.length > 16 || !types.every(isClTypeName)) return `bad Intermediates '${value}'`
        conditions.intermediates = types
        break
      }
      case 'IconGroup1': case 'IconGroup2': return `unsupported:TDB key ${key} (icon matching of .idb signatures)`
      case 'HandlerType': return 'unsupported:TDB key HandlerType'
      default: return `unknown target description key '${key}'`
    }
  }
  return { target, fileSize, conditions }
}
