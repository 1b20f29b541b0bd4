/// Typed reads of the fields of one configuration object that convict cannot describe (a cluster
/// instance, an SNMP user): each read checks type and range, fills the default, and on a bad value
/// throws one message naming the field by its full path and showing what was there.

/// A field's value for an error message: JSON for scalars (so '' and "1" are visible), a summary for
/// objects so a message stays one short line.
export function got (value: unknown): string {
  if (value === undefined) return 'nothing'
  if (typeof value === 'number') return String(value)
  if (Array.isArray(value)) return 'an array'
  if (typeof value === 'object' && value !== null) return 'an object'
  const text = JSON.stringify(value)
  return text.length > 60 ? `${text.slice(0, 57)}...` : text
}

export function fail (message: string): never { throw new Error(message) }

export interface Fields {
  readonly raw: Record<string, unknown>
  /// Refuses fields not in `known`: a misspelt optional field would otherwise be silently ignored.
  only (known: readonly string[]): void
  str (key: string, def?: string): string
  strings (key: string, def: string[] | undefined, minLength: number): string[]
  oneOf<T extends string> (key: string, values: readonly T[], def: T | undefined): T
  int (key: string, def: number | undefined, min: number, max?: number): number
  ints (key: string, def: number[], min: number, max: number): number[]
  num (key: string, def: number, min: number): number
  bool (key: string, def: boolean): boolean
}

export function reader (value: unknown, where: string): Fields {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail(`${where} must be an object (got ${got(value)})`)
  const raw = value as Record<string, unknown>
  const read = (key: string, def: unknown): unknown => {
    const v = raw[key] ?? def
    if (v === undefined) fail(`${where}.${key} is required`)
    return v
  }
  const isInt = (v: unknown, min: number, max: number): v is number => Number.isInteger(v) && (v as number) >= min && (v as number) <= max
  const range = (min: number, max: number): string => max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `from ${min} to ${max}`
  return {
    raw,
    only (known) {
      const unknown = Object.keys(raw).find(k => !known.includes(k))
      if (unknown !== undefined) fail(`${where}.${unknown} is not a known field (known: ${known.join(', ')})`)
    },
    str (key, def) {
      const v = read(key, def)
      if (typeof v !== 'string') fail(`${where}.${key} must be a string (got ${got(v)})`)
      return v
    },
    strings (key, def, minLength) {
      const v = read(key, def)
      if (!Array.isArray(v) || v.length < minLength || !v.every(s => typeof s === 'string')) {
        fail(`${where}.${key} must be an array of ${minLength > 0 ? `at least ${minLength} ` : ''}strings (got ${got(v)})`)
      }
      return v as string[]
    },
    oneOf (key, values, def) {
      const v = read(key, def)
      if (!values.includes(v as never)) fail(`${where}.${key} must be one of ${values.join(', ')} (got ${got(v)})`)
      return v as typeof values[number]
    },
    int (key, def, min, max = Number.MAX_SAFE_INTEGER) {
      const v = read(key, def)
      if (!isInt(v, min, max)) fail(`${where}.${key} must be an integer ${range(min, max)} (got ${got(v)})`)
      return v
    },
    ints (key, def, min, max) {
      const v = read(key, def)
      if (!Array.isArray(v) || v.length === 0) fail(`${where}.${key} must be a non-empty array of integers ${range(min, max)} (got ${got(v)})`)
      v.forEach((p: unknown, i) => { if (!isInt(p, min, max)) fail(`${where}.${key}[${i}] must be an integer ${range(min, max)} (got ${got(p)})`) })
      return v as number[]
    },
    num (key, def, min) {
      const v = read(key, def)
      if (typeof v !== 'number' || !Number.isFinite(v) || v < min) fail(`${where}.${key} must be a number >= ${min} (got ${got(v)})`)
      return v
    },
    bool (key, def) {
      const v = read(key, def)
      if (typeof v !== 'boolean') fail(`${where}.${key} must be true or false (got ${got(v)})`)
      return v
    },
  }
}
