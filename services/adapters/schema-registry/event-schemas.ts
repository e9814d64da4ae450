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
}

function loadSchema(kind: EventKind, fileName: string): EventSchema {
  const schema = JSON.parse(readFileSync(projectPath('schemas', fileName), 'utf8')) as avro.Schema;
  const readerType = avro.Type.forSchema(schema);
  return { kind, fullName: readerType.name ?? fileName, schema, readerType };
}

export const eventSchemas: Record<EventKind, EventSchema> = {
  prediction: loadSchema('prediction', 'prediction-event.avsc'),
  outcome: loadSchema('outcome', 'outcome-event.avsc'),
};

/** Confluent's TopicNameStrategy: the value schema of topic T lives under subject `T-value`. */
export const valueSubject = (topic: string): string => `${topic}-value`;
