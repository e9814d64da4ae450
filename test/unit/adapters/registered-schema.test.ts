import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseRegisteredSchema } from '../../../services/adapters/schema-registry/confluent-schema-source.js';
import { eventSchemas } from '../../../services/adapters/schema-registry/event-schemas.js';

describe("the registry's answer for a schema id", () => {
  it('gives the Avro type of a registered Avro schema', () => {
    const lookup = parseRegisteredSchema(7, JSON.stringify({ schema: JSON.stringify(eventSchemas.outcome.schema) }));
    expect(lookup.found && lookup.type.name).toBe(eventSchemas.outcome.fullName);
    expect(parseRegisteredSchema(7, JSON.stringify({ schema: '"string"', schemaType: 'AVRO' }))).toMatchObject({ found: true });
  });

  it('refuses a schema nested far deeper than any event, without overflowing the stack', () => {
    const depth = 50_000;
    const nested = '{"type":"array","items":'.repeat(depth) + '"int"' + '}'.repeat(depth);
    expect(parseRegisteredSchema(3, JSON.stringify({ schema: nested }))).toMatchObject({ found: false, reason: 'unsupported-schema' });
  });

  it('never throws, whatever the registry sends: any answer is a type or a reason to dead-letter', () => {
    const schemaText = fc.oneof(
      fc.string(),
      fc.json(),
      fc.constantFrom('"int"', '{"type":"record","name":"R","fields":[]}', '{"type":"map","values":"R"}', '{"type":"enum","name":"E","symbols":["A","A"]}'),
    );
    const answer = fc.oneof(
      fc.string({ unit: 'binary' }),
      fc.json(),
      fc.record({ schema: schemaText }).map((value) => JSON.stringify(value)),
      fc.record({ schema: schemaText, schemaType: fc.constantFrom('AVRO', 'JSON', 'PROTOBUF', 'XML') }).map((value) => JSON.stringify(value)),
    );
    fc.assert(
      fc.property(answer, (body) => {
        const lookup = parseRegisteredSchema(1, body);
        expect(lookup.found || lookup.reason === 'unsupported-schema').toBe(true);
        if (!lookup.found) expect(lookup.detail.startsWith('schema 1 ')).toBe(true);
      }),
      { numRuns: 2_000, seed: 20261201 },
    );
  });
});
