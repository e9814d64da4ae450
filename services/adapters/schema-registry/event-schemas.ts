import { readFileSync } from 'node:fs';
import avro from 'avsc';
import { projectPath } from '../project/project-files.js';
import type { EventKind } from '../../core/events/event-types.js';

/** The event contract in schemas/*.avsc, parsed once: the reader schemas every consumer decodes into. */
export interface EventSchema {
  kind: EventKind;
  /** Full Avro name, e.g. dev.vigil.events.PredictionEvent. */
  fullName: string;
  schema: avro.Schema;
  readerType: avro.Type;
  /** The entries of every map in a value decoded with `readerType`. */
  countMapEntries: (value: unknown) => number;
}

function loadSchema(kind: EventKind, fileName: string): EventSchema {
  const schema = JSON.parse(readFileSync(projectPath('schemas', fileName), 'utf8')) as avro.Schema;
  const readerType = avro.Type.forSchema(schema);
  return { kind, fullName: readerType.name ?? fileName, schema, readerType, countMapEntries: compileMapEntryCounter(readerType) };
}

type EntryCounter = (value: unknown) => number;

/**
 * Counts map entries in decoded values of `type`, descending only where maps can be. The event
 * schemas have their maps in records; a map under a union or an array would need the branch or
 * the items told apart, and is refused here so that a schema change cannot make the count wrong.
 */
function compileMapEntryCounter(type: avro.Type): EntryCounter {
  const counter = counterFor(type);
  return counter ?? (() => 0);
}

function counterFor(type: avro.Type): EntryCounter | null {
  if (type instanceof avro.types.MapType) {
    if (counterFor(type.valuesType) !== null) throw new Error('maps of maps are not supported by the event schemas');
    return (value) => Object.keys(value as object).length;
  }
  if (type instanceof avro.types.RecordType) {
    const fields = type.fields.flatMap((field) => {
      const counter = counterFor(field.type);
      return counter === null ? [] : [{ name: field.name, counter }];
    });
    if (fields.length === 0) return null;
    return (value) => fields.reduce((sum, field) => sum + field.counter((value as Record<string, unknown>)[field.name]), 0);
  }
  if (type instanceof avro.types.UnwrappedUnionType || type instanceof avro.types.WrappedUnionType || type instanceof avro.types.ArrayType) {
    const inner = type instanceof avro.types.ArrayType ? [type.itemsType] : type.types;
    if (inner.some((branch) => counterFor(branch) !== null)) throw new Error(`a map under an ${type.typeName} is not supported by the event schemas`);
  }
  return null;
}

export const eventSchemas: Record<EventKind, EventSchema> = {
  prediction: loadSchema('prediction', 'prediction-event.avsc'),
  outcome: loadSchema('outcome', 'outcome-event.avsc'),
};

/** Confluent's TopicNameStrategy: the value schema of topic T lives under subject `T-value`. */
export const valueSubject = (topic: string): string => `${topic}-value`;
