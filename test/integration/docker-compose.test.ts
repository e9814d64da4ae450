import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
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
    expect(Object.keys(services).sort()).toEqual(['alertmanager', 'clickhouse', 'grafana', 'kafka', 'prometheus', 'schema-registry', 'vigil']);
    expect(services.vigil?.build).toBeDefined();
    expect(existsSync(projectPath('Dockerfile'))).toBe(true);
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
