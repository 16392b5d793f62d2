import { hostname } from 'node:os'
import assert from 'node:assert/strict'
import { homedir } from 'node:os'
import { join, resolve } from 'node:path'
import { parseHostPort, daemonConfig, DEFAULT_API_PORT } from '../../../src/cli/config.js'
import { daemonUrl } from '../../../src/cli/target.js'

describe('cli/config', () => {
  describe('parseHostPort', () => {
    it('reads host:port', () => {
      assert.deepEqual(parseHostPort('127.0.0.1:11435'), { host: '127.0.0.1', port: 11435 })
      assert.deepEqual(parseHostPort('gpu-node-1.local:8080'), { host: 'gpu-node-1.local', port: 8080 })
    })

    it('reads :port as 127.0.0.1:port', () => {
      assert.deepEqual(parseHostPort(':8080'), { host: '127.0.0.1', port: 8080 })
    })

    it('reads a bracketed IPv6 address with and without a port', () => {
      assert.deepEqual(parseHostPort('[::1]:9'), { host: '::1', port: 9 })
      assert.deepEqual(parseHostPort('[fe80::1]'), { host: 'fe80::1', port: DEFAULT_API_PORT })
    })

    it('gives a bare host the default port, or the one asked for', () => {
      assert.deepEqual(parseHostPort('host'), { host: 'host', port: 11435 })
      assert.deepEqual(parseHostPort('host', 11434), { host: 'host', port: 11434 })
    })

    it('drops an http:// or https:// scheme and trailing slashes', () => {
      assert.deepEqual(parseHostPort('http://h:1'), { host: 'h', port: 1 })
      assert.deepEqual(parseHostPort('https://h:443/'), { host: 'h', port: 443 })
      assert.deepEqual(parseHostPort('  0.0.0.0:80  '), { host: '0.0.0.0', port: 80 })
    })

    it('rejects a port that is not a number from 0 to 65535', () => {
      for (const s of ['h:abc', 'h:65536', 'h:-1', 'h:1.5', '[::1]:99999']) {
        assert.throws(() => parseHostPort(s), /bad port/, s)
      }
      assert.equal(parseHostPort('h:65535').port, 65535)
    })

    it('rejects hosts with characters no address has', () => {
      for (const s of ['h h:1', 'a/b:1', 'h@x:1', 'user:pw@h:1']) {
        assert.throws(() => parseHostPort(s), /invalid address/, s)
      }
    })
    it('rejects a port that is empty or not plain decimal digits', () => {
      for (const s of ['h:', 'h:1e3', 'h:0x50', 'h: 80']) {
        assert.throws(() => parseHostPort(s), /bad port/, s)
      }
    })
    it('reads an unbracketed IPv6 address as a host with the default port', () => {
      assert.deepEqual(parseHostPort('::1'), { host: '::1', port: DEFAULT_API_PORT })
      assert.deepEqual(parseHostPort('fe80::1'), { host: 'fe80::1', port: DEFAULT_API_PORT })
    })
  })

  describe('daemonConfig', () => {
    it('defaults to 127.0.0.1:11435, ~/.ollama/models, ~/.ollamad and Ollama at 127.0.0.1:11434', () => {
      const cfg = daemonConfig({}, {})
      assert.equal(cfg.host, '127.0.0.1')
      assert.equal(cfg.port, 11435)
      assert.equal(cfg.modelsDir, join(homedir(), '.ollama', 'models'))
      assert.equal(cfg.dataDir, join(homedir(), '.ollamad'))
      assert.equal(cfg.ollamaUrl, 'http://127.0.0.1:11434')
      assert.deepEqual(cfg.insecureRegistries, [])
      assert.equal(cfg.maxDownloadRate, undefined)
      assert.equal(cfg.concurrency, undefined)
    })

    it('takes the models directory from $OLLAMA_MODELS, as Ollama does', () => {
      assert.equal(daemonConfig({}, { OLLAMA_MODELS: '/srv/ollama/models' }).modelsDir, '/srv/ollama/models')
    })
    it('treats an empty OLLAMA_MODELS as unset, as Ollama does', () => {
      assert.equal(daemonConfig({}, { OLLAMA_MODELS: '' }).modelsDir, join(homedir(), '.ollama', 'models'))
    })

    it('never takes the upstream or its own address from OLLAMA_HOST (clients point that at ollamad)', () => {
      const cfg = daemonConfig({}, { OLLAMA_HOST: '0.0.0.0:11435' })
      assert.equal(cfg.ollamaUrl, 'http://127.0.0.1:11434')
      assert.equal(cfg.host, '127.0.0.1')
      assert.equal(cfg.port, 11435)
    })

    it('lets flags override every default and the environment', () => {
      const cfg = daemonConfig({
        host: '0.0.0.0:8080',
        models: '/data/models',
        data: '/var/lib/ollamad',
        ollama: 'gpu1:11434',
        insecureRegistry: ['registry.lan:5000'],
        maxDownloadRate: '10M/s',
        maxUploadRate: '20M',
        concurrency: '8',
        name: 'gpu-01',
        listen: ['/ip4/10.0.0.5/tcp/4001'],
        dataPort: '5000',
        bootstrap: ['/ip4/10.0.0.6/tcp/4001'],
        mdns: false,
        swarmKey: '/etc/ollamad/swarm.key',
        heartbeat: '1000',
        suspectAfter: '4000',
        goneAfter: '9000',
        forgetAfter: '24h',
        grace: '60000',
        maxCache: '500G',
        minFreeDisk: '10%'
      }, { OLLAMA_MODELS: '/elsewhere' })
      assert.deepEqual(cfg, {
        host: '0.0.0.0',
        port: 8080,
        open: ['read', 'infer'],
        tokenFile: '/var/lib/ollamad/api-token',
        origins: [],
        modelsDir: '/data/models',
        dataDir: '/var/lib/ollamad',
        ollamaUrl: 'http://gpu1:11434',
        insecureRegistries: ['registry.lan:5000'],
        maxDownloadRate: 10_000_000,
        maxUploadRate: 20_000_000,
        concurrency: 8,
        name: 'gpu-01',
        listen: ['/ip4/10.0.0.5/tcp/4001'],
        data: { host: '10.0.0.5', port: 5000 },
        bootstrap: ['/ip4/10.0.0.6/tcp/4001'],
        mdns: false,
        swarmKeyFile: '/etc/ollamad/swarm.key',
        openSwarm: false,
        heartbeatMs: 1000,
        suspectAfterMs: 4000,
        goneAfterMs: 9000,
        forgetAfterMs: 86_400_000,
        graceMs: 60000,
        maxCache: 500_000_000_000,
        minFreeDisk: { percent: 10 },
        parallel: undefined,
        maxQueue: undefined
      })
    })

    it('defaults to a swarm on all interfaces with mdns on and the hostname as name', () => {
      const cfg = daemonConfig({}, {})
      assert.deepEqual(cfg.listen, ['/ip4/0.0.0.0/tcp/11436'])
      assert.equal(cfg.mdns, true)
      assert.equal(cfg.name, hostname())
      assert.equal(cfg.swarmKeyFile, undefined)
      assert.equal(cfg.openSwarm, false, 'closed unless asked')
      assert.deepEqual(cfg.data, { host: '0.0.0.0', port: 11437 }, 'the data plane one port above the swarm')
    })

    it('puts the data plane beside the swarm, on any port when the swarm takes any, and leaves it out when asked', () => {
      assert.deepEqual(daemonConfig({ listen: ['/ip4/10.1.2.3/tcp/4001'] }, {}).data, { host: '10.1.2.3', port: 4002 })
      assert.deepEqual(daemonConfig({ listen: ['/ip4/127.0.0.1/tcp/0'] }, {}).data, { host: '127.0.0.1', port: 0 })
      assert.deepEqual(daemonConfig({ listen: ['/ip6/::1/tcp/4001'], dataPort: '0' }, {}).data, { host: '::1', port: 0 })
      assert.equal(daemonConfig({ dataPlane: false }, {}).data, undefined)
      for (const bad of ['-1', '65536', 'x', '1.5']) assert.throws(() => daemonConfig({ dataPort: bad }, {}), /--data-port takes a port number/, bad)
    })

    it('refuses a bad node name, multiaddr or time with one line', () => {
      assert.throws(() => daemonConfig({ name: 'has space' }, {}), /invalid node name/)
      assert.throws(() => daemonConfig({ listen: ['not-a-multiaddr'] }, {}), /--listen: invalid multiaddr/)
      assert.throws(() => daemonConfig({ bootstrap: ['/ip4/1.2.3.4/tcpp/1'] }, {}), /--bootstrap: invalid multiaddr/)
      assert.throws(() => daemonConfig({ heartbeat: 'soon' }, {}), /--heartbeat takes a duration from 10ms to 24h, such as 3s/)
      assert.throws(() => daemonConfig({ grace: '25h' }, {}), /--grace takes a duration/)
      assert.equal(daemonConfig({ grace: '5m' }, {}).graceMs, 300_000)
      assert.equal(daemonConfig({ heartbeat: '300' }, {}).heartbeatMs, 300, 'a bare number is milliseconds')
      assert.throws(() => daemonConfig({ maxUploadRate: '0' }, {}), /--max-upload-rate/)
      assert.throws(() => daemonConfig({ openSwarm: true, swarmKey: '/k' }, {}), /--open-swarm and --swarm-key exclude each other/)
      assert.throws(() => daemonConfig({ maxCache: 'lots' }, {}), /--max-cache takes a size/)
      assert.throws(() => daemonConfig({ minFreeDisk: '150%' }, {}), /--min-free-disk takes a percentage/)
      assert.deepEqual(daemonConfig({ minFreeDisk: '20G' }, {}).minFreeDisk, { bytes: 20e9 })
    })

    it('resolves relative directories against the working directory', () => {
      const cfg = daemonConfig({ models: 'rel/models', data: 'rel/data' }, {})
      assert.equal(cfg.modelsDir, resolve('rel/models'))
      assert.equal(cfg.dataDir, resolve('rel/data'))
    })

    it('keeps an upstream URL that has a scheme', () => {
      assert.equal(daemonConfig({ ollama: 'https://ollama.lan' }, {}).ollamaUrl, 'https://ollama.lan')
    })

    it('parses --max-download-rate in binary units too', () => {
      assert.equal(daemonConfig({ maxDownloadRate: '1.5GiB' }, {}).maxDownloadRate, 1.5 * 1024 ** 3)
    })

    it('refuses a download rate that is zero or not a size', () => {
      assert.throws(() => daemonConfig({ maxDownloadRate: '0' }, {}), /above zero/)
      assert.throws(() => daemonConfig({ maxDownloadRate: 'fast' }, {}), /invalid size/)
    })

    it('refuses a concurrency outside 1..64 or not whole', () => {
      for (const c of ['0', '65', '2.5', 'many']) {
        assert.throws(() => daemonConfig({ concurrency: c }, {}), /concurrency/, c)
      }
      assert.equal(daemonConfig({ concurrency: '64' }, {}).concurrency, 64)
    })

    it('refuses a bad --host', () => {
      assert.throws(() => daemonConfig({ host: 'h:99999' }, {}), /bad port/)
    })
  })

  describe('daemonUrl', () => {
    it('defaults to http://127.0.0.1:11435', () => {
      assert.equal(daemonUrl(undefined, {}), 'http://127.0.0.1:11435')
    })

    it('takes OLLAMAD_HOST when there is no flag', () => {
      assert.equal(daemonUrl(undefined, { OLLAMAD_HOST: '10.0.0.5:9000' }), 'http://10.0.0.5:9000')
    })

    it('prefers the flag to OLLAMAD_HOST', () => {
      assert.equal(daemonUrl('gpu2:7000', { OLLAMAD_HOST: '10.0.0.5:9000' }), 'http://gpu2:7000')
    })

    it('ignores OLLAMA_HOST, which names Ollama or ollamad depending on the client', () => {
      assert.equal(daemonUrl(undefined, { OLLAMA_HOST: '10.9.9.9:1' }), 'http://127.0.0.1:11435')
    })

    it('keeps https and brackets an IPv6 host', () => {
      assert.equal(daemonUrl('https://node.lan:8443', {}), 'https://node.lan:8443')
      assert.equal(daemonUrl('[::1]:9', {}), 'http://[::1]:9')
      assert.equal(daemonUrl(':8080', {}), 'http://127.0.0.1:8080')
    })
  })

  describe('who may call what', () => {
    it('opens what Ollama opens on loopback, only reads and inference elsewhere, and keeps the token in the data dir', () => {
      const local = daemonConfig({}, {})
      assert.deepEqual(local.open, ['read', 'infer', 'pull', 'write'])
      assert.equal(local.tokenFile, join(homedir(), '.ollamad', 'api-token'))
      assert.deepEqual(daemonConfig({ host: '0.0.0.0:11435' }, {}).open, ['read', 'infer'])
      assert.deepEqual(daemonConfig({ host: '10.0.0.7', open: 'read,infer,pull' }, {}).open, ['read', 'infer', 'pull'])
      assert.deepEqual(daemonConfig({ open: 'none' }, {}).open, [])
      assert.equal(daemonConfig({}, { OLLAMAD_DATA: '/srv/ollamad' }).tokenFile, '/srv/ollamad/api-token')
    })

    it('refuses write or cluster routes without the token where the network reaches, and unknown classes', () => {
      assert.throws(() => daemonConfig({ host: '0.0.0.0', open: 'read,write' }, {}), /^Error: refusing to open write routes without the token on 0\.0\.0\.0/)
      assert.throws(() => daemonConfig({ host: '[::]:1', open: 'cluster' }, {}), /refusing to open cluster routes/)
      assert.throws(() => daemonConfig({ open: 'read,admin' }, {}), /--open takes read, infer, pull, write, cluster or none, not "admin"/)
      assert.deepEqual(daemonConfig({ open: 'read,cluster' }, {}).open, ['read', 'cluster'])
    })

    it('takes origins from OLLAMA_ORIGINS and --origins', () => {
      assert.deepEqual(daemonConfig({ origins: 'https://a.example, https://b.example' }, { OLLAMA_ORIGINS: 'https://*.corp' }).origins, ['https://*.corp', 'https://a.example', 'https://b.example'])
    })
  })
})
