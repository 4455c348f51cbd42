import { Bool, type Data, DataType, Field, Float64, Int32, Int64, RecordBatch, Schema, Struct, Table, Utf8, makeData, tableToIPC, vectorFromArray } from 'apache-arrow';
import type { KeyKind } from './grid.js';
import type { SweepPlan } from './plan.js';
import { METRIC_NAMES, type PointRecord } from './record.js';

/**
 * sweep.arrow: one row per point, sorted by point index. Columns: `point` (int32), the swept
 * keys (typed from all of the plan's values, so every shard agrees), `status` (ok | failed),
 * `error` (null when ok), [`max_rate_per_s`, `rate_runs`], the metrics (float64; `preemptions`
 * int64; null where undefined or the point failed) and `wall_s` last: the only column that
 * differs between two runs of the same sweep.
 */
export function sweepTableBytes(plan: SweepPlan, records: readonly PointRecord[]): Uint8Array {
  const rows = [...records].sort((a, b) => a.index - b.index);
  const fields: Field[] = [];
  const children: Data[] = [];
  const add = (name: string, type: DataType, values: unknown[], nullable = true) => {
    fields.push(new Field(name, type, nullable));
    children.push(vectorFromArray(values, type).data[0]);
  };
  add('point', new Int32(), rows.map((r) => r.index), false);
  plan.keys.forEach((key, k) => add(key, arrowType(plan.kinds[k]), rows.map((r) => cell(plan.kinds[k], r.values[k]))));
  add('status', new Utf8(), rows.map((r) => r.status), false);
  add('error', new Utf8(), rows.map((r) => r.error));
  if (plan.findMaxRate) {
    add('max_rate_per_s', new Float64(), rows.map((r) => r.max_rate?.max_rate_per_s ?? null));
    add('rate_runs', new Int64(), rows.map((r) => (r.max_rate ? BigInt(r.max_rate.rate_runs) : null)));
  }
  for (const name of METRIC_NAMES) {
    const v = rows.map((r) => r.metrics?.[name] ?? null);
    if (name === 'preemptions') add(name, new Int64(), v.map((x) => (x === null ? null : BigInt(x))));
    else add(name, new Float64(), v);
  }
  add('wall_s', new Float64(), rows.map((r) => r.wall_s));
  const schema = new Schema(fields);
  const data = makeData({ type: new Struct(fields), length: rows.length, nullCount: 0, children });
  return tableToIPC(new Table(schema, [new RecordBatch(schema, data)]), 'file');
}

function arrowType(kind: KeyKind): DataType {
  return kind === 'int64' ? new Int64() : kind === 'float64' ? new Float64() : kind === 'bool' ? new Bool() : new Utf8();
}

function cell(kind: KeyKind, value: unknown): unknown {
  if (value === null || value === undefined) return null;
  if (kind === 'int64') return BigInt(value as number);
  if (kind === 'utf8' && typeof value !== 'string') return JSON.stringify(value);
  return value;
}
