export { ArrowFileWriter, DEFAULT_BATCH_ROWS, dictCode, type ColumnBuffer, type ColumnSpec } from './arrowFile.js';
export { meetsSlo, type GroupSummary, type SloTargets } from './group.js';
export {
  ITERATION_COLUMNS,
  REQUEST_COLUMNS,
  REQUEST_STATUSES,
  TOKEN_COLUMNS,
  requestRow,
  type IterationRecord,
  type RequestOutcome,
  type RequestRow,
  type RequestStatus,
} from './records.js';
export { MetricsSink, type MetricsSinkOptions } from './sink.js';
export { quantileSorted, type Stats } from './stats.js';
export { buildSummary, formatSummaryTable, summaryJson, type FinishContext, type Summary } from './summary.js';
