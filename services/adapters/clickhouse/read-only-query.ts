import { randomUUID } from 'node:crypto';
import type { ClickHouseClient } from '@clickhouse/client';
import { clickhouseErrorIdentity } from './storage-errors.js';

/**
 * A guard for statements written by people rather than by Vigil (`vigil sql` today, an HTTP query
 * endpoint later): it lets through exactly one read-only statement, and it decides with ClickHouse's
 * own parser, on the embedded store and on a server alike.
 *
 * 1. `formatQuery` parses the statement, sent as a bound parameter so that none of it can run, and
 *    returns ClickHouse's canonical text of it: one statement, no comments. ClickHouse refuses a
 *    second statement after `;` here ("Multi-statements are not allowed"). From here on only the
 *    canonical text is used, so what is checked is what runs. Its formatting must be stable (the
 *    text formats to itself), which proves that it also parses on its own as one statement.
 * 2. `EXPLAIN AST` of the canonical text returns its syntax tree, one row per node, indented one
 *    space per level. It only parses; nothing runs.
 * 3. The rows are read for the shapes below. Names and aliases appear in the rows unescaped, so a
 *    name with a line break in it adds rows; but every node starts a row of its own, so added rows
 *    never hide a node. Each rule therefore reads only the first rows (which hold no names), or the
 *    row right after a row that holds no name, or asks whether some row is present: added rows can
 *    only make such a rule refuse more.
 *
 * Shapes relied on, as ClickHouse 26.7 (chDB 3.4) prints them:
 * - The first row names the statement: `SelectWithUnionQuery` (also WITH … SELECT, UNION, INTERSECT),
 *   `ShowTables`, `DescribeQuery`, `ExistsTableQuery  t`, `Explain EXPLAIN PIPELINE`, `InsertQuery`…
 *   An EXPLAIN's first child is the statement explained, unless EXPLAIN options come first as `Set`.
 * - The output clauses of a statement are children of its root: INTO OUTFILE (and COMPRESSION) a
 *   `Literal`, FORMAT an `Identifier`, SETTINGS a `Set`. No other child of an allowed root is a
 *   `Literal`. EXPLAIN AST hands its output clauses to the statement it explains, one level down,
 *   where the only other row is that statement's `ExpressionList`.
 * - A SETTINGS clause anywhere, and EXPLAIN options, are a `Set` row.
 * - A table function is a `Function <name>` row right under a `TableExpression` row, whether in
 *   FROM, JOIN, a subquery, a CTE, an IN (SELECT …) or DESCRIBE.
 * - Any other function call is a `Function <name>` row; a function passed by name to a higher-order
 *   function (`arrayMap(file, paths)`) is an `Identifier <name>` row.
 * - Some parts are not in the tree at all: the function of `* APPLY(f)` (`ColumnsApplyTransformer`),
 *   and the WHERE and LIMIT of SHOW TABLES and SHOW COLUMNS.
 */

/** Longer statements are refused before ClickHouse sees them, which also bounds what parsing costs. */
export const MAXIMUM_STATEMENT_BYTES = 64 * 1024;

export type ReadOnlyVerdict = { allowed: true; statement: string } | { allowed: false; reason: string };

export type ReadOnlyQueryResult = { allowed: true; statement: string; rows: Record<string, unknown>[] } | { allowed: false; reason: string };

export interface QueryLimits {
  maxExecutionSeconds: number;
  maxResultRows: number;
  maxResultBytes: number;
}

/** The execution time stays below the server client's 30 s request timeout, so that ClickHouse's own message wins. */
export const DEFAULT_QUERY_LIMITS: QueryLimits = { maxExecutionSeconds: 20, maxResultRows: 100_000, maxResultBytes: 64 * 1024 * 1024 };

const READ_ONLY_STATEMENTS = 'SELECT, WITH … SELECT, SHOW, DESCRIBE, EXPLAIN of a SELECT and EXISTS';
const FORMAT_CLAUSE = 'a FORMAT clause: the output format is chosen by the caller';

/** Roots that read data or metadata. SHOW of users, roles, grants and quotas is left out: it is about access, not data. */
const ALLOWED_ROOTS = new Set([
  'SelectWithUnionQuery',
  'ShowTables',
  'ShowColumns',
  'ShowCreateTableQuery',
  'ShowCreateDatabaseQuery',
  'ShowCreateDictionaryQuery',
  'ShowCreateViewQuery',
  'ShowFunctions',
  'ShowEngineQuery',
  'ShowSetting',
  'ShowProcesslistQuery',
  'DescribeQuery',
  'ExistsTableQuery',
  'ExistsDatabaseQuery',
  'ExistsDictionaryQuery',
  'ExistsViewQuery',
  'Explain',
]);

/** SHOW TABLES (also DATABASES, SETTINGS…) and SHOW COLUMNS (also INDEXES) keep WHERE and LIMIT out of the tree. */
const ROOTS_WITH_HIDDEN_EXPRESSIONS = new Set(['ShowTables', 'ShowColumns']);

/** EXPLAIN kinds that describe a SELECT without running it (EXPLAIN PLAN prints as plain `EXPLAIN`). */
const ALLOWED_EXPLAIN_KINDS = new Set(['EXPLAIN', 'EXPLAIN AST', 'EXPLAIN SYNTAX', 'EXPLAIN QUERY TREE', 'EXPLAIN PIPELINE', 'EXPLAIN ESTIMATE']);

/**
 * Table functions that generate rows or read only what a plain SELECT could read; every other one is
 * refused, because most reach a file, a program or the network. Compared in lower case, since
 * ClickHouse resolves some names case-insensitively. `zeros` and `format` are harmless but left out:
 * ClickHouse refuses them under readonly=1, with which every allowed query runs.
 */
const ALLOWED_TABLE_FUNCTIONS = new Set(
  ['numbers', 'numbers_mt', 'generate_series', 'generateSeries', 'primes', 'generateRandom', 'values', 'SQLStandardValues', 'null', 'view', 'merge'].map((name) => name.toLowerCase()),
);

/** What some functions reach, to name it in a refusal: by exact lower-case name, or by the prefix of a family. */
interface Reach {
  names: readonly string[];
  families?: readonly string[];
  reach: string;
}

/** What refused table functions reach. `iceberg`… and the like are families of many. */
const TABLE_FUNCTION_REACH: readonly Reach[] = [
  { names: ['file', 'filecluster', 'filesystem'], reach: 'reads files on the machine that runs ClickHouse' },
  { names: ['url', 'urlcluster'], reach: 'reads the network' },
  { names: ['s3', 's3cluster', 'gcs', 'oss', 'cosn', 'azureblobstorage', 'azureblobstoragecluster', 'hdfs', 'hdfscluster'], reach: 'reads remote object storage' },
  { names: [], families: ['iceberg', 'deltalake', 'hudi', 'paimon'], reach: 'reads a data lake from files or object storage' },
  { names: ['remote', 'remotesecure', 'cluster', 'clusterallreplicas'], reach: 'queries other ClickHouse servers' },
  { names: ['mysql', 'postgresql', 'mongodb', 'redis', 'sqlite', 'jdbc', 'odbc', 'ytsaurus'], reach: 'connects to another database' },
  { names: ['executable'], reach: 'runs a program' },
  { names: ['input'], reach: 'reads data sent along with the query' },
  { names: ['dictionary'], reach: 'reads a dictionary, whose source may be a file, a program or the network' },
  { names: ['eval'], reach: 'runs SQL composed while the query runs, out of the guard’s sight' },
];

/**
 * Ordinary functions that reach beyond the query's data; readonly=1 does not stop them
 * (`file('/etc/hostname')` reads the file on chDB). Families (`dictGet…`, `aiGenerate`…) go by prefix,
 * matched against ClickHouse's own list of functions, so that new members are refused too.
 */
const FUNCTION_REACH: readonly Reach[] = [
  { names: ['file'], reach: 'reads files on the machine that runs ClickHouse' },
  { names: ['hascolumnintable'], reach: 'can connect to another ClickHouse server' },
  { names: ['catboostevaluate'], reach: 'loads a model library from a file' },
  { names: ['generateserialid'], reach: 'writes to ClickHouse Keeper' },
  { names: [], families: ['dict'], reach: 'reads a dictionary, whose source may be a file, a program or the network' },
  { names: [], families: ['ai'], reach: 'calls an AI provider over the network' },
];

/** Decides whether `statement` is exactly one read-only statement; on success returns the text to run. */
export async function checkReadOnlyStatement(client: ClickHouseClient, statement: string): Promise<ReadOnlyVerdict> {
  // UTF-8 never takes fewer bytes than UTF-16 code units, so the cheap test settles any huge input.
  if (statement.length > MAXIMUM_STATEMENT_BYTES || Buffer.byteLength(statement, 'utf8') > MAXIMUM_STATEMENT_BYTES) {
    return refuse(`the statement is longer than ${MAXIMUM_STATEMENT_BYTES / 1024} KiB`);
  }
  // The native layers below pass text as C strings, which a NUL byte would cut short.
  if (statement.includes('\0')) return refuse('the statement contains a NUL byte');

  const parsed = await canonicalForm(client, statement);
  if ('reason' in parsed) return refuse(parsed.reason);
  if (!parsed.stable) return refuse('ClickHouse formats this statement inconsistently, so what would run is uncertain');

  const tree = await syntaxTree(client, parsed.text);
  if ('reason' in tree) return refuse(tree.reason);
  const problem = treeProblem(tree.rows, parsed);
  if (problem) return refuse(problem);
  // Only now, with the statement's kind known, does a refused FORMAT mean a FORMAT clause of its own.
  if (!parsed.acceptsOutputFormat) return refuse(FORMAT_CLAUSE);
  return { allowed: true, statement: parsed.text };
}

/**
 * Runs `statement` if the guard allows it, with readonly=1 and the given time and result-size limits.
 * A limit that is hit, like any error of the query itself, is thrown as ClickHouse raised it.
 */
export async function runReadOnlyQuery(client: ClickHouseClient, statement: string, limits: QueryLimits = DEFAULT_QUERY_LIMITS): Promise<ReadOnlyQueryResult> {
  const verdict = await checkReadOnlyStatement(client, statement);
  if (!verdict.allowed) return verdict;
  try {
    return { allowed: true, statement: verdict.statement, rows: await jsonRows(client, withLimits(verdict.statement, limits)) };
  } catch (error) {
    // chDB hands the output a query produced before it failed (a limit hit half-way) to the
    // connection's next query, in front of that query's own; a throwaway query takes it instead.
    // Should that fail too, the first error is still the one worth reporting.
    await client.command({ query: 'SELECT 1' }).catch(() => undefined);
    throw error;
  }
}

/**
 * Appends the limits as the statement's own SETTINGS clause, which the guard has proved absent. A
 * SETTINGS clause binds one query on chDB as on a server, whereas the client's `clickhouse_settings`
 * become SET statements on chDB that stay for the rest of the session. readonly=1 also makes
 * ClickHouse refuse every table function not marked safe for read-only users.
 */
export function withLimits(statement: string, limits: QueryLimits): string {
  for (const [name, value] of Object.entries(limits)) {
    if (!Number.isSafeInteger(value) || value <= 0) throw new RangeError(`query limit ${name} must be a positive whole number, got ${value}`);
  }
  return (
    `${statement}\nSETTINGS max_execution_time = ${limits.maxExecutionSeconds}, timeout_overflow_mode = 'throw', ` +
    `max_result_rows = ${limits.maxResultRows}, max_result_bytes = ${limits.maxResultBytes}, result_overflow_mode = 'throw', readonly = 1`
  );
}

/**
 * Text the statement's author controls (a cell, a column name, an echo in an error message) made safe
 * to print: C0 controls, DEL and C1 controls become visible escapes, so that neither line breaks nor
 * terminal escape sequences (they start with ESC or CSI) survive.
 */
export function escapeControlCharacters(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, (character) => NAMED_ESCAPES[character] ?? `\\x${character.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

const NAMED_ESCAPES: Readonly<Record<string, string>> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

function refuse(reason: string): ReadOnlyVerdict {
  return { allowed: false, reason };
}

interface CanonicalForm {
  text: string;
  stable: boolean;
  acceptsOutputFormat: boolean;
  /** Lower-case names of the functions that reach beyond the query's data, as this ClickHouse knows them. */
  deniedFunctions: ReadonlySet<string>;
}

interface CanonicalRow {
  nonce: string;
  text: string;
  stable: number;
  acceptsOutputFormat: number;
  deniedFunctions: string[];
}

async function canonicalForm(client: ClickHouseClient, statement: string): Promise<CanonicalForm | { reason: string }> {
  const nonce = randomUUID();
  let rows: CanonicalRow[];
  try {
    const result = await client.query({
      query:
        'WITH formatQuery({statement:String}) AS canonical ' +
        'SELECT {nonce:String} AS nonce, canonical AS text, formatQuery(canonical) = canonical AS stable, ' +
        "isNotNull(formatQueryOrNull(concat(canonical, '\\nFORMAT JSONEachRow'))) AS acceptsOutputFormat, " +
        // User-defined functions are denied as well: their bodies are out of the guard's sight.
        '(SELECT groupArray(lower(name)) FROM system.functions WHERE origin != {systemOrigin:String} OR lower(name) IN {deniedNames:Array(String)} ' +
        'OR arrayExists(family -> startsWith(lower(name), family), {deniedFamilies:Array(String)})) AS deniedFunctions',
      query_params: {
        statement,
        nonce,
        systemOrigin: 'System',
        deniedNames: FUNCTION_REACH.flatMap((entry) => entry.names),
        deniedFamilies: FUNCTION_REACH.flatMap((entry) => entry.families ?? []),
      },
      format: 'JSONEachRow',
    });
    rows = await result.json<CanonicalRow>();
  } catch (error) {
    return parserRefusal(error);
  }
  // Rows of another query would decide what runs and what is denied. chDB passes on the output of a
  // query that failed half-way to the connection's next query (runReadOnlyQuery clears it, but other
  // users of the connection might not), so the answer must be exactly this query's one row.
  const [row] = rows;
  if (rows.length !== 1 || row?.nonce !== nonce) throw new Error("ClickHouse's answer to the guard's parse held rows of another query; the statement was not checked");
  return { text: row.text, stable: row.stable === 1, acceptsOutputFormat: row.acceptsOutputFormat === 1, deniedFunctions: new Set(row.deniedFunctions) };
}

interface TreeRow {
  depth: number;
  kind: string;
  /** What follows the kind, without the `(children N)` count. */
  detail: string;
  declaredChildren: number;
}

async function syntaxTree(client: ClickHouseClient, canonical: string): Promise<{ rows: TreeRow[] } | { reason: string }> {
  let explained: Record<string, unknown>[];
  try {
    explained = await jsonRows(client, `EXPLAIN AST ${canonical}`);
  } catch (error) {
    return parserRefusal(error);
  }
  return { rows: explained.map((row) => treeRow(String(row.explain))) };
}

/**
 * Rows of a statement sent as it is. The client's `query` would append a FORMAT clause, which an
 * EXPLAIN hands on to the statement it explains; default_format instead reaches a server as a
 * setting and chDB as its output format.
 */
async function jsonRows(client: ClickHouseClient, statement: string): Promise<Record<string, unknown>[]> {
  const result = await client.exec({ query: statement, clickhouse_settings: { default_format: 'JSONEachRow' } });
  const chunks: Buffer[] = [];
  for await (const chunk of result.stream) chunks.push(Buffer.from(chunk as Uint8Array));
  return Buffer.concat(chunks)
    .toString('utf8')
    .split('\n')
    .filter((line) => line.length > 0)
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

function treeRow(row: string): TreeRow {
  const body = row.trimStart();
  const children = / \(children (\d+)\)$/.exec(body);
  const withoutCount = children ? body.slice(0, children.index) : body;
  const space = withoutCount.indexOf(' ');
  return {
    depth: row.length - body.length,
    kind: space === -1 ? withoutCount : withoutCount.slice(0, space),
    detail: space === -1 ? '' : withoutCount.slice(space + 1),
    declaredChildren: children ? Number(children[1]) : 0,
  };
}

/** The first reason to refuse the statement whose tree `rows` are, or undefined if there is none. */
function treeProblem(rows: readonly TreeRow[], parsed: CanonicalForm): string | undefined {
  const [root, first] = rows;
  if (!root) return 'ClickHouse returned no syntax tree for it';
  if (root.kind === 'ParallelWithQuery') return 'PARALLEL WITH runs more than one statement';
  if (!ALLOWED_ROOTS.has(root.kind)) return `${leadingKeywords(parsed.text)} is not a read-only statement; allowed are ${READ_ONLY_STATEMENTS}`;
  if (root.kind === 'Explain') {
    if (!ALLOWED_EXPLAIN_KINDS.has(root.detail)) return `${root.detail} is not offered`;
    if (first?.kind === 'Set') return 'EXPLAIN options are not offered';
    if (first?.kind !== 'SelectWithUnionQuery') return 'EXPLAIN is offered for a SELECT only';
  }
  // A function call or a subquery always prints with a parenthesis, a LIKE pattern is a string.
  if (ROOTS_WITH_HIDDEN_EXPRESSIONS.has(root.kind) && parsed.text.includes('(')) {
    return 'a SHOW whose WHERE or LIMIT calls a function or holds a subquery, which its syntax tree hides: SELECT from system.tables or system.columns instead';
  }
  if (!isConsistentTree(rows)) return 'a name in it contains a line break or a control character';
  for (const [index, row] of rows.entries()) {
    if (row.kind === 'Set') return 'a SETTINGS clause: it could lift the limits the query runs with';
    const outputClause = row.depth === 1 || (root.kind === 'Explain' && row.depth === 2 && row.kind !== 'ExpressionList');
    if (outputClause && row.kind === 'Literal') return 'INTO OUTFILE writes a file';
    if (outputClause && root.kind === 'Explain' && row.kind === 'Identifier') return FORMAT_CLAUSE;
    if (row.kind === 'ColumnsApplyTransformer') return 'APPLY hides the function it calls from the guard; call it on the columns by name';
    if (row.kind === 'TableExpression') {
      const next = rows[index + 1];
      if (next?.kind === 'Function' && next.depth === row.depth + 1) {
        const name = firstWord(next.detail);
        if (!ALLOWED_TABLE_FUNCTIONS.has(name.toLowerCase())) return `table function ${name}() ${reachOf(name, TABLE_FUNCTION_REACH) ?? 'is not one of the table functions known to touch no file, program or network'}`;
      }
    }
    if (row.kind === 'Function' || row.kind === 'Identifier') {
      const name = firstWord(row.detail);
      if (parsed.deniedFunctions.has(name.toLowerCase())) {
        const reach = reachOf(name, FUNCTION_REACH) ?? 'is user-defined, and its body is out of the guard’s sight';
        return row.kind === 'Function'
          ? `function ${name}() ${reach}`
          : `${name} names the function ${name}(), which ${reach}; a column of that name needs its table's name in front`;
      }
    }
  }
  return undefined;
}

/**
 * Indentation grows one level at a time, there is one root, every kind is a word, and every node
 * has as many children as it declares. A name with a line break in it breaks one of these.
 */
function isConsistentTree(rows: readonly TreeRow[]): boolean {
  const open: { depth: number; expected: number; seen: number }[] = [];
  for (const [index, row] of rows.entries()) {
    if (!/^[A-Za-z:]+$/.test(row.kind) || (index > 0 && row.depth === 0)) return false;
    while ((open.at(-1)?.depth ?? -1) >= row.depth) {
      const closed = open.pop();
      if (closed && closed.seen !== closed.expected) return false;
    }
    const parent = open.at(-1);
    if (index > 0 && parent?.depth !== row.depth - 1) return false;
    if (parent) parent.seen += 1;
    open.push({ depth: row.depth, expected: row.declaredChildren, seen: 0 });
  }
  return open.every((node) => node.seen === node.expected);
}

/** The name in a `Function <name> (alias …)` or `Identifier <name>` row. */
function firstWord(detail: string): string {
  const space = detail.indexOf(' ');
  return space === -1 ? detail : detail.slice(0, space);
}

function reachOf(name: string, table: readonly Reach[]): string | undefined {
  const lowerName = name.toLowerCase();
  return table.find((entry) => entry.names.includes(lowerName) || (entry.families ?? []).some((family) => lowerName.startsWith(family)))?.reach;
}

/** `INSERT INTO`, `DROP TABLE`, `SHOW USERS`: the canonical text starts with the statement's keywords. */
function leadingKeywords(canonical: string): string {
  const keywords: string[] = [];
  for (const word of canonical.split(/\s+/)) {
    if (keywords.length === 2 || !/^[A-Z]+$/.test(word)) break;
    keywords.push(word);
  }
  return keywords.length > 0 ? keywords.join(' ') : 'this statement';
}

/**
 * Whether ClickHouse itself raised `error` (as opposed to a closed connection or an unreachable
 * server). The check is by shape: chDB's connection raises the error class of another copy of the
 * client's common package, so `instanceof ClickHouseError` would miss it.
 */
export function raisedByClickHouse(error: unknown): error is Error & { code: string; type: string } {
  return error instanceof Error && clickhouseErrorIdentity(error) !== null;
}

/** An error ClickHouse raised about the statement refuses it; any other is no verdict on the statement and propagates. */
function parserRefusal(error: unknown): { reason: string } {
  if (!raisedByClickHouse(error)) throw error;
  return { reason: `ClickHouse's parser refused it: ${oneLineMessage(error.message)}` };
}

/** ClickHouse's message in one line, without its echo of the whole query, and safe to print. */
function oneLineMessage(message: string): string {
  const withoutEcho = message.split(/:? In scope /)[0] ?? message;
  const oneLine = escapeControlCharacters(withoutEcho.replace(/\s+/g, ' ').trim()).replace(/[.:\s]+$/, '');
  return oneLine.length > 240 ? `${oneLine.slice(0, 240)}…` : oneLine;
}
