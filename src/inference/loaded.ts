import type { OllamaUpstream } from './upstream.js'

export interface LoadedFact { name: string, size: number, sizeVram: number, expiresAt: string, digest: string }

/** Models loaded in the local Ollama (its /api/ps); empty when Ollama does not answer. */
export async function readLoaded (upstream: OllamaUpstream, signal?: AbortSignal): Promise<{ up: boolean, loaded: LoadedFact[] }> {
  try {
    const res = await fetch(new URL('/api/ps', upstream.url), { signal: signal ?? AbortSignal.timeout(3000) })
    if (!res.ok) return { up: true, loaded: [] }
    const body = await res.json() as { models?: Array<Record<string, unknown>> }
    const loaded = (body.models ?? []).slice(0, 256).map(m => ({
      name: String(m.name ?? m.model ?? '').slice(0, 600),
      size: Number(m.size ?? 0) || 0,
      sizeVram: Number(m.size_vram ?? 0) || 0,
      expiresAt: String(m.expires_at ?? '').slice(0, 64),
      digest: String(m.digest ?? '').slice(0, 80)
    }))
    return { up: true, loaded }
  } catch { return { up: false, loaded: [] } }
}
