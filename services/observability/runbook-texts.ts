/**
 * What on-call clinicians and engineers read when an alert of the catalogue fires: what it means
 * for patients, queries that confirm it (PromQL for Prometheus, `vigil sql` for ClickHouse), likely
 * causes and what to do. generate.ts renders one page per alert from these. Queries name the
 * example model `sepsis-risk` and its `1h` windows: put the alert's labels in their place.
 *
 * SQL is run as `vigil sql "..."`, so it holds no double quote, backslash, dollar, backtick or
 * exclamation mark (which an interactive shell would expand inside double quotes); `<>` stands for
 * "not equal".
 */

export interface RunbookQuery {
  /** What the query shows, in one sentence. */
  shows: string;
  query: string;
}

export interface Runbook {
  /** What it means for patients first, then for the system. */
  meaning: string;
  promql: readonly RunbookQuery[];
  sql: readonly RunbookQuery[];
  causes: readonly string[];
  actions: readonly string[];
}

const MODEL = 'sepsis-risk';

/** The latest evaluation of each window of the model and size that started within `since`, as the monitor's readers take it. */
const latestEvaluations = (since: string, windowSize = '1h'): string =>
  [
    '    SELECT evaluation_id FROM window_evaluations',
    `    WHERE model_id = '${MODEL}' AND window_size = '${windowSize}' AND window_start >= now() - INTERVAL ${since}`,
    '    ORDER BY window_start, evaluated_at DESC, evaluation_id DESC',
    '    LIMIT 1 BY window_start)',
  ].join('\n');

/** The rows of the latest evaluations of the last `since` that match `condition`, newest window first. */
const storedRows = (condition: string, since = '1 DAY', windowSize = '1h'): string =>
  [
    'SELECT window_start, kind, metric, feature, segment, group_name, round(value, 4) AS value, threshold, status, reason',
    'FROM metric_results',
    `WHERE model_id = '${MODEL}' AND window_size = '${windowSize}' AND ${condition}`,
    '  AND evaluation_id IN (',
    latestEvaluations(since, windowSize),
    'ORDER BY window_start DESC, kind, metric, feature, segment, group_name',
  ].join('\n');

/** Each labelled prediction of the model with the label of its latest binary outcome. */
const LABELLED = [
  'FROM predictions AS p',
  'INNER JOIN (',
  '    SELECT prediction_id, argMax(label_value, observed_at) AS label',
  `    FROM outcomes WHERE model_id = '${MODEL}' AND label_kind = 'binary'`,
  '    GROUP BY prediction_id) AS o ON o.prediction_id = p.prediction_id',
].join('\n');

const CLINICAL_DECISION =
  "Whether the model keeps scoring patients, and whether its alerts are paused in the clinical system (the EHR score, the alerts to ward staff), is decided by the model's clinical owner named in its governance record, or out of hours by the clinical safety officer on call; not by engineering on call. Give them the alert, the rows the queries above returned and what you have ruled out.";

const silenceAction = (alert: string, matchers: string, example: string): string =>
  `While the cause is being fixed, silence this alert for this model only, with an end time and the ticket in the comment, never open-ended: \`amtool silence add alertname=${alert} ${matchers} --duration=8h --comment='${example}'\`. A silence in Alertmanager stops notifications only; it pauses nothing in the clinical system.`;

const MONITOR_LOGS =
  'The monitor logs one line per kind of failure until a pass succeeds: `monitor evaluation failed; retrying at the next pass` with `stage` (watermark, planning, evaluation, membership) and `failure` (a ClickHouse error type and code, or an error name).';

export const RUNBOOKS: Readonly<Record<string, Runbook>> = {
  VigilModelDrift: {
    meaning:
      "The patients the model scores, or the way their data is charted, are no longer like those of the baseline it is compared with. Its scores may be less reliable for them, while measured performance cannot show it yet: outcomes arrive hours to days later. Drift is a reason to look, not proof of harm; a page means it has held for six hourly windows.",
    promql: [
      { shows: 'Which drift rows are flagged now, with their values.', query: `vigil_model_metric_value{model="${MODEL}", kind="drift"} and on (model, window, kind, metric, feature, segment, group) vigil_model_metric_status{model="${MODEL}", kind="drift"} >= 1 < 3` },
      { shows: 'How long each feature has been flagged over the last day (1 = every sample).', query: `avg_over_time((max by (feature, metric) (vigil_model_metric_status{model="${MODEL}", window="1h", kind="drift", metric=~"psi|wasserstein_norm|unseen_share"} < 3) >= bool 1)[1d:5m])` },
      { shows: 'Whether the same feature also has missing or out-of-range values (a unit change shows there first).', query: `vigil_model_metric_value{model="${MODEL}", kind="quality"}` },
      { shows: 'Whether performance moved with it (the estimate needs no outcome).', query: `vigil_model_metric_value{model="${MODEL}", kind="performance", metric=~"cbpe_auroc|auroc", segment=""}` },
    ],
    sql: [
      { shows: 'The flagged drift rows of the last day, with the reasons the monitor gave (test, adjusted p-value, threshold).', query: storedRows("kind = 'drift' AND status IN ('warn', 'alert')") },
      {
        shows: 'A numeric feature (here creatinine) per site and day over the baseline weeks and now: a jump at one site points at its lab or interface.',
        query: [
          "SELECT segments['site'] AS site, toDate(occurred_at) AS day, count() AS predictions,",
          "  round(quantile(0.5)(features_numeric['creatinine']), 2) AS median, round(quantile(0.95)(features_numeric['creatinine']), 2) AS p95",
          'FROM predictions',
          `WHERE model_id = '${MODEL}' AND occurred_at >= now() - INTERVAL 17 DAY AND mapContains(features_numeric, 'creatinine')`,
          'GROUP BY site, day ORDER BY site, day',
        ].join('\n'),
      },
      {
        shows: 'A categorical feature (here admission_source) per day: a value the baseline never had is a new pathway or a renamed code.',
        query: [
          "SELECT toDate(occurred_at) AS day, features_text['admission_source'] AS value, count() AS predictions",
          'FROM predictions',
          `WHERE model_id = '${MODEL}' AND occurred_at >= now() - INTERVAL 17 DAY`,
          'GROUP BY day, value ORDER BY day, predictions DESC',
        ].join('\n'),
      },
    ],
    causes: [
      'A unit or interface change: a laboratory system reporting creatinine in µmol/L instead of mg/dL (values about 88 times larger), a vital sign in other units, a code list renamed upstream.',
      'A new analyzer or assay that reads systematically higher or lower (lactate on a point-of-care device).',
      'A new care pathway or site: categories the baseline never saw (`unseen_share`), a ward that opens or closes.',
      'A real change in the population: case mix after a nearby unit closes, an outbreak, the season.',
      'The baseline itself: a trailing baseline that covered a holiday, an incident or a short outage.',
    ],
    actions: [
      'Find where the drift is: the per-site query above; one site moving alone points at that site\'s lab or interface team, all sites together at a population change.',
      'Check the same feature\'s quality rows and the performance rows (`cbpe_auroc` first, it needs no outcome). Drift with a falling estimate is urgent; drift alone is a finding to report.',
      'A data defect (unit, mapping, assay) is fixed at its source, in the interface or the lab system, not in Vigil; meanwhile the affected patients\' scores are computed on wrong values.',
      'A real population change is for the model owner to judge: revalidation, or a new reference baseline (a new baseline version; old ones are never overwritten).',
      CLINICAL_DECISION,
      silenceAction('VigilModelDrift', `model=${MODEL} feature=creatinine`, 'TICKET-123 creatinine unit change at site-b'),
    ],
  },

  VigilModelInputQuality: {
    meaning:
      'The model is scoring patients on inputs that are missing or outside the range it was validated on. Missing inputs are imputed or ignored by the model, out-of-range ones extrapolated, so the scores of the affected patients are likely wrong now, in either direction: missed deteriorations or false alarms.',
    promql: [
      { shows: 'Missing and out-of-range shares now, per feature.', query: `vigil_model_metric_value{model="${MODEL}", kind="quality", metric=~"missing_share|out_of_range_share"}` },
      { shows: 'One feature\'s missing share per window size; graph it over two days to see when it started.', query: `max by (window) (vigil_model_metric_value{model="${MODEL}", kind="quality", metric="missing_share", feature="lactate"})` },
      { shows: 'Whether the feature also drifted (an out-of-range flood usually does).', query: `vigil_model_metric_status{model="${MODEL}", kind="drift", feature="lactate"}` },
    ],
    sql: [
      { shows: 'The flagged quality rows of the last day, with their values and thresholds.', query: storedRows("kind = 'quality' AND status IN ('warn', 'alert')") },
      {
        shows: 'The missing share of a feature (here lactate) per site and hour: one site at 100 % is a feed down at that site.',
        query: [
          "SELECT toStartOfHour(occurred_at) AS hour, segments['site'] AS site, count() AS predictions,",
          "  round(countIf(NOT mapContains(features_numeric, 'lactate')) / count(), 3) AS missing_share",
          'FROM predictions',
          `WHERE model_id = '${MODEL}' AND occurred_at >= now() - INTERVAL 1 DAY`,
          'GROUP BY hour, site ORDER BY hour DESC, site',
        ].join('\n'),
      },
      {
        shows: 'The range of a feature (here creatinine) per site, last day against the two weeks before: a factor of about 88 between sites is µmol/L against mg/dL.',
        query: [
          "SELECT segments['site'] AS site, occurred_at >= now() - INTERVAL 1 DAY AS last_day, count() AS predictions,",
          "  round(min(features_numeric['creatinine']), 2) AS minimum, round(quantile(0.5)(features_numeric['creatinine']), 2) AS median, round(max(features_numeric['creatinine']), 2) AS maximum",
          'FROM predictions',
          `WHERE model_id = '${MODEL}' AND occurred_at >= now() - INTERVAL 15 DAY AND mapContains(features_numeric, 'creatinine')`,
          'GROUP BY site, last_day ORDER BY site, last_day',
        ].join('\n'),
      },
    ],
    causes: [
      "A laboratory feed down: a site's lab interface stops sending, and every lab value of its patients is missing.",
      'A unit change: a lab or device upgraded to other units, the interface passing the numbers through unchanged.',
      'A mapping change in the feature pipeline of the inference service: a renamed field arrives as missing.',
      'A new device or charting practice that records a value later than the model scores.',
    ],
    actions: [
      'Find the site and the feature with the queries above, then call that site\'s interface or laboratory team: they can say whether the feed is down or a unit changed, and since when.',
      'Note the time the problem started: every prediction for the affected patients since then was computed on missing or wrong values, which the clinical owner needs to know to decide whether to review them.',
      CLINICAL_DECISION,
      silenceAction('VigilModelInputQuality', `model=${MODEL} feature=lactate`, 'TICKET-124 site-c lab feed down'),
    ],
  },

  VigilModelPerformanceDegraded: {
    meaning:
      'Measured on the patients whose outcomes are known, the model is worse than its thresholds allow: a lower AUROC or sensitivity means septic patients ranked or flagged too late, a lower PPV means more false alarms for staff. A prevalence row here means the outcome itself became more frequent (an outbreak), which changes what a score means even when the model ranks well.',
    promql: [
      { shows: 'The population\'s performance rows now (provisional rows report ok; see the label coverage).', query: `vigil_model_metric_value{model="${MODEL}", kind="performance", segment=""}` },
      { shows: 'The label coverage of each window size: performance is judged only above the spec\'s min_label_coverage.', query: `vigil_model_label_coverage_ratio{model="${MODEL}"}` },
      { shows: 'Measured AUROC against the estimate from scores.', query: `vigil_model_metric_value{model="${MODEL}", kind="performance", metric=~"auroc|cbpe_auroc", segment=""}` },
    ],
    sql: [
      { shows: 'The flagged population performance rows of the last two days, with their confidence intervals in the reasons.', query: storedRows("kind = 'performance' AND segment = '' AND status IN ('warn', 'alert')", '2 DAY') },
      {
        shows: 'AUROC and prevalence per day over two weeks from the raw events (each prediction with its latest binary outcome).',
        query: [
          'SELECT toDate(p.occurred_at) AS day, count() AS labelled, round(avg(o.label), 3) AS prevalence,',
          '  round(arrayAUC(groupArray(p.score), groupArray(o.label)), 3) AS auroc',
          LABELLED,
          `WHERE p.model_id = '${MODEL}' AND p.occurred_at >= now() - INTERVAL 14 DAY`,
          'GROUP BY day ORDER BY day',
        ].join('\n'),
      },
    ],
    causes: [
      'Concept drift: the inputs look the same but explain less (a new strain, a changed treatment protocol).',
      'An input defect that drift and quality rows show too: check VigilModelInputQuality and VigilModelDrift for the same model.',
      'A change in how outcomes are adjudicated (a new sepsis definition, a coding change) rather than in the model.',
      'A real rise in prevalence (an outbreak): the prevalence row alerts, and PPV and NPV move with it.',
      'Early outcomes are not a random share: if coverage is just above min_label_coverage, the remaining outcomes may move the figure.',
    ],
    actions: [
      'Confirm the fall on more than one window size and against the estimate (`cbpe_auroc`); a fall that the raw query above reproduces is real.',
      'Look for an input cause first (drift and quality rows of the same hours): it is the one that can be fixed quickly.',
      'Page the model\'s clinical owner with the figures: a lasting fall in discrimination or sensitivity is a patient-safety question.',
      CLINICAL_DECISION,
      silenceAction('VigilModelPerformanceDegraded', `model=${MODEL} metric=auroc`, 'TICKET-125 concept drift under review'),
    ],
  },

  VigilModelGroupPerformanceDegraded: {
    meaning:
      'For one group of patients (a site, a sex, an age band, a payer), the model performs worse than its thresholds allow, while the population as a whole may look fine. Those patients get less benefit, or more false alarms, than others.',
    promql: [
      { shows: 'The performance rows of the alert\'s segment, group by group.', query: `vigil_model_metric_value{model="${MODEL}", kind="performance", segment="age_band"}` },
      { shows: 'The fairness rows of the same segment, which compare the groups directly.', query: `vigil_model_metric_value{model="${MODEL}", kind="fairness", segment="age_band", group=""}` },
    ],
    sql: [
      { shows: 'The flagged group rows of the last two days, with the group sizes (n_current) they rest on.', query: storedRows("kind = 'performance' AND segment <> '' AND status IN ('warn', 'alert')", '2 DAY') },
      {
        shows: 'AUROC per group of a segment (here age_band) over two weeks from the raw events.',
        query: [
          "SELECT p.segments['age_band'] AS age_band, count() AS labelled, round(avg(o.label), 3) AS prevalence,",
          '  round(arrayAUC(groupArray(p.score), groupArray(o.label)), 3) AS auroc',
          LABELLED,
          `WHERE p.model_id = '${MODEL}' AND p.occurred_at >= now() - INTERVAL 14 DAY`,
          'GROUP BY age_band ORDER BY age_band',
        ].join('\n'),
      },
    ],
    causes: [
      'An input defect that affects one group only: one site\'s lab feed or units (the site segment), a device used on one ward.',
      'A change in the group\'s case mix (a new referral pathway for the over-80s).',
      'A small group: its row rests on as few as min_group_size outcomes, so check n_current before concluding.',
    ],
    actions: [
      'Check n_current of the flagged rows and the raw query over two weeks: a fall on a few dozen outcomes is a lead, not a finding.',
      'If the group is a site, run the site queries of VigilModelInputQuality: a defect there is the usual cause.',
      'Report to the model\'s clinical owner: a group that the model serves worse is a safety and equity question for them.',
      CLINICAL_DECISION,
      silenceAction('VigilModelGroupPerformanceDegraded', `model=${MODEL} segment=age_band`, 'TICKET-126 under review'),
    ],
  },

  VigilModelEstimatedPerformanceLow: {
    meaning:
      'Estimated from the scores alone (confidence-based performance estimation, CBPE), the model\'s AUROC is below its threshold. It is the earliest warning of worse ranking of patients, available before any outcome is known; it assumes the scores were calibrated on the reference and misses changes in how inputs relate to outcomes (concept drift).',
    promql: [
      { shows: 'The estimate and, where outcomes are in, the measured AUROC.', query: `vigil_model_metric_value{model="${MODEL}", kind="performance", metric=~"cbpe_auroc|auroc", segment=""}` },
      { shows: 'Drift of the score itself and of the inputs, which move the estimate.', query: `vigil_model_metric_status{model="${MODEL}", kind="drift"} >= 1 < 3` },
    ],
    sql: [
      { shows: 'The estimate per window over two days, with its sampling-error band in the reason.', query: storedRows("metric = 'cbpe_auroc'", '2 DAY') },
      {
        shows: 'The score distribution per day: an estimate falls when scores bunch in the middle, where the model is least sure.',
        query: [
          'SELECT toDate(occurred_at) AS day, count() AS predictions, round(avg(score), 3) AS mean_score,',
          '  round(countIf(score BETWEEN 0.2 AND 0.6) / count(), 3) AS share_uncertain',
          'FROM predictions',
          `WHERE model_id = '${MODEL}' AND occurred_at >= now() - INTERVAL 17 DAY`,
          'GROUP BY day ORDER BY day',
        ].join('\n'),
      },
    ],
    causes: [
      'Input drift or a data defect that pushes scores towards the uncertain middle (check VigilModelDrift and VigilModelInputQuality).',
      'A population change with more patients the model finds hard to separate.',
      'A new model version publishing uncalibrated scores under the same model id.',
    ],
    actions: [
      'Look for the input cause with the drift and quality queries; fix a data defect at its source.',
      'Check which model_version is publishing (`vigil sql "SELECT model_version, count() FROM predictions WHERE model_id = \'sepsis-risk\' AND occurred_at >= now() - INTERVAL 1 DAY GROUP BY model_version"`).',
      'Tell the model\'s clinical owner that outcomes will confirm or refute the estimate within the label horizon; a lasting estimate below the alert threshold is reason to review before they arrive.',
      CLINICAL_DECISION,
      silenceAction('VigilModelEstimatedPerformanceLow', `model=${MODEL}`, 'TICKET-127 awaiting outcomes'),
    ],
  },

  VigilModelMiscalibrated: {
    meaning:
      'The risks the model shows no longer match how often patients have the outcome: a score of 0.3 no longer means three in ten. Decision thresholds then fire too often or too rarely, and clinicians reading the number as a probability are misled.',
    promql: [
      { shows: 'The calibration rows now (ECE, intercept, slope, observed over expected).', query: `vigil_model_metric_value{model="${MODEL}", kind="calibration"}` },
      { shows: 'Prevalence alongside: a change in prevalence alone shifts calibration-in-the-large.', query: `vigil_model_metric_value{model="${MODEL}", kind="performance", metric="prevalence", segment=""}` },
    ],
    sql: [
      { shows: 'The flagged calibration rows of the last two days.', query: storedRows("kind = 'calibration' AND status IN ('warn', 'alert')", '2 DAY') },
      {
        shows: 'Observed outcome rate against the mean score per tenth of the score range, last week.',
        query: [
          'SELECT floor(p.score * 10) / 10 AS score_from, count() AS labelled, round(avg(p.score), 3) AS mean_score, round(avg(o.label), 3) AS observed_rate',
          LABELLED,
          `WHERE p.model_id = '${MODEL}' AND p.occurred_at >= now() - INTERVAL 7 DAY`,
          'GROUP BY score_from ORDER BY score_from',
        ].join('\n'),
      },
    ],
    causes: [
      'A change in prevalence (an outbreak, a new referral pattern): observed rates rise at every score.',
      'Concept drift or an input defect that also shows in the performance or drift rows.',
      'A new model version or a recalibration step changed upstream without a new reference.',
      'On hourly windows, few outcomes: the expected calibration error is biased upwards on small samples; compare the daily window.',
    ],
    actions: [
      'Compare the observed and mean scores by score range with the query above; a constant offset is calibration-in-the-large (prevalence), a tilt is the slope.',
      'Report to the model\'s clinical owner, who decides whether thresholds or the displayed risk need a change.',
      CLINICAL_DECISION,
      silenceAction('VigilModelMiscalibrated', `model=${MODEL}`, 'TICKET-128 recalibration under review'),
    ],
  },

  VigilModelFairnessGap: {
    meaning:
      'The model treats the groups of a segment differently beyond the spec\'s thresholds: it flags one group more often (demographic parity), finds its septic patients less often (equal opportunity) or errs more for it (equalized odds). Patients of that group carry more missed diagnoses or more false alarms.',
    promql: [
      { shows: 'The fairness rows of the model now, by segment.', query: `vigil_model_metric_value{model="${MODEL}", kind="fairness", group=""}` },
      { shows: 'Selection rates per group of the alert\'s segment.', query: `vigil_model_metric_value{model="${MODEL}", kind="fairness", metric="selection_rate", segment="sex"}` },
    ],
    sql: [
      { shows: 'The flagged fairness rows of the last two days; the reason names the highest and lowest group.', query: storedRows("kind = 'fairness' AND status IN ('warn', 'alert')", '2 DAY') },
      {
        shows: 'Selection rate, true and false positive rates per group (here sex, at the spec\'s decision threshold 0.3), last week.',
        query: [
          "SELECT p.segments['sex'] AS sex, count() AS labelled, round(avg(p.score >= 0.3), 3) AS selection_rate,",
          '  round(countIf(p.score >= 0.3 AND o.label = 1) / countIf(o.label = 1), 3) AS true_positive_rate,',
          '  round(countIf(p.score >= 0.3 AND o.label = 0) / countIf(o.label = 0), 3) AS false_positive_rate',
          LABELLED,
          `WHERE p.model_id = '${MODEL}' AND p.occurred_at >= now() - INTERVAL 7 DAY`,
          'GROUP BY sex ORDER BY sex',
        ].join('\n'),
      },
    ],
    causes: [
      'An input defect confined to a group: one site\'s lab feed or units, a device used on one ward.',
      'A change in one group\'s case mix or prevalence, which moves selection rates without any fault in the model.',
      'A change in how the segment is coded (a new ethnicity code list) that moves patients between groups.',
      'Small groups: differences over groups near min_group_size swing from window to window.',
    ],
    actions: [
      'Check the groups\' sizes and the raw rates above over a week before concluding.',
      'Rule out a data cause (site queries of VigilModelInputQuality, a coding change in the segment).',
      'Report to the model\'s clinical owner and, where the organisation has one, its AI or health-equity committee: a lasting gap is theirs to judge.',
      CLINICAL_DECISION,
      silenceAction('VigilModelFairnessGap', `model=${MODEL} segment=sex`, 'TICKET-129 under review'),
    ],
  },

  VigilSiteSilent: {
    meaning:
      'One site sends far fewer predictions than its usual share of the model\'s traffic. Most often its interface engine stopped forwarding scoring requests: its patients are no longer scored, and the staff there may believe the safety net is still on. Drift and performance rows do not show it, since they only see the traffic that still arrives.',
    promql: [
      { shows: 'Predictions per site in the latest window against the expected count (n_reference is in the stored row).', query: `vigil_model_metric_value{model="${MODEL}", kind="volume", segment="site"}` },
      { shows: 'Which sites are flagged.', query: `vigil_model_metric_status{model="${MODEL}", kind="volume", segment="site"} == 2` },
    ],
    sql: [
      { shows: 'Volume rows of the site segment over the last day: value is the count, n_reference the expected count.', query: storedRows("kind = 'volume' AND segment = 'site'") },
      {
        shows: 'Predictions per site and hour from the raw events, and when each site was last heard from.',
        query: [
          "SELECT segments['site'] AS site, toStartOfHour(occurred_at) AS hour, count() AS predictions, max(occurred_at) AS last_prediction",
          'FROM predictions',
          `WHERE model_id = '${MODEL}' AND occurred_at >= now() - INTERVAL 1 DAY`,
          'GROUP BY site, hour ORDER BY site, hour DESC',
        ].join('\n'),
      },
    ],
    causes: [
      "The site's interface engine or integration to the inference service is down or misrouted.",
      'The model was switched off at that site (planned, or by mistake) without monitoring being told.',
      'The site code changed (a merger, a renamed site), so its traffic now arrives under another group.',
      'A planned downtime of the site\'s EHR.',
    ],
    actions: [
      'Confirm with the raw query when the site was last heard from, then call the site\'s integration team or the inference service owner.',
      'Check for planned downtime or a deliberate switch-off; if there is one, record it in the ticket and silence until its end.',
      'If a renamed site code is the cause, the spec\'s baseline still expects the old one: the model owner updates the spec or the producer.',
      'Tell the site\'s clinical lead that scores are not being produced for their patients, so that staff do not rely on them; whether the site falls back to manual screening is a clinical decision.',
      CLINICAL_DECISION,
      silenceAction('VigilSiteSilent', `model=${MODEL} group=site-a`, 'TICKET-130 site-a interface engine down'),
    ],
  },

  VigilGroupVolumeLow: {
    meaning:
      'A group of a segment other than the site (a sex, an age band, a payer) has nearly vanished from the traffic. Patients rarely vanish: usually the group is now coded differently, so the model may be scoring those patients on an unexpected category, and their group-level monitoring is lost.',
    promql: [
      { shows: 'Predictions per group of the alert\'s segment in the latest window.', query: `vigil_model_metric_value{model="${MODEL}", kind="volume", segment="payer"}` },
      { shows: 'New categories in the inputs appear as unseen share.', query: `vigil_model_metric_value{model="${MODEL}", kind="drift", metric="unseen_share"}` },
    ],
    sql: [
      { shows: 'Volume rows of the segments other than site over the last day.', query: storedRows("kind = 'volume' AND segment <> 'site' AND status = 'alert'") },
      {
        shows: 'The values of a segment (here payer) per day: a group that falls as another appears is a recoding.',
        query: [
          "SELECT toDate(occurred_at) AS day, segments['payer'] AS payer, count() AS predictions",
          'FROM predictions',
          `WHERE model_id = '${MODEL}' AND occurred_at >= now() - INTERVAL 17 DAY`,
          'GROUP BY day, payer ORDER BY day, predictions DESC',
        ].join('\n'),
      },
    ],
    causes: [
      'A code list changed upstream (new payer codes, a new ethnicity standard), so the group is now spelled differently.',
      'A site of the model stopped sending: its groups shrink with it. VigilSiteSilent holds this alert back while it fires; if this one is sent once the site sends again, the group lives mostly at that site and has not recovered yet.',
      'The segment stopped being filled in by the producer (it then appears as missing).',
      'A real change: a payer contract ended, a ward for an age group closed.',
    ],
    actions: [
      'Find the new spelling with the query above and ask the inference service owner whether the change was intended.',
      'A recoding needs the spec or the producer mapping updated by the model owner, and a new baseline version once the new codes are established.',
      "Tell the model's clinical owner which group is affected and since when: its patients are scored on a category the model may not know, and its fairness and group rows are lost meanwhile.",
      silenceAction('VigilGroupVolumeLow', `model=${MODEL} segment=payer`, 'TICKET-131 payer codes changed'),
    ],
  },

  VigilModelVolumeLow: {
    meaning:
      'The model scored fewer than half as many patients as in the same window a week ago. Either fewer patients are being scored (an integration partly down, a model switched off in some places) or fewer predictions reach Vigil; in both cases some patients may be without the model\'s safety net.',
    promql: [
      { shows: 'Predictions in the latest window now and a week ago.', query: `vigil_model_window_predictions{model="${MODEL}"} / vigil_model_window_predictions{model="${MODEL}"} offset 1w` },
      { shows: 'Records read per topic, to tell fewer events from rejected ones.', query: 'sum by (topic) (rate(vigil_events_consumed_total[1h]))' },
      { shows: 'Dead letters, which would explain a fall in stored predictions.', query: 'topic_reason:vigil_events_rejected:rate10m' },
    ],
    sql: [
      {
        shows: 'Predictions per day and site over two weeks: the missing traffic is one site, one producer, or everywhere.',
        query: [
          "SELECT toDate(occurred_at) AS day, segments['site'] AS site, producer_service, count() AS predictions",
          'FROM predictions',
          `WHERE model_id = '${MODEL}' AND occurred_at >= now() - INTERVAL 15 DAY`,
          'GROUP BY day, site, producer_service ORDER BY day, site, producer_service',
        ].join('\n'),
      },
    ],
    causes: [
      'One of several producers (inference service replicas, sites) stopped publishing.',
      'Records rejected at the collector (see VigilEventsRejected): they never reach the windows.',
      'A real drop in admissions (a public holiday against a normal day a week before), which resolves by itself.',
      'A new model version publishing under another model id.',
    ],
    actions: [
      'Rule out dead letters and a new model id (`vigil sql "SELECT model_id, count() FROM predictions WHERE occurred_at >= now() - INTERVAL 1 DAY GROUP BY model_id"`).',
      'Find the missing producer or site with the query above and contact its owner.',
      CLINICAL_DECISION,
      silenceAction('VigilModelVolumeLow', `model=${MODEL}`, 'TICKET-132 holiday'),
    ],
  },

  VigilModelSilent: {
    meaning:
      'No new window of the model has closed for more than twice its usual spacing: predictions stopped arriving altogether. Patients are probably not being scored (the inference service or its publisher is down), or their scores no longer reach Vigil; either way nothing about this model is being monitored, and the gauges show its last window before the silence.',
    promql: [
      { shows: 'How long ago each window size of the model last closed.', query: `time() - model_window:vigil_model_window_end_timestamp_seconds:max{model="${MODEL}"}` },
      { shows: 'The ratio the alert judges (1 is the usual spacing).', query: `model:vigil_model_window_end_age_per_spacing:max{model="${MODEL}"}` },
      { shows: 'Whether the collector still consumes anything at all.', query: 'sum by (topic) (rate(vigil_events_consumed_total[15m]))' },
    ],
    sql: [
      {
        shows: 'When the model was last heard from, per producer and version, and when that was stored.',
        query: [
          'SELECT producer_service, model_version, max(occurred_at) AS last_prediction, max(ingested_at) AS last_stored, count() AS predictions',
          'FROM predictions',
          `WHERE model_id = '${MODEL}' AND occurred_at >= now() - INTERVAL 2 DAY`,
          'GROUP BY producer_service, model_version ORDER BY last_prediction DESC',
        ].join('\n'),
      },
      {
        shows: 'All models heard from in the last day: a renamed model id shows up as a new one.',
        query: 'SELECT model_id, max(occurred_at) AS last_prediction, count() AS predictions\nFROM predictions\nWHERE occurred_at >= now() - INTERVAL 1 DAY\nGROUP BY model_id ORDER BY model_id',
      },
    ],
    causes: [
      'The inference service is down, or runs but its publisher cannot reach Kafka or the schema registry.',
      'A deployment changed the model id or the topic the service publishes to.',
      'The model was switched off deliberately without its spec being removed from the models folder.',
      'Everything upstream of Vigil is fine but the collector consumes nothing: see VigilTargetDown, VigilDependencyDown and VigilConsumerLagGrowing.',
    ],
    actions: [
      'Check Vigil first: if other models are fine and the collector consumes, the silence is upstream.',
      'Call the inference service owner with the last time the model was heard from; a renamed id or topic is fixed in the producer or the spec.',
      'If the model was retired, remove its spec from the models folder so that it is no longer expected.',
      'Tell the clinical owner that the model is not scoring, so that staff do not rely on it; the fallback is their decision.',
      CLINICAL_DECISION,
      silenceAction('VigilModelSilent', `model=${MODEL}`, 'TICKET-133 inference service down'),
    ],
  },

  VigilModelLabelCoverageLow: {
    meaning:
      'For a window past its label horizon, too few predictions have an outcome. Performance, calibration and fairness of those patients cannot be judged, so a model that got worse would go unnoticed; it does not by itself mean patients were harmed.',
    promql: [
      { shows: 'Label coverage of each window size now (only windows past the horizon are judged).', query: `vigil_model_label_coverage_ratio{model="${MODEL}"}` },
      { shows: 'Outcomes stored per second, overall.', query: 'table:vigil_events_stored:rate1h{table="outcomes"}' },
      { shows: 'Outcome records dead-lettered.', query: 'topic_reason:vigil_events_rejected:rate10m{topic=~".*outcomes.*"}' },
    ],
    sql: [
      { shows: 'The label rows of the weekly windows over the last month.', query: storedRows("kind = 'labels'", '30 DAY', '7d') },
      {
        shows: 'Coverage per day from the raw events: predictions with at least one binary outcome.',
        query: [
          "SELECT toDate(p.occurred_at) AS day, count() AS predictions, countIf(o.prediction_id <> '') AS with_outcome, round(with_outcome / predictions, 3) AS coverage",
          'FROM predictions AS p',
          `LEFT JOIN (SELECT DISTINCT prediction_id FROM outcomes WHERE model_id = '${MODEL}' AND label_kind = 'binary') AS o ON o.prediction_id = p.prediction_id`,
          `WHERE p.model_id = '${MODEL}' AND p.occurred_at >= now() - INTERVAL 14 DAY`,
          'GROUP BY day ORDER BY day',
        ].join('\n'),
      },
    ],
    causes: [
      'The outcome feed (adjudication, coding, lab results) is down or backlogged; see VigilOutcomeFeedStopped.',
      'Outcomes arrive with prediction ids that do not match (a changed id format): the `unmatched_outcomes` row rises.',
      'Outcomes published with a non-binary label for a binary model, which coverage does not count.',
      'The label horizon in the spec is shorter than outcomes really take.',
    ],
    actions: [
      'Check whether outcomes arrive at all and whether they match (`unmatched_outcomes` in the label rows).',
      'Contact the team that publishes outcomes; a backlog is theirs to clear, a changed id format theirs to fix.',
      'Tell the model\'s clinical owner that performance is unjudged for the affected days.',
      silenceAction('VigilModelLabelCoverageLow', `model=${MODEL}`, 'TICKET-134 adjudication backlog'),
    ],
  },

  VigilModelLabelDelayHigh: {
    meaning:
      'Outcomes take longer than the spec allows to arrive after their prediction. Performance, calibration and fairness are judged later than planned, so a model that got worse would be noticed days late.',
    promql: [
      { shows: 'The median and 90th percentile delay per window size, in hours.', query: `vigil_model_metric_value{model="${MODEL}", kind="labels", metric=~"label_delay_.*_seconds"} / 3600` },
    ],
    sql: [
      { shows: 'The delay rows of the daily windows over two weeks.', query: storedRows("kind = 'labels' AND metric LIKE 'label_delay%'", '14 DAY', '1d') },
      {
        shows: 'Outcome delay per day of observation and outcome source, in hours.',
        query: [
          'SELECT toDate(o.observed_at) AS day, o.source, count() AS outcomes,',
          '  round(quantile(0.5)(dateDiff(\'second\', p.occurred_at, o.observed_at)) / 3600, 1) AS median_hours,',
          '  round(quantile(0.9)(dateDiff(\'second\', p.occurred_at, o.observed_at)) / 3600, 1) AS p90_hours',
          'FROM outcomes AS o',
          'INNER JOIN predictions AS p ON p.prediction_id = o.prediction_id',
          `WHERE o.model_id = '${MODEL}' AND p.model_id = '${MODEL}' AND o.observed_at >= now() - INTERVAL 14 DAY`,
          'GROUP BY day, o.source ORDER BY day, o.source',
        ].join('\n'),
      },
    ],
    causes: [
      'An adjudication or coding backlog (staff shortage, holidays).',
      'An outcome source changed its batch schedule (daily instead of hourly).',
      'The outcome definition changed to one that takes longer to establish.',
    ],
    actions: [
      'Find the slow source with the query above and ask its owner when the backlog will clear.',
      'If the longer delay is the new normal, the model owner raises label_horizon and the delay thresholds in the spec.',
      "Tell the model's clinical owner how much later than planned performance will be judged.",
      silenceAction('VigilModelLabelDelayHigh', `model=${MODEL}`, 'TICKET-135 coding backlog'),
    ],
  },

  VigilModelWindowTooSmall: {
    meaning:
      'For 12 hours the model\'s latest windows of this size, or their baselines, have had fewer predictions than the spec\'s min_window_size. No drift, quality or performance row is computed for them: the model is effectively unmonitored at this window size, and its other alerts cannot fire.',
    promql: [
      { shows: 'Predictions in the latest window of each size.', query: `vigil_model_window_predictions{model="${MODEL}"}` },
      { shows: 'The same window a week ago.', query: `vigil_model_window_predictions{model="${MODEL}"} offset 1w` },
    ],
    sql: [
      { shows: 'The sample-size rows of the last day; the reason says which side, window or baseline, is short.', query: storedRows("metric = 'sample_size'") },
    ],
    causes: [
      'Traffic fell (see VigilModelVolumeLow, VigilModelSilent, VigilSiteSilent).',
      'A baseline that covers too little traffic: a new model whose trailing baseline is not yet filled, a production range with few predictions.',
      'A window size too short for the model\'s volume (a model scoring a few dozen patients a day with hourly windows).',
    ],
    actions: [
      'Read the reason: a short baseline fills by itself as days pass; a short window needs traffic back or a longer window size.',
      'For a low-volume model, the model owner removes the short window size from the spec or lowers min_window_size with the statistical cost in mind.',
      "Tell the model's clinical owner that the model is unmonitored at this window size until then.",
      silenceAction('VigilModelWindowTooSmall', `model=${MODEL} window=1h`, 'TICKET-136 new model, baseline filling'),
    ],
  },

  VigilTargetDown: {
    meaning:
      'Prometheus cannot scrape a Vigil process. Whatever it runs (collector, monitor) is not watched: events may still be safe in Kafka, but no model alert can fire or resolve while it is down.',
    promql: [
      { shows: 'Which Vigil processes answer.', query: 'up{job="vigil"}' },
      { shows: 'Restarts over the last hour (a crash loop).', query: 'changes(process_start_time_seconds{job="vigil"}[1h])' },
    ],
    sql: [
      { shows: 'Whether anything is still being stored (another collector may be running).', query: 'SELECT max(ingested_at) AS last_stored, count() AS stored_last_hour\nFROM predictions\nWHERE ingested_at >= now() - INTERVAL 1 HOUR' },
    ],
    causes: [
      'The process crashed or was stopped; a crash loop on start-up (a configuration error names the variable at fault).',
      'The host or pod is down, or a network policy blocks the scrape port (VIGIL_HTTP_PORT, 9464 by default).',
      'Prometheus scrapes the wrong address after a redeployment.',
    ],
    actions: [
      'Check the process and its last log lines (a start-up error names the variable), then `curl http://<instance>/healthz` and `/readyz`.',
      'Restart it; a collector restarted with the same VIGIL_INSTANCE_ID fences its predecessor\'s transaction and loses nothing.',
    ],
  },

  VigilStorageWritesFailing: {
    meaning:
      'The collector cannot write events to ClickHouse. Nothing is lost (offsets stay uncommitted, events wait in Kafka), but nothing new reaches the monitor, so every model\'s alerts judge old windows until writes succeed.',
    promql: [
      { shows: 'Failed insert attempts per table.', query: 'sum by (instance, table) (rate(vigil_storage_write_failures_total[5m]))' },
      { shows: 'Whether the collector sees storage as down (an outage) or up (ClickHouse refusing the data).', query: 'vigil_dependency_up{dependency="storage"}' },
      { shows: 'Insert latency when inserts do succeed.', query: 'histogram_quantile(0.99, sum by (le, table) (rate(vigil_batch_insert_duration_seconds_bucket[5m])))' },
    ],
    sql: [
      { shows: 'Active parts per table: a count in the hundreds means merges fall behind (too many parts).', query: "SELECT table, count() AS parts, sum(rows) AS rows\nFROM system.parts\nWHERE active AND database = 'vigil'\nGROUP BY table ORDER BY parts DESC" },
      { shows: 'Free space on ClickHouse\'s disks.', query: 'SELECT name, formatReadableSize(free_space) AS free, formatReadableSize(total_space) AS total\nFROM system.disks' },
    ],
    causes: [
      'ClickHouse down, restarting or unreachable (then VigilDependencyDown fires too).',
      'Disk full, or too many parts because merges cannot keep up.',
      'A migration not applied or a table altered by hand: ClickHouse refuses every row, which is then dead-lettered as storage-rejected.',
      'Memory pressure on the ClickHouse server.',
    ],
    actions: [
      'Read the collector\'s log: ClickHouse errors are logged by type and code.',
      'Free disk or let merges catch up; never delete raw tables\' parts by hand.',
      'If rows are refused for their data, stop and compare the tables with infra/clickhouse/migrations; dead-lettered records can be replayed from the dead-letter topic once fixed.',
    ],
  },

  VigilDependencyDown: {
    meaning:
      'The collector has had no answer from storage (ClickHouse) or the schema registry for 5 minutes. It retries, keeps its partitions and commits nothing, so no event is lost, but no event reaches monitoring until the dependency is back.',
    promql: [
      { shows: 'Which dependency is down, on which collector.', query: 'vigil_dependency_up == 0' },
      { shows: 'Records read per topic: zero while the collector waits.', query: 'sum by (instance, topic) (rate(vigil_events_consumed_total[5m]))' },
    ],
    sql: [
      { shows: 'For storage: whether ClickHouse answers at all, and since when it runs.', query: 'SELECT version() AS version, uptime() AS uptime_seconds' },
    ],
    causes: [
      'ClickHouse or the registry is down, restarting or overloaded.',
      'A network change, a DNS change or an expired certificate between the collector and the dependency.',
      'Credentials rotated without the collector being updated: the registry answers 401 or 403, ClickHouse an authentication error.',
    ],
    actions: [
      'The collector logs one line when the dependency goes (with the problem: network error, timeout, status) and one when it is back: start from that line.',
      'For the registry, `curl $SCHEMA_REGISTRY_URL/subjects` from the collector\'s host; for storage, `vigil sql "SELECT 1"` with the collector\'s environment.',
      'Once the dependency is back the collector resumes by itself; nothing needs replaying.',
    ],
  },

  VigilEventsRejected: {
    meaning:
      'Some records are sent to the dead-letter topic instead of being stored. The predictions or outcomes they carry are missing from monitoring, so the affected patients are not counted in drift, performance or volume; the records themselves are kept with their original bytes.',
    promql: [
      { shows: 'Dead letters per second by topic and reason.', query: 'topic_reason:vigil_events_rejected:rate10m' },
      { shows: 'Their share of each topic.', query: 'topic:vigil_events_rejected_per_consumed:ratio_rate10m' },
    ],
    sql: [
      {
        shows: 'Accepted predictions by producer, model version and schema id over the last day: a new producer version or schema id appearing when the rejections started is the lead.',
        query: 'SELECT producer_service, model_version, schema_id, count() AS stored, min(ingested_at) AS first_stored, max(ingested_at) AS last_stored\nFROM predictions\nWHERE ingested_at >= now() - INTERVAL 1 DAY\nGROUP BY producer_service, model_version, schema_id\nORDER BY last_stored DESC',
      },
    ],
    causes: [
      '`invalid-event`: a producer sends events that fail the meaning checks (a score outside [0, 1], a time far in the future, an identifier shaped like a medical record number).',
      '`unknown-schema`, `unsupported-schema`, `incompatible-schema`, `wrong-event-type`: a producer registered or used a schema Vigil cannot read, or publishes to the wrong topic.',
      '`not-wire-format`, `malformed-avro`, `undecodable`: a producer that does not use the Confluent wire format or a broken serializer.',
      '`payload-too-large` (above VIGIL_MAX_EVENT_BYTES), `empty-value`, `storage-rejected` (ClickHouse refused the row).',
    ],
    actions: [
      'Read a few dead letters\' headers: `kafka-console-consumer.sh --bootstrap-server $KAFKA_BROKERS --topic vigil.dlq.v1 --property print.headers=true --property print.value=false --max-messages 5`; `vigil.reason` and `vigil.detail` name the field and position, never a value.',
      'Send the producer\'s owner the reason and detail; the fix is in the producer.',
      'Once fixed, the dead-lettered records can be replayed to their source topic from the dead-letter topic (original key and bytes are kept).',
    ],
  },

  VigilEventsMostlyRejected: {
    meaning:
      'More than a quarter of a topic\'s records are dead-lettered: monitoring is blind to that share of the traffic, which usually means a producer release broke the event contract. If it is the predictions topic, the affected models look silent or small to every other alert.',
    promql: [
      { shows: 'The rejected share per topic.', query: 'topic:vigil_events_rejected_per_consumed:ratio_rate10m' },
      { shows: 'The reasons.', query: 'topic_reason:vigil_events_rejected:rate10m' },
    ],
    sql: [
      {
        shows: 'Accepted predictions per producer and schema id over the last two hours, per 10 minutes: the producer that stopped being accepted disappears here.',
        query: 'SELECT toStartOfTenMinutes(ingested_at) AS minute, producer_service, schema_id, count() AS stored\nFROM predictions\nWHERE ingested_at >= now() - INTERVAL 2 HOUR\nGROUP BY minute, producer_service, schema_id\nORDER BY minute DESC, producer_service',
      },
    ],
    causes: [
      'A producer release with a schema change that is not backward compatible, or registered under another subject.',
      'A producer publishing another event type to the topic.',
      'A change to Vigil\'s own validation limits (VIGIL_MAX_EVENT_BYTES, VIGIL_MAX_FUTURE_SKEW_SECONDS) or clock skew on producers.',
    ],
    actions: [
      'Find the producer (query above and the dead letters\' headers, see VigilEventsRejected) and ask its owner to roll back; the schema registry\'s compatibility check should have refused an incompatible schema, so check the subject\'s compatibility setting too.',
      'Replay the dead-lettered records once the producer is fixed; until then the affected models\' windows are incomplete, which the clinical owners of those models should know.',
    ],
  },

  VigilConsumerLagGrowing: {
    meaning:
      'The collectors are more than 100,000 records behind on a topic. Events are safe in Kafka, but monitoring sees them late: model alerts fire late by as much as the lag represents.',
    promql: [
      { shows: 'Lag per partition.', query: 'max by (topic, partition) (vigil_consumer_lag)' },
      { shows: 'Records read per second against records stored.', query: 'sum by (topic) (rate(vigil_events_consumed_total[5m]))' },
      { shows: 'Insert latency: a slow ClickHouse slows everything.', query: 'histogram_quantile(0.99, sum by (le, table) (rate(vigil_batch_insert_duration_seconds_bucket[5m])))' },
    ],
    sql: [
      {
        shows: 'Events stored per minute and how old they were when stored.',
        query: "SELECT toStartOfMinute(ingested_at) AS minute, count() AS stored, round(quantile(0.5)(dateDiff('second', occurred_at, ingested_at))) AS median_age_seconds\nFROM predictions\nWHERE ingested_at >= now() - INTERVAL 1 HOUR\nGROUP BY minute ORDER BY minute DESC",
      },
    ],
    causes: [
      'A traffic burst, or a replay of a topic from an earlier offset.',
      'Slow inserts (ClickHouse under load, too many parts), or a collector retrying an outage.',
      'Too few collectors for the partitions, or one stuck collector holding partitions.',
    ],
    actions: [
      'Check insert latency and storage health first; a slow ClickHouse is the usual cause.',
      'Add collectors, up to the topic\'s partition count (VIGIL_TOPIC_PARTITIONS for topics Vigil creates); each needs its own VIGIL_INSTANCE_ID.',
      'The lag of a partition a collector no longer holds stays at its last value on that collector until it restarts: compare per instance before concluding.',
    ],
  },

  VigilOutcomeFeedStopped: {
    meaning:
      'Predictions keep arriving but no outcome has been stored for three hours. Within the label horizon, performance, calibration and fairness will go unjudged for every model, so a model that got worse would go unnoticed.',
    promql: [
      { shows: 'Events stored per table.', query: 'table:vigil_events_stored:rate1h' },
      { shows: 'Records read from each topic, and outcome records dead-lettered.', query: 'sum by (topic) (rate(vigil_events_consumed_total[1h]))' },
    ],
    sql: [
      {
        shows: 'Outcomes stored per source over two days, and when each was last heard from.',
        query: 'SELECT source, model_id, count() AS outcomes, max(observed_at) AS last_observed, max(ingested_at) AS last_stored\nFROM outcomes\nWHERE ingested_at >= now() - INTERVAL 2 DAY\nGROUP BY source, model_id\nORDER BY last_stored DESC',
      },
    ],
    causes: [
      'The system that publishes outcomes (adjudication, coding, a lab interface) is down or stopped publishing.',
      'Outcomes are rejected (see VigilEventsRejected on the outcomes topic).',
      'The outcome publisher moved to another topic than VIGIL_OUTCOMES_TOPIC.',
    ],
    actions: [
      'Check dead letters on the outcomes topic first, then contact the outcome publisher\'s owner with the time of the last stored outcome.',
      'Tell the clinical owners of the models that performance will be judged late for the hours affected.',
    ],
  },

  VigilMonitorEvaluationsFailing: {
    meaning:
      'A monitor fails to evaluate one model\'s windows of one size. Until it succeeds, that model\'s series show an older window and its alerts judge old data: a problem that starts now would not be seen.',
    promql: [
      { shows: 'Failures and successes per model and size.', query: 'sum by (instance, model, window) (rate(vigil_monitor_evaluation_failures_total[15m])) and sum by (instance, model, window) (rate(vigil_monitor_evaluations_total[15m]))' },
      { shows: 'Whether any window of the model was evaluated in the last hour.', query: `increase(vigil_monitor_evaluations_total{model="${MODEL}"}[1h])` },
    ],
    sql: [
      {
        shows: 'The model\'s latest recorded evaluation per window size, and which monitor made it.',
        query: `SELECT window_size, max(evaluated_at) AS last_evaluated, argMax(window_start, evaluated_at) AS latest_window, argMax(evaluated_by, evaluated_at) AS evaluated_by\nFROM window_evaluations\nWHERE model_id = '${MODEL}'\nGROUP BY window_size ORDER BY window_size`,
      },
    ],
    causes: [
      'A ClickHouse error for this model only (a query over too much data, a memory limit).',
      'A baseline that cannot be fitted (the spec\'s reference file missing or unreadable, a production range without data).',
      'A spec change that the stored data does not fit.',
    ],
    actions: [
      MONITOR_LOGS,
      'Check the spec with `vigil models check infra/models` and the baseline source it names.',
      'A failing window is tried again at every pass; once the cause is fixed nothing needs to be replayed.',
    ],
  },

  VigilMonitorStale: {
    meaning:
      'A monitor has not completed a pass without a failure for over 30 minutes. Model series are frozen at their last values: model alerts neither fire nor resolve on current data, so every model this monitor evaluates is effectively unmonitored.',
    promql: [
      { shows: 'Seconds since each monitor\'s last clean pass (about 1.7e9 means it never had one since it started).', query: 'time() - vigil_monitor_last_success_timestamp_seconds' },
      { shows: 'Evaluation failures per model, and the monitors that share the work.', query: 'sum by (instance, model, window) (rate(vigil_monitor_evaluation_failures_total[15m]))' },
      { shows: 'How many monitors each sees.', query: 'vigil_monitor_members' },
    ],
    sql: [
      { shows: 'The monitors\' leases: a monitor that cannot renew its lease gets no work.', query: 'SELECT instance_id, max(updated_at) AS renewed, max(lease_until) AS lease_until\nFROM monitor_members\nGROUP BY instance_id ORDER BY renewed DESC' },
      { shows: 'The latest evaluations of any model, and by whom.', query: 'SELECT model_id, window_size, max(evaluated_at) AS last_evaluated, argMax(evaluated_by, evaluated_at) AS evaluated_by\nFROM window_evaluations\nGROUP BY model_id, window_size ORDER BY last_evaluated' },
    ],
    causes: [
      'A spec in the models folder that does not validate: the pass evaluates the valid ones but does not count as clean (log line `models folder has problems`).',
      'One model\'s evaluations failing (VigilMonitorEvaluationsFailing names it).',
      'ClickHouse unavailable to the monitor: the watermark and membership queries fail.',
      'A pass so long (a large backlog after an outage) that it has not ended yet.',
    ],
    actions: [
      MONITOR_LOGS,
      'Run `vigil models check infra/models` on the deployed folder; fix or remove the spec it names.',
      'While the monitor is stale, the model alerts are not to be trusted either way: tell the clinical owners if it lasts beyond an hour.',
    ],
  },
};
