/// ClamAV logical-signature expressions: subsignature indexes combined with `&`, `|` and parentheses,
/// with match-count conditions `X=n`, `X>n`, `X<n` (and `,m`: at least m distinct subsignatures of
/// the group matched). Parsed once per rule, evaluated over per-subsignature match counts.

export type Expr =
  | { readonly k: 'sub', readonly i: number }
  | { readonly k: 'and' | 'or', readonly a: Expr, readonly b: Expr }
  | { readonly k: 'cmp', readonly op: '=' | '>' | '<', readonly e: Expr, readonly n: number, readonly distinct: number }

/// Parses an expression over `subCount` subsignatures; returns the reason when malformed.
export function parseExpr (text: string, subCount: number): Expr | string {
  let i = 0
  const peek = (): string => text[i] ?? ''
  const number = (): number | undefined => {
    const m = /^\d+/.exec(text.slice(i))
    if (m === null) return undefined
    i += m[0].length
    return Number(m[0])
  }
  function atom (): Expr | string {
    let e: Expr | string
    if (peek() === '(') {
      i++
      e = orExpr()
      if (typeof e === 'string') return e
      if (peek() !== ')') return `expected ')' at ${i} in '${text}'`
      i++
    } else {
      const n = number()
      if (n === undefined) return `expected a subsignature index at ${i} in '${text}'`
      if (n >= subCount) return `subsignature ${n} does not exist in '${text}'`
      e = { k: 'sub', i: n }
    }
    const op = peek()
    if (op === '=' || op === '>' || op === '<') {
      i++
      const n = number()
      if (n === undefined) return `expected a count after '${op}' at ${i} in '${text}'`
      let distinct = 0
      if (peek() === ',') {
        i++
        const d = number()
        if (d === undefined) return `expected a count after ',' at ${i} in '${text}'`
        distinct = d
      }
      e = { k: 'cmp', op, e, n, distinct }
    }
    return e
  }
  function andExpr (): Expr | string {
    let a = atom()
    while (typeof a !== 'string' && peek() === '&') {
      i++
      const b = atom()
      if (typeof b === 'string') return b
      a = { k: 'and', a, b }
    }
    return a
  }
  function orExpr (): Expr | string {
    let a = andExpr()
    while (typeof a !== 'string' && peek() === '|') {
      i++
      const b = andExpr()
      if (typeof b === 'string') return b
      a = { k: 'or', a, b }
    }
    return a
  }
  const e = orExpr()
  if (typeof e !== 'string' && i !== text.length) return `unexpected '${peek()}' at ${i} in '${text}'`
  return e
}

interface Value { readonly truth: boolean, readonly sum: number, readonly distinct: number }

function evaluate (e: Expr, counts: ArrayLike<number>): Value {
  switch (e.k) {
    case 'sub': {
      const c = counts[e.i] ?? 0
      return { truth: c > 0, sum: c, distinct: c > 0 ? 1 : 0 }
    }
    case 'and':
    case 'or': {
      const a = evaluate(e.a, counts); const b = evaluate(e.b, counts)
      return { truth: e.k === 'and' ? a.truth && b.truth : a.truth || b.truth, sum: a.sum + b.sum, distinct: a.distinct + b.distinct }
    }
    case 'cmp': {
      const v = evaluate(e.e, counts)
      const countOk = e.op === '=' ? v.sum === e.n : e.op === '>' ? v.sum > e.n : v.sum < e.n
      return { truth: countOk && v.distinct >= e.distinct, sum: v.sum, distinct: v.distinct }
    }
  }
}

/// Whether the rule holds given how many times each subsignature matched.
export function holds (e: Expr, counts: ArrayLike<number>): boolean {
  return evaluate(e, counts).truth
}
