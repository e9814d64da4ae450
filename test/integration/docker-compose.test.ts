import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { isAbsolute, join, posix, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { projectPath } from '../../services/adapters/project/project-files.js';

/** docker-compose.yml is validated without a Docker engine: `config` only parses and resolves it. */

interface PortMapping {
  host_ip?: string;
  published?: string | number;
  target?: number;
}

interface VolumeMount {
  type?: string;
  source?: string;
  target?: string;
}

interface ComposeService {
  image?: string;
  build?: unknown;
  command?: string[] | string;
  environment?: Record<string, string | number | null>;
  profiles?: string[];
  ports?: (string | PortMapping)[];
  volumes?: (string | VolumeMount)[];
}

interface ResolvedCompose {
  services: Record<string, ComposeService>;
}

/** Debian's docker-compose (v1), else the Docker CLI's compose plugin. */
function compose(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const options = { cwd: projectPath(), encoding: 'utf8' as const, timeout: 60_000 };
  let result = spawnSync('docker-compose', ['-f', 'docker-compose.yml', ...args], options);
  if ((result.error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT') {
    result = spawnSync('docker', ['compose', '-f', 'docker-compose.yml', ...args], options);
  }
  if (result.error) {
    throw new Error(`neither docker-compose nor docker compose could run (apt-get install docker-compose; npm run infra:up installs it): ${result.error.message}`);
  }
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

function resolvedCompose(): ResolvedCompose {
  const result = compose(['config']);
  expect(result.status, result.stderr).toBe(0);
  return parse(result.stdout) as ResolvedCompose;
}

/** Host-side address of a published port, from the short ("127.0.0.1:19092:9092/tcp") or the long syntax. */
function publishedHost(port: string | PortMapping): string | undefined {
  if (typeof port === 'object') return port.host_ip;
  const parts = port.split(':');
  return parts.length === 3 ? parts[0] : undefined;
}

function bindMount(volume: string | VolumeMount): { source: string; target: string } | undefined {
  if (typeof volume === 'object') {
    return volume.type === 'bind' && volume.source && volume.target ? { source: volume.source, target: volume.target } : undefined;
  }
  const [source = '', target = ''] = volume.split(':');
  return isAbsolute(source) || source.startsWith('.') ? { source, target } : undefined;
}

describe('docker-compose.yml', () => {
  it('passes docker-compose config -q without an error or a warning', () => {
    const result = compose(['config', '-q']);
    expect(result.status, result.stderr).toBe(0);
    expect(result.stderr.trim(), 'docker-compose reported a problem').toBe('');
  });

  it('runs the whole stack, Vigil built from the Dockerfile', () => {
    const { services } = resolvedCompose();
    expect(Object.keys(services).sort()).toEqual([
      'alertmanager', 'clickhouse', 'grafana', 'kafka', 'prometheus', 'schema-registry', 'vigil-collector', 'vigil-monitor', 'vigil-simulator',
    ]);
    for (const name of ['vigil-collector', 'vigil-monitor', 'vigil-simulator']) expect(services[name]?.build, name).toBeDefined();
    expect(existsSync(projectPath('Dockerfile'))).toBe(true);
  });

  it('runs the collector and the monitor as processes of their own against the ClickHouse server, both scraped by Prometheus', () => {
    const { services } = resolvedCompose();
    const commandOf = (name: string) => [services[name]?.command ?? []].flat().join(' ');
    expect(commandOf('vigil-collector')).toBe('run --target=collector');
    expect(commandOf('vigil-monitor')).toBe('run --target=monitor');
    // The simulator only on request, for a demonstration.
    expect(commandOf('vigil-simulator')).toBe('run --target=simulator');
    expect(services['vigil-simulator']?.profiles).toEqual(['simulator']);
    for (const name of ['vigil-collector', 'vigil-monitor']) {
      const environment = services[name]?.environment ?? {};
      expect(String(environment.CLICKHOUSE_URL), name).toBe('http://clickhouse:8123');
      expect(environment.VIGIL_INSTANCE_ID, name).toBe(name);
    }
    // The monitor's result queries keep a window's rows for the query (ClickHouse 26.3 and later).
    const [major = 0, minor = 0] = (services.clickhouse?.image?.split(':')[1] ?? '').split('.').map(Number);
    expect(major * 100 + minor, services.clickhouse?.image).toBeGreaterThanOrEqual(2603);

    const prometheus = parse(readFileSync(projectPath('infra', 'prometheus', 'prometheus.compose.yml'), 'utf8')) as {
      scrape_configs: { job_name: string; static_configs: { targets: string[] }[] }[];
    };
    const scraped = prometheus.scrape_configs.filter((job) => job.job_name === 'vigil').flatMap((job) => job.static_configs.flatMap((config) => config.targets));
    expect(scraped.sort()).toEqual(['vigil-collector', 'vigil-monitor'].map((name) => `${name}:${services[name]?.environment?.VIGIL_HTTP_PORT}`));
  });

  it('provisions Grafana with the ClickHouse plugin, the data sources of the stack and the generated dashboards', () => {
    const { services } = resolvedCompose();
    const grafana = services.grafana;
    expect(String(grafana?.environment?.GF_PLUGINS_PREINSTALL).split(',')).toContain('grafana-clickhouse-datasource');
    const mounts = (grafana?.volumes ?? []).map(bindMount).filter((mount) => mount !== undefined);
    const hostFolderOf = (target: string) => mounts.find((mount) => mount.target === target)?.source;
    expect(hostFolderOf('/etc/grafana/provisioning')).toBe(projectPath('grafana', 'provisioning'));
    const provider = parse(readFileSync(projectPath('grafana', 'provisioning', 'dashboards', 'dashboards.yml'), 'utf8')) as { providers: { options: { path: string } }[] };
    const dashboards = hostFolderOf(provider.providers[0]!.options.path);
    expect(dashboards).toBe(projectPath('grafana', 'dashboards'));
    expect(readdirSync(dashboards!).filter((file) => file.endsWith('.json')).length).toBeGreaterThan(0);
    const datasources = parse(readFileSync(projectPath('grafana', 'provisioning', 'datasources', 'datasources.yml'), 'utf8')) as {
      datasources: { type: string; url?: string; jsonData?: { host?: string } }[];
    };
    const hosts = datasources.datasources.map((source) => (source.url === undefined ? source.jsonData?.host : new URL(source.url).hostname));
    expect(hosts.sort()).toEqual(['clickhouse', 'prometheus']);
    for (const host of hosts) expect(Object.keys(services)).toContain(host);
  });

  it('runs Alertmanager with the shipped routes, which amtool accepts', () => {
    const { services } = resolvedCompose();
    const command = [services.alertmanager?.command ?? []].flat();
    const configFile = command.find((argument) => argument.startsWith('--config.file='))?.slice('--config.file='.length);
    const mount = (services.alertmanager?.volumes ?? []).map(bindMount).find((candidate) => candidate !== undefined && configFile?.startsWith(`${candidate.target}/`));
    expect(mount, `no bind mount holds ${configFile}`).toBeDefined();
    const hostFile = join(mount!.source, posix.relative(mount!.target, configFile!));
    expect(hostFile).toBe(projectPath('infra', 'alertmanager', 'alertmanager.yml'));
    const amtool = spawnSync('amtool', ['check-config', hostFile], { encoding: 'utf8', timeout: 60_000 });
    if (amtool.error) throw new Error(`amtool could not run (installed by npm run infra:up): ${amtool.error.message}`);
    expect(amtool.status, `${amtool.stdout}${amtool.stderr}`).toBe(0);
  });

  it('publishes every port on 127.0.0.1 only', () => {
    const { services } = resolvedCompose();
    let published = 0;
    for (const [name, service] of Object.entries(services)) {
      for (const port of service.ports ?? []) {
        published += 1;
        expect(publishedHost(port), `${name} publishes ${JSON.stringify(port)}`).toBe('127.0.0.1');
      }
    }
    expect(published).toBeGreaterThan(0);
  });

  it('mounts files that exist, among them the Prometheus configuration it names', () => {
    const { services } = resolvedCompose();
    for (const [name, service] of Object.entries(services)) {
      for (const volume of service.volumes ?? []) {
        const mount = bindMount(volume);
        if (mount) expect(existsSync(mount.source), `${name} mounts ${mount.source}, which does not exist`).toBe(true);
      }
    }

    const prometheus = services.prometheus;
    const command = Array.isArray(prometheus?.command) ? prometheus.command : (prometheus?.command ?? '').split(/\s+/);
    const configFile = command.find((argument) => argument.startsWith('--config.file='))?.slice('--config.file='.length);
    expect(configFile, 'prometheus names its --config.file').toBeDefined();
    const mount = (prometheus?.volumes ?? [])
      .map(bindMount)
      .find((candidate) => candidate !== undefined && !posix.relative(candidate.target, configFile!).startsWith('..'));
    expect(mount, `no bind mount holds ${configFile}`).toBeDefined();
    const hostFile = join(mount!.source, posix.relative(mount!.target, configFile!));
    expect(relative(projectPath(), hostFile).startsWith('..'), `${hostFile} is outside the project`).toBe(false);
    expect(existsSync(hostFile) && statSync(hostFile).isFile(), `${hostFile} does not exist`).toBe(true);

    const promtool = spawnSync('promtool', ['check', 'config', hostFile], { encoding: 'utf8', timeout: 60_000 });
    if (promtool.error) throw new Error(`promtool could not run (installed by npm run infra:up): ${promtool.error.message}`);
    expect(promtool.status, `${promtool.stdout}${promtool.stderr}`).toBe(0);
  });
});
