import Fastify, { type FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';

export interface ReadinessCheck {
  name: string;
  check: () => Promise<boolean> | boolean;
}

export interface OperationalServerOptions {
  host: string;
  port: number;
  registry: Registry;
  readinessChecks: () => readonly ReadinessCheck[];
}

const readinessResponse = {
  type: 'object',
  properties: {
    ready: { type: 'boolean' },
    checks: { type: 'object', additionalProperties: { type: 'boolean' } },
  },
  required: ['ready', 'checks'],
} as const;

/** /metrics, /healthz and /readyz, served by every target. */
export interface OperationalServer {
  server: FastifyInstance;
  /** Base URL, e.g. http://127.0.0.1:9464 (the real port when 0 was asked for). */
  url: string;
  close(): Promise<void>;
}

export async function startOperationalServer(options: OperationalServerOptions): Promise<OperationalServer> {
  const server = Fastify({ logger: false });

  server.get('/metrics', async (_request, reply) => {
    reply.header('content-type', options.registry.contentType);
    return options.registry.metrics();
  });

  server.get('/healthz', { schema: { response: { 200: { type: 'object', properties: { status: { type: 'string' } } } } } }, async () => ({ status: 'ok' }));

  server.get('/readyz', { schema: { response: { 200: readinessResponse, 503: readinessResponse } } }, async (_request, reply) => {
    const checks: Record<string, boolean> = {};
    for (const { name, check } of options.readinessChecks()) {
      try {
        checks[name] = await check();
      } catch {
        checks[name] = false;
      }
    }
    const ready = Object.values(checks).every(Boolean);
    reply.code(ready ? 200 : 503);
    return { ready, checks };
  });

  await server.listen({ host: options.host, port: options.port });
  const address = server.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : options.port;
  return {
    server,
    url: `http://${options.host.includes(':') ? `[${options.host}]` : options.host}:${port}`,
    close: () => server.close(),
  };
}
