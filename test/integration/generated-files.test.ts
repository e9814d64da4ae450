import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runReadOnlyQuery } from '../../services/adapters/clickhouse/read-only-query.js';
import { projectPath } from '../../services/adapters/project/project-files.js';
import { CATALOGUE } from '../../services/observability/catalogue.js';
import { DASHBOARDS_FOLDER } from '../../services/observability/dashboards.js';
import { generateFiles, README_MARKERS, renderMetricsTable, replaceBetweenMarkers, RUNBOOKS_FOLDER } from '../../services/observability/generate.js';
import { openTestStorage, type StorageHarness } from '../support/pipeline-harness.js';

/**
 * The rule files, runbooks, runbook index and Grafana dashboards are generated from
 * services/observability/catalogue.ts (the dashboards by dashboards.ts) and committed: a fresh
 * generation must give them back byte for byte, so that an edit to either side alone fails here.
 * The fix is `npm run generate`.
 */

const OUT_OF_DATE = 'out of date: edit services/observability/catalogue.ts, runbook-texts.ts or dashboards.ts, then run npm run generate';

const committed = (path: string): string | null => (existsSync(projectPath(path)) ? readFileSync(projectPath(path), 'utf8') : null);

describe('files generated from the catalogue', () => {
  const files = generateFiles();

  it.each(files.map((file) => [file.path, file.content] as const))('%s is committed as generated', (path, content) => {
    expect(committed(path), `${path} ${OUT_OF_DATE}`).toBe(content);
  });

  it('leaves no runbook page of an alert that is gone', () => {
    const generated = new Set(files.map((file) => file.path));
    const pages = readdirSync(projectPath(RUNBOOKS_FOLDER)).map((name) => `${RUNBOOKS_FOLDER}/${name}`);
    expect(pages.filter((path) => !generated.has(path)), OUT_OF_DATE).toEqual([]);
  });

  it('leaves no dashboard that is no longer generated, and generates every dashboard', () => {
    const generated = new Set(files.map((file) => file.path));
    const dashboards = readdirSync(projectPath(DASHBOARDS_FOLDER)).map((name) => `${DASHBOARDS_FOLDER}/${name}`);
    expect(dashboards.filter((path) => !generated.has(path)), OUT_OF_DATE).toEqual([]);
    expect(files.filter((file) => file.path.startsWith(`${DASHBOARDS_FOLDER}/`)).map((file) => file.path).sort()).toEqual(dashboards.sort());
  });

  const readme = committed('README.md') ?? '';
  it("holds the README's table of series as generated", () => {
    expect(readme, 'README.md has lost the markers of its table of series').toContain(README_MARKERS.begin);
    expect(replaceBetweenMarkers(readme, renderMetricsTable(CATALOGUE)), `README.md ${OUT_OF_DATE}`).toBe(readme);
  });
});

describe('the runbooks\' ClickHouse queries', () => {
  let storage: StorageHarness;

  beforeAll(async () => {
    storage = await openTestStorage();
    // vigil sql reads unqualified names as Vigil's database; chDB keeps USE for the later queries.
    if (storage.target.kind === 'embedded') await storage.client.command({ query: `USE ${storage.target.database}` });
  });

  afterAll(async () => storage?.close());

  const queries = Object.entries(CATALOGUE.runbooks).flatMap(([alert, runbook]) => runbook.sql.map((query, index) => [`${alert} #${index + 1}`, query.query] as const));

  it.each(queries)('%s passes the read-only guard of vigil sql and runs on the migrated schema', async (_name, sql) => {
    const result = await runReadOnlyQuery(storage.client, sql);
    expect(result.allowed ? 'allowed' : result.reason).toBe('allowed');
  });
});
