/** How Ollama names GGUF file types and parameter counts in `/api/show` and `ollama show`. */
const FILE_TYPES: Partial<Record<number, string>> = {
  1: 'F16', 2: 'Q4_0', 3: 'Q4_1', 7: 'Q8_0', 8: 'Q5_0', 9: 'Q5_1', 10: 'Q2_K', 11: 'Q3_K_S',
  12: 'Q3_K_M', 13: 'Q3_K_L', 14: 'Q4_K_S', 15: 'Q4_K_M', 16: 'Q5_K_S', 17: 'Q5_K_M', 18: 'Q6_K',
  19: 'IQ2_XXS', 20: 'IQ2_XS', 21: 'Q2_K_S', 22: 'IQ3_XS', 23: 'IQ3_XXS', 24: 'IQ1_S', 25: 'IQ4_NL',
  26: 'IQ3_S', 27: 'IQ3_M', 28: 'IQ2_S', 29: 'IQ2_M', 30: 'IQ4_XS', 31: 'IQ1_M', 32: 'BF16',
  36: 'TQ1_0', 37: 'TQ2_0'
}

/** Ollama's name for a llama.cpp file type; 0 (F32) is 'unknown' because Ollama treats 0 as unset. */
export function fileTypeName (ft: number | undefined): string {
  return (ft === undefined ? undefined : FILE_TYPES[ft]) ?? 'unknown'
}

/** Go's %.<digits>f: rounds the exact binary value, ties to even (JS toFixed rounds ties up). */
function goFixed (x: number, digits: number): string {
  if (!Number.isFinite(x) || Math.abs(x) >= 1e21) return x.toFixed(digits)
  const [int = '0', frac = ''] = x.toFixed(100).split('.') // exact for any double below 1e21
  let n = BigInt(int + frac.slice(0, digits))
  const rest = frac.slice(digits)
  const first = rest[0] ?? '0'
  if (first > '5' || (first === '5' && (/[1-9]/.test(rest.slice(1)) || n % 2n === 1n))) n += 1n
  const s = n.toString().padStart(digits + 1, '0')
  return digits === 0 ? s : `${s.slice(0, -digits)}.${s.slice(-digits)}`
}

/** Ollama's format.HumanNumber, e.g. 8030000000 -> '8.0B', 125000000 -> '125M', 1001 -> '1K'. */
export function humanNumber (n: number): string {
  if (n < 0) return `-${humanNumber(-n)}`
  if (n >= 1e9) {
    const v = n / 1e9
    return v === Math.floor(v) ? `${goFixed(v, 0)}B` : `${goFixed(v, 1)}B`
  }
  if (n >= 1e6) {
    const v = n / 1e6
    return v === Math.floor(v) ? `${goFixed(v, 0)}M` : `${goFixed(v, 2)}M`
  }
  if (n >= 1e3) return `${goFixed(n / 1e3, 0)}K`
  return String(Math.floor(n))
}
