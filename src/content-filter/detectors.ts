/// Detectors for data that must not leave: payment card numbers (13-19 digits, spaces or dashes
/// between groups, a known issuer prefix, and the Luhn check digit) and IBANs (country code, two
/// check digits, the national part; ISO 13616's mod-97 check and the country's length). Both
/// checks make a random digit string match rarely: 1 in 10 for Luhn, 1 in 97 for IBAN, on top of
/// the shape. Hand-written: each check is a few lines; the npm packages (ibantools, card-validator)
/// validate one given string, and finding candidates in text is most of the work here.

/// The Luhn (mod 10) check over a string of digits.
export function luhnValid (digits: string): boolean {
  let sum = 0
  let double = false
  for (let i = digits.length - 1; i >= 0; i--) {
    let d = digits.charCodeAt(i) - 48
    if (d < 0 || d > 9) return false
    if (double) { d *= 2; if (d > 9) d -= 9 }
    sum += d
    double = !double
  }
  return sum % 10 === 0
}

/// Issuer prefixes (IIN ranges) of the card networks: a Luhn-valid run of digits without one is
/// more likely an order or tracking number.
const issuer = /^(?:4\d{12}(?:\d{3}){0,2}|5[1-5]\d{14}|2(?:2[2-9]\d|[3-6]\d\d|7[01]\d|720)\d{12}|3[47]\d{13}|3(?:0[0-5]|[68]\d)\d{11,16}|6(?:011|5\d\d)\d{12,15}|35(?:2[89]|[3-8]\d)\d{12,15}|62\d{14,17})$/

/// Card numbers in text: digit runs of 13-19 digits, optionally grouped by single spaces or
/// dashes, not part of a longer number.
export function findCardNumbers (text: string, max = 100): string[] {
  const out: string[] = []
  const candidate = /(?<![\d-])\d(?:[ -]?\d){12,18}(?![\d])/g
  for (const m of text.matchAll(candidate)) {
    const digits = m[0].replace(/[ -]/g, '')
    if (issuer.test(digits) && luhnValid(digits)) out.push(digits)
    if (out.length >= max) break
  }
  return out
}

/// IBAN length per country (ISO 13616 registry, the SEPA countries and the common others).
const ibanLength: Readonly<Record<string, number>> = {
  AD: 24,
  AE: 23,
  AL: 28,
  AT: 20,
  AZ: 28,
  BA: 20,
  BE: 16,
  BG: 22,
  BH: 22,
  BR: 29,
  CH: 21,
  CR: 22,
  CY: 28,
  CZ: 24,
  DE: 22,
  DK: 18,
  DO: 28,
  EE: 20,
  EG: 29,
  ES: 24,
  FI: 18,
  FO: 18,
  FR: 27,
  GB: 22,
  GE: 22,
  GI: 23,
  GL: 18,
  GR: 27,
  GT: 28,
  HR: 21,
  HU: 28,
  IE: 22,
  IL: 23,
  IQ: 23,
  IS: 26,
  IT: 27,
  JO: 30,
  KW: 30,
  KZ: 20,
  LB: 28,
  LI: 21,
  LT: 20,
  LU: 20,
  LV: 21,
  MC: 27,
  MD: 24,
  ME: 22,
  MK: 19,
  MR: 27,
  MT: 31,
  MU: 30,
  NL: 18,
  NO: 15,
  PK: 24,
  PL: 28,
  PS: 29,
  PT: 25,
  QA: 29,
  RO: 24,
  RS: 22,
  SA: 24,
  SE: 24,
  SI: 19,
  SK: 24,
  SM: 27,
  TN: 24,
  TR: 26,
  UA: 29,
  VG: 24,
  XK: 20,
}

/// ISO 13616 / ISO 7064 mod 97-10: move the first four characters to the end, letters to 10..35,
/// the number mod 97 is 1. Computed piecewise: the number has up to 70 digits.
export function ibanValid (iban: string): boolean {
  const s = iban.toUpperCase()
  if (!/^[A-Z]{2}\d{2}[A-Z0-9]{10,30}$/.test(s) || ibanLength[s.slice(0, 2)] !== s.length) return false
  const moved = s.slice(4) + s.slice(0, 4)
  let rest = 0
  for (const ch of moved) {
    const v = ch >= 'A' ? ch.charCodeAt(0) - 55 : ch.charCodeAt(0) - 48
    rest = v > 9 ? (rest * 100 + v) % 97 : (rest * 10 + v) % 97
  }
  return rest === 1
}

/// IBANs in text, written together or in groups of four (the paper form, "DE89 3704 0044 …").
export function findIbans (text: string, max = 100): string[] {
  const out: string[] = []
  const candidate = /\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?\b/g
  for (const m of text.matchAll(candidate)) {
    const compact = m[0].replace(/ /g, '')
    // A grouped match may have swallowed a following word; try the lengths the country allows.
    const len = ibanLength[compact.slice(0, 2)]
    if (len !== undefined && compact.length >= len && ibanValid(compact.slice(0, len))) out.push(compact.slice(0, len))
    if (out.length >= max) break
  }
  return out
}
