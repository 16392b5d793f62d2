import assert from 'node:assert/strict'
import { chmod, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { createGpuReader, parseNvidiaSmi } from '../../../src/inference/gpu.js'
import { tempDir } from '../../fixtures/daemon.js'

const MiB = 1024 * 1024

describe('inference/gpu', () => {
  it('parses nvidia-smi csv and skips lines that are not GPUs', () => {
    const gpus = parseNvidiaSmi('0, NVIDIA A100-SXM4-80GB, 81920, 1024, 80896, 37\n\nnot a gpu\n1, NVIDIA L4, 23034, 0, 23034, 0\n')
    assert.deepEqual(gpus, [
      { index: 0, name: 'NVIDIA A100-SXM4-80GB', memoryTotal: 81920 * MiB, memoryUsed: 1024 * MiB, memoryFree: 80896 * MiB, utilization: 37 },
      { index: 1, name: 'NVIDIA L4', memoryTotal: 23034 * MiB, memoryUsed: 0, memoryFree: 23034 * MiB, utilization: 0 }
    ])
  })

  it('without nvidia-smi reports no GPUs and asks again only a minute later', async () => {
    const bin = join(await tempDir('gpu'), 'nvidia-smi')
    let now = 0
    const reader = createGpuReader({ now: () => now }, bin)
    assert.deepEqual(await reader.read(), [], 'no tool, no GPUs')
    // The tool appears (a driver was installed): not looked at until the retry time.
    await writeFile(bin, '#!/bin/sh\necho "0, Test GPU, 1000, 10, 990, 5"\n')
    await chmod(bin, 0o755)
    assert.deepEqual(await reader.read(), [])
    now += 60_000
    assert.deepEqual((await reader.read()).map(g => g.name), ['Test GPU'])
  })
})
