import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfluentSchemaSource } from '../../services/adapters/schema-registry/confluent-schema-source.js';
import { eventSchemas } from '../../services/adapters/schema-registry/event-schemas.js';
import { SchemaSourceUnavailableError } from '../../services/adapters/schema-registry/schema-source.js';
import { stackEndpoints } from '../support/stack-endpoints.js';
import { uniqueName } from '../support/test-storage.js';

async function registerRaw(registryUrl: string, subject: string, body: object): Promise<number> {
  const response = await fetch(`${registryUrl}/subjects/${encodeURIComponent(subject)}/versions`, {
    method: 'POST',
    headers: { 'content-type': 'application/vnd.schemaregistry.v1+json' },
    body: JSON.stringify(body),
  });
  if (!response.ok) throw new Error(`registry refused ${subject}: ${response.status} ${await response.text()}`);
  return ((await response.json()) as { id: number }).id;
}

describe('schema lookups against the real registry', () => {
  const { schemaRegistryUrl } = stackEndpoints();
  const source = new ConfluentSchemaSource(schemaRegistryUrl);

  it('finds a registered Avro schema and says an unknown id is unknown', async () => {
    const id = await source.register(`${uniqueName('lookup')}-value`, eventSchemas.prediction.schema);
    const found = await source.writerType(id);
    expect(found.found && found.type.name).toBe(eventSchemas.prediction.fullName);
    expect(await source.writerType(987_654_321)).toEqual({ found: false, reason: 'unknown-schema', detail: 'schema id 987654321 is not in the registry' });
  });

  it('dead-letters rather than retries a schema that is not Avro', async () => {
    const id = await registerRaw(schemaRegistryUrl, `${uniqueName('json')}-value`, { schemaType: 'JSON', schema: JSON.stringify({ type: 'object', properties: { score: { type: 'number' } } }) });
    expect(await source.writerType(id)).toEqual({ found: false, reason: 'unsupported-schema', detail: `schema ${id} is a JSON schema; Vigil reads Avro` });
  });

  it('counts a registry that cannot be reached as an outage', async () => {
    const closed = new ConfluentSchemaSource('http://127.0.0.1:1/apis/ccompat/v7');
    await expect(closed.writerType(1)).rejects.toBeInstanceOf(SchemaSourceUnavailableError);
  });
});

describe('schema lookups against a registry that answers badly', () => {
  let server: Server;
  let url: string;
  const answers = new Map<number, { status: number; body: string }>();
  beforeAll(async () => {
    server = createServer((request, response) => {
      const id = Number(request.url?.split('/').pop());
      const answer = answers.get(id) ?? { status: 404, body: '{"error_code":40403}' };
      response.writeHead(answer.status, { 'content-type': 'application/json' });
      response.end(answer.body);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://user:p%40ss@127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it.each([500, 502, 503, 401, 403, 429])('HTTP %i is an outage: retried, nothing dead-lettered', async (status) => {
    answers.set(status, { status, body: '{}' });
    await expect(new ConfluentSchemaSource(url).writerType(status)).rejects.toBeInstanceOf(SchemaSourceUnavailableError);
  });

  it.each([
    [1, { status: 400, body: '{}' }, 'unknown-schema', 'the registry refused the lookup of schema 1 with HTTP 400'],
    [2, { status: 200, body: '{"schema": "{\\"type\\": \\"recrod\\"}"}' }, 'unsupported-schema', 'schema 2 does not parse as an Avro schema: '],
    [3, { status: 200, body: '<html>' }, 'unsupported-schema', 'schema 3 came back as something other than JSON'],
    [4, { status: 200, body: '{"id": 4}' }, 'unsupported-schema', 'schema 4 came back without its schema text'],
    [5, { status: 200, body: `{"schema": "${'x'.repeat(2 * 1024 * 1024)}"}` }, 'unsupported-schema', "the registry's answer for schema 5 exceeds 1048576 bytes"],
  ])('schema %i is a per-record problem: dead-lettered with its reason', async (id, answer, reason, detail) => {
    answers.set(id, answer);
    const lookup = await new ConfluentSchemaSource(url).writerType(id);
    expect(lookup).toMatchObject({ found: false, reason });
    expect(!lookup.found && lookup.detail.startsWith(detail)).toBe(true);
  });

  it('sends credentials from the URL as a Basic authorization header', async () => {
    let authorization: string | undefined;
    const probe = createServer((request, response) => {
      authorization = request.headers.authorization;
      response.writeHead(404).end();
    });
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    try {
      await new ConfluentSchemaSource(`http://user:p%40ss@127.0.0.1:${(probe.address() as AddressInfo).port}`).writerType(9);
    } finally {
      await new Promise<void>((resolve) => probe.close(() => resolve()));
    }
    expect(authorization).toBe(`Basic ${Buffer.from('user:p@ss').toString('base64')}`);
  });
});
