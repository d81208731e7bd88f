#!/usr/bin/env node
// The reference side of the FHIRPath benchmark: HL7's fhirpath.js (npm `fhirpath`, R4
// model) over the workload made by workload.py, and the agreement check of both engines.
//
//   reference.js results WORKLOAD_DIR OUT.ndjson
//       compiles each distinct expression once (fhirpath.compile), evaluates every pair
//       once and writes one normalised JSON line per pair (or {"error": message}).
//   reference.js time WORKLOAD_DIR SECONDS TIMING_OUT [OK_IN.ndjson...]
//       after one untimed warm-up pass, evaluates every pair that succeeded in each given
//       results file in whole passes until SECONDS have passed.
//   reference.js compare WORKLOAD_DIR OURS.ndjson REF.ndjson OURS_TIMING REF_TIMING
//                        SUMMARY_OUT DISAGREEMENTS_OUT
//       compares the two results files pair by pair; prints the agreement, the
//       disagreements by expression with examples, both rates and their ratio; writes the
//       figures as shell assignments (SUMMARY_OUT) and every disagreement (DISAGREEMENTS_OUT).
//
// fhirpath.js runs with resolveInternalTypes (Quantities come back as "value 'unit'"
// strings, dates and times as strings). Its resolve() only fetches from a FHIR server and
// only asynchronously, so it is replaced (userInvocationTable) by a synchronous lookup of
// the workload's resources by "urn:uuid:<id>" and "<type>/<id>", plus contained
// resources ("#id"): the same lookup the C++ side gives its engine as its Resolver.
'use strict';

const fs = require('fs');
const path = require('path');
const fhirpath = require('fhirpath');
const r4 = require('fhirpath/fhir-context/r4');

function loadWorkload(dir) {
  const resources = fs.readFileSync(path.join(dir, 'resources.ndjson'), 'utf8')
    .split('\n').filter((l) => l.length > 0).map((l) => JSON.parse(l));
  const expressions = JSON.parse(fs.readFileSync(path.join(dir, 'expressions.json'), 'utf8'));
  const pairs = fs.readFileSync(path.join(dir, 'pairs.tsv'), 'utf8')
    .split('\n').filter((l) => l.length > 0).map((l) => l.split('\t').map(Number));
  const summary = JSON.parse(fs.readFileSync(path.join(dir, 'summary.json'), 'utf8'));
  const suiteExpected = JSON.parse(fs.readFileSync(path.join(dir, 'suite_expected.json'), 'utf8'));
  const byReference = new Map();
  for (const r of resources) {
    if (!r.id) continue;
    if (!byReference.has(`urn:uuid:${r.id}`)) byReference.set(`urn:uuid:${r.id}`, r);
    if (!byReference.has(`${r.resourceType}/${r.id}`)) byReference.set(`${r.resourceType}/${r.id}`, r);
  }
  return { resources, expressions, pairs, summary, suiteExpected, byReference };
}

// The resource being evaluated, for resolve('#id').
let currentRoot = null;

// fhirpath.js reports some lossy operations with console.warn ("The quantity value was
// truncated ..."); counted instead, so that printing is not timed.
let warnings = 0;
console.warn = () => { ++warnings; };

function makeOptions(workload) {
  const resolve = {
    internalStructures: true,
    arity: { 0: [] },
    fn: function resolve(coll) {
      const out = [];
      for (const item of coll) {
        const v = fhirpath.util.valData(item);
        const reference = typeof v === 'string' ? v : v && v.reference;
        if (!reference) continue;
        let target;
        if (reference.startsWith('#')) {
          target = reference === '#' ? currentRoot
            : (currentRoot && currentRoot.contained || []).find((c) => c.id === reference.slice(1));
        } else {
          target = workload.byReference.get(reference);
        }
        // A ResourceNode, so that `is Patient` and ofType() see the resource's type.
        if (target) out.push(item.constructor.makeResNode(this, target, null, null, null, null));
      }
      return out;
    },
  };
  return {
    resolveInternalTypes: true,
    traceFn: () => {},
    userInvocationTable: { resolve },
  };
}

function compileAll(workload) {
  const options = makeOptions(workload);
  return workload.expressions.map((e) => {
    try {
      return { fn: fhirpath.compile(e.text, r4, options) };
    } catch (err) {
      return { error: `compile: ${firstLine(err)}` };
    }
  });
}

function firstLine(err) {
  return String(err && err.message !== undefined ? err.message : err).split('\n')[0];
}

function evaluate(compiled, workload, pair) {
  const resource = pair[1] < 0 ? [] : workload.resources[pair[1]];
  currentRoot = pair[1] < 0 ? null : resource;
  return compiled.fn(resource);
}

// --- Normal form shared by both engines' results ---------------------------------------

const CALENDAR_UNITS = new Set(['year', 'years', 'month', 'months', 'week', 'weeks', 'day', 'days',
  'hour', 'hours', 'minute', 'minutes', 'second', 'seconds', 'millisecond', 'milliseconds']);

// Numbers as JS numbers, objects with sorted keys, and a System Quantity from the C++ side
// ({"$quantity": {"value", "unit"}}) as the "value 'unit'" string fhirpath.js gives.
function canonical(v) {
  if (Array.isArray(v)) return v.map(canonical);
  if (v !== null && typeof v === 'object') {
    const keys = Object.keys(v);
    if (keys.length === 1 && keys[0] === '$quantity') {
      const q = v.$quantity;
      const value = Number(q.value);
      if (q.unit === undefined || q.unit === '') return `${value} '1'`;
      return CALENDAR_UNITS.has(q.unit) ? `${value} ${q.unit}` : `${value} '${q.unit}'`;
    }
    const out = {};
    for (const k of keys.sort()) out[k] = canonical(v[k]);
    return out;
  }
  return v;
}

function canonicalLine(text) {
  const v = JSON.parse(text);
  if (v !== null && !Array.isArray(v) && typeof v === 'object' && typeof v.error === 'string') {
    return { error: v.error };
  }
  return { value: JSON.stringify(canonical(v)) };
}

// --- Commands ----------------------------------------------------------------------------

function results(dir, outPath) {
  const workload = loadWorkload(dir);
  const t0 = process.hrtime.bigint();
  const compiled = compileAll(workload);
  const compileSeconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const lines = [];
  let compileErrorPairs = 0;
  let evalErrors = 0;
  for (const pair of workload.pairs) {
    const c = compiled[pair[0]];
    if (c.error) {
      ++compileErrorPairs;
      lines.push(JSON.stringify({ error: c.error }));
      continue;
    }
    try {
      const r = evaluate(c, workload, pair);
      if (r instanceof Promise) throw new Error('asynchronous result');
      lines.push(JSON.stringify(canonical(r)));
    } catch (err) {
      ++evalErrors;
      lines.push(JSON.stringify({ error: `evaluate: ${firstLine(err)}` }));
    }
  }
  fs.writeFileSync(outPath, lines.join('\n') + '\n');
  const compileErrors = compiled.filter((c) => c.error).length;
  console.log(`fhirpath.js: ${compiled.length} expressions compiled in ${compileSeconds.toFixed(3)} s, ` +
    `${compileErrors} failed to compile (${compileErrorPairs} pairs); ${evalErrors} pairs failed to evaluate; ` +
    `${warnings} warnings; results in ${outPath}`);
}

function okIn(file, n) {
  const lines = fs.readFileSync(file, 'utf8').split('\n');
  if (lines.length < n) throw new Error(`${file}: ${lines.length} lines for ${n} pairs`);
  const ok = new Array(n);
  for (let i = 0; i < n; ++i) ok[i] = !lines[i].startsWith('{"error"');
  return ok;
}

function time(dir, seconds, timingOut, okFiles) {
  const workload = loadWorkload(dir);
  const compiled = compileAll(workload);
  let timed = workload.pairs.map((p) => !compiled[p[0]].error);
  for (const f of okFiles) {
    const ok = okIn(f, workload.pairs.length);
    timed = timed.map((t, i) => t && ok[i]);
  }
  const runs = [];
  workload.pairs.forEach((p, i) => { if (timed[i]) runs.push([compiled[p[0]], p]); });
  let sink = 0;
  let failures = 0;
  const pass = () => {
    for (const [c, p] of runs) {
      try {
        sink += evaluate(c, workload, p).length;
      } catch (err) {
        ++failures;
      }
    }
  };
  pass();  // warm-up: lets the JIT compile the evaluator before the clock starts
  sink = 0;
  failures = 0;
  let passes = 0;
  const start = process.hrtime.bigint();
  let elapsed = 0;
  do {
    pass();
    ++passes;
    elapsed = Number(process.hrtime.bigint() - start) / 1e9;
  } while (elapsed < seconds);
  const evaluations = passes * runs.length;
  const perSecond = evaluations / elapsed;
  console.log(`fhirpath.js: ${runs.length} pairs x ${passes} passes = ${evaluations} evaluations in ` +
    `${elapsed.toFixed(2)} s: ${Math.round(perSecond)} evaluations/s (${sink} items, ${failures} failed)`);
  fs.writeFileSync(timingOut, JSON.stringify({
    engine: 'fhirpath.js', pairs: runs.length, passes, evaluations, seconds: elapsed, per_second: perSecond,
  }) + '\n');
}

function clip(s, n) {
  return s.length <= n ? s : `${s.slice(0, n)}... (${s.length} chars)`;
}

function describeResource(workload, index) {
  if (index < 0) return '(no input)';
  const r = workload.resources[index];
  const where = index < workload.summary.synthea_resources ? 'Synthea' : 'suite input';
  return `${r.resourceType}/${r.id} (${where} #${index})`;
}

function compare(dir, oursPath, refPath, oursTimingPath, refTimingPath, summaryOut, disagreementsOut) {
  const workload = loadWorkload(dir);
  const n = workload.pairs.length;
  const ours = fs.readFileSync(oursPath, 'utf8').split('\n');
  const ref = fs.readFileSync(refPath, 'utf8').split('\n');
  if (ours.length < n || ref.length < n) throw new Error('a results file has fewer lines than pairs');

  const counts = { equal: 0, bothError: 0, oursError: 0, refError: 0, orderOnly: 0, different: 0 };
  const counted = { search: { total: 0, agree: 0 }, suite: { total: 0, agree: 0 } };
  const byExpression = new Map();  // expression index -> {count, kinds, example}
  const all = [];
  for (let i = 0; i < n; ++i) {
    const [e, r] = workload.pairs[i];
    const a = canonicalLine(ours[i]);
    const b = canonicalLine(ref[i]);
    const origin = r >= 0 && r < workload.summary.synthea_resources ? 'search' : 'suite';
    ++counted[origin].total;
    let kind;
    if (a.error !== undefined && b.error !== undefined) {
      ++counts.bothError;
    } else if (a.error === undefined && b.error === undefined && a.value === b.value) {
      ++counts.equal;
    } else if (a.error !== undefined) {
      kind = 'error in ours only';
      ++counts.oursError;
    } else if (b.error !== undefined) {
      kind = 'error in fhirpath.js only';
      ++counts.refError;
    } else {
      const sa = JSON.parse(a.value).map((x) => JSON.stringify(x)).sort();
      const sb = JSON.parse(b.value).map((x) => JSON.stringify(x)).sort();
      if (sa.length === sb.length && sa.every((x, j) => x === sb[j])) {
        kind = 'same items, other order';
        ++counts.orderOnly;
      } else {
        kind = 'different values';
        ++counts.different;
      }
    }
    if (kind === undefined) {
      ++counted[origin].agree;
      continue;
    }
    const ourText = a.error !== undefined ? `error: ${a.error}` : a.value;
    const refText = b.error !== undefined ? `error: ${b.error}` : b.value;
    const expected = workload.suiteExpected[i];
    all.push(`${workload.expressions[e].source}\t${describeResource(workload, r)}\t${kind}\n` +
      `  expression: ${workload.expressions[e].text.replace(/\s+/g, ' ')}\n  ehr:         ${ourText}\n` +
      `  fhirpath.js: ${refText}\n` + (expected !== undefined ? `  suite:       ${expected}\n` : ''));
    let entry = byExpression.get(e);
    if (!entry) {
      entry = { count: 0, kinds: new Map(), example: null };
      byExpression.set(e, entry);
    }
    ++entry.count;
    entry.kinds.set(kind, (entry.kinds.get(kind) || 0) + 1);
    if (!entry.example) {
      entry.example = { resource: describeResource(workload, r), ours: ourText, ref: refText, expected };
    }
  }
  fs.writeFileSync(disagreementsOut, all.join(''));

  const agree = counts.equal + counts.bothError;
  const pct = (x, total) => (100 * x / Math.max(1, total)).toFixed(2);
  console.log(`agreement: ${agree} / ${n} pairs (${pct(agree, n)}%): ${counts.equal} equal results, ` +
    `${counts.bothError} errors in both`);
  console.log(`  search-parameter pairs ${counted.search.agree} / ${counted.search.total} ` +
    `(${pct(counted.search.agree, counted.search.total)}%), suite pairs ${counted.suite.agree} / ` +
    `${counted.suite.total} (${pct(counted.suite.agree, counted.suite.total)}%)`);
  console.log(`disagreements: ${n - agree} pairs over ${byExpression.size} expressions: ` +
    `${counts.different} different values, ${counts.orderOnly} same items in another order, ` +
    `${counts.oursError} errors in ours only, ${counts.refError} errors in fhirpath.js only`);
  const limit = Number(process.env.EHR_BENCH_FHIRPATH_SHOW || 40);
  const sorted = [...byExpression.entries()].sort((x, y) => y[1].count - x[1].count || x[0] - y[0]);
  for (const [e, entry] of sorted.slice(0, limit)) {
    const kinds = [...entry.kinds.entries()].map(([k, c]) => `${c} ${k}`).join(', ');
    console.log(`  ${entry.count} pairs (${kinds}) ${workload.expressions[e].source}`);
    console.log(`      expression:  ${clip(workload.expressions[e].text.replace(/\s+/g, ' '), 160)}`);
    console.log(`      e.g. ${entry.example.resource}`);
    console.log(`      ehr:         ${clip(entry.example.ours, 240)}`);
    console.log(`      fhirpath.js: ${clip(entry.example.ref, 240)}`);
    if (entry.example.expected !== undefined) console.log(`      suite wants: ${clip(entry.example.expected, 240)}`);
  }
  if (sorted.length > limit) console.log(`  ... and ${sorted.length - limit} more expressions (every pair: ${disagreementsOut}, ` +
    'kept with EHR_BENCH_KEEP=1)');

  const ourTiming = JSON.parse(fs.readFileSync(oursTimingPath, 'utf8'));
  const refTiming = JSON.parse(fs.readFileSync(refTimingPath, 'utf8'));
  const ratio = ourTiming.per_second / refTiming.per_second;
  console.log(`evaluations/s over the ${ourTiming.pairs} pairs that succeed in both engines (compiled ` +
    `expressions, one thread): ehr ${Math.round(ourTiming.per_second)}, fhirpath.js ` +
    `${Math.round(refTiming.per_second)}, ratio ${ratio.toFixed(1)}x (target 20x)`);
  if (ourTiming.pairs !== refTiming.pairs) console.log('warning: the engines timed different numbers of pairs');

  const shell = {
    FP_BUNDLES: workload.summary.bundles,
    FP_RESOURCES: workload.summary.synthea_resources,
    FP_SUITE_PAIRS: workload.summary.suite_pairs,
    FP_EXPRESSIONS: workload.summary.expressions,
    FP_PAIRS: n,
    FP_AGREE: agree,
    FP_EQUAL: counts.equal,
    FP_BOTH_ERROR: counts.bothError,
    FP_DIFFERENT: counts.different,
    FP_ORDER_ONLY: counts.orderOnly,
    FP_OURS_ERROR: counts.oursError,
    FP_REF_ERROR: counts.refError,
    FP_DISAGREEING_EXPRESSIONS: byExpression.size,
    FP_TIMED_PAIRS: ourTiming.pairs,
    FP_OURS_RATE: Math.round(ourTiming.per_second),
    FP_REF_RATE: Math.round(refTiming.per_second),
    FP_RATIO: ratio.toFixed(2),
    FP_REF_VERSION: fhirpath.version,
  };
  fs.writeFileSync(summaryOut, Object.entries(shell).map(([k, v]) => `${k}='${v}'`).join('\n') + '\n');
}

function main() {
  const [command, ...args] = process.argv.slice(2);
  if (command === 'results' && args.length === 2) return results(args[0], args[1]);
  if (command === 'time' && args.length >= 3) return time(args[0], Number(args[1]), args[2], args.slice(3));
  if (command === 'compare' && args.length === 7) return compare(...args);
  console.error('usage: reference.js results WORKLOAD OUT | time WORKLOAD SECONDS TIMING_OUT [OK_IN...] | ' +
    'compare WORKLOAD OURS REF OURS_TIMING REF_TIMING SUMMARY_OUT DISAGREEMENTS_OUT');
  process.exit(2);
}

main();
