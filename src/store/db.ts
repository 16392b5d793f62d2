import { Level } from 'level'

/** The daemon's local state (resumable pulls, partial bitmaps); JSON values under typed prefixes. */
export interface StateDb {
  get: <T>(key: string) => Promise<T | undefined>
  put: (key: string, value: unknown) => Promise<void>
  del: (key: string) => Promise<void>
  list: <T>(prefix: string) => Promise<Array<[string, T]>>
  close: () => Promise<void>
}

export async function openStateDb (dir: string): Promise<StateDb> {
  const db = new Level<string, unknown>(dir, { valueEncoding: 'json' })
  await db.open()
  return {
    get: async <T>(key: string) => (await db.get(key)) as T | undefined,
    put: async (key, value) => { await db.put(key, value) },
    del: async (key) => { await db.del(key) },
    list: async <T>(prefix: string) => {
      const out: Array<[string, T]> = []
      for await (const [k, v] of db.iterator({ gte: prefix, lt: prefix + '\xff' })) out.push([k, v as T])
      return out
    },
    close: async () => { await db.close() }
  }
}
