import { isUtf8 } from 'node:buffer';
import type avro from 'avsc';

/**
 * A bounded pre-check of an Avro binary body against its writer type, run before avsc decodes it.
 *
 * avsc trusts the counts and lengths a body declares: it loops over a declared map or array count
 * without looking at how many bytes are left (a 20-byte body declaring 2^40 map entries keeps the
 * thread busy for hours), and when a resolver skips a writer-only field it moves its position by
 * the declared block byte size, so a negative size sends it back to re-read the same block forever.
 * This guard walks the encoding once and refuses such bodies, so that avsc only ever sees bodies
 * whose every count and length is backed by the bytes that follow it.
 *
 * Refusals name where they happened by schema field names and entry indexes only; values from the
 * body never appear in them, since they may hold patient identifiers.
 */

/**
 * `steps` counts the values the walk visited plus the values that take no bytes (null fields,
 * empty records) that it accounted for without visiting: it bounds the guard's own work and the
 * number of values avsc builds for a body the guard accepts, and never exceeds `valueBudget`.
 *
 * An accepted body also says whether avsc's value says all the bytes do: `mapEntries` counts the
 * entries of every map as written (a key written twice counts twice, where avsc keeps the last),
 * and `textIsUtf8` is false when a string or map key is not valid UTF-8 (avsc decodes those bytes
 * with replacement characters). A reader of the raw bytes sees what avsc sees only when the maps
 * decode to as many entries as were written and every text is valid UTF-8.
 */
export type BodyGuardResult =
  | { ok: true; steps: number; mapEntries: number; textIsUtf8: boolean }
  | { ok: false; path: string; detail: string; steps: number };

export type BodyGuard = (body: Buffer) => BodyGuardResult;

/** Deeper nesting than this is refused, so that recursive schemas cannot exhaust the stack. */
export const MAX_NESTING_DEPTH = 32;
const PROTOTYPE_KEY = Buffer.from('__proto__');

/**
 * The most values a body may make avsc build: every Avro value but null and empty records takes at
 * least one byte, so honest bodies stay far below this. Values that take no bytes (arrays of null,
 * a writer schema whose empty records nest into each other) could otherwise be multiplied without
 * bound by a few bytes of counts.
 */
export function valueBudget(bodyBytes: number): number {
  return 1024 + 16 * bodyBytes;
}

/** Compiles a guard for bodies written with `writerType`; compile once per writer schema. */
export function compileBodyGuard(writerType: avro.Type): BodyGuard {
  const plan = compileType(writerType, new Map());
  return (body) => new BodyWalker(body).check(plan);
}

/** What the walk needs to know about a type, with logical types already replaced by their encoding. */
type Plan =
  /** A type whose encoding takes no bytes (null, fixed of size 0, records of such fields). */
  | { readonly kind: 'empty'; readonly values: number; readonly depth: number }
  | { readonly kind: 'boolean' | 'int' | 'long' | 'float' | 'double' | 'string' | 'bytes' }
  | { readonly kind: 'fixed'; readonly size: number }
  | { readonly kind: 'enum'; readonly symbolCount: number }
  | { readonly kind: 'union'; readonly branches: readonly Plan[] }
  | { readonly kind: 'array'; readonly items: Plan }
  | { readonly kind: 'map'; readonly values: Plan }
  | RecordPlan;

/** Fields are filled in after the plan is registered, so that a recursive record can refer to itself. */
type RecordPlan = { readonly kind: 'record'; readonly fields: { name: string; plan: Plan }[] };

function compileType(type: avro.Type, compiled: Map<avro.Type, Plan>): Plan {
  const known = compiled.get(type);
  if (known !== undefined) return known;
  const typeName = type.typeName;
  switch (typeName) {
    case 'null':
      return { kind: 'empty', values: 1, depth: 0 };
    case 'boolean':
    case 'int':
    case 'long':
    case 'float':
    case 'double':
    case 'string':
    case 'bytes':
      return { kind: typeName };
    // A long with a custom JavaScript representation; its encoding is a plain long.
    case 'abstract:long':
      return { kind: 'long' };
    case 'fixed': {
      const size = (type as avro.types.FixedType).size;
      return size === 0 ? { kind: 'empty', values: 1, depth: 0 } : { kind: 'fixed', size };
    }
    case 'enum':
      return { kind: 'enum', symbolCount: (type as avro.types.EnumType).symbols.length };
    case 'union:unwrapped':
    case 'union:wrapped':
      return { kind: 'union', branches: (type as avro.types.UnwrappedUnionType).types.map((branch) => compileType(branch, compiled)) };
    case 'array':
      return { kind: 'array', items: compileType((type as avro.types.ArrayType).itemsType, compiled) };
    case 'map':
      return { kind: 'map', values: compileType((type as avro.types.MapType).valuesType, compiled) };
    case 'record':
    case 'error':
      return compileRecord(type as avro.types.RecordType, compiled);
    default:
      if (typeName.startsWith('logical:')) return compileType((type as avro.types.LogicalType).underlyingType, compiled);
      throw new Error(`the Avro body guard does not know avsc type ${typeName}`);
  }
}

/**
 * A record being compiled is already registered when its fields are, so a field that refers back
 * to it gets the (non-empty) record plan: a record on a cycle is never treated as taking no bytes,
 * and the nesting limit is what stops a body that recurses without consuming any.
 */
function compileRecord(type: avro.types.RecordType, compiled: Map<avro.Type, Plan>): Plan {
  const plan: RecordPlan = { kind: 'record', fields: [] };
  compiled.set(type, plan);
  for (const field of type.fields) plan.fields.push({ name: field.name, plan: compileType(field.type, compiled) });
  let values = 1;
  let depth = 0;
  for (const field of plan.fields) {
    if (field.plan.kind !== 'empty') return plan;
    values += field.plan.values;
    depth = Math.max(depth, field.plan.depth);
  }
  const empty: Plan = { kind: 'empty', values, depth: depth + 1 };
  compiled.set(type, empty);
  return empty;
}

/** Thrown inside the walk; each enclosing field or entry adds its name on the way out. */
class Refusal {
  /** Innermost first. */
  readonly segments: string[] = [];
  constructor(readonly detail: string) {}
}

function withSegment(error: unknown, segment: string): unknown {
  if (error instanceof Refusal) error.segments.push(segment);
  return error;
}

function formatPath(segments: readonly string[]): string {
  let path = '';
  for (let index = segments.length - 1; index >= 0; index--) {
    const segment = segments[index] as string;
    path += segment.startsWith('[') || path === '' ? segment : `.${segment}`;
  }
  return path === '' ? '<body>' : path;
}

/** Varint limits from the Avro specification: an int takes at most 5 bytes, a long at most 10. */
const INT_VARINT = { maxBytes: 5, lastBytePayloadLimit: 0x0f, bits: 32 } as const;
const LONG_VARINT = { maxBytes: 10, lastBytePayloadLimit: 0x01, bits: 64 } as const;
type VarintLimits = typeof INT_VARINT | typeof LONG_VARINT;

/** One walk over one body; not reused. */
class BodyWalker {
  private position = 0;
  private depth = 0;
  private steps = 0;
  private mapEntries = 0;
  private textIsUtf8 = true;
  private readonly budget: number;

  constructor(private readonly body: Buffer) {
    this.budget = valueBudget(body.length);
  }

  check(plan: Plan): BodyGuardResult {
    try {
      this.walk(plan);
      const trailing = this.remaining();
      if (trailing > 0) throw new Refusal(`${trailing} bytes after the end of the top-level value`);
      return { ok: true, steps: this.steps, mapEntries: this.mapEntries, textIsUtf8: this.textIsUtf8 };
    } catch (error) {
      if (!(error instanceof Refusal)) throw error;
      return { ok: false, path: formatPath(error.segments), detail: error.detail, steps: this.steps };
    }
  }

  private walk(plan: Plan): void {
    switch (plan.kind) {
      case 'empty':
        this.ensureNestingRoom(plan.depth);
        this.charge(plan.values);
        return;
      case 'boolean': {
        this.charge(1);
        this.ensureBytes(1, 'a boolean');
        const byte = this.body[this.position++] as number;
        if (byte > 1) throw new Refusal(`boolean byte ${byte} is neither 0 nor 1`);
        return;
      }
      case 'int':
        this.charge(1);
        this.readVarint(INT_VARINT, 'an int');
        return;
      case 'long':
        this.charge(1);
        this.readVarint(LONG_VARINT, 'a long');
        return;
      case 'float':
        this.charge(1);
        this.skipBytes(4, 'a float');
        return;
      case 'double':
        this.charge(1);
        this.skipBytes(8, 'a double');
        return;
      case 'fixed':
        this.charge(1);
        this.skipBytes(plan.size, `a fixed of ${plan.size} bytes`);
        return;
      case 'string':
        this.charge(1);
        this.noteText(this.skipLengthPrefixed('string'));
        return;
      case 'bytes':
        this.charge(1);
        this.skipLengthPrefixed('bytes');
        return;
      case 'enum': {
        this.charge(1);
        const start = this.position;
        const index = this.readVarint(LONG_VARINT, 'an enum index');
        if (index < 0 || index >= plan.symbolCount) throw new Refusal(`enum index ${this.exactVarint(start)} of ${plan.symbolCount} symbols`);
        return;
      }
      case 'union': {
        // The branch is the value; the union itself is not counted as a second one.
        const start = this.position;
        const branch = plan.branches[this.readVarint(LONG_VARINT, 'a union branch index')];
        if (branch === undefined) throw new Refusal(`union branch ${this.exactVarint(start)} of ${plan.branches.length}`);
        this.walk(branch);
        return;
      }
      case 'record':
        this.charge(1);
        this.enterNesting();
        for (const field of plan.fields) {
          try {
            this.walk(field.plan);
          } catch (error) {
            throw withSegment(error, field.name);
          }
        }
        this.depth--;
        return;
      case 'array':
        this.charge(1);
        this.walkBlocks(plan.items, false);
        return;
      case 'map':
        this.charge(1);
        this.walkBlocks(plan.values, true);
        return;
    }
  }

  /**
   * Arrays and maps are a series of blocks ending with a zero count. A negative count is followed
   * by the block's size in bytes: avsc ignores that size when reading but jumps by it when skipping
   * a field the reader does not have, so it must be exactly what the items take for both to agree.
   */
  private walkBlocks(items: Plan, isMap: boolean): void {
    this.enterNesting();
    const itemNoun = isMap ? 'map entries' : 'array items';
    let entryIndex = 0;
    for (;;) {
      const countStart = this.position;
      const declared = this.readVarint(LONG_VARINT, `a ${isMap ? 'map' : 'array'} block count`);
      if (declared === 0) break;
      let declaredBytes: number | null = null;
      if (declared < 0) {
        const sizeStart = this.position;
        declaredBytes = this.readVarint(LONG_VARINT, 'a block byte size');
        if (declaredBytes < 0) throw new Refusal(`block byte size ${this.exactVarint(sizeStart)} is negative`);
        if (declaredBytes > this.remaining()) throw new Refusal(`block byte size ${this.exactVarint(sizeStart)} exceeds the ${this.remaining()} bytes left`);
      }
      // Every item of a map takes at least its key's length byte; arrays of items that take no
      // bytes are held to the same bound as a policy, since no honest writer needs more.
      if (Math.abs(declared) > this.remaining()) {
        throw new Refusal(`declares ${this.exactVarint(countStart, true)} ${itemNoun} but ${this.remaining()} bytes remain`);
      }
      const count = Math.abs(declared);
      if (isMap) this.mapEntries += count;
      const blockStart = this.position;
      if (!isMap && items.kind === 'empty') {
        this.ensureNestingRoom(items.depth);
        this.charge(count * items.values);
        entryIndex += count;
      } else {
        for (let item = 0; item < count; item++, entryIndex++) {
          try {
            if (isMap) {
              this.charge(1);
              const keyLength = this.skipLengthPrefixed('map key');
              this.noteText(keyLength);
              // avsc fills a map with `map[key] = value`: this key would set the map's prototype
              // instead of an entry, so the event would silently lose it.
              if (keyLength === PROTOTYPE_KEY.length && this.body.subarray(this.position - keyLength, this.position).equals(PROTOTYPE_KEY)) {
                throw new Refusal('map key "__proto__" cannot be decoded into an entry');
              }
            }
            this.walk(items);
          } catch (error) {
            throw withSegment(error, `[<${isMap ? 'key' : 'item'} index ${entryIndex}>]`);
          }
        }
      }
      const itemBytes = this.position - blockStart;
      if (declaredBytes !== null && itemBytes !== declaredBytes) {
        throw new Refusal(`block declares ${declaredBytes} bytes but its ${itemNoun} take ${itemBytes}`);
      }
    }
    this.depth--;
  }

  private remaining(): number {
    return this.body.length - this.position;
  }

  /** Checked before counting, so that `steps` never exceeds the budget, even for one bulk charge. */
  private charge(values: number): void {
    if (this.steps + values > this.budget) {
      throw new Refusal(`decoding would build more than ${this.budget} values from a body of ${this.body.length} bytes`);
    }
    this.steps += values;
  }

  private enterNesting(): void {
    this.depth++;
    if (this.depth > MAX_NESTING_DEPTH) throw new Refusal(`nesting deeper than ${MAX_NESTING_DEPTH}`);
  }

  private ensureNestingRoom(levels: number): void {
    if (this.depth + levels > MAX_NESTING_DEPTH) throw new Refusal(`nesting deeper than ${MAX_NESTING_DEPTH}`);
  }

  private ensureBytes(count: number, what: string): void {
    const left = this.remaining();
    if (count > left) throw new Refusal(`the body ends inside ${what} (${count} bytes needed, ${left} left)`);
  }

  private skipBytes(count: number, what: string): void {
    this.ensureBytes(count, what);
    this.position += count;
  }

  /**
   * Notes whether the text just walked over (its last `length` bytes) is valid UTF-8: a byte loop for
   * ASCII, the common case, and Node's own validator for anything else.
   */
  private noteText(length: number): void {
    if (!this.textIsUtf8) return;
    const body = this.body;
    const end = this.position;
    for (let index = end - length; index < end; index++) {
      if ((body[index] as number) >= 0x80) {
        this.textIsUtf8 = isUtf8(body.subarray(end - length, end));
        return;
      }
    }
  }

  /** Skips a length-prefixed value and returns its length. */
  private skipLengthPrefixed(noun: 'string' | 'bytes' | 'map key'): number {
    const start = this.position;
    const length = this.readVarint(LONG_VARINT, `a ${noun} length`);
    if (length < 0) throw new Refusal(`${noun} length ${this.exactVarint(start)} is negative`);
    const left = this.remaining();
    if (length > left) throw new Refusal(`${noun} length ${this.exactVarint(start)} exceeds the ${left} bytes left`);
    this.position += length;
    return length;
  }

  /**
   * Reads a zig-zag varint. The magnitude is accumulated in floating point, which is exact up to
   * 2^53 and only approximate beyond, where every use here (a count, a length, an index) is refused
   * whatever the exact value; the sign comes from the first byte, so it is always exact.
   */
  private readVarint(limits: VarintLimits, what: string): number {
    const body = this.body;
    const start = this.position;
    let magnitude = 0;
    let scale = 1;
    for (let index = 0; ; index++) {
      if (this.position >= body.length) throw new Refusal(`the body ends inside ${what}`);
      const byte = body[this.position++] as number;
      if (index === limits.maxBytes - 1) {
        if (byte & 0x80) throw new Refusal(`varint of ${what} longer than ${limits.maxBytes} bytes`);
        if (byte > limits.lastBytePayloadLimit) throw new Refusal(`${what} does not fit in ${limits.bits} bits`);
      }
      magnitude += (byte & 0x7f) * scale;
      scale *= 128;
      if (byte < 0x80) break;
    }
    return ((body[start] as number) & 1) === 0 ? magnitude / 2 : -(magnitude + 1) / 2;
  }

  /** The exact value of an already validated varint at `start`, for refusal details only. */
  private exactVarint(start: number, absolute = false): string {
    let unsigned = 0n;
    let shift = 0n;
    for (let position = start; ; position++) {
      const byte = this.body[position] as number;
      unsigned |= BigInt(byte & 0x7f) << shift;
      shift += 7n;
      if (byte < 0x80) break;
    }
    const value = (unsigned & 1n) === 0n ? unsigned >> 1n : -((unsigned + 1n) >> 1n);
    return String(absolute && value < 0n ? -value : value);
  }
}
